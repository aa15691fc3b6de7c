"""Qualifications, pathways and awards (docs/domain.md, awards): exact requirement checks, exact
spending, stacking, calendars, level by default, and review when credit under an award goes.

Each test names the finding of issue 13 it pins down; each failed on the code before it. They
run on the in-memory bank; tests/api/test_awards.py repeats what depends on storage and the API
on both engines.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.errors import InvalidInput, NotFound, RequirementsNotMet, RuleNotApplicable
from domain.qualification import CategoryMinimum, Requirements, Stacking
from domain.values import AwardDecision, AwardStatus, OutcomeStatus
from tests.builders import Issuer, World, deposit, outcome
from tests.service.test_conversion_integrity import conversion, recognise_all

D = Decimal


def course(
    world: World,
    learner: UUID,
    issuer: Issuer,
    name: str,
    credits: str,
    on: date = date(2025, 6, 30),
) -> UUID:
    return deposit(world.bank, learner, outcome(issuer, name, credits=credits, completed_on=on))


def balance(world: World, learner: UUID) -> tuple[Decimal, Decimal, Decimal]:
    b = world.bank.account(learner).balance()
    return b.total, b.available, b.redeemed


# -- 1. false "not met" --------------------------------------------------------------------------
def test_a_valid_allocation_is_found_where_greedy_said_not_met(world: World) -> None:
    """Before: the oldest major course filled the major minimum and the year cap with it, so the
    general course of that year could not count: "category general: 0 of 3" though counting
    the newer major course instead meets everything."""
    uni = world.issuer("University")
    kim = world.learner()
    recognise_all(world, uni, category="major")
    old_major = course(world, kim.id, uni, "m1", "3", date(2023, 10, 1))
    general = world.issuer("College")
    recognise_all(world, general, category="general")
    course(world, kim.id, general, "g1", "3", date(2023, 11, 1))
    new_major = course(world, kim.id, uni, "m2", "3", date(2024, 10, 1))
    diploma = world.bank.create_qualification(
        "Diploma",
        6,
        uni.id,
        Requirements(
            total_credits=D(6),
            minimum_by_category=(
                CategoryMinimum(category="major", credits=D(3)),
                CategoryMinimum(category="general", credits=D(3)),
            ),
            max_credits_per_year=D(3),
        ),
    )
    result = world.bank.assess(kim.id, diploma)
    assert result.met, result.unmet
    assert old_major not in result.allocations
    assert result.allocations[new_major] == D(3)


# -- 2. redemption spends whole holdings -----------------------------------------------------------
def test_a_redemption_spends_exactly_what_it_counts(world: World) -> None:
    """Before: 10 credits marked redeemed, 6 counted, 4 left unusable anywhere."""
    uni = world.issuer("University")
    recognise_all(world, uni)
    kim = world.learner()
    big = course(world, kim.id, uni, "big", "10")
    certificate = world.bank.create_qualification(
        "Certificate", 6, uni.id, Requirements(total_credits=D(6))
    )
    other = world.bank.create_qualification("Other", 6, uni.id, Requirements(total_credits=D(4)))
    world.bank.redeem_qualification(kim.id, certificate)
    assert balance(world, kim.id) == (D(10), D(4), D(6))
    assert world.bank.account(kim.id).outcome(big).status is OutcomeStatus.REDEEMED
    # The 4 left count elsewhere, and are spent there.
    assert world.bank.assess(kim.id, other).met
    world.bank.redeem_qualification(kim.id, other)
    assert balance(world, kim.id) == (D(10), D(0), D(10))


# -- 3. stacking -------------------------------------------------------------------------------
def test_a_certificate_stacks_into_its_diploma(world: World) -> None:
    """Before: the certificate's credits, once redeemed, could never count toward the diploma
    it is part of."""
    uni, kim_id, certificate, diploma = _stacked(world, required=True)
    kim = world.bank.learner(kim_id)
    for i in range(4):
        course(world, kim.id, uni, f"c{i}", "5")
    unrelated = world.bank.create_qualification(
        "Unrelated", 6, uni.id, Requirements(total_credits=D(15))
    )
    before = world.bank.assess(kim.id, diploma)
    assert not before.met
    assert before.unmet == ("award Certificate: not held",)
    world.bank.redeem_qualification(kim.id, certificate)
    progress = world.bank.assess(kim.id, diploma)
    assert progress.met  # 10 counted again + 10 fresh
    assert progress.notes == ("award Certificate: 10.00 credits counted again",)
    assert not world.bank.assess(kim.id, unrelated).met  # only 10 are free for it
    world.bank.redeem_qualification(kim.id, diploma)
    # 20 credits spent once, though 30 were counted (10 of them twice, on the pathway).
    assert balance(world, kim.id) == (D(20), D(0), D(20))
    awards = world.bank.account(kim.id).redemptions.values()
    assert sorted(r.credits_counted for r in awards) == [D(10), D(20)]


def test_a_pathway_never_loops(world: World) -> None:
    uni = world.issuer("University")
    a = world.bank.create_qualification("A", 6, uni.id, Requirements(total_credits=D(1)))
    b = world.bank.create_qualification(
        "B",
        6,
        uni.id,
        Requirements(total_credits=D(2), stacks_from=(Stacking(qualification_id=a),)),
    )
    with pytest.raises(InvalidInput, match="stack into itself"):
        world.bank.amend_qualification(
            a, Requirements(total_credits=D(1), stacks_from=(Stacking(qualification_id=b),))
        )
    with pytest.raises(NotFound):
        world.bank.create_qualification(
            "C",
            6,
            uni.id,
            Requirements(total_credits=D(1), stacks_from=(Stacking(qualification_id=uni.id),)),
        )


# -- 4. semesters and academic years ---------------------------------------------------------
def test_semester_caps_count_in_the_banks_calendar(world: World) -> None:
    """Before: no semester cap existed, and years were calendar years. The bank's calendar
    (EQF preset: September and February) puts a January course in the autumn term of the
    academic year that began the September before."""
    uni = world.issuer("University")
    recognise_all(world, uni)
    kim = world.learner()
    course(world, kim.id, uni, "sep", "20", date(2024, 9, 15))
    course(world, kim.id, uni, "jan", "20", date(2025, 1, 20))  # same term: 2024/25 term 1
    course(world, kim.id, uni, "mar", "20", date(2025, 3, 10))  # 2024/25 term 2
    bachelor = world.bank.create_qualification(
        "Bachelor",
        6,
        uni.id,
        Requirements(
            total_credits=D(60), max_credits_per_semester=D(24), max_credits_per_year=D(42)
        ),
    )
    result = world.bank.assess(kim.id, bachelor)
    assert result.credits_counted == D(42)  # 24 in term 1 and 18 of term 2 (the year's 42)
    assert result.unmet == ("total: 42.00 of 60.00 credits counted (18.00 missing)",)
    assert "semester cap of 24.00 in 2024/25 term 1: 16.00 credits not counted" in result.notes


# -- 5. a qualification's level ------------------------------------------------------------------
def test_a_bachelors_level_needs_credits_near_it_by_default(world: World) -> None:
    """Before: 20 credits at EQF level 2 met a level-6 bachelor."""
    school, uni = world.issuer("School"), world.issuer("University")
    recognise_all(world, school, level=2)
    recognise_all(world, uni, level=6)
    kim = world.learner()
    course(world, kim.id, school, "basic", "20")
    bachelor = world.bank.create_qualification(
        "Bachelor", 6, uni.id, Requirements(total_credits=D(20))
    )
    result = world.bank.assess(kim.id, bachelor)
    assert result.unmet == ("level 5 or above: 0.00 of 10.00 credits (10.00 missing)",)
    course(world, kim.id, uni, "advanced", "10")
    assert world.bank.assess(kim.id, bachelor).met
    # A qualification may state its own share (0: its level constrains nothing).
    open_award = world.bank.create_qualification(
        "Open", 6, uni.id, Requirements(total_credits=D(30), min_level_share=D(0))
    )
    assert world.bank.assess(kim.id, open_award).met


# -- 6. revocation under an award ------------------------------------------------------------
def _awarded(world: World) -> tuple[UUID, UUID, list[UUID], UUID]:
    uni = world.issuer("University")
    recognise_all(world, uni)
    kim = world.learner()
    courses = [course(world, kim.id, uni, f"c{i}", "5") for i in range(4)]
    diploma = world.bank.create_qualification(
        "Diploma", 6, uni.id, Requirements(total_credits=D(15))
    )
    award = world.bank.redeem_qualification(kim.id, diploma)
    return kim.id, diploma, courses, award


def test_revoking_credit_under_an_award_puts_it_under_review(world: World) -> None:
    """Before: the award was only flagged; it stayed met and nothing could review it."""
    kim, _diploma, _courses, award = _awarded(world)
    counted = world.bank.account(kim).award(award).allocations
    forged = UUID(next(iter(counted)))
    world.bank.revoke_outcome(kim, forged, "forged", "officer-1")
    a = world.bank.account(kim).award(award)
    assert a.status is AwardStatus.UNDER_REVIEW
    assert a.flags == [f"outcome {forged} revoked: forged"]
    # Reaffirmed: re-assessed on what remains (the unspent course takes the revoked one's place).
    world.bank.review_award(kim, award, "REAFFIRM", "three other courses meet it", "officer-2")
    a = world.bank.account(kim).award(award)
    assert a.status is AwardStatus.STANDING
    assert str(forged) not in a.allocations
    assert a.credits_counted == D(15)
    assert balance(world, kim) == (D(15), D(0), D(15))
    with pytest.raises(RuleNotApplicable, match="only an award under review"):
        world.bank.review_award(kim, award, "REAFFIRM", "again", "officer-2")


def test_an_award_no_longer_met_is_rescinded_not_reaffirmed(world: World) -> None:
    kim, diploma, courses, award = _awarded(world)
    for c in courses[:2]:
        world.bank.revoke_outcome(kim, c, "forged", "officer-1")
    with pytest.raises(RequirementsNotMet, match="no longer met"):
        world.bank.review_award(kim, award, "REAFFIRM", "still fine", "officer-2")
    assert world.bank.account(kim).award(award).status is AwardStatus.UNDER_REVIEW
    world.bank.review_award(kim, award, AwardDecision.RESCIND, "credit forged", "officer-2")
    a = world.bank.account(kim).award(award)
    assert a.status is AwardStatus.RESCINDED
    assert balance(world, kim) == (D(10), D(10), D(0))  # released
    assert not world.bank.assess(kim, diploma).met  # progress never counts a rescinded award
    with pytest.raises(RuleNotApplicable, match="rescinded"):
        world.bank.review_award(kim, award, "REAFFIRM", "undo", "officer-2")


def test_a_rescinded_award_can_be_earned_again(world: World) -> None:
    """Before: re-redeeming was refused for ever."""
    kim, diploma, _courses, award = _awarded(world)
    world.bank.review_award(kim, award, "RESCIND", "issued in error", "officer-2")
    again = world.bank.redeem_qualification(kim, diploma)
    assert again != award
    assert world.bank.account(kim).award(again).status is AwardStatus.STANDING


def test_a_cancelled_conversion_under_review_keeps_its_sources_reserved(world: World) -> None:
    """The other sources of a conversion cancelled by a revocation stay reserved for the award
    under review: no second redemption can spend them meanwhile."""
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner()
    a = course(world, kim.id, college, "a", "5")
    b = course(world, kim.id, college, "b", "5")
    rule = conversion(world, college, uni)
    world.bank.convert_credits(kim.id, [a, b], rule)
    diploma = world.bank.create_qualification(
        "Diploma", 6, uni.id, Requirements(total_credits=D(10))
    )
    other = world.bank.create_qualification("Other", 6, uni.id, Requirements(total_credits=D(5)))
    award = world.bank.redeem_qualification(kim.id, diploma)
    world.bank.revoke_outcome(kim.id, a, "forged", "officer-1")
    assert world.bank.account(kim.id).award(award).allocations == {str(b): D(5)}
    with pytest.raises(RequirementsNotMet):
        world.bank.redeem_qualification(kim.id, other)
    world.bank.review_award(kim.id, award, "RESCIND", "not met", "officer-2")
    world.bank.redeem_qualification(kim.id, other)  # released


def test_reviewing_is_an_officers_and_the_input_is_checked(world: World) -> None:
    kim, diploma, _courses, award = _awarded(world)
    with pytest.raises(InvalidInput):
        world.bank.review_award(kim, award, "MAYBE", "x", "officer-2")
    with pytest.raises(InvalidInput):
        world.bank.review_award(kim, award, "RESCIND", "  ", "officer-2")
    with pytest.raises(NotFound):
        world.bank.review_award(kim, diploma, "RESCIND", "x", "officer-2")
    assert world.bank.account(kim).award(award).status is AwardStatus.STANDING


# -- study plan ------------------------------------------------------------------------------------
def test_the_study_plan_places_what_is_left_term_by_term_under_the_caps(world: World) -> None:
    """26 credits short of a bachelor that counts at most 24 a term and 42 a year, with 40
    already counted this academic year (20 of them this term): 2 more fit this term (the
    year's 42), 24 the next (a new year, the term's 24). The plan names what is missing and the
    rule that would recognise more."""
    uni = world.issuer("University")
    recognise_all(world, uni, category="major")
    kim = world.learner()
    # The bank's clock: 2026-03-01 (EQF calendar: 2025/26 term 2, from February).
    course(world, kim.id, uni, "now", "20", date(2026, 2, 10))
    course(world, kim.id, uni, "earlier", "20", date(2025, 10, 1))  # 2025/26 term 1
    bachelor = world.bank.create_qualification(
        "Bachelor",
        6,
        uni.id,
        Requirements(
            total_credits=D(66),
            minimum_by_category=(CategoryMinimum(category="major", credits=D(50)),),
            max_credits_per_semester=D(24),
            max_credits_per_year=D(42),
        ),
    )
    found = world.bank.study_plan(kim.id, bachelor)
    plan = found.plan
    assert not plan.met
    assert plan.shortfalls == {"total": D(26), "category major": D(10)}
    assert plan.credits_to_earn == D(26)
    assert [(t.term, t.starts_on, t.credits) for t in plan.terms] == [
        ("2025/26 term 2", date(2026, 3, 1), D(2)),  # the year's cap: 42 - 40
        ("2026/27 term 1", date(2026, 9, 1), D(24)),
    ]
    assert plan.earliest == date(2026, 9, 1)
    assert [r.name for r in found.routes] == ["University courses"]
    # Met already: today, nothing to place.
    done = world.bank.create_qualification("Short", 6, uni.id, Requirements(total_credits=D(10)))
    met = world.bank.study_plan(kim.id, done).plan
    assert (met.met, met.earliest, met.terms) == (True, date(2026, 3, 1), ())


# -- found in review: pathways, expiry and merges under review ---------------------------------
def _stacked(world: World, required: bool = False, counts_again: bool = True) -> tuple[Any, ...]:
    uni = world.issuer("University")
    recognise_all(world, uni)
    kim = world.learner()
    certificate = world.bank.create_qualification(
        "Certificate", 6, uni.id, Requirements(total_credits=D(10))
    )
    diploma = world.bank.create_qualification(
        "Diploma",
        6,
        uni.id,
        Requirements(
            total_credits=D(20),
            stacks_from=(
                Stacking(
                    qualification_id=certificate, required=required, counts_again=counts_again
                ),
            ),
        ),
    )
    return uni, kim.id, certificate, diploma


def test_a_certificate_a_diploma_counts_again_can_be_reaffirmed(world: World) -> None:
    """Review finding: set aside for its review, the certificate lost its own credits to the
    diploma that counted them again, and could only be rescinded."""
    uni, kim, certificate, diploma = _stacked(world)
    h1 = course(world, kim, uni, "h1", "6", date(2025, 1, 1))
    h2 = course(world, kim, uni, "h2", "4", date(2025, 1, 2))
    cert_award = world.bank.redeem_qualification(kim, certificate)
    course(world, kim, uni, "h3", "10", date(2025, 1, 3))
    course(world, kim, uni, "spare", "4", date(2025, 1, 4))
    world.bank.redeem_qualification(kim, diploma)
    world.bank.revoke_outcome(kim, h2, "forged", "officer-1")
    world.bank.review_award(kim, cert_award, "REAFFIRM", "h1 and the spare", "officer-2")
    award = world.bank.account(kim).award(cert_award)
    assert award.status is AwardStatus.STANDING
    assert award.allocations[str(h1)] == D(6)
    total, available, redeemed = balance(world, kim)
    assert total == available + redeemed


def test_rescinding_a_required_award_puts_what_required_it_under_review(world: World) -> None:
    """Review finding: a diploma requiring the certificate (without counting it again) stayed
    standing when the certificate was rescinded."""
    uni, kim, certificate, diploma = _stacked(world, required=True, counts_again=False)
    for i in range(6):
        course(world, kim, uni, f"c{i}", "5")
    cert_award = world.bank.redeem_qualification(kim, certificate)
    dip_award = world.bank.redeem_qualification(kim, diploma)
    world.bank.review_award(kim, cert_award, "RESCIND", "issued in error", "officer-2")
    award = world.bank.account(kim).award(dip_award)
    assert award.status is AwardStatus.UNDER_REVIEW
    assert award.flags == [f"award {cert_award} it stacks on was rescinded: issued in error"]


def test_credit_spent_before_its_credential_expired_stays_the_awards(world: World) -> None:
    """Review finding: re-assessed today, an award lost the credits it validly spent of a
    credential that had expired since."""
    uni = world.issuer("University")
    recognise_all(world, uni)
    kim = world.learner().id
    expiring = replace(
        outcome(uni, "expiring", credits="6"), expires_at=datetime(2026, 6, 1, tzinfo=UTC)
    )
    deposit(world.bank, kim, expiring)
    h2 = course(world, kim, uni, "h2", "4", date(2025, 7, 1))
    diploma = world.bank.create_qualification(
        "Diploma", 6, uni.id, Requirements(total_credits=D(10))
    )
    award = world.bank.redeem_qualification(kim, diploma)
    course(world, kim, uni, "h3", "4", date(2025, 7, 2))
    world.clock.now = datetime(2026, 7, 1, 9, tzinfo=UTC)  # the credential has expired
    world.bank.revoke_outcome(kim, h2, "forged", "officer-1")
    world.bank.review_award(kim, award, "REAFFIRM", "h3 replaces h2", "officer-2")
    assert world.bank.account(kim).award(award).status is AwardStatus.STANDING


def test_awards_sharing_a_cancelled_part_reserve_only_what_they_counted(world: World) -> None:
    """Review finding: two awards counting 2 and 3 of one 5-credit part each reserved all 5
    source credits when the conversion was cancelled."""
    college, uni = world.issuer("College"), world.issuer("University")
    recognise_all(world, college)
    kim = world.learner().id
    a = course(world, kim, college, "a", "5", date(2025, 1, 1))
    b = course(world, kim, college, "b", "5", date(2025, 1, 2))
    world.bank.convert_credits(kim, [a, b], conversion(world, college, uni))
    seven = world.bank.create_qualification("Seven", 6, uni.id, Requirements(total_credits=D(7)))
    three = world.bank.create_qualification("Three", 6, uni.id, Requirements(total_credits=D(3)))
    awards = [world.bank.redeem_qualification(kim, q) for q in (seven, three)]
    world.bank.revoke_outcome(kim, a, "forged", "officer-1")
    account = world.bank.account(kim)
    reserved = sum((account.award(x).allocations.get(str(b), D(0)) for x in awards), D(0))
    assert D(0) < reserved <= D(5)
    total, available, redeemed = balance(world, kim)
    assert (total, available + redeemed) == (D(5), D(5))


def test_a_merge_leaves_one_standing_award_of_a_qualification(world: World) -> None:
    """Review finding: two accounts of one person, each awarded the same certificate, merged
    into two standing awards (and a diploma counted both again). The duplicate's goes under
    review, for an officer to rescind."""
    uni, kim, certificate, diploma = _stacked(world)
    dup = world.learner().id
    course(world, kim, uni, "k1", "10", date(2025, 1, 1))
    course(world, dup, uni, "d1", "10", date(2025, 1, 2))
    world.bank.redeem_qualification(kim, certificate)
    theirs = world.bank.redeem_qualification(dup, certificate)
    world.bank.merge_learners(kim, dup, "same person", "officer-1")
    account = world.bank.account(kim)
    standing = [r for r in account.redemptions.values() if r.status is AwardStatus.STANDING]
    assert len(standing) == 1
    assert account.award(theirs).status is AwardStatus.UNDER_REVIEW
    assert not world.bank.assess(kim, diploma).met  # 10 again + 10 reserved: not 20
    world.bank.review_award(kim, theirs, "RESCIND", "awarded twice", "officer-2")
    assert world.bank.assess(kim, diploma).met  # the released 10 count fresh
