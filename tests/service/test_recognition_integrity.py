"""Recognition integrity (docs/domain.md): what recognition by rule refuses to be fooled by.

Each test names the finding of issue 11 it pins down; they run on the in-memory bank (the
application's decisions), and tests/integration/test_recognition_integrity.py repeats what
depends on storage on both engines.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.credit_schemes import CreditEquivalence, CreditScheme
from domain.errors import (
    DuplicateCredential,
    InvalidInput,
    NotFound,
    RequirementsNotMet,
    RuleNotApplicable,
)
from domain.qualification import Requirements
from domain.records import Outcome
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.same_learning import learning_keys
from domain.standard import PassMark, StandardTerms
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
            criteria=OutcomeCriteria(
                institution_id=issuer_id,  # type: ignore[arg-type]
                standard_code=terms.pop("standard_code", None),  # type: ignore[arg-type]
            ),
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


def test_an_agreement_covers_the_learning_done_under_it_whenever_deposited(world: World) -> None:
    """A 2025 course under a 2020–2025 rule, deposited in 2026, is recognised; a 2016 course
    is not recognised by a rule valid from 2020."""
    uni, kim = world.issuer(), world.learner()
    rule_for(world, uni.id, valid_from=date(2020, 1, 1), valid_until=date(2025, 12, 31))
    assert world.clock.now.year == 2026
    in_2025 = deposited(world, uni, kim, completed_on=date(2025, 12, 20))
    in_2016 = deposited(world, uni, kim, completed_on=date(2016, 6, 30))
    assert in_2025.status is OutcomeStatus.RECOGNIZED
    assert in_2016.status is OutcomeStatus.DEPOSITED
    with pytest.raises(RuleNotApplicable):
        world.bank.recognize_outcome(kim.id, in_2016.id, "officer-1")


def test_a_new_rule_does_not_reach_back_unless_it_says_so(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    world.bank.create_recognition_rule(
        "from today",
        RuleModel.FRAMEWORK,
        RecognitionTerms(criteria=OutcomeCriteria(institution_id=uni.id), level=6, category="m"),
    )
    assert world.bank.recognition_rules()[-1].terms.valid_from == world.clock.now.date()
    last_year = deposited(world, uni, kim, completed_on=date(2025, 6, 30))
    now = world.clock.now
    today = deposited(world, uni, kim, completed_on=now.date(), valid_from=now)
    assert (last_year.status, today.status) == (OutcomeStatus.DEPOSITED, OutcomeStatus.RECOGNIZED)


def test_an_amendment_governs_the_learning_completed_from_its_effective_date(
    world: World,
) -> None:
    uni, kim = world.issuer(), world.learner()
    rule = rule_for(world, uni.id, credits=Decimal(2))
    world.bank.amend_recognition_rule(
        rule,  # type: ignore[arg-type]
        RecognitionTerms(
            criteria=OutcomeCriteria(institution_id=uni.id),
            credits=Decimal(4),
            level=6,
            category="major",
            valid_from=date(2000, 1, 1),
        ),
    )  # effective today (2026-03-01)
    under_v1 = deposited(world, uni, kim, completed_on=date(2025, 6, 30))
    now = world.clock.now
    under_v2 = deposited(world, uni, kim, completed_on=now.date(), valid_from=now)
    assert (under_v1.rule_version, under_v1.recognized_credits) == (1, Decimal(2))
    assert (under_v2.rule_version, under_v2.recognized_credits) == (2, Decimal(4))
    with pytest.raises(InvalidInput):
        world.bank.amend_recognition_rule(
            rule,  # type: ignore[arg-type]
            RecognitionTerms(criteria=OutcomeCriteria(), level=5, category="m"),
            "2025-01-01",  # type: ignore[arg-type]
        )


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


# -- 1. standards are the yardstick ---------------------------------------------------------------
def cs101(world: World, **changes: Any) -> object:
    fields: dict[str, Any] = {
        "accepted_issuer_kinds": (InstitutionKind.UNIVERSITY,),
        "pass_mark": PassMark(results=("A", "B", "C", "D"), minimum_score=Decimal(60)),
    }
    fields.update(changes)
    return world.bank.define_standard(
        "CS101", "Programming 1", 6, Decimal(3), (OutcomeKind.ACADEMIC_COURSE,), **fields
    )


def test_a_rule_measures_against_the_standard_it_cites(world: World) -> None:
    """The audit's case: a level-2 MOOC claiming CS101 for 30 credits at level 6."""
    cs101(world)
    uni, mooc, kim = (
        world.issuer(),
        world.issuer("K-MOOC", kind=InstitutionKind.MOOC_PLATFORM),
        (world.learner()),
    )
    rule_for(world, standard_code="CS101", credits=None)
    claimed = deposited(world, mooc, kim, human_code="CS101", credits=30, eqf_level=2, result="A")
    assert claimed.status is OutcomeStatus.DEPOSITED  # waits for an officer
    with pytest.raises(RuleNotApplicable, match="does not accept"):
        world.bank.recognize_outcome(kim.id, claimed.id, "officer-1")
    below = deposited(world, uni, kim, human_code="CS101", credits=3, eqf_level=5, result="A")
    assert below.status is OutcomeStatus.DEPOSITED  # level 5 does not meet a level-6 standard
    inflated = deposited(world, uni, kim, human_code="CS101", credits=30, result="78")
    assert inflated.status is OutcomeStatus.RECOGNIZED
    assert (inflated.recognized_credits, inflated.recognized_level) == (Decimal(3), 6)
    assert (inflated.recognized_standard, inflated.standard_version) == ("CS101", 1)
    failed = deposited(world, uni, kim, human_code="CS101", credits=3, result="45")
    assert failed.status is OutcomeStatus.DEPOSITED  # 45 is below the pass mark of 60


def test_a_rule_cites_only_a_standard_of_the_catalogue(world: World) -> None:
    with pytest.raises(NotFound):
        rule_for(world, standard_code="CS999")
    withdrawn = cs101(world)
    world.bank.withdraw_standard(withdrawn)  # type: ignore[arg-type]
    with pytest.raises(RuleNotApplicable, match="withdrawn"):
        rule_for(world, standard_code="CS101")


def test_a_withdrawn_standard_recognises_only_what_was_completed_before(world: World) -> None:
    standard = cs101(world)
    uni, kim = world.issuer(), world.learner()
    rule_for(world, standard_code="CS101")
    world.bank.withdraw_standard(standard, date(2025, 9, 1))  # type: ignore[arg-type]
    before = deposited(
        world, uni, kim, human_code="CS101", result="B", completed_on=date(2025, 6, 30)
    )
    after = deposited(
        world, uni, kim, human_code="CS101", result="B", completed_on=date(2025, 12, 20)
    )
    assert before.status is OutcomeStatus.RECOGNIZED  # learners keep what they earned
    assert after.status is OutcomeStatus.DEPOSITED
    with pytest.raises(RuleNotApplicable, match="not in force"):
        world.bank.recognize_outcome(kim.id, after.id, "officer-1")


def test_each_decision_cites_the_version_in_force_when_the_learning_ended(world: World) -> None:
    standard = cs101(world)
    world.bank.amend_standard(
        standard,  # type: ignore[arg-type]
        StandardTerms(
            title="Programming 1 (2025)",
            level=6,
            credits=Decimal(4),
            accepted_kinds=(OutcomeKind.ACADEMIC_COURSE,),
        ),
        date(2025, 3, 1),
    )
    uni, kim = world.issuer(), world.learner()
    rule_for(world, standard_code="CS101")
    old = deposited(
        world, uni, kim, human_code="CS101", credits=5, result="A", completed_on=date(2024, 12, 20)
    )
    new = deposited(
        world, uni, kim, human_code="CS101", credits=5, result="P", completed_on=date(2025, 6, 30)
    )
    assert (old.recognized_credits, old.standard_version) == (Decimal(3), 1)
    assert (new.recognized_credits, new.standard_version) == (Decimal(4), 2)  # no pass mark in v2


def test_a_required_standard_is_met_only_by_outcomes_recognised_against_it(world: World) -> None:
    cs101(world)
    uni, kim = world.issuer(), world.learner()
    rule_for(world, uni.id)  # the issuer's courses, no standard
    claimed = deposited(world, uni, kim, human_code="CS101", result="A")
    assert (claimed.status, claimed.recognized_standard) == (OutcomeStatus.RECOGNIZED, None)
    qualification = world.bank.create_qualification(
        "Certificate in programming",
        6,
        uni.id,
        Requirements(total_credits=Decimal(3), required_standards=("CS101",)),
    )
    assessment = world.bank.assess(kim.id, qualification)
    assert not assessment.met
    assert any("CS101" in u for u in assessment.unmet)
    measured = deposited(
        world, world.issuer("Seoul University"), kim, human_code="CS101", result="A"
    )
    world.bank.recognize_outcome(kim.id, measured.id, "officer-1", None, 6, "major", "CS101")
    assert world.bank.assess(kim.id, qualification).met


# -- 4. the same learning counts once -------------------------------------------------------------
def test_an_updated_credential_supersedes_the_version_before(world: World) -> None:
    """OB 3.0's update: the same id from the same issuer, signed later."""
    uni, kim = world.issuer(), world.learner()
    rule_for(world, uni.id)
    signed = world.clock.now - timedelta(days=30)
    first = deposited(world, uni, kim, credential_id="urn:x:1", credits=3, valid_from=signed)
    for repeat in (signed, signed - timedelta(days=1)):  # a replay, an older version
        with pytest.raises(DuplicateCredential):
            deposited(world, uni, kim, credential_id="urn:x:1", credits=4, valid_from=repeat)
    with pytest.raises(DuplicateCredential):  # another learner's account: never
        deposited(world, uni, world.learner(), credential_id="urn:x:1", valid_from=world.clock.now)
    update = deposited(
        world, uni, kim, credential_id="urn:x:1", credits=4, valid_from=signed + timedelta(days=2)
    )
    account = world.bank.account(kim.id)
    old = account.outcome(first.id)
    assert (old.status, old.superseded_by, old.superseded_because) == (
        OutcomeStatus.SUPERSEDED,
        update.id,
        "updated credential",
    )
    assert (update.status, update.recognized_credits) == (OutcomeStatus.RECOGNIZED, Decimal(4))
    assert account.balance().total == Decimal(4)  # both kept, one counts


def test_the_same_standard_counts_once_and_a_retake_replaces(world: World) -> None:
    world.bank.define_standard(
        "CS101", "Programming 1", 6, Decimal(3), (OutcomeKind.ACADEMIC_COURSE,)
    )
    rule_for(world, standard_code="CS101")
    fudan, seoul, kim = world.issuer(), world.issuer("Seoul University"), world.learner()
    first = deposited(world, fudan, kim, human_code="CS101", completed_on=date(2024, 6, 30))
    retake = deposited(world, seoul, kim, human_code="CS101", completed_on=date(2025, 6, 30))
    account = world.bank.account(kim.id)
    assert account.outcome(first.id).status is OutcomeStatus.SUPERSEDED
    assert account.outcome(first.id).superseded_by == retake.id
    assert account.balance().total == Decimal(3)
    # An attempt older than the one that counts does not count as well.
    older = deposited(world, fudan, kim, human_code="CS101", completed_on=date(2023, 6, 30))
    assert older.status is OutcomeStatus.DEPOSITED
    with pytest.raises(RuleNotApplicable, match="later attempt"):
        world.bank.recognize_outcome(kim.id, older.id, "officer-1")
    # Revoking the retake: the first attempt counts again (nothing earned is lost).
    world.bank.revoke_outcome(kim.id, retake.id, "issued in error", "officer-1")
    account = world.bank.account(kim.id)
    assert account.outcome(first.id).status is OutcomeStatus.RECOGNIZED
    assert account.balance().total == Decimal(3)


def test_a_course_already_converted_is_not_counted_again(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    rule_for(world, uni.id)
    target = world.issuer("Target College")
    conversion = world.transfer(uni, target)
    first = deposited(world, uni, kim, human_code="ECON-1", completed_on=date(2024, 6, 30))
    world.bank.convert_credits(kim.id, [first.id], conversion)
    again = deposited(world, uni, kim, human_code="ECON-1", completed_on=date(2025, 6, 30))
    assert again.status is OutcomeStatus.DEPOSITED  # the converted credit stays; no second count
    with pytest.raises(RuleNotApplicable, match="already counts"):
        world.bank.recognize_outcome(kim.id, again.id, "officer-1", Decimal(3), 6, "major")


def test_an_update_of_a_spent_credential_waits_for_an_officer(world: World) -> None:
    """An update would count spent credit again: the earlier version is revoked first."""
    uni, kim = world.issuer(), world.learner()
    rule_for(world, uni.id)
    qualification = world.bank.create_qualification(
        "Certificate", 6, uni.id, Requirements(total_credits=Decimal(3))
    )
    signed = world.clock.now - timedelta(days=30)
    first = deposited(world, uni, kim, credential_id="urn:s:1", valid_from=signed)
    world.bank.redeem_qualification(kim.id, qualification)
    update = world.token(uni, kim, credential_id="urn:s:1", valid_from=signed + timedelta(days=1))
    with pytest.raises(RuleNotApplicable, match="revokes it"):
        world.bank.deposit_credential(kim.id, update)
    assert world.bank.account(kim.id).outcome(first.id).status is OutcomeStatus.REDEEMED
    # Revoked (its redemption flagged for review), the corrected version may come in.
    world.bank.revoke_outcome(kim.id, first.id, "corrected by the issuer", "officer-1")
    corrected = world.bank.deposit_credential(kim.id, update)
    account = world.bank.account(kim.id)
    assert account.outcome(corrected).status is OutcomeStatus.RECOGNIZED
    assert account.outcome(first.id).status is OutcomeStatus.REVOKED


def test_revoking_retakes_in_turn_brings_back_the_first_attempt(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    rule_for(world, uni.id)
    attempts = [
        deposited(world, uni, kim, human_code="ECON-1", completed_on=date(year, 6, 30))
        for year in (2023, 2024, 2025)
    ]
    first, retake, last = (a.id for a in attempts)
    world.bank.revoke_outcome(kim.id, retake, "graded in error", "officer-1")
    assert world.bank.account(kim.id).outcome(first).status is OutcomeStatus.SUPERSEDED
    world.bank.revoke_outcome(kim.id, last, "graded in error", "officer-1")
    account = world.bank.account(kim.id)
    assert account.outcome(first).status is OutcomeStatus.RECOGNIZED
    assert account.balance().total == Decimal(3)


def test_a_recognition_decided_before_standards_and_a_course_code_are_the_same_learning() -> None:
    """Generation 1 recognitions count the code they claimed as a standard; a later attempt at
    that course of the same issuer, recognised by a rule citing none, is the same learning."""
    issuer = uuid4()
    old = _outcome(issuer, "ECON-1", recognized_standard="ECON-1")
    retake = _outcome(issuer, "ECON-1")
    assert learning_keys(old, old.recognized_standard) & learning_keys(retake, None)
    assert not learning_keys(_outcome(uuid4(), "ECON-1"), None) & learning_keys(retake, None)


def _outcome(issuer: UUID, code: str, **recognised: Any) -> Outcome:
    return Outcome(
        id=uuid4(),
        issuer_id=issuer,
        credential_id=f"urn:{uuid4()}",
        kind=OutcomeKind.ACADEMIC_COURSE,
        title="Economics",
        standard_code=code,
        level=6,
        credits_claimed=Decimal(3),
        hours=None,
        result=None,
        completed_on=date(2024, 6, 30),
        evidence_digest="",
        key_id=None,
        deposited_at=datetime(2024, 7, 1, tzinfo=UTC),
        **recognised,
    )
