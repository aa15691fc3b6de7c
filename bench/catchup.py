"""catchup: projection catch-up events/s ÷ a raw decoded read of the same notifications events/s.

The event log is produced through the bank: learners registered and identity-verified with its
commands, then deposits with their automatic recognitions (the events ``CreditBank.deposit``
writes: ``OutcomeDeposited``, ``OutcomeRecognized`` and the credential index's creation) built on
the account aggregates and saved with ``bank.save`` a few deposits at a time, round-robin over the
learners, with snapshots on the bank's interval — so that a batch of notifications spans many
accounts, as it does when a service is busy. Deposits per learner are skewed: most learners have
a few, some dozens.

Then a fresh bank on the same database (no warm caches) measures:

- the raw decoded read: ``recorder.select_notifications`` in pages of the runner's batch size, and
  ``mapper.to_domain_event`` on each (the bank's own mapper: what ``EventSource.read`` does);
- ``ProjectionRunner.catch_up()`` with all views, from position 0 (fresh views).

Raw reads: once before and twice after the catch-up, the median; on PostgreSQL (``catchup``) and
SQLite (``catchup_sqlite``).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import replace
from statistics import median
from uuid import UUID, uuid4

from application.bank import CreditBank
from application.settings import Settings
from bench.profiling import profile, where
from bench.report import Context, Report
from bench.synthetic import Issuer, OutcomeFactory, create_issuer, register_learners
from bench.world import bank_settings, fresh_postgres, open_bank, temp_dir
from domain.indexes import CredentialIndex
from projections.base import Transactions
from projections.runner import EventSource, ProjectionRunner, all_views

GOAL = 0.3
BATCH = 500  # ProjectionRunner's default batch size


def populate(bank: CreditBank, issuer: Issuer, events: int, seed: int = 7) -> tuple[int, int]:
    """About ``events`` notifications; returns (learners, deposits)."""
    rng = random.Random(seed)
    learners = register_learners(bank, max(10, events // 30))
    # Skewed deposits per learner (Pareto, most learners a few), scaled to the events wanted.
    weights = [min(rng.paretovariate(1.3), 40.0) for _ in learners]
    head = int(bank.recorder.max_notification_id() or 0)
    wanted = max(0, events - head) // 3  # three notifications per deposit
    scale = wanted / sum(weights)
    remaining = {
        learner: max(1, round(w * scale)) for learner, w in zip(learners, weights, strict=True)
    }
    rule = bank.recognition_rule(UUID(issuer.rule_id)).current()
    factory = OutcomeFactory(issuer)
    deposits = 0
    while remaining and deposits < wanted:
        for learner in list(remaining):
            account = bank.account(learner)
            indexes = []
            for _ in range(min(remaining[learner], rng.randint(1, 3))):
                outcome = factory.outcome()
                digest = hashlib.sha256(factory.evidence(outcome, learner)).hexdigest()
                outcome = replace(outcome, evidence_digest=f"sha256:{digest}")
                outcome_id = uuid4()
                now = bank.now()
                account.deposit(
                    outcome, outcome_id, now, bank.framework.max_level, actor="institution:bench"
                )
                account.recognize_by_rule(outcome_id, rule, now.date(), identity_verified=True)
                indexes.append(
                    CredentialIndex(
                        issuer_id=outcome.issuer_id,
                        credential_id=outcome.credential_id,
                        account_id=account.id,
                        outcome_id=outcome_id,
                    )
                )
                remaining[learner] -= 1
                deposits += 1
            bank.save(account, *indexes)
            if remaining[learner] <= 0:
                del remaining[learner]
    return len(learners), deposits


def raw_read(bank: CreditBank) -> int:
    """Every notification, read in pages and decoded: what the runner must do at least."""
    recorder, mapper = bank.recorder, bank.mapper
    after, n = 0, 0
    while True:
        page = recorder.select_notifications(start=after, limit=BATCH, inclusive_of_start=False)
        if not page:
            return n
        for notification in page:
            mapper.to_domain_event(notification)
        n += len(page)
        after = page[-1].id


def reset_views(database: Transactions) -> None:
    """Empty views and no tracking rows: the next catch-up starts from position 0."""
    with database.transaction() as cur:
        for view in all_views():
            for table in view.tables:
                cur.execute(f"DELETE FROM {table}")  # the views' own table names
        cur.execute("DELETE FROM projection_tracking")


def measure(ctx: Context, engine: str, settings: Settings) -> float:
    report = ctx.report
    with open_bank(settings, ctx.es_env) as bank:
        issuer = create_issuer(bank)
        started = time.perf_counter()
        learners, deposits = populate(bank, issuer, ctx.pick(1_500, 30_000))
        report.raw(f"{engine}_populate", time.perf_counter() - started, "s")
        report.raw(f"{engine}_learners", learners, "count")
        report.raw(f"{engine}_deposits", deposits, "count")
    with open_bank(settings, ctx.es_env) as bank:  # fresh: no caches warmed by populating
        events = int(bank.recorder.max_notification_id() or 0)
        report.raw(f"{engine}_events", events, "notifications")
        raw_times = [_timed(lambda: raw_read(bank), events)]
        runner = ProjectionRunner(EventSource(bank), bank.database, batch_size=BATCH)
        catchup_time = _timed(runner.catch_up, events)
        raw_times += [_timed(lambda: raw_read(bank), events) for _ in range(2)]
        catchup = events / catchup_time
        raw = events / median(raw_times)
        report.raw(f"{engine}_catchup_events_per_s", catchup, "events/s")
        report.raw(f"{engine}_catchup", catchup_time, "s")
        report.raw(f"{engine}_raw_read_events_per_s", raw, "events/s")
        report.raw(f"{engine}_raw_read_rounds", " ".join(f"{events / t:.0f}" for t in raw_times))
        report.raw(f"{engine}_batch_size", BATCH, "notifications")
        if ctx.profile:
            profile_catchup(report, engine, bank, events)
    return catchup / raw if raw else 0.0


def _timed(fn: Callable[[], int], expected: int) -> float:
    started = time.perf_counter()
    n = fn()
    elapsed = time.perf_counter() - started
    if n != expected:
        raise RuntimeError(f"processed {n} notifications, expected {expected}")
    return elapsed


def profile_catchup(report: Report, engine: str, bank: CreditBank, events: int) -> None:
    """The catch-up again from position 0 under cProfile (one thread: catch_up runs in this
    one); figures per event in microseconds."""
    reset_views(bank.database)
    runner = ProjectionRunner(EventSource(bank), bank.database, batch_size=BATCH)
    result = profile(runner.catch_up, 1)
    result.ops = events
    report.profile(
        f"{engine} catch-up of {events} events, top 20 by own time", result.top(20, "tottime")
    )
    report.profile(f"{engine} the same, top 20 cumulative", result.top(20))
    us = 1e6
    per = result.seconds_per_op
    figures = {
        "total": result.total_seconds_per_op(),
        "read_notifications": per(where("projections/runner.py", "read")),
        "decode": per(where("eventsourcing/persistence.py", "to_domain_event")),
        "state_loads": per(where("projections/runner.py", "load")),
        "repository_get": per(where("eventsourcing/application.py", "get")),
        "positions": per(where("projections/runner.py", "positions")),
        "claim": per(where("projections/runner.py", "_claim")),
    }
    for view in all_views():
        module = type(view).__module__.replace(".", "/") + ".py"
        figures[f"view_{view.name}"] = per(where(module, "apply"))
    if engine == "postgres":
        figures["db_wait"] = per(where("psycopg/connection.py", "wait"))
        figures["sql_execute_calls"] = (
            result.calls_per_op(where("psycopg/cursor.py", "execute")) / us
        )
    else:
        figures["sql_execute_calls"] = (
            result.calls_per_op(where("~", "<method 'execute' of 'sqlite3.Cursor' objects>")) / us
        )
    for key, value in figures.items():
        if key.endswith("_calls"):
            report.raw(f"profile_{engine}_{key}_per_event", value * us, "calls")
        else:
            report.raw(f"profile_{engine}_{key}_per_event", value * us, "µs")


def run(ctx: Context) -> None:
    with fresh_postgres() as url, temp_dir() as data_dir:
        ratio = measure(ctx, "postgres", bank_settings(data_dir, url))
    ctx.report.ratio("catchup", ratio, ">=", GOAL)
    with temp_dir() as data_dir:
        ratio = measure(ctx, "sqlite", bank_settings(data_dir, None))
    ctx.report.ratio("catchup_sqlite", ratio, ">=", GOAL)
