"""history: loading an account with a long history ÷ loading one with a short history.

Snapshots (``Settings.snapshot_interval``, default 100) should keep ``bank.account(learner_id)``
flat in the account's history length. The long account has 10,000 events: half deposits and half
automatic recognitions, the same events ``CreditBank.deposit`` writes, built in batches straight
on the aggregate (one ``bank.save`` per batch, with the credential-index aggregates), because ten
thousand deposits into one growing account take minutes. Snapshotting is paused while building
and the snapshots a load can start from (the last one at or before 10,000 and 5,000 on the
configured interval) are taken afterwards: a load reads only the latest snapshot at or before the
version it wants, so the others would change nothing measured here. The short account has 10
events. Figures are the p50 of interleaved repeated loads; the repository has no aggregate cache
(checked), so every load reads a snapshot and the events after it from the database.
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import replace
from statistics import median
from uuid import UUID, uuid4

from application.bank import CreditBank
from bench.profiling import profile, where
from bench.report import Context, Report
from bench.synthetic import Issuer, OutcomeFactory, create_issuer, register_learners
from bench.timing import Op, percentile, time_calls
from bench.world import bank_settings, check_no_aggregate_cache, fresh_postgres, open_bank, temp_dir
from domain.credit_account import CreditAccount
from domain.indexes import CredentialIndex

GOAL = 1.5
LONG = 10_000
SHORT = 10


def build_account(
    bank: CreditBank, issuer: Issuer, learner_id: UUID, events: int, snapshot_at: tuple[int, ...]
) -> int:
    """Grows the learner's account to exactly ``events`` events (deposit + recognition pairs, a
    last lone deposit if needed), saving every few hundred events, then takes the snapshots that
    loads at ``snapshot_at`` versions start from; returns the deposits made."""
    account = bank.account(learner_id)
    intervals = bank.snapshotting_intervals
    bank.snapshotting_intervals = {}  # type: ignore[misc]  # paused: CreditBank sets it per instance
    rule = bank.recognition_rule(UUID(issuer.rule_id)).current()
    factory = OutcomeFactory(issuer)
    now = bank.now()
    indexes: list[CredentialIndex] = []
    deposits = 0
    while account.version < events:
        outcome = factory.outcome()
        digest = hashlib.sha256(factory.evidence(outcome, learner_id)).hexdigest()
        outcome = replace(outcome, evidence_digest=f"sha256:{digest}")
        outcome_id = uuid4()
        account.deposit(
            outcome,
            outcome_id,
            now,
            bank.framework.max_level,
            actor=f"institution:{outcome.issuer_id}",
        )
        if account.version < events:
            account.recognize_by_rule(outcome_id, rule, now.date(), identity_verified=True)
        indexes.append(
            CredentialIndex(
                issuer_id=outcome.issuer_id,
                credential_id=outcome.credential_id,
                account_id=account.id,
                outcome_id=outcome_id,
            )
        )
        deposits += 1
        if len(indexes) >= 250 or account.version >= events:
            bank.save(account, *indexes)
            indexes = []
    bank.snapshotting_intervals = intervals  # type: ignore[misc]
    interval = intervals[CreditAccount]
    for version in {(v // interval) * interval for v in snapshot_at if v >= interval}:
        bank.take_snapshot(account.id, version=version)
    return deposits


def run(ctx: Context) -> None:
    report = ctx.report
    middle = LONG // 2
    with fresh_postgres() as url, temp_dir() as data_dir:
        # Loads must reach the database: no in-memory aggregate cache for this measurement.
        settings = bank_settings(data_dir, url, aggregate_cache_size=0)
        with open_bank(settings, ctx.es_env) as bank:
            check_no_aggregate_cache(bank)
            report.raw("snapshot_interval", settings.snapshot_interval, "events")
            report.raw("aggregate_cache", "none")
            issuer = create_issuer(bank)
            short_learner, long_learner = register_learners(bank, 2)
            build_account(bank, issuer, short_learner, SHORT, (SHORT,))
            started = time.perf_counter()
            deposits = build_account(bank, issuer, long_learner, LONG, (LONG, middle))
            report.raw("build_long_account", time.perf_counter() - started, "s")
            report.raw("long_account_deposits", deposits, "count")
            what = {
                "short": (short_learner, None),
                "long": (long_learner, None),
                "asof": (long_learner, middle),
            }
            expected = {"short": SHORT, "long": LONG, "asof": middle}
            for key, (learner, version) in what.items():  # warm-up, and the right versions
                if bank.account(learner, version=version).version != expected[key]:
                    raise RuntimeError(f"{key} account at the wrong version")
            loads: dict[str, Op] = {
                key: functools.partial(bank.account, learner, version)
                for key, (learner, version) in what.items()
            }
            account_id = bank.account_id(long_learner)
            for key in ("long", "asof"):
                version, size = snapshot_info(bank, account_id, expected[key])
                report.raw(f"{key}_snapshot_version", version, "version")
                report.raw(f"{key}_snapshot_bytes", size, "bytes")
                report.raw(f"{key}_events_after_snapshot", expected[key] - version, "events")

            # Interleaved, so that noise on this machine hits all three alike.
            times: dict[str, list[float]] = {key: [] for key in loads}
            repeats = ctx.pick(8, 60)
            for _ in range(repeats):
                times["short"] += time_calls(loads["short"], 3)
                times["long"] += time_calls(loads["long"], 1)
                times["asof"] += time_calls(loads["asof"], 1)
            report.latencies(f"load_{SHORT}_events", times["short"])
            report.latencies(f"load_{LONG}_events", times["long"])
            report.latencies(f"load_asof_{middle}", times["asof"])
            report.raw("loads", repeats, "per account (3x for the short one)")
            replay = time_calls(lambda: replay_events(bank, account_id), ctx.pick(1, 3))
            report.raw(f"replay_{LONG}_events_without_snapshot", 1000 * median(replay), "ms")
            p50 = {key: percentile(values, 50) for key, values in times.items()}
            report.ratio("history", p50["long"] / p50["short"], "<=", GOAL)
            report.ratio("history_asof", p50["asof"] / p50["short"], "<=", GOAL)
            if ctx.profile:
                profile_loads(report, loads, middle)


def profile_loads(report: Report, loads: dict[str, Op], middle: int) -> None:
    """Top entries per load, and ms per load in: the SELECTs; decoding stored events (JSON and
    transcodings; snapshots included); its per-object transcoding hook; the fold over events
    (includes decoding events after the snapshot); the runtime-protocol isinstance checks."""
    es = "eventsourcing/"
    for key, title, ops in (
        ("long", f"load of the {LONG}-event account", 20),
        ("asof", f"load as of version {middle}", 20),
        ("short", f"load of the {SHORT}-event account", 300),
    ):
        result = profile(loads[key], ops)
        report.profile(f"{title}, {ops} loads, top 15 cumulative", result.top(15))
        per = result.seconds_per_op
        for name, predicate in (
            ("select_events", where(es, "select_events")),
            ("decode", where(es + "persistence.py", "to_domain_event")),
            ("transcode_objects", where(es + "persistence.py", "_decode_obj")),
            ("fold", where(es + "application.py", "project_aggregate")),
            ("protocol_isinstance", where("typing.py", "__instancecheck__")),
        ):
            report.raw(f"profile_{key}_{name}_ms", 1000 * per(predicate), "ms")


def snapshot_info(bank: CreditBank, account_id: UUID, lte: int | None) -> tuple[int, int]:
    """Version and stored size of the snapshot a load at ``lte`` starts from."""
    assert bank.snapshots is not None
    stored = bank.snapshots.recorder.select_events(account_id, lte=lte, desc=True, limit=1)
    if not stored:
        return 0, 0
    return stored[0].originator_version, len(stored[0].state)


def replay_events(bank: CreditBank, account_id: UUID) -> None:
    """The account folded from all its events, no snapshot: what snapshots save."""
    aggregate = None
    for event in bank.events.get(account_id):
        aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
