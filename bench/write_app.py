"""write_app: deposits per second through the application service ÷ raw INSERT+COMMIT per second.

A deposit goes through ``CreditBank.deposit`` (issuer check, credential-index check, learner and
account load, recognition rules, one atomic save of account + index) into identity-verified
learners with a recognition rule in place, so every deposit is also recognised automatically
(three events: OutcomeDeposited, OutcomeRecognized, and the credential index's creation).

The baseline is the cheapest durable write the same database can do: one row INSERT and COMMIT on
one open connection, into a table shaped like the events table, at the same concurrency. Both run
in the same worker processes (spawned, one bank each, same database and secret), alternating
rounds; each figure is the median of its rounds.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from uuid import UUID

from application.bank import CreditBank
from application.settings import Settings
from bench.profiling import Profile, profile, where
from bench.raw import create_raw_table, raw_inserter
from bench.report import Context, Report
from bench.synthetic import Issuer, OutcomeFactory, create_issuer, register_learners
from bench.timing import Op, Run, median_run, percentile, time_calls
from bench.workers import WorkerPool
from bench.world import bank_settings, fresh_postgres, open_bank, temp_dir
from domain.values import OutcomeStatus

GOAL = 0.7
SQLITE_GOAL = 0.5  # issue 16: the embedded engine's goal is lower (its raw commit costs little)


@dataclass(frozen=True)
class WriterSpec:
    index: int
    data_dir: str
    database_url: str | None  # None: the SQLite file in data_dir
    raw_target: str  # PostgreSQL URL or SQLite file path
    issuer: Issuer
    learners: tuple[str, ...]  # this worker's own verified learners
    es_env: dict[str, str]


def setup_writer(spec: WriterSpec, stack: ExitStack) -> dict[str, Op]:
    """In a worker: its own bank on the shared database, and a raw connection."""
    settings = bank_settings(Path(spec.data_dir), spec.database_url)
    bank = stack.enter_context(open_bank(settings, spec.es_env))
    learners = [UUID(learner) for learner in spec.learners]
    factory = OutcomeFactory(spec.issuer, prefix=f"w{spec.index}-{uuid.uuid4().hex[:8]}")
    # Warm up, and check that deposits are recognised automatically (else we'd time less work).
    for learner in learners:
        outcome_id = factory.deposit(bank, learner)
        status = bank.account(learner).outcome(outcome_id).status
        if status is not OutcomeStatus.RECOGNIZED:
            raise RuntimeError(f"a bench deposit was not recognised automatically: {status}")
    cycle = itertools.cycle(learners)
    insert = raw_inserter(spec.raw_target, stack)
    for _ in range(10):
        insert()
    return {"app": lambda: factory.deposit(bank, next(cycle)), "raw": insert}


@dataclass(frozen=True)
class Measured:
    app_per_s: float
    raw_per_s: float

    @property
    def ratio(self) -> float:
        return self.app_per_s / self.raw_per_s if self.raw_per_s else 0.0


def measure(
    ctx: Context,
    label: str,
    data_dir: Path,
    database_url: str | None,
    raw_target: str,
    issuer: Issuer,
    processes: int,
) -> Measured:
    """Alternating rounds of raw inserts and deposits in ``processes`` workers."""
    report = ctx.report
    seconds = ctx.pick(0.6, 6.0)
    rounds = ctx.pick(1, 3)
    per_worker = ctx.pick(4, 40)
    # Registered here, one after the other: registrations append to one shared listing log, so
    # workers registering at once conflict on it (CreditBank gives up after 8 tries).
    with open_bank(bank_settings(data_dir, database_url), ctx.es_env) as bank:
        learners = [str(learner) for learner in register_learners(bank, per_worker * processes)]
    shares = [tuple(learners[i * per_worker : (i + 1) * per_worker]) for i in range(processes)]
    specs = [
        WriterSpec(i, str(data_dir), database_url, raw_target, issuer, share, ctx.es_env)
        for i, share in enumerate(shares)
    ]
    app_runs: list[Run] = []
    raw_runs: list[Run] = []
    with WorkerPool(setup_writer, specs) as pool:
        pool.run("raw", ctx.pick(0.2, 1.0))  # warm-up, not counted
        pool.run("app", ctx.pick(0.2, 1.0))
        for _ in range(rounds):
            raw_runs.append(pool.run("raw", seconds))
            app_runs.append(pool.run("app", seconds))
    app_per_s = report_runs(report, f"{label}_app", "deposit", app_runs)
    raw_per_s = report_runs(report, f"{label}_raw", "commit", raw_runs)
    return Measured(app_per_s, raw_per_s)


def report_runs(report: Report, prefix: str, what: str, runs: list[Run]) -> float:
    """Throughput (median of rounds), latencies, and where the CPU went; returns ops/s."""
    per_s, latencies = median_run(runs)
    report.raw(f"{prefix}_{what}s_per_s", per_s, "ops/s")
    report.latencies(f"{prefix}_{what}", latencies)
    report.raw(f"{prefix}_{what}s", sum(r.ops for r in runs), "count")
    report.raw(f"{prefix}_client_cpu_per_{what}", 1000 * median(r.cpu_per_op for r in runs), "ms")
    busy = [r.machine_busy for r in runs if r.machine_busy is not None]
    if busy:
        report.raw(f"{prefix}_machine_cpu_busy", round(100 * median(busy)), "%")
    if len(runs) > 1:
        report.raw(f"{prefix}_rounds", " ".join(f"{r.per_second:.1f}" for r in runs), "ops/s")
    return per_s


def run_postgres(ctx: Context) -> None:
    with fresh_postgres() as url, temp_dir() as data_dir:
        settings = bank_settings(data_dir, url)
        with open_bank(settings) as bank:
            issuer = create_issuer(bank)
        create_raw_table(url)
        one = measure(ctx, "pg_1p", data_dir, url, url, issuer, processes=1)
        four = measure(ctx, "pg_4p", data_dir, url, url, issuer, processes=4)
        ctx.report.ratio("write_app", four.ratio, ">=", GOAL)
        ctx.report.ratio("write_app_1", one.ratio, ">=", GOAL)
        if ctx.profile:
            with open_bank(settings, ctx.es_env) as bank:
                profile_deposits(ctx.report, bank, issuer, "postgres", ops=300)
            compare_levers(ctx, settings, issuer)


def run_sqlite(ctx: Context) -> None:
    with temp_dir() as data_dir:
        settings = bank_settings(data_dir, None)
        with open_bank(settings) as bank:
            issuer = create_issuer(bank)
        path = str(settings.sqlite_path)
        create_raw_table(path)
        one = measure(ctx, "sqlite_1p", data_dir, None, path, issuer, processes=1)
        ctx.report.ratio("write_app_sqlite", one.ratio, ">=", SQLITE_GOAL)
        if ctx.profile:
            with open_bank(settings, ctx.es_env) as bank:
                profile_deposits(ctx.report, bank, issuer, "sqlite", ops=300)


def profile_deposits(
    report: Report, bank: CreditBank, issuer: Issuer, engine: str, ops: int
) -> None:
    """cProfile of deposits in this process (same setup as the workers), with per-deposit counts
    of what the profile says limits the figure."""
    learners = register_learners(bank, 20)
    factory = OutcomeFactory(issuer, prefix=f"profile-{uuid.uuid4().hex[:8]}")
    for learner in learners:
        factory.deposit(bank, learner)
    cycle = itertools.cycle(learners)
    result = profile(lambda: factory.deposit(bank, next(cycle)), ops)
    report.profile(f"{engine} deposit, {ops} deposits, top 15 cumulative", result.top(15))
    report_deposit_profile(report, engine, result)


def report_deposit_profile(report: Report, engine: str, result: Profile) -> None:
    """Per deposit, from the profile (times include cProfile's overhead)."""
    per, calls = result.seconds_per_op, result.calls_per_op
    es = "eventsourcing/"
    figures: list[tuple[str, float, str]] = [
        ("deposit", 1000 * per(where("bench/synthetic.py", "deposit")), "ms"),
        ("evidence_signing", 1000 * per(where("bench/synthetic.py", "evidence")), "ms"),
        ("aggregate_loads", calls(where(es + "application.py", "_reconstruct_aggregate")), "/op"),
        (
            "aggregate_loads",
            1000 * per(where(es + "application.py", "_reconstruct_aggregate")),
            "ms",
        ),
        ("select_events", calls(where(es, "select_events")), "/op"),
        ("save", 1000 * per(where(es + "application.py", "save")), "ms"),
        ("insert_events", 1000 * per(where(es, "insert_events")), "ms"),
        ("json_decode", 1000 * per(where(es + "persistence.py", "to_domain_event")), "ms"),
        ("json_encode", 1000 * per(where(es + "persistence.py", "to_stored_event")), "ms"),
        ("protocol_isinstance", 1000 * per(where("typing.py", "__instancecheck__")), "ms"),
    ]
    if engine == "postgres":
        figures += [
            ("db_wait", 1000 * per(where("psycopg/connection.py", "wait")), "ms"),
            ("connection_checkouts", calls(where("psycopg_pool/pool.py", "getconn")), "/op"),
            ("pre_ping_checks", calls(where("psycopg_pool/pool.py", "check_connection")), "/op"),
            ("pre_ping", 1000 * per(where("psycopg_pool/pool.py", "check_connection")), "ms"),
        ]
    else:
        figures.append(("sqlite_calls", 1000 * per(where("~", *SQLITE_CALLS)), "ms"))
    for key, value, unit in figures:
        suffix = "" if unit == "/op" else f"_{unit}"
        report.raw(f"profile_{engine}_{key}{suffix}", value, "per op" if unit == "/op" else unit)


LEVERS: dict[str, dict[str, str]] = {
    "default": {},
    "no_pre_ping": {"POSTGRES_PRE_PING": "n"},
    "db_functions": {"POSTGRES_ENABLE_DB_FUNCTIONS": "y"},
    "no_pre_ping_db_functions": {"POSTGRES_PRE_PING": "n", "POSTGRES_ENABLE_DB_FUNCTIONS": "y"},
    "aggregate_cache": {"AGGREGATE_CACHE_MAXSIZE": "1000"},
}


def compare_levers(ctx: Context, settings: Settings, issuer: Issuer) -> None:
    """Deposit latency in this process with eventsourcing settings that cut round trips, one bank
    per variant on the same database, interleaved in rotating order so that the noise of the
    machine hits every variant alike (runs in separate processes minutes apart did not compare)."""
    report = ctx.report
    rounds, batch = ctx.pick((4, 10), (12, 20))
    with ExitStack() as stack:
        ops: dict[str, Op] = {}
        for name, env in LEVERS.items():
            bank = stack.enter_context(open_bank(settings, {**ctx.es_env, **env}))
            learners = register_learners(bank, 10)
            factory = OutcomeFactory(issuer, prefix=f"lever-{name}-{uuid.uuid4().hex[:6]}")
            cycle = itertools.cycle(learners)
            ops[name] = functools.partial(_deposit_next, factory, bank, cycle)
            for _ in range(len(learners)):
                ops[name]()  # warm-up: connections, prepared statements, caches
        times: dict[str, list[float]] = {name: [] for name in ops}
        names = list(ops)
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                times[name] += time_calls(ops[name], batch)
    default = percentile(times["default"], 50)
    for name, values in times.items():
        p50 = percentile(values, 50)
        report.raw(f"lever_{name}_deposit_p50", 1000 * p50, "ms")
        report.raw(f"lever_{name}_speedup", default / p50 if p50 else 0.0, "x vs default")


def _deposit_next(factory: OutcomeFactory, bank: CreditBank, learners: Iterator[UUID]) -> None:
    factory.deposit(bank, next(learners))


SQLITE_CALLS = (
    "<method 'execute' of 'sqlite3.Cursor' objects>",
    "<method 'execute' of 'sqlite3.Connection' objects>",
    "<method 'fetchall' of 'sqlite3.Cursor' objects>",
    "<method 'fetchone' of 'sqlite3.Cursor' objects>",
    "<method 'commit' of 'sqlite3.Connection' objects>",
)
