"""One person, one account: an officer merges two accounts of the same person (issue 11,
finding 5). Every event stays where it was written; the survivor takes every record."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.errors import DuplicateIdentity
from domain.indexes import CredentialIndex
from domain.learner import LearnerMerged
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import OutcomeStatus, RuleModel
from tests.builders import SINCE, World


def courses_rule(world: World, issuer_id: object) -> None:
    world.bank.create_recognition_rule(
        "courses",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(institution_id=issuer_id),  # type: ignore[arg-type]
            level=6,
            category="major",
            valid_from=SINCE,
        ),
    )


def _credential_of(world: World, learner: object, outcome_id: object) -> str:
    return world.bank.account(learner.id).outcome(outcome_id).credential_id  # type: ignore[attr-defined, arg-type]


def test_the_survivor_takes_every_record_and_the_duplicate_serves_audits(world: World) -> None:
    uni = world.issuer()
    courses_rule(world, uni.id)
    kim, again = world.learner(), world.learner()
    kept = world.bank.deposit_credential(kim.id, world.token(uni, kim, credits=3))
    moved = world.bank.deposit_credential(again.id, world.token(uni, again, credits=4))
    before = world.bank.account(again.id).version

    assert world.bank.merge_learners(kim.id, again.id, "same person", "officer-1") == kim.id
    account = world.bank.account(kim.id)
    assert {str(kept), str(moved)} <= set(account.outcomes)
    assert account.outcome(moved).status is OutcomeStatus.RECOGNIZED
    assert account.balance().total == Decimal(7)
    gone = world.bank.account(again.id)
    assert (gone.outcomes, gone.merged_into) == ({}, kim.id)
    assert gone.balance().total == 0
    # Its history is whole: the account at its last version before the merge still shows it.
    assert str(moved) in world.bank.account(again.id, before).outcomes
    assert world.bank.learner(again.id).merged_into == kim.id
    assert world.bank.learner(kim.id).absorbed == [again.id]
    # The duplicate takes nothing new, and its document finds the survivor.
    with pytest.raises(LearnerMerged):
        world.bank.deposit_credential(again.id, world.token(uni, again))
    with pytest.raises(LearnerMerged):
        world.bank.merge_learners(again.id, kim.id, "back", "officer-1")
    assert world.bank.find_learner(again.document_number) == kim.id
    with pytest.raises(DuplicateIdentity):
        world.bank.register_learner("Again", "RESIDENT_ID", again.document_number, date(1990, 3, 7))


def test_after_a_merge_the_issuer_still_revokes_and_updates(world: World) -> None:
    uni = world.issuer()
    courses_rule(world, uni.id)
    kim, again = world.learner(), world.learner()
    signed = world.clock.now - timedelta(days=30)
    first = world.bank.deposit_credential(
        again.id, world.token(uni, again, credential_id="urn:m:1", valid_from=signed)
    )
    revoked = world.bank.deposit_credential(again.id, world.token(uni, again))
    world.bank.merge_learners(kim.id, again.id, "same person", "officer-1")
    # Revocation naming the account it was deposited into reaches the survivor's.
    world.bank.revoke_outcome(again.id, revoked, "issued in error", "registrar", uni.id)
    assert world.bank.account(kim.id).outcome(revoked).status is OutcomeStatus.REVOKED
    # An update of a credential of the merged account goes to the survivor, and supersedes.
    update = world.bank.deposit_credential(
        kim.id,
        world.token(uni, kim, credential_id="urn:m:1", valid_from=signed + timedelta(days=1)),
    )
    account = world.bank.account(kim.id)
    assert account.outcome(first).superseded_by == update
    index = world.bank.repository.get(CredentialIndex.create_id(uni.id, "urn:m:1"))
    assert (index.outcome_id, world.bank.credential_account(index).id) == (update, account.id)
    # The index of a credential left in the merged account is followed to the survivor.
    moved = world.bank.repository.get(
        CredentialIndex.create_id(uni.id, _credential_of(world, kim, revoked))
    )
    assert world.bank.credential_account(moved).id == account.id


def test_the_same_learning_in_both_accounts_counts_once(world: World) -> None:
    uni = world.issuer()
    courses_rule(world, uni.id)
    kim, again = world.learner(), world.learner()
    early = world.bank.deposit_credential(
        kim.id, world.token(uni, kim, human_code="ECON-1", completed_on=date(2024, 6, 30))
    )
    late = world.bank.deposit_credential(
        again.id, world.token(uni, again, human_code="ECON-1", completed_on=date(2025, 6, 30))
    )
    world.bank.merge_learners(kim.id, again.id, "same person", "officer-1")
    account = world.bank.account(kim.id)
    assert account.outcome(early).superseded_by == late  # the later attempt counts
    assert account.balance().total == Decimal(3)


def test_erasing_the_survivor_erases_the_accounts_merged_into_it(world: World) -> None:
    kim, again = world.learner(), world.learner()
    world.bank.merge_learners(kim.id, again.id, "same person", "officer-1")
    world.bank.erase_learner(kim.id, "dpo")
    assert world.bank.learner(again.id).erased
    assert world.bank.personal_data(again.id) is None
    assert world.bank.find_learner(again.document_number) is None
    assert world.bank.find_learner(kim.document_number) is None
    world.bank.register_learner("Back", "RESIDENT_ID", again.document_number, date(1990, 3, 7))


def test_a_credential_naming_the_merged_accounts_document_goes_to_the_survivor(
    world: World,
) -> None:
    uni = world.issuer()
    kim, again = world.learner(), world.learner()
    world.bank.merge_learners(kim.id, again.id, "same person", "officer-1")
    outcome = world.bank.deposit_credential(kim.id, world.token(uni, again))
    assert str(outcome) in world.bank.account(kim.id).outcomes


def test_a_merged_attempt_that_only_counts_gives_way_to_one_converted(world: World) -> None:
    uni, target = world.issuer(), world.issuer("Target College")
    courses_rule(world, uni.id)
    conversion = world.transfer(uni, target)
    kim, again = world.learner(), world.learner()
    converted = world.bank.deposit_credential(
        again.id, world.token(uni, again, human_code="ECON-1", completed_on=date(2024, 6, 30))
    )
    world.bank.convert_credits(again.id, [converted], conversion)
    later = world.bank.deposit_credential(
        kim.id, world.token(uni, kim, human_code="ECON-1", completed_on=date(2025, 6, 30))
    )
    world.bank.merge_learners(kim.id, again.id, "same person", "officer-1")
    account = world.bank.account(kim.id)
    assert account.outcome(later).superseded_by == converted
    assert account.balance().total == Decimal(3)  # the conversion, once
