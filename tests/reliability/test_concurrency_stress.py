"""Concurrency stress: several PROCESSES, each with its own CreditBank (build_bank) on one
PostgreSQL database and secret, run shuffled, overlapping commands on a few shared accounts —
deposits of fresh credentials, the same signed credentials pushed by every process, the same
credential pushed into different accounts, officer recognitions and rejections, conversions,
revocations and redemptions.

Afterwards, from a fresh bank: every account's balance equals an independent fold of its events
(tests/reliability/support.fold), its versions are contiguous, every credential is in exactly
one account with its index, everything acknowledged is there, the projections caught up from
scratch agree with the fold, and a rebuild of every view gives the same rows.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import random
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.bootstrap import build_bank
from application.settings import Settings
from tests.reliability import support, workers
from tests.reliability.bankworld import BankWorld, build_bank_world

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SPAWN = multiprocessing.get_context("spawn")
PROCESSES = support.scale(3, 6)
OPS_PER_PROCESS = support.scale(60, 250)
LEARNERS = support.scale(3, 4)
SHARED_CREDENTIALS = support.scale(6, 30)  # every process pushes each into its holder's account
CROSS_CREDENTIALS = support.scale(6, 30)  # every process pushes each into a random account
TIMEOUT = support.scale(150, 900)

OTHER_OPS = {  # share of a process's plan beyond deposits
    "recognize": 0.16,
    "reject": 0.06,
    "convert": 0.12,
    "revoke": 0.10,
    "redeem": 0.06,
}


def _plans(world: BankWorld, seed: int) -> list[list[tuple[str, Any]]]:
    rng = random.Random(seed)
    learners = world.learners
    shared = []
    for n in range(SHARED_CREDENTIALS):
        learner, document = learners[n % len(learners)]
        jwt, cid = world.credential("university", document, credits="3")
        shared.append(("duplicate", (learner, jwt, cid)))
    cross = [("cross", f"cross-{n}-{uuid.uuid4().hex[:6]}") for n in range(CROSS_CREDENTIALS)]
    plans = []
    for _ in range(PROCESSES):
        plan: list[tuple[str, Any]] = list(shared) + list(cross)
        others = [
            (op, None)
            for op, share in OTHER_OPS.items()
            for _ in range(int(share * OPS_PER_PROCESS))
        ]
        fresh = max(0, OPS_PER_PROCESS - len(others))
        for _ in range(fresh):
            learner, document = rng.choice(learners)
            issuer = rng.choice(["university", "college", "college", "mooc"])
            credits = rng.choice(["0.25", "1.5", "2", "3", "4.75"])
            jwt, cid = world.credential(issuer, document, credits=credits)
            plan.append(("deposit", (learner, jwt, cid)))
        plan += others
        rng.shuffle(plan)
        plans.append(plan)
    return plans


def _run(settings: Settings, world: BankWorld, plans: list[list[tuple[str, Any]]]) -> list[dict]:
    kwargs = {
        "data_dir": str(settings.data_dir),
        "database_url": settings.database_url,
        "secret_key": settings.secret_key,
        "snapshot_interval": settings.snapshot_interval,
    }
    results = SPAWN.Queue()
    start = SPAWN.Barrier(len(plans))
    processes = [
        SPAWN.Process(
            target=workers.stress,
            args=(kwargs, world.plain(), w, plan, 1000 + w, start, results),
            daemon=True,
        )
        for w, plan in enumerate(plans)
    ]
    for p in processes:
        p.start()
    reports: list[dict] = []
    deadline = time.monotonic() + TIMEOUT
    try:
        for _ in processes:
            reports.append(json.loads(results.get(timeout=max(1, deadline - time.monotonic()))))
    except queue.Empty:
        pytest.fail(f"a worker did not report within {TIMEOUT}s; got {len(reports)} reports")
    finally:
        for p in processes:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in processes] == [0] * len(processes)
    crashed = [r["crashed"] for r in reports if "crashed" in r]
    assert not crashed, crashed[0]
    return reports


def test_overlapping_commands_from_several_processes(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=pg_url,
        secret_key="stress-" + uuid.uuid4().hex,
        snapshot_interval=5,  # snapshots written by racing processes, too
        checkpoint_interval=0,
    )
    setup = build_bank(settings)
    try:
        world = build_bank_world(setup, learners=LEARNERS)
    finally:
        setup.close()
    plans = _plans(world, seed=7)
    started = time.monotonic()
    reports = _run(settings, world, plans)
    elapsed = time.monotonic() - started

    results: Counter[str] = Counter()
    for r in reports:
        results.update(r["results"])
    unexpected = [u for r in reports for u in r["unexpected"]]
    assert not unexpected, f"{len(unexpected)} commands failed untyped; first:\n{unexpected[0]}"

    bank = build_bank(settings)  # a fresh bank: whatever it shows comes from the store
    try:
        learners = [UUID(lid) for lid, _ in world.learners]
        # 1. balances: the domain's own fold (snapshots by racing writers) == an independent fold
        folded = {}
        for learner in learners:
            events = list(bank.events.get(bank.account_id(learner)))
            folded[learner] = support.fold(events)
            assert support.domain_balance(bank, learner) == folded[learner].balance(), learner
            assert bank.account(learner).version == folded[learner].version == len(events)

        # 2. every credential exactly once across the accounts, with its index; nothing half-written
        holders: dict[tuple[str, str], list[tuple[UUID, str]]] = defaultdict(list)
        for learner in learners:
            for oid, o in folded[learner].outcomes.items():
                holders[(o["issuer"], o["credential"])].append((learner, oid))
        duplicated = {k: v for k, v in holders.items() if len(v) > 1}
        assert not duplicated, duplicated
        assert support.store_problems(bank) == []

        # 3. what was acknowledged is there; each raced credential was accepted exactly once
        acks = {kind: [a for r in reports for a in r["acks"][kind]] for kind in reports[0]["acks"]}
        accepted = Counter(cid for _, _, cid in acks["deposit"])
        assert all(n == 1 for n in accepted.values()), accepted.most_common(3)
        for learner, outcome_id, cid in acks["deposit"]:
            o = folded[UUID(learner)].outcomes.get(outcome_id)
            assert o is not None, (learner, outcome_id, cid)
            assert o["credential"] == cid
        for plan_op, arg in plans[0]:
            if plan_op == "duplicate":
                assert accepted[arg[2]] == 1, (arg[2], results)
            elif plan_op == "cross":
                assert accepted[arg] == 1, arg
        for learner, outcome_id in acks["revoke"]:
            assert folded[UUID(learner)].outcomes[outcome_id]["revoked"]
        for learner, conversion_id in acks["convert"]:
            assert conversion_id in folded[UUID(learner)].conversions
        for learner, outcome_id in acks["recognize"]:
            events = bank.events.get(bank.account_id(UUID(learner)))
            assert any(
                type(e).__name__ == "OutcomeRecognized" and str(e.outcome_id) == outcome_id
                for e in events
            )

        # 4. the projections from scratch agree with the fold, and with a rebuild
        runner = support.catch_up(bank)
        assert set(runner.positions().values()) == {support.head(bank)}
        rows = support.balance_rows(bank.database)
        for learner in learners:
            b = folded[learner].balance()
            expected = (
                folded[learner].version,
                support.cc(b["total"]),
                support.cc(b["available"]),
                support.cc(b["redeemed"]),
            )
            assert rows[str(learner)] == expected, learner
        compared, differences = support.rebuild_and_compare(bank)
        assert differences == []
        events_total = support.head(bank)
    finally:
        bank.close()

    support.record(
        "concurrency stress",
        processes=PROCESSES,
        commands=sum(results.values()),
        seconds=round(elapsed, 1),
        conflicts_retried=sum(r["conflicts"] for r in reports),
        acknowledged={k: len(v) for k, v in acks.items()},
        outcomes=dict(sorted(results.items())),
        events=events_total,
        view_rows_compared=compared,
    )
