"""Recognition integrity (docs/domain.md): what recognition by rule refuses to be fooled by.

Each test names the finding of issue 11 it pins down; they run on the in-memory bank (the
application's decisions), and tests/integration/test_recognition_integrity.py repeats what
depends on storage on both engines.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.credit_schemes import CreditEquivalence, CreditScheme
from domain.errors import InvalidInput, RequirementsNotMet, RuleNotApplicable
from domain.qualification import Requirements
from domain.records import Outcome
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import (
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    OutcomeStatus,
    RuleModel,
)
from tests.builders import Issuer, Learner, World, deposit, outcome


def rule_for(world: World, issuer_id: object = None, **terms: object) -> object:
    return world.bank.create_recognition_rule(
        "courses",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(institution_id=issuer_id),  # type: ignore[arg-type]
            level=terms.pop("level", 6),  # type: ignore[arg-type]
            category=terms.pop("category", "major"),  # type: ignore[arg-type]
            valid_from=terms.pop("valid_from", date(2000, 1, 1)),  # type: ignore[arg-type]
            **terms,  # type: ignore[arg-type]
        ),
    )


# -- 6. suspended issuers ------------------------------------------------------------------------
def test_a_suspended_issuers_pending_outcomes_wait_for_an_officer(world: World) -> None:
    uni, kim = world.issuer(), world.learner(verified=False)
    rule_for(world, uni.id)
    pending = deposit(world.bank, kim.id, outcome(uni, "c-1"))
    world.bank.suspend_institution(uni.id, "accreditation withdrawn")
    world.bank.verify_learner_identity(kim.id, IdentityVerification.ELECTRONIC_ID, "officer-1")
    assert world.bank.account(kim.id).outcome(pending).status is OutcomeStatus.DEPOSITED
    # An officer still decides, by the rule or by values of their own.
    world.bank.recognize_outcome(kim.id, pending, "officer-2")
    assert world.bank.account(kim.id).outcome(pending).recognized_credits == Decimal(3)


def test_a_reactivated_issuers_outcomes_are_recognised_again(world: World) -> None:
    uni, kim = world.issuer(), world.learner(verified=False)
    rule_for(world, uni.id)
    pending = deposit(world.bank, kim.id, outcome(uni, "c-1"))
    world.bank.suspend_institution(uni.id, "review")
    world.bank.reactivate_institution(uni.id)
    world.bank.verify_learner_identity(kim.id, IdentityVerification.ELECTRONIC_ID, "officer-1")
    assert world.bank.account(kim.id).outcome(pending).status is OutcomeStatus.RECOGNIZED
    assert world.bank.apply_recognition_rules(kim.id) == 0


def deposited(world: World, issuer: Issuer, learner: Learner, **spec: Any) -> Outcome:
    outcome_id = world.bank.deposit_credential(learner.id, world.token(issuer, learner, **spec))
    return world.bank.account(learner.id).outcome(outcome_id)


# -- 2. credits are comparable -------------------------------------------------------------------
def test_claimed_credits_go_through_the_issuers_credit_scheme(world: World) -> None:
    """A Korean credit is 15 notional hours, an EQF/ECTS credit 30: three Hankuk credits are
    one and a half framework credits, whatever the credential claims them to be."""
    hankuk = world.issuer("Hankuk University", hours_per_credit="15")
    fudan = world.issuer("Fudan University")  # no scheme declared: it counts framework credits
    kim = world.learner()
    rule_for(world)
    korean = deposited(world, hankuk, kim, credits=3)
    assert (korean.credits_claimed, korean.framework_credits) == (Decimal(3), Decimal("1.50"))
    assert korean.recognized_credits == Decimal("1.50")
    assert deposited(world, fudan, kim, credits=3).recognized_credits == Decimal(3)


def test_a_scheme_table_places_only_the_values_it_lists(world: World) -> None:
    college = world.issuer("Pudong College")
    world.bank.declare_credit_scheme(
        college.id,
        CreditScheme(
            table=(
                CreditEquivalence(native=Decimal(2), framework=Decimal("1.5")),
                CreditEquivalence(native=Decimal(4), framework=Decimal(3)),
            )
        ),
    )
    kim = world.learner()
    rule_for(world)
    assert deposited(world, college, kim, credits=4).recognized_credits == Decimal(3)
    odd = deposited(world, college, kim, credits=3)
    assert (odd.framework_credits, odd.status) == (None, OutcomeStatus.DEPOSITED)  # an officer's
    with pytest.raises(InvalidInput):
        world.bank.recognize_outcome(kim.id, odd.id, "officer-1", level=5, category="general")
    world.bank.recognize_outcome(kim.id, odd.id, "officer-1", Decimal(2), 5, "general")


def test_a_scheme_applies_to_the_learning_completed_while_it_is_in_force(world: World) -> None:
    college = world.issuer("Pudong College")
    world.bank.declare_credit_scheme(
        college.id, CreditScheme(hours_per_credit=Decimal(15), effective_from=date(2024, 9, 1))
    )
    kim = world.learner()
    before = deposited(world, college, kim, credits=4, completed_on=date(2024, 6, 30))
    after = deposited(world, college, kim, credits=4, completed_on=date(2024, 12, 20))
    assert (before.framework_credits, after.framework_credits) == (Decimal(4), Decimal(2))


def test_work_experience_is_worth_its_hours_and_stays_work_experience(world: World) -> None:
    """Finding: 30 hours of an employer's WorkExperience became 50 credits of training."""
    employer = world.issuer("Lianhua Networks", kind=InstitutionKind.ENTERPRISE)
    kim = world.learner()
    world.bank.create_recognition_rule(
        "Work experience",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(kind=OutcomeKind.WORK_EXPERIENCE),
            level=4,
            category="elective",
            max_credits=Decimal(10),
            valid_from=date(2000, 1, 1),
        ),
    )
    inflated = deposited(
        world, employer, kim, credits=50, hours=30, achievement_type="ext:WorkExperience"
    )
    assert inflated.kind is OutcomeKind.WORK_EXPERIENCE
    assert (inflated.framework_credits, inflated.recognized_credits) == (Decimal(1), Decimal(1))
    hours_only = deposited(
        world, employer, kim, credits=None, hours=900, achievement_type="ext:WorkExperience"
    )
    assert hours_only.credits_claimed == 0
    assert hours_only.framework_credits == Decimal(30)  # 900 h / 30 h
    assert hours_only.recognized_credits == Decimal(10)  # bounded by its rule
    training = deposited(world, employer, kim, credits=2, hours=16)
    assert training.kind is OutcomeKind.ENTERPRISE_TRAINING


def test_an_expired_credential_stops_counting(world: World) -> None:
    """Finding: validUntil was dropped, so an expired licence kept counting."""
    body = world.issuer("Network Certification Board", kind=InstitutionKind.CERTIFICATION_BODY)
    kim = world.learner()
    rule_for(world)
    until = world.clock.now + timedelta(days=365)
    licence = deposited(world, body, kim, credits=4, achievement_type="License", valid_until=until)
    assert licence.expires_at == until.replace(microsecond=0)
    assert licence.recognized_credits == Decimal(4)
    qualification = world.bank.create_qualification(
        "Certificate", 4, body.id, Requirements(total_credits=Decimal(4))
    )
    assert world.bank.assess(kim.id, qualification).met
    world.clock.now = until + timedelta(days=1)
    assert not world.bank.assess(kim.id, qualification).met
    with pytest.raises(RequirementsNotMet):
        world.bank.redeem_qualification(kim.id, qualification)
    lee = world.learner(verified=False)
    late = deposited(
        world,
        body,
        lee,
        credits=4,
        achievement_type="License",
        valid_until=world.clock.now + timedelta(days=30),
    )
    world.clock.now += timedelta(days=60)
    world.bank.verify_learner_identity(lee.id, IdentityVerification.ELECTRONIC_ID, "officer-1")
    assert world.bank.account(lee.id).outcome(late.id).status is OutcomeStatus.DEPOSITED
    with pytest.raises(RuleNotApplicable, match="expired"):
        world.bank.recognize_outcome(lee.id, late.id, "officer-1")


# -- 3. effective dating: when the learning happened ----------------------------------------------
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"completed_on": date(2016, 6, 30)}, date(2016, 6, 30)),
        ({"term": "2015-2016学年第二学期"}, date(2016, 7, 31)),
        ({"term": "Fall 2019"}, date(2019, 12, 31)),
        ({}, None),  # nothing stated: the signing date
    ],
    ids=["activityEndDate", "chinese-term", "season-term", "signing-date"],
)
def test_completion_is_when_the_learning_ended(
    world: World, spec: dict[str, Any], expected: date | None
) -> None:
    uni, kim = world.issuer(), world.learner()
    signed = world.clock.now - timedelta(days=3)
    o = deposited(world, uni, kim, valid_from=signed, **spec)
    assert o.completed_on == (expected or signed.date())


def test_a_completion_after_the_signing_is_refused(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    signed = world.clock.now - timedelta(days=30)
    token = world.token(uni, kim, valid_from=signed, completed_on=signed.date() + timedelta(1))
    world.refused("INVALID_CREDENTIAL", kim, token)


# -- 1. recognition trusts the claim --------------------------------------------------------------
@pytest.mark.parametrize(
    "result",
    [
        {"result": "F"},
        {"result": "不及格"},
        {"result": "B", "result_status": "Failed"},
        {"result_status": "Withdrew"},
        {"result_status": "InProgress"},
    ],
    ids=["F", "bujige", "failed-status", "withdrew", "in-progress"],
)
def test_a_failed_or_unfinished_result_is_not_credit(world: World, result: dict[str, str]) -> None:
    uni, kim = world.issuer(), world.learner()
    rule_for(world)
    failed = deposited(world, uni, kim, **result)
    assert (failed.passed, failed.status) == (False, OutcomeStatus.DEPOSITED)
    with pytest.raises(RuleNotApplicable, match="no pass"):
        world.bank.recognize_outcome(kim.id, failed.id, "officer-1")
    with pytest.raises(RuleNotApplicable, match="no pass"):
        world.bank.recognize_outcome(kim.id, failed.id, "officer-1", Decimal(3), 6, "major")
    passed = deposited(world, uni, kim, result="A", result_status="Completed")
    assert (passed.passed, passed.status) == (True, OutcomeStatus.RECOGNIZED)
