"""write_api, read_transcript, read_tail: the bank's GraphQL API over HTTP, served for real.

The bank runs as ``python -c "from api.cli import main; main()" serve --port P`` (uvicorn, inline
projections, read-your-writes) in a subprocess on a fresh PostgreSQL database; the baseline is
``bench.bare_app``, a tiny FastAPI app served by uvicorn in another subprocess on the same
database, doing one INSERT + COMMIT (or one SELECT) per request. The clients are 4 worker
processes (spawned, one ``httpx.Client`` per server each), or this process alone for single-client
latency; every figure is measured with the same clients against both servers.

- ``write_api``: signed Open Badges 3.0 VC-JWTs deposited with ``depositCredential`` by 4
  clients, each into its own identity-verified learners (the issuer's rule recognises every
  deposit: three events each), mutations/s ÷ ``POST /insert`` of the same bytes per second.
  Rounds alternate; each figure is the median of its rounds. The raw-SQL ratio (mutations/s ÷
  psycopg INSERT+COMMIT/s from the same 4 processes, no HTTP) is printed for the record.
- ``read_transcript``: one client, p50 of ``learner { account { transcript(first: 50) { edges
  { node { title credits issuer { name } } } } } }`` (a learner's own token; 60 outcomes from 3
  issuers) ÷ p50 of ``GET /transcript/{id}`` (the same 50 rows with their issuer's name from one
  SELECT). Interleaved; the raw-SQL ratio (÷ the SELECT itself over psycopg) for the record.
- ``read_tail``: p99 ÷ p50 of the same GraphQL query with 4 clients reading back to back (the
  bare endpoint's tail under the same load is printed for comparison).

The three share one served world per run (``bench.common.shared``): the database, both servers
and the client processes are set up once, in whichever of them runs first; when ``write_api``
runs first the reads see the database after its deposits. Signing of the credentials happens in
the clients before the rounds, not while they are timed. ``--es-env`` overrides reach the
served bank through ``bench.serve_app``.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import httpx

from api.auth import Role, TokenService, load_or_create_signing_key
from bench.bare_app import PAGE, TRANSCRIPT_SQL
from bench.common import (
    Context,
    Issuer,
    Op,
    OutcomeFactory,
    Profile,
    Report,
    Run,
    WorkerPool,
    bank_settings,
    create_issuer,
    create_raw_table,
    fresh_postgres,
    open_bank,
    percentile,
    raw_inserter,
    register_documented_learners,
    register_learners,
    run_for,
    shared,
    temp_dir,
    where,
)
from bench.served import ServerProcess, app_argv, app_env, bare_argv, bare_env, free_port, server
from bench.write_app import report_runs

WRITE_GOAL = 0.5
READ_GOAL = 1.5
TAIL_GOAL = 3.0
CLIENTS = 4
READ_OUTCOMES = 60  # the reader's transcript: more than one page

DEPOSIT = (
    "mutation Deposit($input: DepositCredentialInput!) { depositCredential(input: $input) "
    "{ outcome { id status } errors { code message } } }"
)
TRANSCRIPT = (
    "query Transcript($id: ID!) { learner(id: $id) { account { transcript(first: 50) "
    "{ edges { node { title credits issuer { name } } } } } } }"
)


def issuer_uri(slug: str) -> str:
    return f"https://{slug}.example.edu.cn/issuer"  # what create_issuer registers


# -- the clients ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientSpec:
    index: int
    app_url: str
    bare_url: str
    database_url: str  # for the raw INSERT+COMMIT baseline
    issuer: Issuer
    issuer_uri: str
    institution_token: str
    learners: tuple[tuple[str, str], ...]  # (learner id, identity-document number), own ones
    reader: str  # the learner whose transcript is read
    reader_token: str
    credentials: int  # signed before the rounds


class CredentialSigner:
    """Open Badges 3.0 VC-JWTs of the issuer for a learner's document number, made with the
    issuer tooling (application/issuing.py): real EdDSA signatures, the shape the bank verifies."""

    def __init__(self, issuer: Issuer, uri: str) -> None:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        from application.issuing import IssuerKey

        self._keys = IssuerKey.of(
            load_pem_private_key(issuer.private_pem, password=None), issuer.kid
        )
        self._uri = uri
        self._serial = itertools.count(1)

    def sign(self, document_number: str) -> str:
        from datetime import UTC, datetime, timedelta

        from application.issuing import Achievement, achievement_credential, sign_vc_jwt

        n = next(self._serial)
        achievement = Achievement(
            issuer_uri=self._uri,
            document_number=document_number,
            title=f"Course {n} 课程",
            credits=3 if n % 2 else 2.5,
            eqf_level=6,
            valid_from=datetime.now(UTC).replace(microsecond=0) - timedelta(days=30),
        )
        return sign_vc_jwt(achievement_credential(achievement), self._keys)


def check_deposit(response: httpx.Response) -> dict[str, Any]:
    """The mutation's outcome; raises on any error (a failing benchmark must not report)."""
    body = response.json() if response.status_code == 200 else {}
    payload = (body.get("data") or {}).get("depositCredential") or {}
    if response.status_code != 200 or body.get("errors") or payload.get("errors"):
        raise RuntimeError(f"depositCredential failed: {response.status_code} {response.text}")
    outcome: dict[str, Any] = payload["outcome"]
    return outcome


def check_page(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"transcript read failed: {response.status_code} {response.text}")
    body = response.json()
    edges = body["data"]["learner"]["account"]["transcript"]["edges"]
    if body.get("errors") or len(edges) != PAGE:
        raise RuntimeError(f"transcript read returned {len(edges)} rows: {response.text[:500]}")


def wait_until_up(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200")
        time.sleep(0.1)


class Client:
    """One client's operations against the app, the bare app and the database."""

    def __init__(self, spec: ClientSpec, stack: ExitStack) -> None:
        self.spec = spec
        self.app = stack.enter_context(httpx.Client(base_url=spec.app_url, timeout=60))
        self.bare = stack.enter_context(httpx.Client(base_url=spec.bare_url, timeout=60))
        self._signer = CredentialSigner(spec.issuer, spec.issuer_uri)
        self._learners = itertools.cycle(spec.learners)
        self._signed: deque[tuple[str, str]] = deque(
            self._next_signed() for _ in range(spec.credentials)
        )
        # What the bare app stores: the bytes of a credential like those deposited.
        self._sample = self._signed[0][1] if self._signed else self._next_signed()[1]
        self._institution = {"Authorization": f"Bearer {spec.institution_token}"}
        self._reader = {"Authorization": f"Bearer {spec.reader_token}"}
        self.raw: Op = raw_inserter(spec.database_url, stack)

    def _next_signed(self) -> tuple[str, str]:
        learner_id, number = next(self._learners)
        return learner_id, self._signer.sign(number)

    def deposit(self) -> dict[str, Any]:
        learner_id, credential = self._signed.popleft() if self._signed else self._next_signed()
        variables = {"input": {"learnerId": learner_id, "credential": credential}}
        response = self.app.post(
            "/graphql", json={"query": DEPOSIT, "variables": variables}, headers=self._institution
        )
        return check_deposit(response)

    def insert(self) -> None:
        response = self.bare.post("/insert", json={"credential": self._sample})
        if response.status_code != 200:
            raise RuntimeError(f"bare insert failed: {response.status_code} {response.text}")

    def read(self) -> None:
        variables = {"id": self.spec.reader}
        check_page(
            self.app.post(
                "/graphql", json={"query": TRANSCRIPT, "variables": variables}, headers=self._reader
            )
        )

    def bare_read(self) -> None:
        response = self.bare.get(f"/transcript/{self.spec.reader}")
        ok = response.status_code == 200
        edges = response.json()["data"]["learner"]["account"]["transcript"]["edges"] if ok else []
        if len(edges) != PAGE:
            raise RuntimeError(f"bare read failed: {response.status_code} {response.text[:300]}")

    def ops(self) -> dict[str, Op]:
        return {
            "deposit": self.deposit,
            "insert": self.insert,
            "raw": self.raw,
            "read": self.read,
            "bare_read": self.bare_read,
        }

    def warm_up(self) -> None:
        outcome = self.deposit()
        if outcome["status"] != "RECOGNIZED":
            raise RuntimeError(f"a bench deposit was not recognised automatically: {outcome}")
        for op in self.ops().values():
            for _ in range(3):
                op()


def setup_client(spec: ClientSpec, stack: ExitStack) -> dict[str, Op]:
    """In a worker: sign the credentials, wait for both servers, warm up."""
    client = Client(spec, stack)
    wait_until_up(spec.app_url + "/readyz")
    wait_until_up(spec.bare_url + "/healthz")
    client.warm_up()
    return client.ops()


# -- the served world ----------------------------------------------------------------------------
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

    def restart_app(self, profile: Path | None = None, variant: Variant | None = None) -> None:
        """Stops the served bank and serves it again on the same port: plainly, under the
        profiler (``profile``), or as a lever ``variant`` (with its garbage collections logged);
        for ``--profile``, after the measured rounds."""
        self.app.stop()
        es_env = {**self.es_env, **(variant.es_env if variant else {})}
        env = app_env(self.data_dir, self.database_url, es_env)
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


@dataclass(frozen=True)
class Collections:
    """Garbage collections of the served bank in a time window."""

    full: int
    pause_total: float  # seconds, all generations
    pause_max: float

    @staticmethod
    def read(log: Path, started: float, ended: float) -> Collections:
        rows = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
        window = [(int(r[1]), float(r[2])) for r in rows if started <= float(r[0]) <= ended]
        return Collections(
            full=sum(1 for generation, _ in window if generation == 2),
            pause_total=sum(pause for _, pause in window),
            pause_max=max((pause for _, pause in window), default=0.0),
        )


def compare_variants(
    ctx: Context, world: ApiWorld, phase: str, variants: tuple[Variant, ...], one: bool = False
) -> None:
    """One round of ``phase`` against each variant of the served bank, by the 4 clients or
    (``one``) by one client in this process; a restart each (rounds minutes apart on a busy
    machine compare less well than the interleaved ones above); then the plain bank again."""
    report = ctx.report
    seconds = ctx.pick(0.6, 6.0)
    try:
        with ExitStack() as stack:
            single = Client(_single(world.specs[0], world), stack) if one else None
            for variant in variants:
                world.restart_app(variant=variant)
                if single is not None:
                    op = single.ops()[phase]
                    run_for(op, ctx.pick(0.2, 1.0))
                    run = run_for(op, seconds)
                else:
                    world.pool.run(phase, ctx.pick(0.2, 1.0))
                    run = world.pool.run(phase, seconds)
                report_variant(report, f"lever_{variant.name}", phase, run, world.gc_log(variant))
    finally:
        world.restart_app()


def report_variant(report: Report, key: str, phase: str, run: Run, gc_log: Path) -> None:
    p50, p99 = percentile(run.latencies, 50), percentile(run.latencies, 99)
    gc = Collections.read(gc_log, run.started, run.ended)
    report.raw(f"{key}_{phase}s_per_s", run.per_second, "ops/s")
    report.raw(f"{key}_{phase}_p50", 1000 * p50, "ms")
    report.raw(f"{key}_{phase}_p99", 1000 * p99, "ms")
    report.raw(f"{key}_p99_over_p50", p99 / p50 if p50 else 0.0, "x")
    report.raw(f"{key}_full_collections", gc.full, "count")
    report.raw(f"{key}_gc_pause_share", 100 * gc.pause_total / run.seconds, "% of the window")
    report.raw(f"{key}_gc_pause_max", 1000 * gc.pause_max, "ms")


GRAPHQL_CACHES = {"BENCH_GRAPHQL_CACHES": "1"}
WRITE_VARIANTS = (
    Variant("default"),
    Variant("no_deepcopy", es_env={"DEEPCOPY_FROM_AGGREGATE_CACHE": "n"}),
    Variant("no_aggregate_cache", env={"CREDITBANK_AGGREGATE_CACHE_SIZE": "0"}),
    Variant("gc_freeze", gc_freeze=True),
    Variant("graphql_caches", env=GRAPHQL_CACHES),
)
READ_VARIANTS = (
    Variant("default"),
    Variant("gc_freeze", gc_freeze=True),
    Variant("graphql_caches", env=GRAPHQL_CACHES),
    Variant("gc_freeze_graphql_caches", env=GRAPHQL_CACHES, gc_freeze=True),
)


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
    app = stack.enter_context(
        server(
            "app",
            app_argv(app_port, ctx.es_env),
            app_env(data_dir, url, ctx.es_env),
            data_dir / "app.log",
        )
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


# -- write_api -----------------------------------------------------------------------------------
def run_write(ctx: Context) -> None:
    world = world_for(ctx)
    report = ctx.report
    seconds = ctx.pick(0.6, 6.0)
    rounds = ctx.pick(1, 3)
    runs: dict[str, list[Run]] = {"raw": [], "insert": [], "deposit": []}
    for phase in runs:  # warm-up, not counted
        world.pool.run(phase, ctx.pick(0.2, 1.0))
    for _ in range(rounds):
        for phase, phase_runs in runs.items():
            phase_runs.append(world.pool.run(phase, seconds))
    deposits = report_runs(report, "api", "mutation", runs["deposit"])
    inserts = report_runs(report, "bare", "insert", runs["insert"])
    raw = report_runs(report, "sql", "commit", runs["raw"])
    report.raw("clients", CLIENTS, "processes")
    ratio = deposits / inserts if inserts else 0.0
    report.ratio("write_api", ratio, ">=", WRITE_GOAL)
    report.raw("sql_ratio", deposits / raw if raw else 0.0, "mutations/s ÷ INSERT+COMMIT/s")
    if ctx.profile:
        profile_app(ctx, world, "deposit", ctx.pick(60, 200))
        compare_variants(ctx, world, "deposit", WRITE_VARIANTS)


# -- read_transcript -----------------------------------------------------------------------------
def run_read(ctx: Context) -> None:
    import psycopg

    world = world_for(ctx)
    report = ctx.report
    spec = world.specs[0]
    with ExitStack() as stack:
        client = Client(_single(spec, world), stack)
        conn = stack.enter_context(psycopg.connect(world.database_url))

        def select() -> None:
            rows = conn.execute(TRANSCRIPT_SQL, (spec.reader, PAGE), prepare=True).fetchall()
            conn.commit()
            if len(rows) != PAGE:
                raise RuntimeError(f"the SELECT returned {len(rows)} rows")

        ops: dict[str, Op] = {"graphql": client.read, "bare": client.bare_read, "sql": select}
        for op in ops.values():
            for _ in range(10):
                op()
        times = interleave(ops, ctx.pick(150, 1000))
    for name, values in times.items():
        report.latencies(f"{name}_page", values)
    report.raw("requests", len(times["graphql"]), "each, interleaved, 1 client")
    p50 = {name: percentile(values, 50) for name, values in times.items()}
    ratio = p50["graphql"] / p50["bare"] if p50["bare"] else 0.0
    report.ratio("read_transcript", ratio, "<=", READ_GOAL)
    report.raw("sql_ratio", p50["graphql"] / p50["sql"] if p50["sql"] else 0.0, "p50 ÷ SELECT p50")
    if ctx.profile:
        profile_app(ctx, world, "read", ctx.pick(100, 300))
        compare_variants(ctx, world, "read", READ_VARIANTS, one=True)


def _single(spec: ClientSpec, world: ApiWorld) -> ClientSpec:
    """A client for this process: no credentials signed in advance."""
    return ClientSpec(**{**spec.__dict__, "credentials": 0, "app_url": world.app_url})


def interleave(ops: dict[str, Op], repeats: int) -> dict[str, list[float]]:
    """Durations of ``repeats`` calls of each op, in rotating order so noise hits all alike."""
    names = list(ops)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            ops[name]()
            times[name].append(time.perf_counter() - start)
    return times


# -- read_tail -----------------------------------------------------------------------------------
def run_tail(ctx: Context) -> None:
    world = world_for(ctx)
    report = ctx.report
    seconds = ctx.pick(0.6, 6.0)
    rounds = ctx.pick(1, 3)
    runs: dict[str, list[Run]] = {"read": [], "bare_read": []}
    for phase in runs:
        world.pool.run(phase, ctx.pick(0.2, 1.0))
    for _ in range(rounds):
        for phase, phase_runs in runs.items():
            phase_runs.append(world.pool.run(phase, seconds))
    tails = {}
    for phase, phase_runs in runs.items():
        latencies = [x for r in phase_runs for x in r.latencies]
        prefix = "graphql" if phase == "read" else "bare"
        report.raw(f"{prefix}_reads_per_s", median(r.per_second for r in phase_runs), "ops/s")
        report.latencies(f"{prefix}_read", latencies)
        report.raw(f"{prefix}_reads", len(latencies), "count")
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        tails[phase] = p99 / p50 if p50 else 0.0
        busy = [r.machine_busy for r in phase_runs if r.machine_busy is not None]
        if busy:
            report.raw(f"{prefix}_machine_cpu_busy", round(100 * median(busy)), "%")
    report.raw("clients", CLIENTS, "processes")
    report.raw("bare_p99_over_p50", tails["bare_read"], "x")
    report.ratio("read_tail", tails["read"], "<=", TAIL_GOAL)
    if ctx.profile:
        compare_variants(ctx, world, "read", READ_VARIANTS)


# -- profiles of the served bank -----------------------------------------------------------------
SERVER_FIGURES: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("asgi_request", where("uvicorn/protocols/http/httptools_impl.py", "run_asgi")),
    ("strawberry_request", where("strawberry/http/async_base_view.py", "run")),
    ("graphql_parse", where("graphql/language/parser.py", "parse")),
    ("graphql_validate", where("graphql/validation/validate.py", "validate")),
    ("graphql_execute", where("strawberry/schema/schema.py", "_execute_operation")),
    ("payload_error_scan", where("api/app.py", "_payload_error_codes")),
    ("bearer_token_verify", where("api/auth.py", "verify")),
    ("threadpool_work", where("api/graphql/context.py", "go")),
    ("rows_to_objects", where("api/graphql/learners.py", "of_row")),
    ("deposit_credential", where("application/bank.py", "deposit_credential")),
    ("credential_verify", where("application/credentials.py", "verify")),
    ("json_schema_validate", where("jsonschema/validators.py", "iter_errors")),
    ("bank_deposit", where("application/bank.py", "deposit")),
    ("aggregate_loads", where("eventsourcing/application.py", "_reconstruct_aggregate")),
    ("event_store_save", where("eventsourcing/application.py", "save")),
    ("projection_batch", where("projections/runner.py", "_run_once")),
    ("psycopg_execute", where("psycopg/cursor.py", "execute")),
    ("json_log_lines", where("api/observability.py", "format")),
    ("protocol_isinstance", where("typing.py", "__instancecheck__")),
)


def profile_app(
    ctx: Context, world: ApiWorld, what: str, ops: int, variant: Variant | None = None
) -> None:
    """The served bank under the profiler (every thread, CPU time), one client from this process
    doing ``ops`` deposits or reads; then the bank is served plainly again."""
    out = world.data_dir / f"profile-{what}-{uuid.uuid4().hex[:6]}.prof"
    world.restart_app(out, variant)
    try:
        with ExitStack() as stack:
            client = Client(_single(world.specs[0], world), stack)
            op: Op = client.deposit if what == "deposit" else client.read
            for _ in range(5):
                op()
            world.app.mark_profile(out)  # forget start-up and warm-up
            started = time.perf_counter()
            for _ in range(ops):
                op()
            wall = (time.perf_counter() - started) / ops
    finally:
        world.restart_app(None)
    report_server_profile(ctx.report, what, Profile(str(out), ops), wall)


def report_server_profile(report: Report, what: str, result: Profile, wall: float) -> None:
    report.profile(
        f"served bank, {result.ops} {what}s from one client, all threads, CPU time, "
        "top 20 by own time",
        result.top(20, sort="tottime"),
    )
    report.profile("the same, top 25 cumulative", result.top(25))
    report.raw(f"profile_{what}_wall_per_request", 1000 * wall, "ms (profiled)")
    report.raw(f"profile_{what}_server_cpu", 1000 * result.total_seconds_per_op(), "ms/request")
    for key, predicate in SERVER_FIGURES:
        cpu = result.seconds_per_op(predicate)
        if cpu:
            report.raw(f"profile_{what}_{key}_cpu", 1000 * cpu, "ms/request")
    threads = Path(str(result.profiler) + ".threads.json")
    if threads.exists():
        for name, seconds in json.loads(threads.read_text()).items():
            key = name.lower().replace(" ", "_").replace("-", "_")
            report.raw(
                f"profile_{what}_thread_{key}_cpu", 1000 * seconds / result.ops, "ms/request"
            )
