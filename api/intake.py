"""``POST /intake``: an institution's upload of credentials, one deposit a line (NDJSON).

The body is read as it streams and its lines stored in batches (application.intake.lines), so
an upload of any size holds one batch in memory; the answer, 202 with the job's id, comes once
the whole body is stored, and only then is the job acknowledged and queued. The worker
(application.intake.worker) deposits the lines in the background; ``Query.intakeJob`` follows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import AuthenticationError, Principal, Role
from application.intake.jobs import IntakeStore
from application.intake.lines import Upload

MEDIA_TYPE = "application/x-ndjson"
FEED_BYTES = 256 * 1024  # body bytes handed to the store's thread at a time


def refused(status: int, code: str, message: str) -> JSONResponse:
    """The same typed error shape as every other refusal of the API."""
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)


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
        settings = running.services.settings
        store = IntakeStore(running.bank.database)
        upload = await run_in_threadpool(
            Upload, store, UUID(principal.subject), principal.actor, running.bank.now()
        )
        size, pending = 0, bytearray()
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > settings.intake_max_bytes:
                    await run_in_threadpool(upload.abandon)
                    limit = settings.intake_max_bytes
                    return refused(413, "INVALID_INPUT", f"an upload holds at most {limit} bytes")
                pending += chunk
                if len(pending) >= FEED_BYTES:
                    await run_in_threadpool(upload.feed, bytes(pending))
                    pending.clear()
            await run_in_threadpool(upload.feed, bytes(pending))
            job_id = await run_in_threadpool(upload.finish)
        except BaseException:  # the client went away, or the store failed: nothing is kept
            await run_in_threadpool(upload.abandon)
            raise
        if running.intake is not None:
            running.intake.wake()
        return JSONResponse({"id": str(job_id)}, status_code=202)
