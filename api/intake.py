"""``POST /intake``: an institution's upload of credentials, one deposit a line (NDJSON).

The body is read as it streams and its lines stored in batches (application.intake.lines), so
an upload of any size holds one batch in memory; the answer, 202 with the job's id, comes once
the whole body is stored, and only then is the job acknowledged and queued. The worker
(application.intake.worker) deposits the lines in the background; ``Query.intakeJob`` follows it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import AuthenticationError, Principal, Role
from api.middleware import BodyTooLarge
from application.intake.jobs import IntakeStore
from application.intake.lines import Upload

MEDIA_TYPE = "application/x-ndjson"
# Where uploads stream in (api.middleware.BodyLimit bounds them by CREDITBANK_INTAKE_MAX_BYTES):
# this endpoint, and the portal's form.
UPLOAD_PATHS = ("/intake", "/app/institution/intake")
FEED_BYTES = 256 * 1024  # body bytes handed to the store's thread at a time


def refused(status: int, code: str, message: str) -> JSONResponse:
    """The same typed error shape as every other refusal of the API."""
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)


async def receive(
    running: Any, institution_id: UUID, actor: str | None, chunks: AsyncIterator[bytes]
) -> UUID:
    """Stores an upload's lines as they stream in, then queues its job (and wakes this process's
    worker); nothing of it is kept if it breaks off (``BodyTooLarge`` past the size limit)."""
    store = IntakeStore(running.bank.database)
    upload = await run_in_threadpool(Upload, store, institution_id, actor, running.bank.now())
    size, limit, pending = 0, running.services.settings.intake_max_bytes, bytearray()
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            pending += chunk
            if len(pending) >= FEED_BYTES:
                await run_in_threadpool(upload.feed, bytes(pending))
                pending.clear()
        await run_in_threadpool(upload.feed, bytes(pending))
        job_id: UUID = await run_in_threadpool(upload.finish)
    except BaseException:  # too large, the client went away, the store failed: nothing kept
        await run_in_threadpool(upload.abandon)
        raise
    if running.intake is not None:
        running.intake.wake()
    return job_id


def install(app: FastAPI, caller: Callable[[Request], Any]) -> None:
    """``caller``: the request's principal (awaitable; 401 for a bad token)."""

    @app.post("/intake", status_code=202)
    async def intake(request: Request) -> JSONResponse:
        principal: Principal = await caller(request)
        if principal.anonymous:
            raise AuthenticationError("a bearer token is required")
        if principal.role is not Role.INSTITUTION or not principal.subject:
            return refused(403, "FORBIDDEN", "only an institution uploads credentials")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != MEDIA_TYPE:
            return refused(415, "INVALID_INPUT", f"send the lines as {MEDIA_TYPE}")
        running = request.app.state.running
        try:
            job_id = await receive(
                running, UUID(principal.subject), principal.actor, request.stream()
            )
        except BodyTooLarge as exc:
            return refused(413, "INVALID_INPUT", str(exc))
        return JSONResponse({"id": str(job_id)}, status_code=202)
