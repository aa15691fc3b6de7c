"""Recognition integrity (docs/domain.md): what recognition by rule refuses to be fooled by.

Each test names the finding of issue 11 it pins down; they run on the in-memory bank (the
application's decisions), and tests/integration/test_recognition_integrity.py repeats what
depends on storage on both engines.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, OutcomeStatus, RuleModel
from tests.builders import World, deposit, outcome


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
