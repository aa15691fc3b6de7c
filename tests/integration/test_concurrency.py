"""Concurrent writers in separate PROCESSES, each with its own CreditBank on the same database.

(a) Four processes deposit ten credentials each into one account: every deposit is accepted (the
    command decides again after a version conflict), and the account holds exactly the forty
    outcomes and their exact sum.
(b) The same credential is pushed into two accounts at the same moment, ten times over: exactly
    one copy is accepted each time and the other writer gets DUPLICATE_CREDENTIAL.
(c) Four processes start a bank on one fresh PostgreSQL schema at the same moment: each sets up
    the event store and migrations without tripping over the others ("tuple concurrently
    updated" before the set-up lock).
"""

from __future__ import annotations

import multiprocessing
import queue
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application.bank import CreditBank
from application.settings import Settings
from domain.indexes import CredentialIndex
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, OutcomeStatus, RuleModel
from tests.builders import SINCE, register_issuer, replay, settings_kwargs, state
from tests.integration import workers

pytestmark = pytest.mark.slow

SPAWN = multiprocessing.get_context("spawn")
TIMEOUT = 60.0


def _run(target: Callable[..., None], args: list[tuple[Any, ...]], results: Any) -> list[Any]:
    processes = [SPAWN.Process(target=target, args=(*a, results), daemon=True) for a in args]
    for p in processes:
        p.start()
    reports: list[Any] = []
    try:
        for _ in processes:
            reports.append(results.get(timeout=TIMEOUT))
    except queue.Empty:
        pytest.fail(f"a worker did not report within {TIMEOUT}s; got {reports}")
    finally:
        for p in processes:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return reports


def _verified_learner(bank: CreditBank, name: str, document: str) -> Any:
    learner = bank.register_learner(name, "PASSPORT", document, date(1990, 1, 1))
    bank.verify_learner_identity(learner, IdentityVerification.ELECTRONIC_ID, "officer")
    return learner


def test_four_processes_deposit_into_one_account(
    bank: CreditBank, settings: Settings, reopen: Callable[[], CreditBank]
) -> None:
    uni = register_issuer(bank, "Hankuk University")
    bank.create_recognition_rule(
        "Hankuk courses",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            valid_from=SINCE,
            criteria=OutcomeCriteria(institution_id=uni.id),
            level=6,
            category="major",
        ),
    )
    kim = _verified_learner(bank, "Kim", "M10000001")
    # Amounts with halves and hundredths: the sum must come out exact.
    amounts = {w: [str(Decimal("0.25") * (w + 1) + i) for i in range(1, 11)] for w in range(4)}
    expected_total = sum((Decimal(a) for per in amounts.values() for a in per), Decimal(0))

    start = SPAWN.Barrier(4)
    reports = _run(
        workers.deposit_many,
        [(settings_kwargs(settings), w, kim, uni, amounts[w], start) for w in range(4)],
        SPAWN.Queue(),
    )

    errors = [e for _, _, errs, _ in reports for e in errs]
    assert errors == []
    accepted = {credential for _, outs, _, _ in reports for credential, _ in outs}
    assert len(accepted) == 40
    conflicts = sum(c for *_, c in reports)

    fresh = reopen()
    account = fresh.account(kim)
    assert len(account.outcomes) == 40, f"{conflicts} conflicts were retried"
    assert {o.credential_id for o in account.outcomes.values()} == accepted
    assert {o.status for o in account.outcomes.values()} == {OutcomeStatus.RECOGNIZED}
    assert account.balance().total == expected_total
    assert account.version == 1 + 40 * 2  # opened, then deposited + recognised for each
    # The snapshots taken by four writers agree with a plain replay of the events.
    assert state(account) == state(replay(fresh, account.id))
    versions = [e.originator_version for e in fresh.events.get(account.id)]
    assert versions == list(range(1, 82))


def test_same_credential_into_two_accounts_at_once(
    bank: CreditBank, settings: Settings, reopen: Callable[[], CreditBank]
) -> None:
    rounds = 10
    uni = register_issuer(bank, "Hankuk University")
    learners = [_verified_learner(bank, f"Learner {n}", f"M2000000{n}") for n in range(2)]

    barrier = SPAWN.Barrier(len(learners))
    reports = _run(
        workers.race_same_credential,
        [
            (settings_kwargs(settings), n, lid, uni, rounds, barrier)
            for n, lid in enumerate(learners)
        ],
        SPAWN.Queue(),
    )

    by_round: dict[int, list[str]] = {}
    for _, seen, _ in reports:
        for r, result in seen:
            by_round.setdefault(r, []).append(result)
    assert sorted(by_round) == list(range(rounds)), by_round
    for r, results in by_round.items():
        assert sorted(results) == ["ACCEPTED", "DUPLICATE_CREDENTIAL"], (r, results)

    fresh = reopen()
    for r in range(rounds):
        holders = [
            lid
            for lid in learners
            for o in fresh.account(lid).outcomes.values()
            if o.credential_id == f"race-{r}"
        ]
        assert len(holders) == 1, (r, holders)
        index = fresh.repository.get(CredentialIndex.create_id(uni.id, f"race-{r}"))
        assert index.account_id == fresh.account_id(holders[0])
        winner = [w for w, seen, _ in reports if (r, "ACCEPTED") in seen]
        assert learners[winner[0]] == holders[0]
    total = sum(len(fresh.account(lid).outcomes) for lid in learners)
    assert total == rounds


@pytest.mark.postgres
def test_banks_started_together_on_a_fresh_database_all_start(
    postgres_url: str, tmp_path: Any
) -> None:
    import psycopg

    for attempt in range(3):
        schema = f"start_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            settings = Settings(
                data_dir=tmp_path / str(attempt),
                database_url=f"{postgres_url}?schema={schema}",
                secret_key="one secret for all four",
            )
            start = SPAWN.Barrier(4)
            reports = _run(
                workers.build_at_once, [(settings_kwargs(settings), start)] * 4, SPAWN.Queue()
            )
            assert reports == ["ok"] * 4
        finally:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
