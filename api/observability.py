"""Operations: Prometheus metrics and structured (JSON) logs carrying the request id."""

from __future__ import annotations

import contextvars
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, OperationType, parse
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
        self.parked = Gauge(
            "creditbank_parked_events",
            "Events the views could not take, parked (their aggregates' views are stale)",
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


OTHER = "other"  # the label of a document naming no field of the schema's own
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def root_fields(schema: Any) -> frozenset[str]:
    """The names of the schema's Query and Mutation fields: the only metrics labels."""
    graphql_schema = schema._schema
    return frozenset(
        name
        for root in (graphql_schema.query_type, graphql_schema.mutation_type)
        if root is not None
        for name in root.fields
    )


def metrics_allowed(request: Request, token: Any) -> bool:
    """The bearer of the metrics token when one is configured, else a loopback caller."""
    if token is not None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        return hmac.compare_digest(given.encode(), expected.encode())
    client = request.client
    return client is not None and client.host in LOOPBACK


def describe_operation(body: Any, known: frozenset[str] = frozenset()) -> tuple[str, bool]:
    """The metrics label of a GraphQL request: the first root field of its operation when the
    schema has it (``learner``, ``depositCredential``), else ``other``. Never a name the client
    chose: a label per made-up name would grow the metrics without bound. And whether the
    operation is a mutation."""
    if isinstance(body, dict) and isinstance(body.get("query"), str):
        query, operation = body["query"], body.get("operationName")
        operation = operation if isinstance(operation, str) else None
        # Long texts (a credential written inline) are parsed each time rather than kept.
        field, kind = (
            _operation(query, operation)
            if len(query) <= MAX_CACHED_QUERY
            else _operation.__wrapped__(query, operation)
        )
        return (field if field in known else OTHER), kind == OperationType.MUTATION
    return OTHER, False


MAX_CACHED_QUERY = 16 * 1024  # characters


@lru_cache(maxsize=512)
def _operation(query: str, operation: str | None) -> tuple[str | None, OperationType | None]:
    """(first root field, operation type) of the operation ``operation`` (or the first)."""
    try:
        document = parse(query, no_location=True, max_tokens=2000)
    except Exception:  # noqa: BLE001 - an unparsable document: not a schema field
        return None, None
    kind = None  # the type of the operation that runs: the named one, else the first
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        name = definition.name.value if definition.name else None
        if operation and name != operation:
            continue
        kind = kind or definition.operation
        for selection in definition.selection_set.selections:
            if isinstance(selection, FieldNode):
                return selection.name.value, kind
    return None, kind


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
