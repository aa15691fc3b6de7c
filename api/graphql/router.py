"""The GraphQL endpoint: strawberry's FastAPI router answering every refusal as JSON with a
code, 503 for an outage, and feeding the metrics (latency by operation, errors by code)."""

from __future__ import annotations

import json
from typing import Any, cast

from cross_web import HTTPException  # what strawberry raises for an unparsable request
from fastapi import Request
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.graphql.context import Context
from api.graphql.errors import mask
from api.observability import OTHER, Metrics, describe_operation, timer
from application.text import UNSAFE_MESSAGE, first_unsafe


class UnsafeText(json.JSONDecodeError):
    """A body holding text no database can store. A JSONDecodeError, so that WebSocket messages
    are refused like malformed ones; HTTP requests are answered with its own message."""

    def __init__(self) -> None:
        super().__init__(UNSAFE_MESSAGE, "", 0)


class Router(GraphQLRouter[Context, None]):
    metrics: Metrics
    operations: frozenset[str] = frozenset()  # the schema's root fields: the metrics' labels

    def decode_json(self, data: str | bytes) -> object:
        """JSON nested deeper than Python's recursion limit is a malformed body (400), not an
        internal error; so is JSON that is not an object (or a batch list)."""
        try:
            decoded = super().decode_json(data)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "", 0) from None
        except UnicodeDecodeError:  # not UTF-8 (nor UTF-16/32): a malformed body, not a crash
            raise json.JSONDecodeError("not UTF-8", "", 0) from None
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "a GraphQL request body is a JSON object")
        # Variables (and JSON scalars in them: credentials, keys) reach the stores as text: a NUL
        # or a lone surrogate ("\\ud800") is refused here, before parsing or any resolver.
        if first_unsafe(decoded) is not None:
            raise UnsafeText
        return decoded

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except UnsafeText:
            raise HTTPException(400, UNSAFE_MESSAGE) from None
        except json.JSONDecodeError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry answers a request it cannot parse (not JSON, a batch, no query...) with a
        text/plain body; we answer like every other refusal: JSON, with a code."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            if not isinstance(request, Request):
                raise
            code = {404: "NOT_FOUND", 401: "UNAUTHENTICATED"}.get(exc.status_code, "INVALID_INPUT")
            return JSONResponse(
                {"data": None, "errors": [{"message": exc.reason, "extensions": {"code": code}}]},
                status_code=exc.status_code,
            )

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        codes: list[str] = []
        if result.errors:
            response["errors"] = [mask(e) for e in result.errors]
            codes += [
                str(dict(e).get("extensions", {}).get("code")) for e in result_errors(response)
            ]
        if "UNAVAILABLE" in codes:  # a retryable outage, told the HTTP way too
            request.scope.setdefault("state", {})["status"] = 503
        try:
            operation, mutation = describe_operation(await request.json(), self.operations)
        except Exception:  # noqa: BLE001 - a GET or form request: label it plainly
            operation, mutation = OTHER, False
        if mutation:  # only mutation payloads hold UserErrors: a query's answer is not walked
            codes += list(_payload_error_codes(result.data))
        self.metrics.count_errors(codes)
        started = request.scope.get("state", {}).get("started")
        if started is not None:
            self.metrics.observe(operation, timer() - started)
        return response


def result_errors(response: GraphQLHTTPResponse) -> list[dict[str, Any]]:
    errors: list[Any] = list(cast(Any, response).get("errors") or [])
    return [dict(e) for e in errors]


def _payload_error_codes(data: Any) -> Any:
    """Codes of mutation payloads' UserErrors (``errors: [{code ...}]`` anywhere in the data)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "errors" and isinstance(value, list):
                yield from (str(e["code"]) for e in value if isinstance(e, dict) and "code" in e)
            else:
                yield from _payload_error_codes(value)
    elif isinstance(data, list):
        for item in data:
            yield from _payload_error_codes(item)
