"""Shared pieces of the benchmarks: reporting, timing, fresh databases, a bank on them, synthetic
learners and deposits, raw INSERT+COMMIT baselines, a multi-process worker pool and profiling.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import multiprocessing
import os
import platform
import pstats
import queue
import re
import secrets
import sqlite3
import statistics
import sys
import sysconfig
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any, Literal, TypeVar
from uuid import UUID

from application.bank import CreditBank
from application.bootstrap import build_bank
from application.database import Database
from application.settings import Settings
from domain.records import DepositedOutcome
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, InstitutionKind, OutcomeKind, RuleModel

T = TypeVar("T")
Op = Callable[[], object]

ADMIN_URL = os.environ.get(
    "CREDITBANK_BENCH_POSTGRES_URL",
    os.environ.get("CREDITBANK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


# -- reporting -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    op: Literal[">=", "<="]
    target: float

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.op == ">=" else self.value <= self.target

    def line(self) -> str:
        return f"ratio {self.name} {self.value:.3f} goal {self.op} {self.target:g}"


@dataclass(frozen=True)
class Raw:
    benchmark: str
    key: str
    value: float | int | str
    unit: str

    def line(self) -> str:
        value = f"{self.value:.4g}" if isinstance(self.value, float) else str(self.value)
        return f"raw {self.benchmark} {self.key} {value} {self.unit}".rstrip()


@dataclass
class Report:
    """What one benchmark measured, printed as it comes and kept for ``--json``."""

    benchmark: str
    ratios: list[Ratio] = field(default_factory=list)
    raws: list[Raw] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    def ratio(self, name: str, value: float, op: Literal[">=", "<="], target: float) -> Ratio:
        ratio = Ratio(name, value, op, target)
        self.ratios.append(ratio)
        print(ratio.line(), flush=True)
        return ratio

    def raw(self, key: str, value: float | int | str, unit: str = "") -> None:
        raw = Raw(self.benchmark, key, value, unit)
        self.raws.append(raw)
        print(raw.line(), flush=True)

    def latencies(self, prefix: str, seconds: Sequence[float]) -> None:
        """p50/p99 in milliseconds of a list of durations in seconds."""
        self.raw(f"{prefix}_p50", 1000 * percentile(seconds, 50), "ms")
        self.raw(f"{prefix}_p99", 1000 * percentile(seconds, 99), "ms")

    def note(self, text: str) -> None:
        self.notes.append(text)
        for line in text.splitlines():
            print(f"# {line}", flush=True)

    def profile(self, title: str, text: str) -> None:
        self.profiles[title] = text
        print(f"# profile: {title}", flush=True)
        print(text.rstrip(), flush=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "seconds": round(self.seconds, 2),
            "error": self.error,
            "ratios": [
                {"name": r.name, "value": r.value, "op": r.op, "target": r.target, "met": r.met}
                for r in self.ratios
            ],
            "raw": [{"key": r.key, "value": r.value, "unit": r.unit} for r in self.raws],
            "notes": self.notes,
            "profiles": self.profiles,
        }


@dataclass
class Context:
    """What a benchmark's ``run`` gets: the mode, where to report, and the env overrides."""

    report: Report
    quick: bool = False
    profile: bool = False
    es_env: dict[str, str] = field(default_factory=dict)

    def pick(self, quick: T, full: T) -> T:
        return quick if self.quick else full


# -- timing --------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def time_calls(fn: Op, repeat: int) -> list[float]:
    """Durations in seconds of ``repeat`` calls of ``fn``."""
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - start)
    return durations


@dataclass(frozen=True)
class Run:
    """Operations done in a time window by one or more workers."""

    ops: int
    started: float  # time.monotonic(), comparable across processes on one machine
    ended: float
    latencies: tuple[float, ...]
    cpu: float = 0.0  # CPU seconds the worker process(es) used, user + system
    machine_busy: float | None = None  # share of all cores busy during the window (Linux)

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    @staticmethod
    def combine(runs: Sequence[Run]) -> Run:
        """Concurrent runs as one: all operations over the whole window."""
        return Run(
            ops=sum(r.ops for r in runs),
            started=min(r.started for r in runs),
            ended=max(r.ended for r in runs),
            latencies=tuple(lat for r in runs for lat in r.latencies),
            cpu=sum(r.cpu for r in runs),
        )

    @property
    def cpu_per_op(self) -> float:
        return self.cpu / self.ops if self.ops else 0.0


def run_for(op: Op, seconds: float) -> Run:
    """Calls ``op`` back to back for ``seconds``, timing each call."""
    latencies: list[float] = []
    cpu = time.process_time()
    started = time.monotonic()
    deadline = started + seconds
    now = started
    while now < deadline:
        op()
        end = time.monotonic()
        latencies.append(end - now)
        now = end
    return Run(len(latencies), started, now, tuple(latencies), time.process_time() - cpu)


def cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat; None elsewhere."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def median_run(runs: Sequence[Run]) -> tuple[float, list[float]]:
    """The median throughput of repeated rounds, and all their latencies."""
    return statistics.median(r.per_second for r in runs), [x for r in runs for x in r.latencies]


# -- set-ups shared by several benchmarks of one run ----------------------------------------------
_shared: dict[str, tuple[Any, ExitStack]] = {}


def shared(key: str, setup: Callable[[ExitStack], T]) -> T:
    """What ``setup`` builds (servers, a populated database), built once per run and reused by
    every benchmark that asks for ``key``; ``setup`` registers its cleanup on the stack it is
    given. ``python -m bench`` releases it after the last benchmark that shares it (``Benchmark.
    shares``), and everything at the end of the run, also on failure."""
    if key not in _shared:
        stack = ExitStack()
        try:
            _shared[key] = (setup(stack), stack)
        except BaseException:
            stack.close()
            raise
    value: T = _shared[key][0]
    return value


def release_shared(key: str) -> None:
    entry = _shared.pop(key, None)
    if entry is not None:
        entry[1].close()


def close_shared() -> None:
    for key in reversed(list(_shared)):
        release_shared(key)


# -- databases -----------------------------------------------------------------------------------
def _admin() -> Any:
    import psycopg

    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new database ``bench_<random>`` on the server of ``ADMIN_URL``, dropped at the end."""
    name = f"bench_{secrets.token_hex(6)}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def temp_dir(prefix: str = "bench-") -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as path:
        yield Path(path)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "optimize": _optimize_flag(),
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError, ValueError, IndexError):
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        info["mem_gib"] = round(int(meminfo[0].split()[1]) / 1024**2, 1)
    try:
        with _admin() as admin:
            info["postgres"] = admin.execute("select version()").fetchone()[0]
    except Exception as exc:
        info["postgres"] = f"unreachable at {ADMIN_URL}: {exc}"
    return info


def _optimize_flag() -> int:
    return sys.flags.optimize


# -- a bank on a database ------------------------------------------------------------------------
SECRET_KEY = "bench-secret-" + "0" * 32  # every process of one run must share it


def bank_settings(data_dir: Path, database_url: str | None, **overrides: Any) -> Settings:
    return Settings(
        data_dir=data_dir, database_url=database_url, secret_key=SECRET_KEY, **overrides
    )


@contextmanager
def open_bank(settings: Settings, es_env: Mapping[str, str] | None = None) -> Iterator[CreditBank]:
    """``build_bank(settings)``, closed at the end. ``es_env`` (experiments, ``--es-env``) adds to
    or replaces what the bank gives the eventsourcing library, e.g. POSTGRES_PRE_PING=n."""
    with _eventsourcing_env(es_env or {}), _one_builder_at_a_time(settings.data_dir):
        bank = build_bank(settings)
    try:
        yield bank
    finally:
        bank.close()


@contextmanager
def _one_builder_at_a_time(data_dir: Path) -> Iterator[None]:
    """Processes sharing a data dir (the write_app workers) build their banks one at a time: the
    library's PostgreSQL recorder runs CREATE OR REPLACE FUNCTION when it is constructed, and
    processes doing that at the same moment fail with "tuple concurrently updated" (seen in
    about one quick run in three)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: nothing to serialise with
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / ".bench-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _eventsourcing_env(overrides: Mapping[str, str]) -> Iterator[None]:
    # The bank reads Database.eventsourcing_env() once, while it is constructed.
    if not overrides:
        yield
        return
    original = Database.eventsourcing_env

    def eventsourcing_env(self: Database) -> dict[str, str]:
        return {**original(self), **overrides}

    Database.eventsourcing_env = eventsourcing_env  # type: ignore[method-assign]
    try:
        yield
    finally:
        Database.eventsourcing_env = original  # type: ignore[method-assign]


def check_no_aggregate_cache(bank: CreditBank) -> None:
    """Loads must go to the database: the history benchmark turns the aggregate cache off."""
    if bank.repository.cache is not None:
        raise RuntimeError(
            "the repository has an aggregate cache (AGGREGATE_CACHE_MAXSIZE is set): "
            "unset it, loads would be served from memory"
        )


# -- synthetic data ------------------------------------------------------------------------------
KEYS_VALID_FROM = datetime(2015, 1, 1, tzinfo=UTC)
COMPLETED_ON = date(2024, 6, 28)


@dataclass(frozen=True)
class Issuer:
    """A registered institution and its Ed25519 private key (PEM): picklable for workers."""

    institution_id: str
    kid: str
    private_pem: bytes
    rule_id: str


def create_issuer(bank: CreditBank, slug: str = "bench-university") -> Issuer:
    """A university with a real Ed25519 key, and a recognition rule for its courses, so that
    every deposit of a verified learner is recognised automatically."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    kid = f"{slug}-2015"
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "kid": kid}
    institution_id = bank.register_institution(
        f"Bench University {slug}",
        InstitutionKind.UNIVERSITY,
        jwk,
        issuer_uri=f"https://{slug}.example.edu.cn/issuer",
        key_valid_from=KEYS_VALID_FROM,
    )
    rule_id = bank.create_recognition_rule(
        f"{slug} courses: major credits at level 6",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(
                institution_id=institution_id, kind=OutcomeKind.ACADEMIC_COURSE
            ),
            level=6,
            category="major",
        ),
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Issuer(str(institution_id), kid, pem, str(rule_id))


def _b64url(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def register_learners(bank: CreditBank, n: int, verified: bool = True) -> list[UUID]:
    """``n`` learners with unique (random) resident-ID numbers, identity-verified by default."""
    return [learner_id for learner_id, _ in register_documented_learners(bank, n, verified)]


def register_documented_learners(
    bank: CreditBank, n: int, verified: bool = True
) -> list[tuple[UUID, str]]:
    """Like ``register_learners``, with each learner's identity-document number (what a signed
    credential's subject must hash to)."""
    learners = []
    for _ in range(n):
        number = f"{secrets.randbelow(10**17):017d}X"
        learner_id = bank.register_learner(
            "Bench Learner 测试学员", "RESIDENT_ID", number, date(1995, 5, 17)
        )
        if verified:
            bank.verify_learner_identity(
                learner_id, IdentityVerification.ELECTRONIC_ID, "officer:bench"
            )
        learners.append((learner_id, number))
    return learners


class OutcomeFactory:
    """Unique outcomes of one issuer, each with a JWS (EdDSA) signed by the issuer as evidence."""

    def __init__(self, issuer: Issuer, prefix: str | None = None) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        self.issuer = issuer
        self.issuer_id = UUID(issuer.institution_id)
        key = load_pem_private_key(issuer.private_pem, password=None)
        assert isinstance(key, Ed25519PrivateKey)
        self._key = key
        self._prefix = prefix or uuid.uuid4().hex[:12]
        self._serial = count(1)

    def outcome(self) -> DepositedOutcome:
        n = next(self._serial)
        return DepositedOutcome(
            issuer_id=self.issuer_id,
            credential_id=f"urn:uuid:bench-{self._prefix}-{n:07d}",
            kind=OutcomeKind.ACADEMIC_COURSE,
            title=f"Course {n} 课程",
            credits=Decimal(3) if n % 2 else Decimal("2.5"),
            completed_on=COMPLETED_ON,
            evidence_digest="",
            hours=Decimal(80),
            result="pass",
            key_id=self.issuer.kid,
        )

    def evidence(self, outcome: DepositedOutcome, learner_id: UUID) -> bytes:
        import jwt

        claims = {
            "jti": outcome.credential_id,
            "iss": f"institution:{outcome.issuer_id}",
            "sub": str(learner_id),
            "title": outcome.title,
            "credits": str(outcome.credits),
            "completed": outcome.completed_on.isoformat(),
        }
        token = jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.issuer.kid})
        return token.encode()

    def deposit(self, bank: CreditBank, learner_id: UUID) -> UUID:
        outcome = self.outcome()
        return bank.deposit(
            learner_id,
            outcome,
            self.evidence(outcome, learner_id),
            actor=f"institution:{outcome.issuer_id}",
        )


# -- raw baselines: one-row INSERT + COMMIT --------------------------------------------------------
RAW_TABLE = "bench_raw_inserts"
RAW_STATE = os.urandom(400)  # about the size of a stored OutcomeDeposited event


def create_raw_table(target: str) -> None:
    """The baseline's table, shaped like the library's events table. ``target``: a PostgreSQL
    URL or a SQLite file path."""
    if target.startswith("postgres"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, topic text, state bytea, "
                "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
            )
        return
    lite = sqlite3.connect(target)
    try:
        lite.execute(
            f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, topic TEXT, state BLOB, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        lite.commit()
    finally:
        lite.close()


def raw_inserter(target: str, stack: ExitStack) -> Op:
    """One row per transaction: INSERT, then COMMIT, on one connection kept open."""
    if target.startswith("postgres"):
        import psycopg

        pg = stack.enter_context(psycopg.connect(target))
        pg_sql = (
            f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)"
        )

        def pg_insert() -> None:
            pg.execute(pg_sql, (uuid.uuid4(), 1, "bench:Inserted", RAW_STATE), prepare=True)
            pg.commit()

        return pg_insert

    # Like the library's SQLite recorder: autocommit mode, explicit BEGIN, WAL (set on the file
    # by the library), default synchronous setting.
    lite = sqlite3.connect(target, isolation_level=None, timeout=30)
    stack.callback(lite.close)
    lite_sql = (
        f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?)"
    )

    def sqlite_insert() -> None:
        lite.execute("BEGIN")
        lite.execute(lite_sql, (uuid.uuid4().hex, 1, "bench:Inserted", RAW_STATE))
        lite.execute("COMMIT")

    return sqlite_insert


# -- worker processes ----------------------------------------------------------------------------
# A setup function runs in each worker (it must be importable: a module-level function) with that
# worker's spec and an ExitStack for cleanup, and returns the worker's operations by phase name.
Setup = Callable[[Any, ExitStack], Mapping[str, Op]]


def _worker(
    setup: Setup,
    spec: Any,
    barrier: Any,
    commands: Any,
    results: Any,
    index: int,
) -> None:
    try:
        with ExitStack() as stack:
            phases = setup(spec, stack)
            results.put(("ready", index, None))
            while (command := commands.get()) is not None:
                phase, seconds = command
                barrier.wait(timeout=120)
                results.put(("done", index, run_for(phases[phase], seconds)))
    except BaseException:
        results.put(("error", index, traceback.format_exc()))


class WorkerPool:
    """Worker processes (spawn) that run a phase together, started at the same moment.

    ``pool.run("app", 5.0)`` makes every worker call its ``"app"`` operation back to back for five
    seconds and returns their runs combined.
    """

    def __init__(self, setup: Setup, specs: Sequence[Any], timeout: float = 300) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._n = len(specs)
        self._timeout = timeout
        self._barrier = self._ctx.Barrier(self._n)
        self._results = self._ctx.Queue()
        self._commands = [self._ctx.Queue() for _ in specs]
        self._processes = [
            self._ctx.Process(
                target=_worker,
                args=(setup, spec, self._barrier, commands, self._results, i),
                name=f"bench-worker-{i}",
                daemon=True,
            )
            for i, (spec, commands) in enumerate(zip(specs, self._commands, strict=True))
        ]

    def __enter__(self) -> WorkerPool:
        for process in self._processes:
            process.start()
        try:
            self._collect("ready")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, phase: str, seconds: float) -> Run:
        before = cpu_jiffies()
        for commands in self._commands:
            commands.put((phase, seconds))
        runs: list[Run] = self._collect("done")
        return replace(Run.combine(runs), machine_busy=busy_share(before, cpu_jiffies()))

    def _collect(self, kind: str) -> list[Any]:
        got: dict[int, Any] = {}
        deadline = time.monotonic() + self._timeout
        while len(got) < self._n:
            try:
                status, index, value = self._results.get(timeout=1.0)
            except queue.Empty:
                dead = [p.name for p in self._processes if not p.is_alive()]
                if dead:
                    raise RuntimeError(f"worker(s) died: {', '.join(dead)}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"workers did not report {kind!r} in time") from None
                continue
            if status == "error":
                raise RuntimeError(f"worker {index} failed:\n{value}")
            got[index] = value
        return [got[i] for i in range(self._n)]

    def close(self) -> None:
        for commands in self._commands:
            with contextlib.suppress(Exception):
                commands.put(None)
        for process in self._processes:
            process.join(timeout=30)
        for process in self._processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)


# -- profiling -----------------------------------------------------------------------------------
ProfileSource = Any  # a cProfile.Profile, a file of stats, a ProfileSnapshot


@dataclass
class Profile:
    """Profile data over ``ops`` operations: one profiler, or several merged (threads, a server
    process's stats file)."""

    profiler: ProfileSource | Sequence[ProfileSource]
    ops: int

    def _stats(self, stream: Any = None) -> pstats.Stats:
        sources = (
            [self.profiler]
            if isinstance(self.profiler, (cProfile.Profile, str, ProfileSnapshot))
            else list(self.profiler)
        )
        return _stats_of(sources, stream)

    def top(self, n: int = 15, sort: str = "cumulative") -> str:
        out = io.StringIO()
        stats = self._stats(out)
        stats.sort_stats(sort).print_stats(n)
        lines = out.getvalue().splitlines()
        # Drop pstats' preamble down to the column header; keep the table.
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        text = "\n".join(line for line in lines[start:] if line.strip())
        return _short_paths(text)

    def _raw(self) -> dict[tuple[str, int, str], tuple[Any, ...]]:
        return _stats_dict(self._stats())

    def calls_per_op(self, predicate: Callable[[str, str], bool], primitive: bool = False) -> float:
        """Calls per operation of the functions whose (file, name) satisfy ``predicate``
        (``primitive``: not counting recursive calls)."""
        total = 0
        for (filename, _line, name), (cc, ncalls, *_rest) in self._raw().items():
            if predicate(filename, name):
                total += cc if primitive else ncalls
        return total / self.ops if self.ops else 0.0

    def seconds_per_op(self, predicate: Callable[[str, str], bool]) -> float:
        """Cumulative seconds per operation of the matching functions (not nested in each other)."""
        total = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in self._raw().items():
            if predicate(filename, name):
                total += cumulative
        return total / self.ops if self.ops else 0.0

    def own_seconds_per_op(self, predicate: Callable[[str, str], bool]) -> float:
        """Seconds per operation spent in the matching functions themselves (tottime)."""
        total = 0.0
        for (filename, _line, name), (_cc, _nc, own, _cum, _callers) in self._raw().items():
            if predicate(filename, name):
                total += own
        return total / self.ops if self.ops else 0.0

    def total_seconds_per_op(self) -> float:
        """All profiled time (every thread) per operation."""
        return sum(v[2] for v in self._raw().values()) / self.ops if self.ops else 0.0


def _short_paths(text: str) -> str:
    """File names relative to site-packages, the standard library or the project."""
    paths = sysconfig.get_paths()
    for prefix in sorted(
        {paths["purelib"], paths["platlib"], paths["stdlib"], os.getcwd()}, key=len, reverse=True
    ):
        text = text.replace(prefix.rstrip("/") + "/", "")
    return text


def where(file_part: str, *names: str) -> Callable[[str, str], bool]:
    """Matches profile entries of functions named ``names`` in files whose path has
    ``file_part`` (builtins have the file ``~``)."""
    return lambda filename, name: file_part in filename and (not names or name in names)


def profile(op: Op, ops: int) -> Profile:
    """cProfile over ``ops`` calls of ``op`` (pyinstrument is not a dependency)."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        for _ in range(ops):
            op()
    finally:
        profiler.disable()
    return Profile(profiler, ops)


def _stats_of(sources: Sequence[Any], stream: Any = None) -> pstats.Stats:
    """pstats over profilers, stats files and snapshots, merged."""
    return pstats.Stats(*sources, stream=stream)


def _stats_dict(stats: pstats.Stats) -> dict[tuple[str, int, str], tuple[Any, ...]]:
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    return raw


class ProfileSnapshot:
    """A profiler's figures as they stand now, read without ``disable()``: disabling from another
    thread would close the calls still open in the profiled thread with this thread's clock."""

    def __init__(self, profiler: cProfile.Profile) -> None:
        profiler.snapshot_stats()
        self._taken: dict[Any, Any] = dict(profiler.stats)
        self.stats: dict[Any, Any] = {}

    def create_stats(self) -> None:  # what pstats.Stats calls (and then empties ``stats``)
        self.stats = dict(self._taken)


class ThreadProfiles:
    """cProfile in the current thread and in every thread started while this is active (one
    cProfile profiler sees only the thread that enabled it): for a process whose work is spread
    over threads (the server's event loop, its threadpool, the projection runner).

    ``timer=time.thread_time`` profiles CPU instead of wall time, so that threads blocked on a
    lock, a queue or the database add nothing. Only calls that have returned are counted: a
    thread's long-running loop is not, the work it called is. ``clear()`` forgets everything so
    far (start-up, warm-up) in every thread.
    """

    def __init__(self, timer: Callable[[], float] | None = None) -> None:
        self._timer = timer
        self._lock = threading.Lock()
        self.profilers: list[tuple[str, cProfile.Profile]] = []

    def _new(self) -> cProfile.Profile:
        profiler = cProfile.Profile(self._timer) if self._timer else cProfile.Profile()
        with self._lock:
            self.profilers.append((threading.current_thread().name, profiler))
        return profiler

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        # The first profile event of a new thread: replace this hook by a profiler of its own.
        self._new().enable()

    def __enter__(self) -> ThreadProfiles:
        threading.setprofile(self._hook)
        self._main = self._new()
        self._main.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        self._main.disable()
        threading.setprofile(None)

    def clear(self) -> None:
        with self._lock:
            for _, profiler in self.profilers:
                profiler.clear()

    def sources(self, threads: Sequence[str] = ()) -> list[ProfileSnapshot]:
        """Every thread's profile, or those of the threads whose names start with ``threads``."""
        with self._lock:
            return [
                ProfileSnapshot(profiler)
                for name, profiler in self.profilers
                if not threads or name.startswith(tuple(threads))
            ]

    def profile(self, ops: int, threads: Sequence[str] = ()) -> Profile:
        return Profile(self.sources(threads), ops)

    def thread_seconds(self) -> dict[str, float]:
        """Profiled seconds by thread name (numbers in names folded: one entry per kind)."""
        totals: dict[str, float] = {}
        with self._lock:
            named = list(self.profilers)
        for name, profiler in named:
            stats = _stats_dict(_stats_of([ProfileSnapshot(profiler)]))
            kind = re.sub(r"[-_ ]?\d+", "", name) or name
            totals[kind] = totals.get(kind, 0.0) + sum(v[2] for v in stats.values())
        return totals

    def dump(self, path: str) -> None:
        """The merged stats to ``path``, seconds by thread to ``path + ".threads.json"``."""
        _stats_of(self.sources()).dump_stats(path)
        Path(path + ".threads.json").write_text(json.dumps(self.thread_seconds(), indent=1))


def dump_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
