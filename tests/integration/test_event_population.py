"""The scale_write benchmark's bulk loader (``bench/event_population.py``) must write learners
the bank cannot tell from those it registered itself: otherwise the benchmark measures another
store. Each learner is compared with one registered and verified through the bank's commands:
the same aggregates, topics and versions; found by its document, its personal data opened, its
hash chain audited, deposits recognised, and the listing log continued without a clash."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from application.audit import verify as audit_verify
from application.bank import CreditBank
from application.signing import BankKeys
from bench.event_population import BIRTH_DATE, document_number, populate
from bench.synthetic import OutcomeFactory, create_issuer, register_documented_learners
from bench.world import bank_settings, open_bank
from domain.credit_account import CreditAccount
from domain.indexes import IdentityIndex
from domain.values import OutcomeStatus

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    """A database of its own: the loader COPYs with a plain connection (no schema option)."""
    name = f"population_{uuid.uuid4().hex[:10]}"
    admin_url = postgres_url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def shape(bank: CreditBank, ids: list[UUID]) -> list[list[tuple[str, int]]]:
    """Each aggregate's stored events as (topic, version)."""
    return [[(e.topic, e.originator_version) for e in bank.recorder.select_events(i)] for i in ids]


def test_loaded_learners_are_as_the_bank_registers_them(tmp_path: Path, database: str) -> None:
    data_dir = tmp_path / "data"
    with open_bank(bank_settings(data_dir, database)) as bank:
        issuer = create_issuer(bank)
        [(reference, reference_number)] = register_documented_learners(bank, 1)
    loaded = populate(data_dir, database, learners=5, processes=2, tag="8")
    assert len(set(loaded.learners)) == 5

    with open_bank(bank_settings(data_dir, database)) as bank:
        country = bank.country

        def aggregates(learner: UUID, number: str) -> list[UUID]:
            index = IdentityIndex.create_id(bank.vault.identity_hash(country, number))
            return [learner, CreditAccount.create_id(learner), index]

        expected = shape(bank, aggregates(reference, reference_number))
        factory = OutcomeFactory(issuer)
        for n, text in enumerate(loaded.learners):
            learner = UUID(text)
            number = document_number("8", n)
            assert shape(bank, aggregates(learner, number)) == expected
            assert bank.learner(learner).identity_verified
            assert bank.find_learner(number) == learner
            personal = bank.personal_data(learner)
            assert personal is not None
            assert personal["identityDocumentNumber"] == number
            assert personal["birthDate"] == BIRTH_DATE.isoformat()
            outcome = factory.deposit(bank, learner)
            assert bank.account(learner).outcome(outcome).status is OutcomeStatus.RECOGNIZED

        # Every learner is listed once; a learner registered afterwards goes on the same log.
        listed = [e.aggregate_id for e in bank._logs["learners"].get()]
        [(later, _)] = register_documented_learners(bank, 1)
        after = [e.aggregate_id for e in bank._logs["learners"].get()]
        assert after == [*listed, later]
        assert sorted(map(str, listed)) == sorted([str(reference), *loaded.learners])
        counts: dict[str, int] = defaultdict(int)
        for learner in after:
            counts[str(learner)] += 1
        assert set(counts.values()) == {1}

        report = audit_verify(bank.recorder, bank.database, BankKeys.load_or_create(data_dir))
        assert report.ok, report.problems
        assert report.accounts == 7
