"""Snapshots (every 5 events in the test settings) load the same state as replaying every event,
at the current version and at every historical version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from uuid import UUID

from application.bank import CreditBank
from domain.credit_account import CreditAccount
from domain.institution import Institution
from domain.learner import Learner
from domain.qualification import Requirements
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import ConsentScope, IdentityVerification, InstitutionKind, RuleModel
from tests.builders import (
    SINCE,
    agreed,
    deposit,
    ed25519_jwk,
    outcome,
    register_issuer,
    replay,
    state,
)

D = Decimal


def _busy_account(bank: CreditBank) -> tuple[UUID, UUID, UUID]:
    """A learner whose account has 30+ events of every kind; returns (learner, uni, enterprise)."""
    uni = register_issuer(bank, "Hankuk University")
    college = register_issuer(bank, "Seoul JC", InstitutionKind.JUNIOR_COLLEGE)
    enterprise = register_issuer(bank, "Hanbit Corp", InstitutionKind.ENTERPRISE)
    bank.create_recognition_rule(
        "Hankuk",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            valid_from=SINCE,
            criteria=OutcomeCriteria(institution_id=uni.id),
            level=6,
            category="major",
        ),
    )
    bank.create_recognition_rule(
        "Seoul JC",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            valid_from=SINCE,
            criteria=OutcomeCriteria(institution_id=college.id),
            level=5,
            category="general",
        ),
    )
    transfer = agreed(
        bank,
        bank.create_conversion_rule(
            "Transfer",
            RuleModel.AGREEMENT,
            ConversionTerms(
                criteria=OutcomeCriteria(institution_id=college.id),
                target_institution_id=uni.id,
                target_code="HK-T",
                target_category="general",
                ratio=D("0.5"),
                max_credits_per_learner=D("20"),
            ),
        ),
    )
    qualification = bank.create_qualification(
        "Certificate", 5, uni.id, Requirements(total_credits=D("20"))
    )
    kim = bank.register_learner("Kim", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    waiting = [deposit(bank, kim, outcome(uni, f"early-{i}", credits="1.5")) for i in range(3)]
    bank.verify_learner_identity(kim, IdentityVerification.DOCUMENT_CHECKED, "officer")
    courses = [
        deposit(
            bank,
            kim,
            outcome(
                uni, f"hk-{i}", credits=f"{i + 1}.5", completed_on=date(2020 + i % 5, 1 + i, 10)
            ),
        )
        for i in range(10)
    ]
    college_courses = [
        deposit(bank, kim, outcome(college, f"jc-{i}", credits="4")) for i in range(3)
    ]
    bank.convert_credits(kim, college_courses[:2], transfer)
    mooc = deposit(bank, kim, outcome(register_issuer(bank, "K-MOOC"), "m-1", credits="2"))
    bank.revoke_outcome(kim, mooc, "withdrawn", "officer")
    bank.redeem_qualification(kim, qualification)
    bank.revoke_outcome(kim, college_courses[0], "issued in error", "officer")
    bank.revoke_outcome(kim, courses[0], "issued in error", "officer")
    assert waiting
    return kim, uni.id, enterprise.id


def test_account_snapshots_match_a_full_replay(
    bank: CreditBank, reopen: Callable[[], CreditBank]
) -> None:
    assert bank.snapshotting_intervals[CreditAccount] == 5
    kim, _, _ = _busy_account(bank)
    account_id = bank.account_id(kim)
    fresh = reopen()
    account = fresh.account(kim)
    assert account.version >= 30
    snapshot_versions = [s.originator_version for s in fresh.snapshots.get(account_id)]  # type: ignore[union-attr]
    assert snapshot_versions == list(range(5, account.version + 1, 5))

    replayed = replay(fresh, account_id)
    assert state(account) == state(replayed)
    assert account.balance() == replayed.balance()
    assert account.holdings() == replayed.holdings()
    # The library's own loading without snapshots agrees too.
    assert state(account) == state(fresh.repository.get(account_id, version=account.version))

    for version in range(1, account.version + 1):
        historical = fresh.account(kim, version=version)
        assert historical.version == version
        assert state(historical) == state(replay(fresh, account_id, version)), version
        assert historical.balance() == replay(fresh, account_id, version).balance()
    assert len(fresh.account(kim, version=1).outcomes) == 0
    assert len(fresh.account(kim, version=4).outcomes) == 3


def test_learner_and_institution_snapshots_match_a_full_replay(
    bank: CreditBank, reopen: Callable[[], CreditBank]
) -> None:
    kim, uni, enterprise = _busy_account(bank)
    for n in range(6):  # consents granted and revoked: past the learner's snapshot interval
        bank.grant_consent(kim, enterprise, ConsentScope.ALL if n % 2 else ConsentScope.TRAINING)
        if n < 5:
            bank.revoke_consent(kim, enterprise)
    for n in range(6):  # keys added and retired: past the institution's snapshot interval
        bank.add_institution_key(uni, ed25519_jwk(f"rotated-{n}"))
        bank.retire_institution_key(uni, f"rotated-{n}")
    fresh = reopen()
    for aggregate_id, cls in ((kim, Learner), (uni, Institution)):
        loaded = fresh.repository.get(aggregate_id)
        assert isinstance(loaded, cls)
        assert list(fresh.snapshots.get(aggregate_id)), cls  # type: ignore[union-attr]
        assert state(loaded) == state(replay(fresh, aggregate_id))
    learner = fresh.learner(kim)
    assert list(learner.consents) == [str(enterprise)]
    assert learner.consents[str(enterprise)].scope is ConsentScope.ALL
    institution = fresh.institution(uni)
    assert len(institution.keys) == 7
    rotated = [k for kid, k in institution.keys.items() if kid.startswith("rotated-")]
    assert len(rotated) == 6
    assert all(k.retired_at is not None for k in rotated)
