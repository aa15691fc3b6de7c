"""Operations: Prometheus metrics and structured (JSON) logs carrying the request id."""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "creditbank_request_seconds",
            "Request latency by GraphQL operation (or path)",
            ["operation"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.errors = Counter(
            "creditbank_errors_total",
            "Errors returned, by stable error code",
            ["code"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "creditbank_projection_lag_events",
            "Events not yet applied to the views",
            registry=self.registry,
        )
        self.position = Gauge(
            "creditbank_projection_position",
            "Notification id every view has applied",
            registry=self.registry,
        )

    def observe(self, operation: str, seconds: float) -> None:
        self.latency.labels(operation=operation).observe(seconds)

    def count_errors(self, codes: list[str]) -> None:
        for code in codes:
            self.errors.labels(code=code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def operation_name(body: Any) -> str:
    if isinstance(body, dict):
        name = body.get("operationName")
        if isinstance(name, str) and name:
            return name[:64]
        query = body.get("query")
        if isinstance(query, str):
            head = query.strip().split("{", 1)[0].split("(", 1)[0].split()
            if len(head) >= 2:
                return head[1][:64]
            return (head[0] if head else "query")[:64]
    return "graphql"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": request_id.get(),
        }
        for key in ("operation", "status", "ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


Next = Callable[[Request], Awaitable[Response]]


def timer() -> float:
    return time.perf_counter()
