"""A runner process SIGKILLed at random moments while commands keep arriving (some failing at save
time, leaving gaps in the notification ids on PostgreSQL) resumes where it committed: in the end
every notification was applied exactly once and the views equal a clean rebuild."""

from __future__ import annotations

import multiprocessing
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from application.bank import CreditBank
from application.bootstrap import build_bank, database_for
from application.settings import Settings
from domain.errors import DomainError
from domain.records import DepositedOutcome
from domain.values import OutcomeKind
from projections.rebuild import rebuild
from projections.runner import EventSource, ProjectionRunner, all_views
from tests.projections.conftest import child_env
from tests.projections.runner_process import child as runner_child
from tests.projections.support import (
    Clock,
    Workload,
    World,
    applied_log,
    build_world,
    check_views,
    create_applied_log,
    diff,
    dump,
    notification_ids,
    views_with_log,
)

KILLS = 15
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _forkserver() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.projections.runner_process"])
    return ctx


class Writers:
    """Threads writing random commands through banks of their own, plus saves that fail:
    stale aggregates saved after a newer version (a version conflict at save time) and, on
    PostgreSQL, raw inserts rolled back (the id sequence moves on: a gap)."""

    def __init__(self, settings: Settings, world: World, engine: str, threads: int = 2) -> None:
        self.settings, self.world, self.engine = settings, world, engine
        self.stop = threading.Event()
        self.failed_saves = 0
        self.rolled_back_inserts = 0
        self.errors: list[BaseException] = []
        self.banks: list[CreditBank] = []
        self.writers = threads
        self.threads = [
            threading.Thread(target=self._write, args=(i,), daemon=True) for i in range(threads)
        ]
        if engine == "postgres":
            self.threads.append(threading.Thread(target=self._gaps, daemon=True))

    def __enter__(self) -> Writers:
        # Each writer's bank is built (migrations checked, tables ensured) before any thread
        # writes: DDL racing the other writers' inserts locks SQLite's schema.
        self.banks = [build_bank(self.settings) for _ in range(self.writers)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        for bank in self.banks:
            bank.close()

    def _write(self, i: int) -> None:
        try:
            bank = self.banks[i]
            bank.clock = Clock()
            workload = Workload(bank, self.world, tag=f"w{i}", clock=None)
            rng = random.Random(i)
            while not self.stop.is_set():
                workload.run_random(rng, 5)
                self._stale_save(bank, rng)
                time.sleep(0.06)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def _stale_save(self, bank: CreditBank, rng: random.Random) -> None:
        """Loads an account, lets a command change it, then saves the stale copy: refused."""
        with self.world.lock:
            learner = rng.choice(self.world.learners)
        stale = bank.account(learner)
        issuer = self.world.universities[0]
        n = uuid4().hex

        def outcome(suffix: str) -> DepositedOutcome:
            return DepositedOutcome(
                issuer_id=issuer.id,
                credential_id=f"urn:stale:{n}:{suffix}",
                kind=OutcomeKind.ACADEMIC_COURSE,
                title="Stale",
                credits=Decimal("1"),
                completed_on=bank.now().date(),
                evidence_digest="sha256:00",
                key_id=issuer.kid,
            )

        try:
            bank.deposit(learner, outcome("a"), b"evidence " + n.encode())
        except DomainError:
            return  # erased learner: nothing changed
        stale.deposit(outcome("b"), uuid4(), bank.now(), bank.framework.max_level)
        bank.mapper.begin()  # type: ignore[attr-defined]
        try:
            bank.save(stale)
        except IntegrityError:
            self.failed_saves += 1
        else:
            raise AssertionError("a stale account was saved over a newer version")

    def _gaps(self) -> None:
        import psycopg

        database = database_for(self.settings)
        schema = database.dialect.pg["schema"]
        try:
            with psycopg.connect(database.dialect.conninfo) as conn:
                while not self.stop.wait(0.03):
                    with conn.transaction(force_rollback=True):
                        conn.execute(
                            f'INSERT INTO "{schema}".creditbank_events '
                            "(originator_id, originator_version, topic, state) "
                            "VALUES (%s, 1, 'gap:Never', %s)",
                            (uuid4(), b"{}"),
                        )
                        time.sleep(0.005)
                    self.rolled_back_inserts += 1
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            database.close()


def _wait_until_caught_up(bank: CreditBank, runner: ProjectionRunner, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    head = EventSource(bank).head()
    while min(runner.positions().values()) < head:
        assert time.monotonic() < deadline, f"runner stuck at {runner.positions()} < {head}"
        time.sleep(0.05)


def test_a_killed_runner_resumes_exactly_once(
    bank: CreditBank, settings: Settings, database_url: str | None
) -> None:
    engine = "sqlite" if database_url is None else "postgres"
    bank.clock = Clock()
    create_applied_log(bank.database)
    world = build_world(bank)
    setup = Workload(bank, world, tag="setup")
    for i in range(8):
        setup.run("register", i, i, i)
    env = child_env(settings)
    ctx = _forkserver()
    rng = random.Random(7)
    kills = 0
    started = time.monotonic()
    with Writers(settings, world, engine) as writers:
        while kills < KILLS:
            ready = ctx.Event()
            batch_size = rng.choice((1, 3, 5))
            proc = ctx.Process(target=runner_child, args=(env, batch_size, f"k{kills}", ready))
            proc.start()
            assert ready.wait(30), f"the runner did not start (exit code {proc.exitcode})"
            time.sleep(rng.uniform(0.0, 0.2))
            proc.kill()  # SIGKILL, wherever it is
            proc.join(10)
            assert proc.exitcode == -9
            kills += 1
        time.sleep(0.2)
    assert not writers.errors, writers.errors
    writing = time.monotonic() - started

    # The writers have stopped: a runner script run to completion, then killed once more.
    proc2 = subprocess.Popen(
        [sys.executable, "-m", "tests.projections.runner_process", "50", "final"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc2.stdout is not None
        assert proc2.stdout.readline().strip() == "ready"
        watcher = ProjectionRunner(EventSource(bank), bank.database, views=views_with_log("x"))
        _wait_until_caught_up(bank, watcher, timeout=120)
    finally:
        proc2.kill()
        proc2.wait(10)

    ids = [nid for nid, _, _ in notification_ids(bank)]
    applied = Counter(applied_log(bank.database))
    twice = sorted(n for n, count in applied.items() if count > 1)
    assert not twice, f"notifications applied more than once: {twice[:20]}"
    skipped = sorted(set(ids) - set(applied))
    assert not skipped, f"notifications never applied: {skipped[:20]}"
    assert set(applied) == set(ids)
    gaps = ids[-1] - len(ids)
    assert writers.failed_saves > 0
    if engine == "postgres":
        assert writers.rolled_back_inserts > 0
        assert gaps > 0, "no id gaps were produced"
    else:
        assert gaps == 0  # SQLite rowids: a rolled-back insert leaves no gap

    with bank.database.transaction() as cur:
        cur.execute("SELECT count(DISTINCT runner) FROM applied_log WHERE runner LIKE ?", ["k%"])
        productive = int(cur.fetchone()[0])  # killed runners that had committed something
    live = check_views(bank)
    for view in all_views():
        rebuild(EventSource(bank), bank.database, view)
    problems = diff(live, dump(bank.database))
    assert not problems, f"the resumed views differ from a clean rebuild:\n{problems}"
    print(
        f"\n[{engine}] {kills} SIGKILLs in {writing:.1f}s ({productive} of the killed runners "
        f"had committed batches); {len(ids)} events (last id {ids[-1]}, {gaps} id gaps), "
        f"{writers.failed_saves} saves failed on a version conflict, "
        f"{writers.rolled_back_inserts} inserts rolled back"
    )
