"""Conversion integrity and governance (docs/domain.md): nothing destroyed, nothing minted, every
exceptional decision seen by two officers.

Each test names the finding of issue 12 it pins down; each failed on the code before it. They
run on the in-memory bank (the application's decisions); tests/api/test_governance.py repeats
what depends on storage and the API on both engines.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from domain.errors import Forbidden, InvalidInput, RuleConflict, RuleNotApplicable
from domain.qualification import CategoryMinimum, LevelMinimum, Requirements
from domain.records import EvidenceItem
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import InstitutionKind, OutcomeKind, OutcomeStatus, RuleModel
from tests.builders import Issuer, World, agreed, deposit, outcome

D = Decimal


def recognise_all(
    world: World, *issuers: Issuer, category: str = "general", level: int = 6
) -> None:
    for i, issuer in enumerate(issuers):
        world.bank.create_recognition_rule(
            f"{issuer.name} courses",
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                criteria=OutcomeCriteria(institution_id=issuer.id),
                level=level,
                category=category,
                valid_from=date(2000, 1, 1),
                priority=i,
            ),
        )


def conversion(
    world: World,
    source: Issuer,
    target: Issuer,
    code: str = "T-1",
    category: str = "major",
    **terms: object,
) -> UUID:
    """A framework rule from ``source`` into ``target``'s ``code``, in force."""
    why = terms.pop("justification", None)
    if why is None and "target_credits" in terms:
        why = "the syllabi match (course equivalence)"
    return agreed(
        world.bank,
        world.bank.create_conversion_rule(
            f"{source.name} -> {code}",
            RuleModel.FRAMEWORK,
            ConversionTerms(
                criteria=OutcomeCriteria(institution_id=source.id),
                target_institution_id=target.id,
                target_code=code,
                target_category=category,
                ratio=D(str(terms.pop("ratio", "1"))),
                **terms,  # type: ignore[arg-type]
            ),
            justification=why,  # type: ignore[arg-type]
        ),
    )


def credits_of(world: World, learner: UUID) -> tuple[Decimal, Decimal]:
    b = world.bank.account(learner).balance()
    return b.total, b.available


# -- 1. conversion destroys credit ---------------------------------------------------------------
def test_a_capped_conversion_takes_only_what_it_converts(world: World) -> None:
    """Before: 30 credits in, 12 out, 18 gone."""
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    a = deposit(world.bank, kim.id, outcome(college, "a", credits="20"))
    b = deposit(world.bank, kim.id, outcome(college, "b", credits="10"))
    rule = conversion(world, college, uni, max_credits_per_learner=D("12"))
    assert credits_of(world, kim.id) == (D(30), D(30))
    with pytest.raises(RuleNotApplicable):  # the cap leaves nothing to take from b
        world.bank.convert_credits(kim.id, [a, b], rule)
    cid = world.bank.convert_credits(kim.id, [a], rule)
    account = world.bank.account(kim.id)
    assert account.conversions[str(cid)].source_credits == D(12)
    assert account.outcome(a).available_credits == D(8)
    assert account.outcome(a).status is OutcomeStatus.RECOGNIZED  # 8 credits still its own
    assert account.outcome(b).status is OutcomeStatus.RECOGNIZED
    assert credits_of(world, kim.id) == (D(30), D(30))  # nothing destroyed


def test_conversion_options_never_recommend_a_loss(world: World) -> None:
    """Before: the option that turned a met qualification unmet was recommended."""
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college, category="general")
    kim = world.learner()
    deposit(world.bank, kim.id, outcome(college, "a", credits="10"))
    halving = conversion(world, college, uni, "HALF", ratio="0.5")
    certificate = world.bank.create_qualification(
        "Certificate", 5, uni.id, Requirements(total_credits=D(10))
    )
    assert world.bank.assess(kim.id, certificate).met
    options = world.bank.conversion_options(kim.id, certificate)
    assert halving not in [o.rule_id for o in options]  # 10 -> 5 would unmeet the total
    # Toward a qualification it helps (a major minimum), it is offered with its cost.
    diploma = world.bank.create_qualification(
        "Diploma",
        6,
        uni.id,
        Requirements(
            total_credits=D(5),
            minimum_by_category=(CategoryMinimum(category="major", credits=D(5)),),
        ),
    )
    [option] = world.bank.conversion_options(kim.id, diploma)
    assert (option.source_credits, option.credits) == (D(10), D(5))
    assert option.closes == ("category major",)


def test_a_learner_undoes_a_conversion_and_the_sources_come_back_exactly(world: World) -> None:
    """Before: no conversion could be reversed."""
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    a = deposit(world.bank, kim.id, outcome(college, "a", credits="20"))
    rule = conversion(world, college, uni, ratio="0.5", max_credits_per_learner=D("4"))
    cid = world.bank.convert_credits(kim.id, [a], rule)
    assert world.bank.account(kim.id).outcome(a).available_credits == D(12)
    assert credits_of(world, kim.id) == (D(16), D(16))
    world.bank.reverse_conversion(kim.id, cid, "learner", by_officer=False)
    account = world.bank.account(kim.id)
    assert account.outcome(a).available_credits == D(20)
    assert account.outcome(a).converted_credits == {}
    assert not account.conversions[str(cid)].active
    assert credits_of(world, kim.id) == (D(20), D(20))
    assert account.converted_under(rule) == 0  # the cap is free again


def test_after_the_window_only_two_officers_reverse_a_conversion(world: World) -> None:
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    a = deposit(world.bank, kim.id, outcome(college, "a", credits="6"))
    cid = world.bank.convert_credits(kim.id, [a], conversion(world, college, uni))
    world.clock.now += timedelta(days=31)
    with pytest.raises(RuleNotApplicable):
        world.bank.reverse_conversion(kim.id, cid, "learner", by_officer=False)
    with pytest.raises(InvalidInput) as unjustified:
        world.bank.reverse_conversion(kim.id, cid, "officer-1", by_officer=True)
    assert unjustified.value.field == ("justification",)
    waiting = world.bank.reverse_conversion(
        kim.id, cid, "officer-1", by_officer=True, justification="the transfer was miscoded"
    )
    assert waiting is not None
    assert world.bank.account(kim.id).conversions[str(cid)].active  # not yet
    with pytest.raises(Forbidden):
        world.bank.approve_decision(kim.id, waiting, "officer-1")
    assert world.bank.approve_decision(kim.id, waiting, "officer-2") == (a,)
    c = world.bank.account(kim.id).conversions[str(cid)]
    assert (c.active, c.reversed_by, c.reversed_reason) == (
        False,
        "officer-1",
        "the transfer was miscoded",
    )


def test_a_redeemed_conversion_is_not_reversed_behind_its_award(world: World) -> None:
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    a = deposit(world.bank, kim.id, outcome(college, "a", credits="6"))
    cid = world.bank.convert_credits(kim.id, [a], conversion(world, college, uni))
    award = world.bank.create_qualification("Cert", 5, uni.id, Requirements(total_credits=D(6)))
    world.bank.redeem_qualification(kim.id, award)
    with pytest.raises(RuleNotApplicable, match="reviewed first"):
        world.bank.reverse_conversion(kim.id, cid, "learner", by_officer=False)


# -- 2. conversion mints credit ------------------------------------------------------------------
def test_a_course_equivalence_grants_the_target_course_once(world: World) -> None:
    """Before: five sources into a 3-credit course gave 15 credits; two conversions into one
    target course both counted."""
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college, level=5)
    kim = world.learner()
    sources = [
        deposit(world.bank, kim.id, outcome(college, f"s{i}", credits="3")) for i in range(5)
    ]
    equivalence = conversion(world, college, uni, "CS-101", target_credits=D(3), target_level=6)
    cid = world.bank.convert_credits(kim.id, sources[:2], equivalence)
    c = world.bank.account(kim.id).conversions[str(cid)]
    assert (c.credits, c.level, c.equivalence) == (D(3), 6, True)
    assert sum(p.credits for p in c.parts) == D(3)
    with pytest.raises(RuleNotApplicable, match="counts once"):
        world.bank.convert_credits(kim.id, sources[2:3], equivalence)
    # Another rule into the same course is refused too.
    other = world.issuer("Other college")
    recognise_all(world, other)
    deposit(world.bank, kim.id, outcome(other, "o", credits="3"))
    into_same = conversion(world, other, uni, "CS-101", target_credits=D(3), target_level=6)
    outcome_id = world.bank.account(kim.id).outcomes
    [o] = [x.id for x in outcome_id.values() if x.issuer_id == other.id]
    with pytest.raises(RuleNotApplicable, match="counts once"):
        world.bank.convert_credits(kim.id, [o], into_same)


def test_a_ratio_transfer_never_gives_more_than_its_rule(world: World) -> None:
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    a = deposit(world.bank, kim.id, outcome(college, "a", credits="10"))
    with pytest.raises(InvalidInput):  # a ratio above 1 creates credit: it says why
        conversion(world, college, uni, "UP", ratio="1.5")
    up = conversion(
        world, college, uni, "UP", ratio="1.5", max_credits_per_learner=D(6), justification="x"
    )
    cid = world.bank.convert_credits(kim.id, [a], up)
    c = world.bank.account(kim.id).conversions[str(cid)]
    assert (c.credits, c.source_credits) == (D(6), D(4))  # 4 taken x 1.5, capped at 6
    assert credits_of(world, kim.id) == (D(12), D(12))


# -- 3. conversion moves credit in time and place ------------------------------------------------
def test_converted_credits_keep_their_years_and_institutions(world: World) -> None:
    """Before: a 1:1 conversion dated everything in the latest source's year (16 counted fell to
    10 under a yearly cap of 10) and attributed it to the target (a per-institution cap of 6
    let 12 count)."""
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    early = deposit(
        world.bank, kim.id, outcome(college, "a", credits="8", completed_on=date(2023, 6, 1))
    )
    late = deposit(
        world.bank, kim.id, outcome(college, "b", credits="8", completed_on=date(2024, 6, 1))
    )
    yearly = world.bank.create_qualification(
        "Yearly", 6, uni.id, Requirements(total_credits=D(16), max_credits_per_year=D(10))
    )
    assert world.bank.assess(kim.id, yearly).credits_counted == D(16)
    world.bank.convert_credits(kim.id, [early, late], conversion(world, college, uni))
    assert world.bank.assess(kim.id, yearly).credits_counted == D(16)
    per_institution = world.bank.create_qualification(
        "Residency", 6, uni.id, Requirements(total_credits=D(12), max_credits_per_institution=D(6))
    )
    assert world.bank.assess(kim.id, per_institution).credits_counted == D(6)  # all the college's


def test_an_equivalence_carries_the_target_level_for_a_level_minimum(world: World) -> None:
    """Before: a level-4 certificate accepted as a level-6 course could not close a level-6
    minimum (the conversion took the lowest source level)."""
    centre = world.issuer("Centre", kind=InstitutionKind.CERTIFICATION_BODY)
    uni = world.issuer("University")
    recognise_all(world, centre, level=4)
    kim = world.learner()
    cert = deposit(
        world.bank,
        kim.id,
        outcome(centre, "net", credits="4", kind=OutcomeKind.VOCATIONAL_CERTIFICATE),
    )
    bachelor = world.bank.create_qualification(
        "Bachelor",
        6,
        uni.id,
        Requirements(total_credits=D(3), minimum_at_level=(LevelMinimum(level=6, credits=D(3)),)),
    )
    assert not world.bank.assess(kim.id, bachelor).met
    networks = conversion(world, centre, uni, "CS-NET-201", target_credits=D(3), target_level=6)
    world.bank.convert_credits(kim.id, [cert], networks)
    assert world.bank.assess(kim.id, bachelor).met


# -- 4. rules conflict silently ------------------------------------------------------------------
def test_overlapping_rules_are_refused_unless_ordered(world: World) -> None:
    """Before: both were accepted and the older silently applied."""
    uni = world.issuer("University")
    terms = RecognitionTerms(
        criteria=OutcomeCriteria(institution_id=uni.id),
        level=6,
        category="major",
        valid_from=date(2000, 1, 1),
    )
    world.bank.create_recognition_rule("first", RuleModel.FRAMEWORK, terms)
    world.bank.define_standard("MATH-1", "Calculus", 6, D(3), (OutcomeKind.ACADEMIC_COURSE,))
    by_code = RecognitionTerms(
        criteria=OutcomeCriteria(standard_code="MATH-1"),
        level=5,
        category="general",
        valid_from=date(2000, 1, 1),
    )
    with pytest.raises(RuleConflict) as conflict:
        world.bank.create_recognition_rule("second", RuleModel.FRAMEWORK, by_code)
    assert conflict.value.code == "RULE_CONFLICT"
    world.bank.create_recognition_rule("second", RuleModel.FRAMEWORK, replace(by_code, priority=1))
    kim = world.learner()
    math = deposit(world.bank, kim.id, outcome(uni, "m", standard_code="MATH-1"))
    assert world.bank.account(kim.id).outcome(math).category == "general"  # priority 1 decides
    # Strictly more specific needs no priority: it is an explicit order.
    narrower = replace(
        terms,
        criteria=OutcomeCriteria(institution_id=uni.id, kind=OutcomeKind.MOOC),
        category="elective",
    )
    world.bank.create_recognition_rule("uni moocs", RuleModel.FRAMEWORK, narrower)


# -- 5. an institution can mint credit -----------------------------------------------------------
def test_an_institutions_rule_into_its_own_courses_waits_for_the_counterpart_and_an_officer(
    world: World,
) -> None:
    """Before: an institution's ratio-10 agreement into its own courses took effect at once."""
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    a = deposit(world.bank, kim.id, outcome(college, "a", credits="10"))
    terms = ConversionTerms(
        criteria=OutcomeCriteria(institution_id=college.id),
        target_institution_id=uni.id,
        target_code="MINT",
        target_category="major",
        ratio=D(10),
    )
    with pytest.raises(InvalidInput) as unjustified:
        world.bank.create_conversion_rule(
            "mint", RuleModel.AGREEMENT, terms, "uni-registrar", uni.id
        )
    assert unjustified.value.field == ("justification",)
    with pytest.raises(Forbidden):  # a stranger to the agreement proposes nothing
        world.bank.create_conversion_rule(
            "mint", RuleModel.AGREEMENT, terms, "x", world.issuer("Stranger").id, "why"
        )
    rule = world.bank.create_conversion_rule(
        "mint", RuleModel.AGREEMENT, terms, "uni-registrar", uni.id, "a tenfold bonus"
    )
    with pytest.raises(RuleNotApplicable, match="not in force"):
        world.bank.convert_credits(kim.id, [a], rule)
    with pytest.raises(Forbidden):
        world.bank.accept_conversion_rule(rule, uni.id, "uni-registrar")  # not its own
    world.bank.accept_conversion_rule(rule, college.id, "college-registrar")
    with pytest.raises(RuleNotApplicable, match="approval"):
        world.bank.convert_credits(kim.id, [a], rule)
    world.bank.decline_conversion_rule(rule, "officer-1", "ratio 10 is not a transfer")
    with pytest.raises(RuleNotApplicable):
        world.bank.convert_credits(kim.id, [a], rule)
    assert credits_of(world, kim.id) == (D(10), D(10))


# -- 6. one officer decides anything -------------------------------------------------------------
def test_a_decision_beyond_the_claim_needs_a_justification_and_a_second_officer(
    world: World,
) -> None:
    """Before: an officer recognised a 3-credit level-3 MOOC as 100 credits at level 8."""
    mooc = world.issuer("MOOC", kind=InstitutionKind.MOOC_PLATFORM)
    kim = world.learner()
    course = deposit(
        world.bank, kim.id, outcome(mooc, "m", credits="3", level=3, kind=OutcomeKind.MOOC)
    )
    with pytest.raises(InvalidInput) as unjustified:
        world.bank.recognize_outcome(kim.id, course, "officer-1", D(100), 8, "major")
    assert unjustified.value.field == ("justification",)
    waiting = world.bank.recognize_outcome(
        kim.id, course, "officer-1", D(100), 8, "major", justification="a capstone in disguise"
    )
    assert waiting is not None
    assert world.bank.account(kim.id).outcome(course).status is OutcomeStatus.DEPOSITED
    assert list(world.bank.account(kim.id).proposals) == [str(waiting)]
    with pytest.raises(Forbidden):
        world.bank.approve_decision(kim.id, waiting, "officer-1")
    world.bank.decline_decision(kim.id, waiting, "officer-2", "100 credits for a MOOC: no")
    assert world.bank.account(kim.id).outcome(course).status is OutcomeStatus.DEPOSITED
    assert credits_of(world, kim.id) == (D(0), D(0))
    # Within its claim, one officer decides; above the bank's threshold (20), two again.
    assert world.bank.recognize_outcome(kim.id, course, "officer-1", D(3), 3, "elective") is None
    assert world.bank.account(kim.id).outcome(course).recognized_by == "officer-1"


# -- appeals and prior learning ------------------------------------------------------------------
def test_a_learner_appeals_once_to_another_officer(world: World) -> None:
    uni = world.issuer("University")
    kim = world.learner()
    course = deposit(world.bank, kim.id, outcome(uni, "c", credits="4", level=6))
    world.bank.reject_outcome(kim.id, course, "not at degree level", "officer-1")
    world.bank.appeal_decision(kim.id, course, "the syllabus shows it is")
    with pytest.raises(InvalidInput):
        world.bank.appeal_decision(kim.id, course, "again")
    with pytest.raises(Forbidden):
        world.bank.hear_appeal(kim.id, course, "officer-1", True, "fine", category="major")
    world.bank.hear_appeal(
        kim.id, course, "officer-2", True, "the syllabus is level 6", D(4), 6, "major"
    )
    o = world.bank.account(kim.id).outcome(course)
    assert (o.status, o.recognized_by, o.recognized_credits) == (
        OutcomeStatus.RECOGNIZED,
        "officer-2",
        D(4),
    )
    assert o.appeal is not None
    assert (o.appeal.decided_by, o.appeal.heard_by, o.appeal.upheld) == (
        "officer-1",
        "officer-2",
        True,
    )


def test_prior_learning_is_assessed_by_an_officer_against_a_standard(world: World) -> None:
    kim = world.learner()
    world.bank.define_standard("ACC-1", "Bookkeeping", 4, D(3), (OutcomeKind.PRIOR_LEARNING,))
    rpl = world.bank.apply_for_prior_learning(
        kim.id,
        "Bookkeeping at the family shop",
        date(2024, 12, 31),
        "ten years of double-entry ledgers",
        [EvidenceItem(description="employer letter", digest="sha256:" + "a" * 64)],
        hours=D(400),
    )
    o = world.bank.account(kim.id).outcome(rpl)
    assert (o.kind, o.status, o.portfolio is not None) == (
        OutcomeKind.PRIOR_LEARNING,
        OutcomeStatus.DEPOSITED,
        True,
    )
    assert world.bank.institution(o.issuer_id).name.startswith("Credit Bank")
    with pytest.raises(InvalidInput) as no_standard:
        world.bank.recognize_outcome(kim.id, rpl, "officer-1", D(3), 4, "general")
    assert no_standard.value.field == ("standardCode",)
    with pytest.raises(InvalidInput):  # beyond the standard: four-eyes
        world.bank.recognize_outcome(kim.id, rpl, "officer-1", D(6), 4, "general", "ACC-1")
    world.bank.recognize_outcome(kim.id, rpl, "officer-1", D(3), 4, "general", "ACC-1")
    assert world.bank.account(kim.id).outcome(rpl).recognized_standard == "ACC-1"


# -- what a review of the first version found ----------------------------------------------------
def test_an_equivalence_takes_whole_courses_only(world: World) -> None:
    """A course's 0.01 left after a capped transfer must not buy a 3-credit course."""
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    a = deposit(world.bank, kim.id, outcome(college, "a", credits="5"))
    capped = conversion(world, college, uni, "RATIO", max_credits_per_learner=D("4.99"))
    world.bank.convert_credits(kim.id, [a], capped)
    equivalence = conversion(world, college, uni, "CS-1", target_credits=D(3), target_level=6)
    with pytest.raises(RuleNotApplicable, match="whole courses"):
        world.bank.convert_credits(kim.id, [a], equivalence)


def test_a_conversion_whose_source_rest_is_redeemed_is_not_reversed(world: World) -> None:
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    a = deposit(world.bank, kim.id, outcome(college, "a", credits="10"))
    cid = world.bank.convert_credits(
        kim.id, [a], conversion(world, college, uni, max_credits_per_learner=D(4))
    )
    award = world.bank.create_qualification(
        "Cert",
        5,
        uni.id,
        Requirements(
            total_credits=D(6),
            minimum_by_category=(CategoryMinimum(category="general", credits=D(6)),),
        ),
    )
    world.bank.redeem_qualification(kim.id, award)  # the 6 credits a kept
    with pytest.raises(RuleNotApplicable, match="reviewed first"):
        world.bank.reverse_conversion(kim.id, cid, "learner", by_officer=False)


def test_a_retake_never_cancels_a_partly_converted_attempt(world: World) -> None:
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    first = deposit(world.bank, kim.id, outcome(college, "a", credits="10", standard_code="C-1"))
    cid = world.bank.convert_credits(
        kim.id, [first], conversion(world, college, uni, max_credits_per_learner=D(4))
    )
    retake = deposit(
        world.bank,
        kim.id,
        outcome(college, "b", credits="10", standard_code="C-1", completed_on=date(2025, 7, 1)),
    )
    account = world.bank.account(kim.id)
    assert account.conversions[str(cid)].active
    assert account.outcome(first).status is OutcomeStatus.RECOGNIZED
    assert account.outcome(retake).status is OutcomeStatus.DEPOSITED  # left for an officer


def test_the_approving_officer_does_not_hear_the_appeal(world: World) -> None:
    mooc = world.issuer("MOOC", kind=InstitutionKind.MOOC_PLATFORM)
    kim = world.learner()
    course = deposit(
        world.bank, kim.id, outcome(mooc, "m", credits="3", level=3, kind=OutcomeKind.MOOC)
    )
    waiting = world.bank.recognize_outcome(
        kim.id, course, "officer-1", D(3), 4, "elective", justification="EQF 4 syllabus"
    )
    assert waiting is not None
    world.bank.approve_decision(kim.id, waiting, "officer-2")
    world.bank.appeal_decision(kim.id, course, "worth more")
    for signed in ("officer-1", "officer-2"):
        with pytest.raises(Forbidden):
            world.bank.hear_appeal(kim.id, course, signed, False, "stands")
    world.bank.hear_appeal(kim.id, course, "officer-3", False, "stands")


# -- what a second review found ------------------------------------------------------------------
def test_a_course_equivalence_needs_a_second_officer(world: World) -> None:
    """One officer could create a 60-credit level-8 'course' for any 1-credit outcome."""
    college, uni = world.issuer("College"), world.issuer("University")
    terms = ConversionTerms(
        criteria=OutcomeCriteria(institution_id=college.id),
        target_institution_id=uni.id,
        target_code="BIG",
        target_category="major",
        ratio=D(1),
        target_credits=D(60),
        target_level=8,
    )
    with pytest.raises(InvalidInput):
        world.bank.create_conversion_rule("big", RuleModel.FRAMEWORK, terms, "officer-1")
    rule = world.bank.create_conversion_rule(
        "big", RuleModel.FRAMEWORK, terms, "officer-1", justification="a capstone equivalence"
    )
    assert world.bank.conversion_rule(rule).awaiting() == "awaiting an officer's approval"
    with pytest.raises(Forbidden):
        world.bank.approve_conversion_rule(rule, "officer-1")


def test_naming_a_standard_does_not_lift_the_credentials_own_bound(world: World) -> None:
    mooc = world.issuer("MOOC", kind=InstitutionKind.MOOC_PLATFORM)
    world.bank.define_standard("BIG-8", "Capstone", 8, D(20), (OutcomeKind.MOOC,))
    kim = world.learner()
    course = deposit(
        world.bank, kim.id, outcome(mooc, "m", credits="3", level=3, kind=OutcomeKind.MOOC)
    )
    with pytest.raises(InvalidInput) as unjustified:
        world.bank.recognize_outcome(kim.id, course, "officer-1", D(20), 8, "major", "BIG-8")
    assert unjustified.value.field == ("justification",)


def test_one_rule_governs_an_outcome_into_a_target_so_caps_never_add_up(world: World) -> None:
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    sources = [
        deposit(world.bank, kim.id, outcome(college, f"s{i}", credits="6")) for i in range(2)
    ]
    broad = conversion(world, college, uni, "T", max_credits_per_learner=D(6))
    narrow = agreed(
        world.bank,
        world.bank.create_conversion_rule(
            "narrow",
            RuleModel.FRAMEWORK,
            ConversionTerms(
                criteria=OutcomeCriteria(
                    institution_id=college.id, kind=OutcomeKind.ACADEMIC_COURSE
                ),
                target_institution_id=uni.id,
                target_code="T",
                target_category="major",
                ratio=D("0.5"),
                max_credits_per_learner=D(6),
            ),
        ),
    )
    with pytest.raises(RuleNotApplicable, match="governs"):
        world.bank.convert_credits(kim.id, [sources[0]], broad)  # the narrower rule governs
    world.bank.convert_credits(kim.id, [sources[0]], narrow)
    assert world.bank.account(kim.id).converted_under(narrow) == D(3)
