"""The FastAPI application: GraphQL at /graphql (GraphiQL in a browser), the bank's public keys
and status list, and the operations endpoints (/healthz, /readyz, /metrics).

The services come from the composition root (application.bootstrap); the app starts what runs
(the projection runner, the availability probe, periodic audit checkpoints, the periodic
re-read of incoming credentials' status lists, the intake worker) and stops it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

import portal.routes as portal
from api import graphiql, intake
from api.auth import (
    ANONYMOUS,
    AuthenticationError,
    Principal,
    TokenService,
    load_or_create_signing_key,
)
from api.freshness import Freshness
from api.graphql.context import Context
from api.graphql.limits import AnonymousVerifications
from api.graphql.router import Router
from api.graphql.schema import build_schema
from api.middleware import (
    MAX_BODY_BYTES,
    RETRY_AFTER,
    BodyLimit,
    RequestContext,
    SecurityHeaders,
)
from api.observability import Metrics, metrics_allowed, request_id, root_fields
from api.projection_process import ProjectionProcess
from application import canonicalisation
from application.audit import sign_checkpoint
from application.bootstrap import Services, bootstrap
from application.intake.verifying import VerifyPool
from application.intake.worker import IntakeWorker
from application.settings import Settings
from application.signing import did_document_path
from application.status_watch import StatusWatcher
from domain.errors import DomainError, NotFound

log = logging.getLogger("creditbank.api")
# The portal's pages: only the bank's own scripts, styles and images (inline SVG charts, data:
# QR codes), forms posting back to it, never framed.
PORTAL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
READYZ_TIMEOUT = 2.0  # seconds; a load balancer's probe must not hang on a stuck database


def not_ready(message: str, status: str = "unavailable", **details: Any) -> JSONResponse:
    """503 from /readyz, with the same typed error shape as every other refusal."""
    body = {"status": status, "database": "ok", **details}
    body["errors"] = [{"message": message, "extensions": {"code": "UNAVAILABLE"}}]
    return JSONResponse(body, 503, headers={"Retry-After": RETRY_AFTER.decode()})


class Running:
    """The services while the app serves: the runner following the log (or watching another
    process do it), read-your-writes, the availability probe, periodic checkpoints."""

    def __init__(
        self, services: Services, loop: asyncio.AbstractEventLoop, serving: bool = False
    ) -> None:
        self.services = services
        self.projections = services.settings.projection_mode(serving)
        self.projection_process = ProjectionProcess() if self.projections == "process" else None
        self.bank = services.bank
        self.runner = services.runner
        self.exporter = services.exporter
        self.freshness = Freshness(services.runner, loop)
        self.stopping = threading.Event()
        interval = services.settings.status_recheck_interval
        self.status_watcher = StatusWatcher(self.bank, interval) if interval > 0 else None
        settings = services.settings
        pool = VerifyPool.sized(settings.intake_verifiers)
        self.intake = IntakeWorker(self.bank, pool=pool) if settings.intake_worker else None

    def start(self) -> None:
        settings = self.services.settings
        self.bank.database.availability.watch()
        if self.projections == "inline":
            self.bank.on_saved.append(lambda _position: self.runner.wake())
            self.runner.start()
        else:
            if self.projection_process is not None:
                self.projection_process.start()
            self.runner.start_watching()
        if settings.checkpoint_interval > 0:
            threading.Thread(
                target=self._sign_checkpoints,
                args=(settings.checkpoint_interval,),
                name="audit-checkpoints",
                daemon=True,
            ).start()
        if self.status_watcher is not None:
            self.status_watcher.start()
        if self.intake is not None:
            self.intake.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.intake is not None:
            self.intake.stop()
        if self.status_watcher is not None:
            self.status_watcher.stop()
        self.runner.stop()
        if self.projection_process is not None:
            self.projection_process.stop()

    def _sign_checkpoints(self, interval: float) -> None:
        """Periodically anchor every account's chain head (see application.audit)."""
        while not self.stopping.wait(interval):
            try:
                bank = self.bank
                sign_checkpoint(bank.recorder, bank.database, self.services.keys, bank.now())
            except Exception:
                log.warning("could not sign an audit checkpoint", exc_info=True)


# Young collections every 10,000 net allocations instead of 700: a request's objects mostly die
# before one, instead of being promoted mid-request and collected by full collections (measured:
# collector time 6.6 % -> 1.8 % of a 4-client read window, full collections 24 -> 0 in 6 s).
GEN0_THRESHOLD = 10_000


def settle_heap() -> None:
    """Once the server is ready: everything alive now (schema, library, settings, pools) lives
    for the whole process, so move it out of the collector's sight, and collect the young
    generation less often. Process-wide, so only for the process that serves (``creditbank
    serve``), never an app built in tests: a frozen heap is never collected again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, *gc.get_threshold()[1:])


def create_app(
    settings: Settings | None = None, services: Services | None = None, serving: bool = False
) -> FastAPI:
    """The app over ``services`` (built here, and closed on shutdown, when not given);
    ``serving``: this process is the server (``settle_heap`` once it is ready)."""
    settings = services.settings if services is not None else (settings or Settings())
    tokens = TokenService(
        load_or_create_signing_key(settings.data_dir),
        oidc_issuer=settings.oidc_issuer,
        oidc_audience=settings.oidc_audience,
        oidc_jwks_url=settings.oidc_jwks_url,
        local_tokens=settings.local_tokens_accepted,
        jwks_timeout=settings.oidc_jwks_timeout,
        jwks_retry_after=settings.oidc_jwks_retry_after,
    )
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = services if services is not None else await run_in_threadpool(bootstrap, settings)
        running = Running(built, asyncio.get_running_loop(), serving)
        running.start()
        app.state.running = running
        if serving:
            canonicalisation.start(built.bank.standards_material.directory)
            settle_heap()
        try:
            yield
        finally:
            running.stop()
            if services is None:
                built.close()

    def running(request: HTTPConnection) -> Running:
        state: Running = request.app.state.running
        return state

    async def caller(connection: HTTPConnection) -> Principal:
        header = connection.headers.get("authorization", "")
        if not header:
            return ANONYMOUS
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("use 'Authorization: Bearer <token>'")
        # Awaited: a JWKS fetch or a revocation-list read runs in a thread, never here.
        return await tokens.authenticate(token.strip(), running(connection).bank.database)

    async def get_context(connection: HTTPConnection) -> Context:
        # HTTPConnection, not Request: the same getter serves WebSocket connections.
        principal = await caller(connection)
        state = running(connection)
        return Context(
            bank=state.bank,
            principal=principal,
            freshness=state.freshness,
            exporter=state.exporter,
            request_id=request_id.get(),
        )

    app = FastAPI(title="Credit Bank", lifespan=lifespan)
    app.state.tokens = tokens
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    uploads = {path: settings.intake_max_bytes for path in intake.UPLOAD_PATHS}
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, streamed=uploads)
    app.add_middleware(RequestContext)
    # Outermost of ours: refusals by the others (413...) carry the headers too. Pages by path
    # prefix: a new page (/app/...) adds its own CSP here.
    pages = {} if settings.production else {"/graphql": graphiql.content_security_policy()}
    pages["/app"] = PORTAL_CSP
    app.add_middleware(
        SecurityHeaders, pages=pages, hsts=settings.base_url.lower().startswith("https://")
    )
    app.state.anonymous_verifications = AnonymousVerifications(
        settings.verify_anonymous_per_minute, settings.verify_anonymous_max_bytes
    )

    # Production: no GraphiQL page and no introspection (clients read schema.graphql).
    schema = build_schema(production=settings.production)
    ide: Literal["graphiql"] | None = None if settings.production else "graphiql"
    router = Router(schema, context_getter=get_context, graphql_ide=ide)
    router.metrics = metrics
    router.operations = root_fields(schema)
    app.include_router(router, prefix="/graphql")
    if not settings.production:
        graphiql.install(app, router)
    app.state.schema = schema  # the portal runs its pages' operations in-process
    app.state.settings = settings
    portal.install(app)
    intake.install(app, caller)

    @app.exception_handler(AuthenticationError)
    async def unauthenticated(_: Request, exc: AuthenticationError) -> JSONResponse:
        return JSONResponse(
            {"data": None, "errors": [{"message": str(exc), "extensions": {"code": exc.code}}]},
            status_code=401,
        )

    @app.get("/.well-known/jwks.json")
    async def jwks(request: Request) -> dict[str, Any]:
        """The bank's public signing keys, every one it ever signed exports with, each under
        the DID URL its exports name as ``kid`` (the first also under its earlier bare kid)."""
        return running(request).exporter.jwks()

    async def did_document(request: Request) -> dict[str, Any]:
        """The bank's did:web document: the same keys as verification methods (Multikey for
        Ed25519, JsonWebKey otherwise), each an assertionMethod."""
        return running(request).exporter.did_document()

    # did:web resolves a bare host at /.well-known/did.json, a public URL with a path at
    # <path>/did.json (the proxy in front strips the path prefix: the app sees /did.json).
    app.add_api_route("/.well-known/did.json", did_document, methods=["GET"])
    if did_document_path(settings.base_url) != "/.well-known/did.json":
        app.add_api_route("/did.json", did_document, methods=["GET"])

    @app.get("/issuer")
    async def issuer(request: Request) -> dict[str, Any]:
        return running(request).exporter.profile()

    @app.get("/status/{number}")
    async def status_list(request: Request, number: int) -> Response:
        """Revocation Bitstring Status List credential ``number`` (VC-JWT; a new list starts
        when one fills)."""
        try:
            token = await run_in_threadpool(
                running(request).exporter.status_list_credential, number
            )
        except NotFound:
            return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
        return Response(token, media_type="application/vc+jwt")

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Response:
        """Prometheus: request latency by operation, errors by code, projection lag. For the
        bearer of ``CREDITBANK_METRICS_TOKEN`` when it is set, else for loopback callers only
        (a scraper on the same host, or behind a proxy that adds the token)."""
        if not metrics_allowed(request, settings.metrics_token):
            return JSONResponse({"error": "FORBIDDEN"}, status_code=403)
        runner = running(request).runner
        try:
            metrics.lag.set(await run_in_threadpool(runner.lag))
            metrics.position.set(runner.position)
            metrics.parked.set(await run_in_threadpool(runner.parked))
        except Exception:  # still serve the other metrics
            log.warning("cannot read projection lag", exc_info=True)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        state = running(request)
        try:
            state.bank.standards_material.check()  # checked once, then remembered
        except DomainError as exc:
            return not_ready(exc.message, status="misconfigured")
        if not state.bank.database.availability.up:
            return not_ready("the database is unreachable", database="unreachable")
        try:
            lag = await asyncio.wait_for(run_in_threadpool(state.runner.lag), READYZ_TIMEOUT)
            parked = await asyncio.wait_for(run_in_threadpool(state.runner.parked), READYZ_TIMEOUT)
        except Exception:
            log.warning("database not reachable", exc_info=True)
            return not_ready("the database is unreachable", database="unreachable")
        position = state.runner.position
        if lag > settings.max_projection_lag:
            return not_ready(
                f"the views lag {lag} events behind",
                status="lagging",
                projectionLag=lag,
                projectionPosition=position,
            )
        return JSONResponse(
            {
                "status": "ready",
                "database": "ok",
                "projectionLag": lag,
                "projectionPosition": position,
                # Events the views could not take: their accounts' views are stale, every
                # other account's keep moving (Query.parkedEvents says which and why).
                "parkedEvents": parked,
            }
        )

    return app
