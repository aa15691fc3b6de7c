"""The full life of an account, on both databases, checked again from a freshly built bank.

A learner studies toward a Korean-style bachelor (140 credits, at least 60 major and 30 general,
at most 42 counted a year): university courses recognised by framework rules, junior-college
courses converted under an agreement rule (ratio 0.8, capped at 12 credits per learner), a MOOC
and enterprise training recognised by an officer, one outcome rejected, the qualification
redeemed, then a converted course revoked by its issuer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application.bank import CreditBank
from application.settings import Settings
from domain.credit_account import CreditAccount
from domain.errors import (
    AlreadyRevoked,
    Forbidden,
    IdentityNotVerified,
    InvalidInput,
    RequirementsNotMet,
    RuleNotApplicable,
)
from domain.qualification import CategoryMinimum, Requirements
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import (
    AwardDecision,
    AwardStatus,
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    OutcomeStatus,
    RuleModel,
)
from tests.builders import SINCE, Issuer, deposit, outcome, register_issuer

D = Decimal
MAJOR, GENERAL = "HK-MAJOR", "HK-GEN"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Academic years as calendar years (terms from January and July), so the story's yearly
    cap reads by the year each course was completed in."""
    return settings.model_copy(update={"term_starts": "1,7"})


def test_full_life_cycle(bank: CreditBank, reopen: Callable[[], CreditBank]) -> None:
    # -- institutions, rules, qualification -------------------------------------------------
    uni = register_issuer(
        bank, "Hankuk University", issuer_uri="https://hankuk.example.ac.kr/issuer"
    )
    college = register_issuer(bank, "Seoul Junior College", InstitutionKind.JUNIOR_COLLEGE)
    mooc = register_issuer(bank, "K-MOOC", InstitutionKind.MOOC_PLATFORM)
    corp = register_issuer(bank, "Hanbit Corp", InstitutionKind.ENTERPRISE)

    # The standards the framework rules cite come first: a rule measures against them.
    major_standard = bank.define_standard(
        MAJOR, "Hankuk major block (a semester)", 6, D("18"), (OutcomeKind.ACADEMIC_COURSE,)
    )
    bank.define_standard(
        GENERAL, "Hankuk general education", 6, D("9"), (OutcomeKind.ACADEMIC_COURSE,)
    )
    major_rule = bank.create_recognition_rule(
        "Hankuk major courses",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            valid_from=SINCE,
            criteria=OutcomeCriteria(institution_id=uni.id, kind=OutcomeKind.ACADEMIC_COURSE),
            level=6,
            category="major",
        ),
    )
    general_terms = RecognitionTerms(
        valid_from=SINCE,
        criteria=OutcomeCriteria(institution_id=uni.id, kind=OutcomeKind.NON_DEGREE_COURSE),
        level=6,
        category="general",
    )
    general_rule = bank.create_recognition_rule(
        "Hankuk general education", RuleModel.FRAMEWORK, general_terms
    )
    college_rule = bank.create_recognition_rule(
        "Seoul JC courses",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(institution_id=college.id, kind=OutcomeKind.ACADEMIC_COURSE),
            level=5,
            category="major",
            valid_from=date(2020, 1, 1),
            valid_until=date(2030, 12, 31),
        ),
    )
    transfer = bank.create_conversion_rule(
        "Seoul JC -> Hankuk transfer agreement",
        RuleModel.AGREEMENT,
        ConversionTerms(
            criteria=OutcomeCriteria(institution_id=college.id),
            target_institution_id=uni.id,
            target_code="HK-TRANSFER",
            target_category="major",
            ratio=D("0.8"),
            max_credits_per_learner=D("12"),
        ),
        proposed_by="hankuk-registrar",
        proposer_institution=uni.id,
        justification="the college's courses map to HK-TRANSFER by the 2024 syllabus review",
    )
    # Proposed by the university into its own courses: the college accepts, an officer
    # approves; until then it converts nothing.
    assert bank.conversion_rule(transfer).awaiting() is not None
    bank.accept_conversion_rule(transfer, college.id, "sjc-registrar")
    with pytest.raises(Forbidden):
        bank.approve_conversion_rule(transfer, "hankuk-registrar")  # not its own proposer
    bank.approve_conversion_rule(transfer, "officer-park")
    assert bank.conversion_rule(transfer).awaiting() is None
    bachelor = bank.create_qualification(
        "Bachelor of Business Administration",
        6,
        uni.id,
        Requirements(
            total_credits=D("140"),
            minimum_by_category=(
                CategoryMinimum(category="major", credits=D("60")),
                CategoryMinimum(category="general", credits=D("30")),
            ),
            max_credits_per_year=D("42"),
        ),
    )

    # -- a learner, not yet verified: deposits wait ------------------------------------------
    kim = bank.register_learner("Kim Minjun", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    other = bank.register_learner("Lee Seoyeon", "PASSPORT", "M12345678", date(1995, 5, 5))

    def dep(issuer: Issuer, cid: str, credits: str, on: date, **kw: Any) -> UUID:
        return deposit(bank, kim, outcome(issuer, cid, credits=credits, completed_on=on, **kw))

    def general(year: str) -> dict[str, Any]:
        # Each year's block is its own course (the same course would count once).
        return {"kind": OutcomeKind.NON_DEGREE_COURSE, "standard_code": f"HK-GEN-{year}"}

    maj22 = dep(uni, "hk-2022-maj", "18", date(2022, 6, 30), standard_code="HK-MAJ-2022")
    mooc22 = dep(mooc, "kmooc-2022", "12", date(2022, 8, 31), kind=OutcomeKind.MOOC)
    gen22 = dep(uni, "hk-2022-gen", "9", date(2022, 12, 15), **general("2022"))
    account = bank.account(kim)
    assert {o.status for o in account.outcomes.values()} == {OutcomeStatus.DEPOSITED}
    assert account.balance().total == 0
    with pytest.raises(IdentityNotVerified) as not_verified:
        bank.recognize_outcome(kim, mooc22, "officer-park", D("12"), 5, "elective")
    assert not_verified.value.code == "IDENTITY_NOT_VERIFIED"

    # -- identity verified: the rules apply to what is waiting -------------------------------
    bank.verify_learner_identity(kim, IdentityVerification.DOCUMENT_CHECKED, "officer-park")
    account = bank.account(kim)
    assert account.outcome(maj22).status is OutcomeStatus.RECOGNIZED
    assert (account.outcome(maj22).rule_id, account.outcome(maj22).rule_version) == (
        major_rule,
        1,
    )
    assert account.outcome(gen22).category == "general"
    assert account.outcome(mooc22).status is OutcomeStatus.DEPOSITED  # no rule decides a MOOC
    bank.recognize_outcome(kim, mooc22, "officer-park", level=5, category="elective")

    # -- later deposits are recognised on arrival --------------------------------------------
    dep(uni, "hk-2023-maj", "18", date(2023, 6, 30), standard_code="HK-MAJ-2023")
    gen23 = dep(uni, "hk-2023-gen", "9", date(2023, 12, 15), **general("2023"))
    jc_a = dep(college, "sjc-a", "10", date(2023, 2, 28))
    jc_b = dep(college, "sjc-b", "10", date(2023, 7, 15))
    assert bank.account(kim).outcome(jc_a).recognized_level == 5
    assert bank.account(kim).outcome(jc_a).rule_id == college_rule
    assert bank.account(other).balance().total == 0  # another learner's account is untouched

    # Conversion under the agreement: 20 x 0.8 = 16, capped at 12 for this learner: it takes
    # only the 15 source credits it converts (A's 10, 5 of B's) and B keeps 5.
    conversion = bank.convert_credits(kim, [jc_a, jc_b], transfer, actor="hankuk-registrar")
    assert bank.account(kim).outcome(jc_b).available_credits == D("5")
    jc_c = dep(college, "sjc-c", "4", date(2024, 1, 31))
    with pytest.raises(RuleNotApplicable) as capped:
        bank.convert_credits(kim, [jc_c], transfer)
    assert capped.value.code == "RULE_NOT_APPLICABLE"

    dep(uni, "hk-2024-maj", "12", date(2024, 6, 30), standard_code="HK-MAJ-2024")
    dep(uni, "hk-2024-gen", "3", date(2024, 12, 15), **general("2024"))
    knitting = dep(mooc, "kmooc-knit", "5", date(2024, 3, 1), kind=OutcomeKind.MOOC)
    bank.reject_outcome(kim, knitting, "not at degree level", "officer-park")

    # A new version of the general-education rule, for the learning completed from 2025: that
    # learning cites version 2, what was completed before keeps version 1.
    general_v2 = bank.amend_recognition_rule(
        general_rule,
        RecognitionTerms(
            criteria=general_terms.criteria,
            level=6,
            category="general",
            valid_from=date(2020, 1, 1),
        ),
        effective_from=date(2025, 1, 1),
    )
    assert general_v2 == 2
    dep(uni, "hk-2025-maj", "18", date(2025, 6, 30), standard_code="HK-MAJ-2025")
    gen25 = dep(uni, "hk-2025-gen", "6", date(2025, 12, 15), **general("2025"))
    training = dep(
        corp, "hanbit-2025", "24", date(2025, 9, 30), kind=OutcomeKind.ENTERPRISE_TRAINING
    )
    # 21 credits is above the bank's threshold of 20: a justification, and a second officer.
    with pytest.raises(InvalidInput) as unjustified:
        bank.recognize_outcome(kim, training, "officer-park", D("21"), 5, "elective")
    assert unjustified.value.field == ("justification",)
    waiting = bank.recognize_outcome(
        kim,
        training,
        "officer-park",
        D("21"),
        5,
        "elective",
        justification="24 contact days, assessed against the Hanbit syllabus",
    )
    assert waiting is not None
    assert bank.account(kim).outcome(training).status is OutcomeStatus.DEPOSITED
    with pytest.raises(Forbidden):
        bank.approve_decision(kim, waiting, "officer-park")
    bank.approve_decision(kim, waiting, "officer-lee")

    # -- not enough yet: general education is 3 credits short ---------------------------------
    # Whatever the allocation, only 27 general credits exist; the exact assessment says exactly
    # that (the greedy one said 25, having filled a year's cap with other credits first), and
    # the total is there. A yearly cap keeps some credits of a full year from counting.
    assessment = bank.assess(kim, bachelor)
    assert not assessment.met
    assert assessment.credits_counted == D("140")
    assert assessment.unmet == ("category general: 27.00 of 30.00 credits (3.00 missing)",)
    assert any(n.startswith("yearly cap of 42.00 in ") for n in assessment.notes)
    with pytest.raises(RequirementsNotMet) as not_met:
        bank.redeem_qualification(kim, bachelor)
    assert not_met.value.code == "REQUIREMENTS_NOT_MET"
    assert len(not_met.value.unmet) == 1

    gen26 = dep(uni, "hk-2026-gen", "5", date(2026, 2, 20), **general("2026"))
    dep(uni, "hk-2026-maj", "3", date(2026, 2, 25), standard_code="HK-MAJ-2026")
    redemption = bank.redeem_qualification(kim, bachelor, actor="learner")
    # Exactly the 140 credits it counts are spent; what it did not need stays available.
    awarded = bank.account(kim)
    held_before = awarded.balance().total
    assert awarded.redemptions[str(redemption)].credits_counted == D("140")
    assert awarded.balance().redeemed == D("140")
    assert awarded.balance().available == held_before - D("140")
    parts = {str(p.source_id): str(p.id) for p in awarded.conversions[str(conversion)].parts}
    counted = dict(awarded.redemptions[str(redemption)].allocations)
    assert parts[str(jc_a)] in counted  # A's converted credits count (the oldest of their year)

    # -- the issuer revokes a converted course: the award is reviewed ----------------------
    with pytest.raises(Forbidden):
        bank.revoke_outcome(kim, jc_a, "not ours to revoke", "hankuk-registrar", uni.id)
    flagged = bank.revoke_outcome(kim, jc_a, "issued in error", "sjc-registrar", college.id)
    assert flagged == (redemption,)
    with pytest.raises(AlreadyRevoked) as again:
        bank.revoke_outcome(kim, jc_a, "twice", "sjc-registrar", college.id)
    assert again.value.code == "ALREADY_REVOKED"
    under_review = bank.account(kim).redemptions[str(redemption)]
    assert under_review.status is AwardStatus.UNDER_REVIEW
    assert under_review.flags == [f"outcome {jc_a} revoked: issued in error"]
    # B, the other source, comes back from the cancelled conversion but stays reserved for the
    # award under review: it cannot be converted or spent again meanwhile.
    # (what it counted of B's own credits, and of the 5 credits of B the conversion took, the
    # share it counted of B's 4-credit part)
    part_b = counted.get(parts[str(jc_b)], D(0))
    reserved = counted.get(str(jc_b), D(0)) + (D(5) * part_b / D(4)).quantize(D("0.01"))
    assert under_review.allocations.get(str(jc_b), D(0)) == reserved
    with pytest.raises(RuleNotApplicable):
        bank.convert_credits(kim, [jc_b], transfer)
    # An officer re-runs the assessment on what remains: still met, re-allocated.
    bank.review_award(kim, redemption, "REAFFIRM", "met without the college course", "officer-lee")

    # -- everything again, from the store only ----------------------------------------------
    fresh = reopen()
    assert fresh is not bank
    acc = fresh.account(kim)
    assert isinstance(acc, CreditAccount)
    status = {oid: acc.outcome(oid).status for oid in (maj22, mooc22, gen22, jc_a)}
    assert status == {
        maj22: OutcomeStatus.REDEEMED,
        mooc22: OutcomeStatus.REDEEMED,
        gen22: OutcomeStatus.REDEEMED,
        jc_a: OutcomeStatus.REVOKED,
    }
    assert acc.outcome(knitting).status is OutcomeStatus.REJECTED
    assert acc.outcome(knitting).rejection_reason == "not at degree level"
    assert acc.outcome(mooc22).recognized_by == "officer-park"
    assert acc.outcome(mooc22).rule_id is None
    assert acc.outcome(training).recognized_credits == D("21")
    assert acc.outcome(training).credits_claimed == D("24")
    assert acc.outcome(training).recognized_by == "officer-park"
    assert acc.outcome(training).approved_by == "officer-lee"
    assert [acc.outcome(g).rule_version for g in (gen22, gen23, gen25, gen26)] == [1, 1, 2, 2]
    assert acc.outcome(jc_a).revoked_reason == "issued in error"

    first = acc.conversions[str(conversion)]
    assert not first.active
    assert first.cancelled_because == jc_a
    assert (first.ratio, first.source_credits, first.credits) == (D("0.80"), D("15.00"), D("12"))
    assert first.rule_id == transfer
    assert first.rule_version == 1
    assert first.source_ids == (jc_a, jc_b)
    assert first.redemption_id is None  # re-allocated: its parts count no more
    assert acc.outcome(jc_b).conversion_id is None
    assert acc.converted_under(transfer) == 0  # the cancelled conversion no longer counts
    assert list(acc.conversions) == [str(conversion)]

    red = acc.redemptions[str(redemption)]
    assert red.qualification_id == bachelor
    assert red.qualification_version == 1
    assert red.status is AwardStatus.STANDING
    assert [(r.decision, r.by) for r in red.reviews] == [(AwardDecision.REAFFIRM, "officer-lee")]
    assert red.credits_counted == D("140")
    assert str(jc_a) in red.flags[0]
    assert not set(parts.values()) & red.allocations.keys()
    assert red.allocations[str(training)] <= D("21")
    per_year: dict[int, Decimal] = {}
    for holding_id, counted in red.allocations.items():
        year = acc.outcomes[holding_id].completed_on.year
        per_year[year] = per_year.get(year, D(0)) + counted
    assert max(per_year.values()) <= D("42")
    # The revised allocation meets every requirement, exactly.
    by_category: dict[str, Decimal] = {}
    for holding_id, counted in red.allocations.items():
        category = acc.outcomes[holding_id].category or ""
        by_category[category] = by_category.get(category, D(0)) + counted
    assert by_category["major"] >= D("60")
    assert by_category["general"] >= D("30")
    assert sum(red.allocations.values()) == D("140")

    # Balance: the cancelled conversion (12) left, all of B (10) is back, A gone; the award
    # spends exactly its 140.
    balance = acc.balance()
    assert balance.total == D("148")
    assert balance.redeemed == D("140")
    assert balance.available == D("8")
    assert balance.by_category == {"major": D("83"), "general": D("32"), "elective": D("33")}
    assert balance.by_level == {6: D("101"), 5: D("47")}
    assert balance.total == sum(h.credits for h in acc.holdings())

    # Identity, rules and the catalogue, from the store too.
    learner = fresh.learner(kim)
    assert learner.verification is IdentityVerification.DOCUMENT_CHECKED
    assert learner.verified_by == "officer-park"
    assert not fresh.learner(other).identity_verified
    assert fresh.recognition_rule(general_rule).rule_version == 2
    assert fresh.recognition_rule(general_rule, version=1).terms == general_terms
    assert {r.id for r in fresh.recognition_rules()} == {major_rule, general_rule, college_rule}
    assert [c.id for c in fresh.conversion_rules()] == [transfer]
    assert [q.id for q in fresh.qualifications()] == [bachelor]
    listed = fresh.standards()
    assert [(s.code, s.level) for s in listed] == [(MAJOR, 6), (GENERAL, 6)]
    assert listed[0].id == major_standard
    assert {i.id for i in fresh.institutions()} == {uni.id, college.id, mooc.id, corp.id}
    by_uri = fresh.institution_by_issuer("https://hankuk.example.ac.kr/issuer")
    assert by_uri is not None
    assert by_uri.id == uni.id
    assert fresh.learner_ids() == [kim, other]
    assert fresh.assess(kim, bachelor).met is False  # its holdings are spent now
