"""GraphQL executed in-process for a page, as the signed-in caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from api.auth import Principal
from api.graphql.context import Context
from api.graphql.errors import mask
from api.observability import request_id


@dataclass
class PageError(Exception):
    """A refusal a page shows as a message (its code decides the HTTP status)."""

    code: str
    message: str

    @property
    def status(self) -> int:
        return {
            "UNAUTHENTICATED": 401,
            "FORBIDDEN": 403,
            "NOT_FOUND": 404,
            "RATE_LIMITED": 429,
            "UNAVAILABLE": 503,
            "INTERNAL": 500,
        }.get(self.code, 400)


async def execute(
    request: Request,
    principal: Principal,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    payload_errors: bool = True,
) -> dict[str, Any]:
    """The operation's data; its first error (a typed GraphQL error, or, with
    ``payload_errors``, a mutation payload's first ``errors`` entry) raises ``PageError`` with
    the code and the readable message."""
    running = request.app.state.running
    context = Context(
        bank=running.bank,
        principal=principal,
        freshness=running.freshness,
        exporter=running.exporter,
        request_id=request_id.get(),
    )
    result = await request.app.state.schema.execute(
        document, variable_values=variables or {}, context_value=context
    )
    if result.errors:
        first = mask(result.errors[0])
        code = str((first.get("extensions") or {}).get("code") or "INVALID_INPUT")
        raise PageError(code, str(first.get("message") or code))
    data: dict[str, Any] = result.data or {}
    for payload in data.values() if payload_errors else ():
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if errors:
            raise PageError(str(errors[0].get("code")), str(errors[0].get("message")))
    return data
