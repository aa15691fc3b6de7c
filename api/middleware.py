"""HTTP middleware: a request id and start time for every request, and a bounded body."""

from __future__ import annotations

import uuid

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import request_id, timer

MAX_BODY_BYTES = 1024 * 1024
RETRY_AFTER = b"1"  # seconds; the availability probe notices recovery within half a second


class RequestContext:
    """Gives every request an id (X-Request-Id, or a new one) for the logs and the response, and
    notes when it started, for the latency metric."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        rid = given if given.replace("-", "").isalnum() else uuid.uuid4().hex
        token = request_id.set(rid)
        scope.setdefault("state", {})["started"] = timer()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.append((b"x-request-id", rid.encode()))
                status = scope["state"].get("status")
                if status is not None:  # set by the GraphQL router (an outage: 503)
                    message["status"] = status
                    headers.append((b"retry-after", RETRY_AFTER))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class BodyLimit:
    """Answers 413 to a request body over ``limit`` bytes: at once when Content-Length says so,
    else (chunked uploads) by counting the body as it arrives, before the app sees any of it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.limit:
                await self._too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {
                "data": None,
                "errors": [
                    {"message": "request body too large", "extensions": {"code": "INVALID_INPUT"}}
                ],
            },
            status_code=413,
        )
        await response(scope, receive, send)
