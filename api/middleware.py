"""HTTP middleware: a request id and start time for every request, a bounded body, and the
security headers of every response."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

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
                retry_after = scope["state"].get("retry_after")
                if retry_after is not None and status is None:  # a rate limit (seconds)
                    headers.append((b"retry-after", str(int(retry_after)).encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class BodyTooLarge(Exception):
    """A streamed body passed its path's limit (raised into the handler reading it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"an upload holds at most {limit} bytes")
        self.limit = limit


class BodyLimit:
    """Answers 413 to a request body over ``limit`` bytes: at once when Content-Length says so,
    else (chunked uploads) by counting the body as it arrives, before the app sees any of it.

    ``streamed``: paths whose handler reads the body as it streams (uploads of a semester), with
    their own limit: a Content-Length over it is refused at once; a chunked body is cut off where
    it passes it (the handler keeps nothing of an upload that breaks off)."""

    def __init__(self, app: ASGIApp, limit: int, streamed: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.streamed = streamed or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.streamed:
            await self._streamed(scope, receive, send, self.streamed[scope["path"]])
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

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._too_large(scope, receive, send)
            return
        size = 0

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)

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


# Every response: no MIME sniffing (a JSON answer is never run as a script or page), no Referer
# leaving the bank (GraphiQL URLs carry queries), no framing (clickjacking).
COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
# Responses that are not a page of ours (JSON, JWTs, scripts, errors) may load nothing.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = b"max-age=31536000"  # one year; only sent when the public URL is https


class SecurityHeaders:
    """Adds the security headers to every HTTP response.

    ``pages`` maps a path prefix to the Content-Security-Policy of the HTML pages under it (the
    longest matching prefix wins: GraphiQL at /graphql now; a future /app/ adds its own entry);
    every other response gets ``API_CSP``. A response that sets its own CSP (a page with a
    per-request nonce) keeps it. ``hsts``: also send Strict-Transport-Security.
    """

    def __init__(self, app: ASGIApp, pages: Mapping[str, str] | None = None, hsts: bool = False):
        self.app = app
        self.pages = sorted((pages or {}).items(), key=lambda item: -len(item[0]))
        self.hsts = hsts

    def policy(self, path: str, content_type: bytes) -> str:
        if content_type.split(b";")[0].strip().lower() == b"text/html":
            for prefix, csp in self.pages:
                if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                    return csp
        return API_CSP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in COMMON_HEADERS if h[0] not in names]
                if b"content-security-policy" not in names:
                    content_type = dict(headers).get(b"content-type", b"")
                    csp = self.policy(scope["path"], content_type)
                    headers.append((b"content-security-policy", csp.encode()))
                if self.hsts and b"strict-transport-security" not in names:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
