"""Merging two accounts of one person (docs/domain.md, rule 5): the survivor's account takes
every record of the duplicate's, each outcome by an event of its own; the duplicate's account
hands everything over and keeps its history."""

from __future__ import annotations

from copy import deepcopy
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import InvalidInput
from domain.records import Conversion, Outcome, Redemption
from domain.same_learning import Superseding, counting, learning_keys
from domain.values import AwardStatus, OutcomeStatus


class AccountMerging(Superseding):
    """(No class-level annotations: see ``Superseding``.)"""

    if TYPE_CHECKING:
        learner_id: UUID
        merged_into: UUID | None
        absorbed_from: list[UUID]

        def _check_new_id(self, new_id: UUID, field: str) -> None: ...

    def take_over(self, duplicate: AccountMerging, actor: str) -> None:
        """Takes the records of the same person's other account, each outcome by an event of its
        own (its place in this transcript); then the same learning counts once: an attempt that
        only counts as recognised credit gives way to one converted or spent, else to the later
        completed (two converted or spent attempts both stay, for an officer to review)."""
        if duplicate.merged_into is not None or self.merged_into is not None:
            raise InvalidInput("a merged account takes over nothing", ("duplicateId",))
        if getattr(duplicate, "proposals", None):
            raise InvalidInput(
                "decisions wait for a second officer on the duplicate's account: approve or "
                "decline them first",
                ("duplicateId",),
            )
        for o in duplicate.outcomes.values():
            self._check_new_id(o.id, "duplicateId")
            self._outcome_transferred(
                outcome_id=o.id,
                record=deepcopy(o),  # the event keeps the record as it was taken over
                from_learner_id=duplicate.learner_id,
                actor=actor,
            )
        if duplicate.conversions or duplicate.redemptions:
            self._records_transferred(
                from_learner_id=duplicate.learner_id,
                conversions=deepcopy(list(duplicate.conversions.values())),
                redemptions=deepcopy(list(duplicate.redemptions.values())),
                actor=actor,
            )
        for o in list(self.outcomes.values()):
            if o.status is not OutcomeStatus.RECOGNIZED or o.moved_on:
                continue
            same = counting(self.outcomes.values(), learning_keys(o, o.recognized_standard), o.id)
            # What is converted or spent keeps counting; else the later completed attempt does.
            moved_on = [x for x in same if x.status is not OutcomeStatus.RECOGNIZED or x.moved_on]
            later = [x for x in same if x.completed_on >= o.completed_on]
            keeper = (
                moved_on[0] if moved_on else max(later, key=lambda x: x.completed_on, default=None)
            )
            if keeper is not None:
                self._supersede(o, keeper.id, "retake", actor)

    @event("OutcomeTransferred")
    def _outcome_transferred(
        self, outcome_id: UUID, record: Outcome, from_learner_id: UUID, actor: str | None
    ) -> None:
        taken = deepcopy(record)
        whole = taken.recognized_credits
        if taken.conversion_id is not None and not taken.converted_credits and whole is not None:
            # A record transferred before conversions took part of an outcome: wholly taken.
            taken.converted_credits = {str(taken.conversion_id): whole}
        self.outcomes[str(outcome_id)] = taken
        if from_learner_id not in self.absorbed_from:
            self.absorbed_from.append(from_learner_id)

    @event("RecordsTransferred")
    def _records_transferred(
        self,
        from_learner_id: UUID,
        conversions: list[Conversion],
        redemptions: list[Redemption],
        actor: str | None,
    ) -> None:
        self.conversions.update({str(c.id): deepcopy(c) for c in conversions})
        held = {r.qualification_id for r in self.redemptions.values() if r.active}
        for r in map(deepcopy, redemptions):
            if r.flags and not r.reviews and r.status is AwardStatus.STANDING:
                r.status = AwardStatus.UNDER_REVIEW  # flagged before awards had a status
            if r.active and r.qualification_id in held:
                # One person, one award of a qualification: an officer rescinds one of them.
                r.status = AwardStatus.UNDER_REVIEW
                r.flags.append(f"merged: {r.qualification_id} was awarded to both accounts")
            self.redemptions[str(r.id)] = r
        if from_learner_id not in self.absorbed_from:
            self.absorbed_from.append(from_learner_id)
        self._mark_spent()

    def hand_over(self, survivor_id: UUID) -> None:
        """Gives every record to the account of ``survivor_id`` (its history stays here)."""
        if self.merged_into is not None:
            raise InvalidInput("the account was already merged", ("duplicateId",))
        self._handed_over(survivor_learner_id=survivor_id)

    @event("HandedOver")
    def _handed_over(self, survivor_learner_id: UUID) -> None:
        self.outcomes, self.conversions, self.redemptions = {}, {}, {}
        self.merged_into = survivor_learner_id


def _completed(o: Outcome) -> date:
    return o.completed_on
