"""The FastAPI application: GraphQL at /graphql, health endpoints."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api.auth import ANONYMOUS, AuthenticationError, TokenService, load_or_create_signing_key
from api.graphql.context import Context
from api.graphql.errors import mask
from api.graphql.schema import build_schema
from application.bank import CreditBank
from application.bootstrap import build_bank
from application.settings import Settings

log = logging.getLogger("creditbank.api")


class Router(GraphQLRouter[Context, None]):
    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [mask(e) for e in result.errors]
        return response


def create_app(settings: Settings | None = None, bank: CreditBank | None = None) -> FastAPI:
    settings = settings or Settings()
    tokens = TokenService(load_or_create_signing_key(settings.data_dir))
    state: dict[str, CreditBank] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["bank"] = bank if bank is not None else await run_in_threadpool(build_bank, settings)
        try:
            yield
        finally:
            if bank is None:
                state["bank"].close()
                state["bank"].database.close()

    async def get_context(connection: HTTPConnection) -> Context:
        # HTTPConnection, not Request: the same getter serves WebSocket connections.
        header = connection.headers.get("authorization", "")
        principal = ANONYMOUS
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise AuthenticationError("use 'Authorization: Bearer <token>'")
            principal = tokens.verify(token.strip())
        return Context(
            bank=state["bank"],
            principal=principal,
            request_id=connection.headers.get("x-request-id") or uuid.uuid4().hex,
        )

    app = FastAPI(title="Credit Bank", lifespan=lifespan)
    app.state.tokens = tokens
    app.include_router(
        Router(build_schema(), context_getter=get_context, graphql_ide="graphiql"),
        prefix="/graphql",
    )

    @app.exception_handler(AuthenticationError)
    async def unauthenticated(_: Request, exc: AuthenticationError) -> JSONResponse:
        return JSONResponse(
            {"data": None, "errors": [{"message": str(exc), "extensions": {"code": exc.code}}]},
            status_code=401,
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            await run_in_threadpool(state["bank"].recorder.max_notification_id)
        except Exception:
            log.warning("database not reachable", exc_info=True)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ready", "database": "ok"})

    return app
