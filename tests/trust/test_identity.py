"""Identity: credits are recognised only for a verified learner, and one identity document opens
one learner. Both engines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import DomainError
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, OutcomeKind, OutcomeStatus, RuleModel
from tests.builders import SINCE, World


def _learner_keys(world: World) -> int:
    with world.bank.database.transaction(readonly=True) as cur:
        cur.execute("SELECT COUNT(*) FROM learner_keys")
        return int(cur.fetchone()[0])


def test_recognition_of_an_unverified_learner_is_refused(world: World) -> None:
    bank = world.bank
    uni, kim = world.issuer(), world.learner(verified=False)
    rule_id = bank.create_recognition_rule(
        "Fudan courses",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            valid_from=SINCE,
            criteria=OutcomeCriteria(institution_id=uni.id, kind=OutcomeKind.ACADEMIC_COURSE),
            level=6,
            category="major",
        ),
    )
    outcome_id = bank.deposit_credential(kim.id, world.token(uni, kim, credits=5))
    assert bank.account(kim.id).outcome(outcome_id).status is OutcomeStatus.DEPOSITED

    before = world.stored(kim)
    attempts = (
        lambda: bank.recognize_outcome(kim.id, outcome_id, "officer-1"),  # by rule
        lambda: bank.recognize_outcome(
            kim.id, outcome_id, "officer-1", credits=Decimal(5), level=6, category="major"
        ),  # by an officer
    )
    for attempt in attempts:
        with pytest.raises(DomainError) as err:
            attempt()
        assert err.value.code == "IDENTITY_NOT_VERIFIED"
        assert world.stored(kim) == before
    assert bank.apply_recognition_rules(kim.id) == 0
    assert world.stored(kim) == before

    # Once the identity is verified, the rule recognises the waiting outcome.
    bank.verify_learner_identity(kim.id, IdentityVerification.DOCUMENT_CHECKED, "officer-2")
    o = bank.account(kim.id).outcome(outcome_id)
    assert o.status is OutcomeStatus.RECOGNIZED
    assert (o.recognized_credits, o.rule_id, o.rule_version) == (Decimal(5), rule_id, 1)


@pytest.mark.parametrize(
    "again",
    [
        "110105199003077777",
        " 110105199003077777 ",
        "110105-19900307-7777",
        "１１０１０５１９９００３０７７７７７",
    ],
    ids=["same", "spaces", "dashes", "full-width"],
)
def test_one_identity_document_opens_one_learner(world: World, again: str) -> None:
    bank = world.bank
    first = bank.register_learner(
        "Wang Fang", "RESIDENT_ID", "110105199003077777", date(1990, 3, 7)
    )
    position, keys = bank.recorder.max_notification_id(), _learner_keys(world)
    with pytest.raises(DomainError) as err:
        bank.register_learner("Wang Fang (again)", "RESIDENT_ID", again, date(1990, 3, 7))
    assert err.value.code == "DUPLICATE_IDENTITY"
    assert bank.recorder.max_notification_id() == position
    assert _learner_keys(world) == keys  # no key left behind for the refused learner
    assert bank.learner_ids() == [first]


def test_identity_hash_binds_the_deposit_to_the_document(world: World) -> None:
    """Two learners, two documents: each credential enters only the account its hash names."""
    uni = world.issuer()
    kim, lee = world.learner(), world.learner()
    kim_token, lee_token = world.token(uni, kim), world.token(uni, lee)
    world.refused("IDENTITY_MISMATCH", kim, lee_token, others=(lee,))
    world.refused("IDENTITY_MISMATCH", lee, kim_token, others=(kim,))
    world.bank.deposit_credential(kim.id, kim_token)
    world.bank.deposit_credential(lee.id, lee_token)
