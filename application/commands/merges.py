"""Merging two accounts of one person (an officer's decision, audited): the survivor takes every
record of the duplicate, each event kept where it was written; the duplicate's identity document
finds the survivor; the duplicate serves audits only."""

from __future__ import annotations

from uuid import UUID

from application.base import Pending
from application.commands.accounts import AccountCommands
from domain.errors import InvalidInput
from domain.values import parse_text


class MergeCommands(AccountCommands):
    def merge_learners(self, survivor_id: UUID, duplicate_id: UUID, reason: str, by: str) -> UUID:
        """Merges ``duplicate_id``'s account into ``survivor_id``'s (the same person, two
        accounts); returns the survivor."""
        why = parse_text(reason, "reason")
        officer = parse_text(by, "officer", max_length=200)

        def decide() -> tuple[UUID, Pending]:
            if survivor_id == duplicate_id:
                raise InvalidInput("an account is not merged into itself", ("duplicateId",))
            survivor, duplicate = self.learner(survivor_id), self.learner(duplicate_id)
            at = self.now()
            duplicate.merge_into(survivor_id, why, officer, at)
            survivor.absorb(duplicate_id, why, officer, at)
            kept, gone = self.account(survivor_id), self.account(duplicate_id)
            kept.take_over(gone, actor=officer)
            gone.hand_over(survivor_id)
            return survivor_id, (survivor, duplicate, kept, gone)

        return self._command(decide)
