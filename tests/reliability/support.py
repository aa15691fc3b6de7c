"""Helpers for the reliability tests: the bounded/full switch, an independent fold of account
events, store and view checks, served subprocesses and restartable PostgreSQL instances.

A plain module (not conftest): child processes started with the "spawn" context import it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from api.auth import Role, TokenService, load_or_create_signing_key
from application.audit import AuditReport
from application.audit import verify as audit_verify
from application.bank import CreditBank
from application.database import Database
from application.signing import BankKeys
from domain.indexes import CredentialIndex
from projections.rebuild import rebuild
from projections.runner import EventSource, ProjectionRunner, all_views

ROOT = Path(__file__).resolve().parents[2]

# -- bounded (CI) or full --------------------------------------------------------------------------
FULL = os.environ.get("CREDITBANK_RELIABILITY_FULL", "").lower() in ("1", "true", "yes")


def scale(bounded: Any, full: Any) -> Any:
    """The bounded value in CI, the full one under CREDITBANK_RELIABILITY_FULL=1."""
    return full if FULL else bounded


REPORT: list[str] = []  # printed in the terminal summary (see conftest)


def record(name: str, **numbers: Any) -> None:
    """Notes a test's numbers for the run's summary (and CREDITBANK_RELIABILITY_REPORT, JSONL)."""
    form = "full" if FULL else "bounded"
    REPORT.append(f"[{form}] {name}: " + ", ".join(f"{k}={_short(v)}" for k, v in numbers.items()))
    path = os.environ.get("CREDITBANK_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"test": name, "form": form, **numbers}, default=str) + "\n")


def _short(value: Any) -> str:
    if isinstance(value, dict | Counter):
        return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(value.items(), key=str)) + "}"
    return str(value)


# -- an independent fold of an account's events ---------------------------------------------
@dataclass
class Folded:
    """An account as this module folds it from the events (not the domain's own code)."""

    version: int = 0
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    conversions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def holdings(self) -> list[tuple[Decimal, str, Decimal]]:
        """(credits, category, spent) of what counts in the balance: an award spends exactly
        what it counted."""
        held = [
            (left, o["category"] or "", o["spent"])
            for o in self.outcomes.values()
            if o["recognized"] is not None
            and not o["revoked"]
            and (left := o["recognized"] - sum(o["taken"].values(), Decimal(0))) > 0
        ]
        held += [
            (credits, c["category"], c["spent"].get(pid, Decimal(0)))
            for c in self.conversions.values()
            if c["active"]
            for pid, (credits, _, _) in c["parts"].items()
            if credits > 0  # a part converted to nothing is no holding
        ]
        return held

    def balance(self) -> dict[str, Any]:
        total = redeemed = Decimal(0)
        by_category: defaultdict[str, Decimal] = defaultdict(Decimal)
        for amount, category, spent in self.holdings():
            total += amount
            by_category[category] += amount
            redeemed += spent
        return {
            "total": total,
            "available": total - redeemed,
            "redeemed": redeemed,
            "by_category": dict(by_category),
        }


def fold(events: Iterable[Any]) -> Folded:
    """Folds CreditAccount events by their names and fields; refuses a gap or an unknown event."""
    f = Folded()
    for e in events:
        assert e.originator_version == f.version + 1, (f.version, e.originator_version)
        f.version = e.originator_version
        name = type(e).__name__
        if name == "Opened":
            continue
        if name == "OutcomeDeposited":
            f.outcomes[str(e.outcome_id)] = {
                "issuer": str(e.issuer_id),
                "credential": e.credential_id,
                "recognized": None,
                "category": None,
                "taken": {},  # conversion id -> the credits it took
                "spent": Decimal(0),  # what awards counted of it
                "revoked": False,
            }
        elif name == "OutcomeRecognized":
            o = f.outcomes[str(e.outcome_id)]
            o["recognized"], o["category"] = Decimal(e.credits), e.category
        elif name == "RecognitionRejected":
            continue
        elif name == "CreditsConverted":
            # A capped conversion takes only part of its sources; each part is a holding.
            f.conversions[str(e.conversion_id)] = {
                "category": e.category,
                # part id -> (credits, source, consumed)
                "parts": {
                    str(p.id): (Decimal(p.credits), str(p.source_id), p.consumed) for p in e.parts
                },
                "spent": {},  # part id -> what awards counted of it
                "active": True,
            }
            for p in e.parts:
                f.outcomes[str(p.source_id)]["taken"][str(e.conversion_id)] = p.consumed
        elif name == "CreditsRedeemed":
            for holding, counted in e.allocations.items():
                if str(holding) in f.outcomes:
                    f.outcomes[str(holding)]["spent"] += counted
                else:
                    c = next(c for c in f.conversions.values() if str(holding) in c["parts"])
                    c["spent"][str(holding)] = counted
        elif name == "OutcomeRevoked":
            f.outcomes[str(e.outcome_id)]["revoked"] = True
            for cid in e.cancelled_conversions:
                c = f.conversions[str(cid)]
                c["active"] = False
                for pid, (credits, source_id, consumed) in c["parts"].items():
                    source = f.outcomes[source_id]
                    source["taken"].pop(str(cid))  # back exactly what it took
                    # An award that counted the part keeps the source's credits reserved: what
                    # it took, or its share of that when the award counted only part of the
                    # part (docs/domain.md, awards under review).
                    if pid in c["spent"] and source_id != str(e.outcome_id) and credits > 0:
                        share = min(
                            consumed,
                            (consumed * c["spent"][pid] / credits).quantize(
                                Decimal("0.01"), ROUND_DOWN
                            ),
                        )
                        source["spent"] += share
        else:
            raise AssertionError(f"unknown account event {name}")
    return f


def domain_balance(bank: CreditBank, learner_id: UUID) -> dict[str, Any]:
    b = bank.account(learner_id).balance()
    return {
        "total": b.total,
        "available": b.available,
        "redeemed": b.redeemed,
        "by_category": dict(b.by_category),
    }


# -- the store, straight ---------------------------------------------------------------------------
def notifications(bank: CreditBank, page: int = 2000) -> Iterator[Any]:
    position: int | None = None
    while True:
        batch = bank.recorder.select_notifications(
            start=position, limit=page, inclusive_of_start=False
        )
        if not batch:
            return
        yield from batch
        position = batch[-1].id


def head(bank: CreditBank) -> int:
    return int(bank.recorder.max_notification_id() or 0)


def store_problems(bank: CreditBank) -> list[str]:
    """Half-written state: per aggregate, versions 1..n in log order; every credential index
    names an outcome of that credential in that account, and every outcome has its index."""
    problems: list[str] = []
    versions: dict[UUID, list[int]] = defaultdict(list)
    indexes: list[UUID] = []
    accounts: list[UUID] = []
    for n in notifications(bank):
        versions[n.originator_id].append(n.originator_version)
        if n.originator_version == 1 and "CredentialIndex" in n.topic:
            indexes.append(n.originator_id)
        if n.originator_version == 1 and "CreditAccount" in n.topic:
            accounts.append(n.originator_id)
    for aggregate_id, seen in versions.items():
        if seen != list(range(1, len(seen) + 1)):
            problems.append(f"aggregate {aggregate_id}: versions {seen[:20]}... not contiguous")
    outcomes: dict[tuple[str, str], tuple[UUID, str]] = {}
    for account_id in accounts:
        account: Any = bank.repository.get(account_id)
        for oid, o in account.outcomes.items():
            key = (str(o.issuer_id), o.credential_id)
            if key in outcomes:
                problems.append(f"credential {key} is in two places: {outcomes[key]}, {oid}")
            outcomes[key] = (account_id, oid)
    claimed: set[tuple[str, str]] = set()
    for index_id in indexes:
        index: Any = bank.repository.get(index_id)
        account = bank.repository.get(index.account_id)
        o = account.outcomes.get(str(index.outcome_id))
        if o is None:
            problems.append(f"credential index {index_id} names no outcome of its account")
            continue
        key = (str(o.issuer_id), o.credential_id)
        if CredentialIndex.create_id(o.issuer_id, o.credential_id) != index_id:
            problems.append(f"credential index {index_id} names an outcome of another credential")
        claimed.add(key)
    for key in set(outcomes) - claimed:
        problems.append(f"outcome of credential {key} has no credential index")
    return problems


def audit(bank: CreditBank, data_dir: Path) -> AuditReport:
    return audit_verify(bank.recorder, bank.database, BankKeys.load_or_create(data_dir))


# -- the views -------------------------------------------------------------------------------------
def _cell(value: Any) -> Any:
    if value is None or isinstance(value, int | str):
        return value
    if isinstance(value, bool):
        return int(value)
    return str(value)


def dump_views(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every view table's rows, sorted (the order of rows is not part of a view)."""
    dumped: dict[str, list[tuple[Any, ...]]] = {}
    with database.transaction(readonly=True) as cur:
        for view in all_views():
            for table in view.tables:
                cur.execute(f"SELECT * FROM {table}")  # owned table names
                rows = [tuple(_cell(c) for c in row) for row in cur.fetchall()]
                dumped[table] = sorted(rows, key=repr)
    return dumped


def diff_views(a: dict[str, list[Any]], b: dict[str, list[Any]], limit: int = 5) -> list[str]:
    out: list[str] = []
    for table in sorted(set(a) | set(b)):
        left, right = Counter(a.get(table, [])), Counter(b.get(table, []))
        only_a, only_b = left - right, right - left
        if only_a or only_b:
            out.append(
                f"{table}: {sum(only_a.values())} rows only live, {sum(only_b.values())} only "
                f"rebuilt; e.g. live {list(only_a)[:limit]} rebuilt {list(only_b)[:limit]}"
            )
    return out


def rebuild_and_compare(bank: CreditBank) -> tuple[int, list[str]]:
    """Rebuilds every view from the first event and compares with what was live; returns
    (rows compared, differences)."""
    live = dump_views(bank.database)
    source = EventSource(bank)
    for view in all_views():
        rebuild(source, bank.database, view)
    rebuilt = dump_views(bank.database)
    return sum(len(r) for r in live.values()), diff_views(live, rebuilt)


def catch_up(bank: CreditBank) -> ProjectionRunner:
    runner = ProjectionRunner(EventSource(bank), bank.database)
    runner.catch_up()
    return runner


def balance_rows(database: Database) -> dict[str, tuple[int, int, int, int]]:
    with database.transaction(readonly=True) as cur:
        cur.execute(
            "SELECT learner_id, account_version, total_cc, available_cc, redeemed_cc "
            "FROM account_balances"
        )
        return {str(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in cur.fetchall()}


def cc(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


# -- served subprocesses ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from api.cli import main; main()", *args]


class Proc:
    """A ``creditbank`` subprocess that can be SIGKILLed and started again (output to a log)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"\n== start {self.starts + 1} of {self.name}\n".encode())
            self.proc = subprocess.Popen(
                self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.kills += 1

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


def wait_http(url: str, proc: Proc, timeout: float = 60, status: int = 200) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive:
            raise AssertionError(f"{proc.name} exited during start-up:\n{proc.tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == status:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{proc.name} did not answer {url} in {timeout}s:\n{proc.tail()}")


def service_env(
    data_dir: Path, database_url: str, secret: str, port: int, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBANK_")}
    env.update(
        CREDITBANK_DATA_DIR=str(data_dir),
        CREDITBANK_DATABASE_URL=database_url,
        CREDITBANK_SECRET_KEY=secret,
        CREDITBANK_PORT=str(port),
        CREDITBANK_SNAPSHOT_INTERVAL="5",
        **extra,
    )
    return env


@dataclass
class Remote:
    """What tests/api/conftest.build_world needs of a served app: a client and tokens."""

    base_url: str
    gql: Any
    tokens: TokenService
    _issued: dict[tuple[Role, str | None], str] = field(default_factory=dict)

    @classmethod
    def of(cls, base_url: str, gql: Any, data_dir: Path) -> Remote:
        return cls(base_url, gql, TokenService(load_or_create_signing_key(data_dir)))

    def token(self, role: Role, subject: str | None = None) -> str:
        if (role, subject) not in self._issued:
            self._issued[(role, subject)] = self.tokens.issue(role, subject)
        return self._issued[(role, subject)]


# -- a PostgreSQL that can be stopped and restarted -------------------------------------------
def _pg_bindir() -> Path | None:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        candidates = [Path(out.stdout.strip())]
    except (OSError, subprocess.CalledProcessError):
        candidates = []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    return None


class PrivatePostgres:
    """A throw-away PostgreSQL server (initdb in a temp dir, its own port): restarting it
    disturbs nobody else's tests on the system server."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="creditbank-pg-"))
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.kind = "private"

    def _ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        cmd = [
            *self.as_user,
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.dir / "data"),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            *args,
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        subprocess.run(
            [
                *self.as_user,
                str(self.bindir / "initdb"),
                "-D",
                str(self.dir / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.start()

    def start(self) -> None:
        self._ctl("-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self._ctl("-m", "fast", "-w", "restart")

    def running(self) -> bool:
        return _pg_ready(self.admin_url)

    def ensure_running(self) -> None:
        if not self.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.start()

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class SystemPostgres:
    """The system's local cluster, restarted with pg_ctlcluster (root): every session's tests on it
    see the outage, so the private server is preferred."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.version = sorted(os.listdir("/etc/postgresql"))[0]
        self.kind = "system"

    def _ctl(self, action: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, "main", action],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop")

    def restart(self) -> None:
        self._ctl("restart")

    def running(self) -> bool:
        return _pg_ready(self.admin_url)

    def ensure_running(self) -> None:
        for _ in range(3):
            if self.running():
                return
            with contextlib.suppress(subprocess.CalledProcessError):
                self.start()
            time.sleep(1)

    def destroy(self) -> None:
        self.ensure_running()


def _pg_ready(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def restartable_postgres(system_admin_url: str) -> PrivatePostgres | SystemPostgres:
    """A private server when the PostgreSQL binaries are here (and not told otherwise by
    CREDITBANK_RELIABILITY_PG=system), else the system cluster."""
    bindir = _pg_bindir()
    if os.environ.get("CREDITBANK_RELIABILITY_PG", "private") == "system" or bindir is None:
        return SystemPostgres(system_admin_url)
    server = PrivatePostgres(bindir)
    try:
        server.init()
    except (OSError, subprocess.CalledProcessError):
        server.destroy()
        return SystemPostgres(system_admin_url)
    return server


def create_database(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with contextlib.suppress(psycopg.Error), psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- worker processes outliving their parent -------------------------------------------------------
def running(pid: int) -> bool:
    """Whether ``pid`` is a live process, not a zombie waiting to be reaped (Linux: /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\tZ" not in status.split("State:", 1)[1].split("\n", 1)[0]


def left_by_a_killed_parent(script: str, *args: str) -> list[int]:
    """Runs ``script`` in a Python child (from the project's root), which starts its workers and
    prints their pids on one line; kills the child outright (SIGKILL, as an OOM kill would) and
    answers the workers still running five seconds later (killed then: the test's own)."""
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args], cwd=root, stdout=subprocess.PIPE, text=True
    )
    workers: list[int] = []
    try:
        assert child.stdout is not None
        workers = [int(pid) for pid in child.stdout.readline().split()]
        assert workers, "the child started no workers"
        assert all(running(pid) for pid in workers)
    finally:
        child.kill()
        child.wait()
    return outlived(workers)


def outlived(pids: Iterable[int], seconds: float = 5.0) -> list[int]:
    """Those of ``pids`` still running after ``seconds``; they are killed (the test's own)."""
    pids = list(pids)
    deadline = time.monotonic() + seconds
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in pids if running(pid)]
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left
