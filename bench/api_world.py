"""The served world of the API benchmarks, set up once per run (``bench.world.shared``): a fresh
database with issuers, learners and a reader's transcript, the served bank and the bare app, and
the client processes."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from api.auth import Role, TokenService, load_or_create_signing_key
from bench.api_clients import ClientSpec, setup_client
from bench.raw import create_raw_table
from bench.report import Context
from bench.served import (
    APP_COMMAND,
    ROOT,
    ServerProcess,
    app_argv,
    app_env,
    bare_argv,
    bare_env,
    free_port,
    python,
    server,
)
from bench.synthetic import (
    OutcomeFactory,
    create_issuer,
    register_documented_learners,
    register_learners,
)
from bench.workers import WorkerPool
from bench.world import bank_settings, fresh_postgres, open_bank, shared, temp_dir

CLIENTS = 4
READ_OUTCOMES = 60  # the reader's transcript: more than one page


def issuer_uri(slug: str) -> str:
    return f"https://{slug}.example.edu.cn/issuer"  # what create_issuer registers


@dataclass
class ApiWorld:
    data_dir: Path
    database_url: str
    app: ServerProcess
    app_port: int
    bare_url: str
    pool: WorkerPool
    specs: list[ClientSpec]
    es_env: dict[str, str]
    stack: ExitStack

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    def restart_app(
        self, profile: Path | None = None, variant: Variant | None = None, code: Path = ROOT
    ) -> None:
        """Stops the served bank and serves it again on the same port: plainly, under the
        profiler (``profile``), or as a lever ``variant`` (with its garbage collections logged);
        for ``--profile``, after the measured rounds. ``code``: the tree the served bank runs
        from (another revision's, for ``bench.revisions``)."""
        self.app.stop()
        es_env = {**self.es_env, **(variant.es_env if variant else {})}
        env = app_env(self.data_dir, self.database_url, es_env)
        projections_mode(env)
        name = "app" if profile is None else "app-profiled"
        if variant is not None:
            name = f"{name}-{variant.name}"
            env.update(variant.env)
            env["BENCH_GC_LOG"] = str(self.gc_log(variant))
        self.app = self.stack.enter_context(
            server(
                name,
                app_argv(self.app_port, es_env, profile, launcher=variant is not None),
                env,
                self.data_dir / f"{name}.log",
                code,
            )
        )
        self.app.wait_ready(self.app_url + "/readyz")
        if variant is not None and variant.gc_freeze:
            self.app.freeze_gc(self.gc_log(variant))

    def gc_log(self, variant: Variant) -> Path:
        return self.data_dir / f"gc-{variant.name}.log"


@dataclass(frozen=True)
class Variant:
    """The served bank with one lever moved: eventsourcing settings (``es_env``), its own
    settings (``env``: CREDITBANK_*), or ``gc.freeze()`` once it is ready."""

    name: str
    es_env: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    gc_freeze: bool = False


def projections_mode(env: dict[str, str]) -> str | None:
    """Experiment (BENCH_PROJECTIONS=inline|process|external): who writes the served bank's
    views (CREDITBANK_PROJECTIONS; unset, the bank's default). ``external``: a `creditbank
    projections run` process the benchmark starts beside the served bank."""
    mode = os.environ.get("BENCH_PROJECTIONS") or None
    if mode is not None:
        env["CREDITBANK_PROJECTIONS"] = mode
    return mode


def open_world(ctx: Context, stack: ExitStack) -> ApiWorld:
    started = time.perf_counter()
    url = stack.enter_context(fresh_postgres())
    data_dir = stack.enter_context(temp_dir())
    per_client = ctx.pick(4, 10)
    with open_bank(bank_settings(data_dir, url), ctx.es_env) as bank:
        issuers = [create_issuer(bank, f"bench-api-{i}") for i in range(3)]
        writers = register_documented_learners(bank, CLIENTS * per_client)
        (reader,) = register_learners(bank, 1)
        factories = [OutcomeFactory(issuer) for issuer in issuers]
        for n in range(READ_OUTCOMES):  # through CreditBank.deposit: the views follow in serve
            factories[n % len(factories)].deposit(bank, reader)
    create_raw_table(url)
    tokens = TokenService(load_or_create_signing_key(data_dir))
    app_port, bare_port = free_port(), free_port()
    env = app_env(data_dir, url, ctx.es_env)
    mode = projections_mode(env)
    if mode is not None:
        ctx.report.raw("projections", mode, "CREDITBANK_PROJECTIONS (BENCH_PROJECTIONS)")
    if mode == "external":
        worker = [*python(), *APP_COMMAND, "projections", "run"]
        stack.enter_context(server("projections", worker, env, data_dir / "projections.log"))
    app = stack.enter_context(
        server("app", app_argv(app_port, ctx.es_env), env, data_dir / "app.log")
    )
    bare = stack.enter_context(
        server("bare", bare_argv(bare_port), bare_env(url), data_dir / "bare.log")
    )
    app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
    issuer = issuers[0]
    specs = [
        ClientSpec(
            index=i,
            app_url=app_url,
            bare_url=bare_url,
            database_url=url,
            issuer=issuer,
            issuer_uri=issuer_uri("bench-api-0"),
            institution_token=tokens.issue(Role.INSTITUTION, issuer.institution_id),
            learners=tuple(
                (str(learner), number)
                for learner, number in writers[i * per_client : (i + 1) * per_client]
            ),
            reader=str(reader),
            reader_token=tokens.issue(Role.LEARNER, str(reader)),
            credentials=ctx.pick(150, 1200),
        )
        for i in range(CLIENTS)
    ]
    # The clients start (spawn, imports, signing) while the servers start.
    pool = stack.enter_context(WorkerPool(setup_client, specs))
    app.wait_ready(app_url + "/readyz")
    bare.wait_ready(bare_url + "/healthz")
    world = ApiWorld(data_dir, url, app, app_port, bare_url, pool, specs, dict(ctx.es_env), stack)
    ctx.report.raw("world_setup", time.perf_counter() - started, "s")
    return world


def world_for(ctx: Context) -> ApiWorld:
    return shared("api", lambda stack: open_world(ctx, stack))


def single_spec(spec: ClientSpec, world: ApiWorld) -> ClientSpec:
    """A client for this process: no credentials signed in advance."""
    return ClientSpec(**{**spec.__dict__, "credentials": 0, "app_url": world.app_url})
