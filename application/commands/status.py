"""Incoming credentials' status, established once its issuer's list can be read
(``application.status_watch`` decides when; revocation is ``revoke_outcome``)."""

from __future__ import annotations

from uuid import UUID

from application.base import Pending
from application.commands.accounts import AccountCommands


class StatusCommands(AccountCommands):
    def establish_status(self, learner_id: UUID, outcome_id: UUID, reason: str) -> bool:
        """The outcome's credential stands by its issuer's list: its unknown status is lifted,
        and the rules recognise it as they would have at its deposit. False: nothing to do."""

        def decide() -> tuple[bool, Pending]:
            learner = self.learner(self.survivor_of(learner_id))
            account = self.account(learner.id)
            if not account.establish_status(outcome_id, reason):
                return False, ()
            if learner.identity_verified:
                self._auto_recognize(account, account.outcome(outcome_id))
            return True, (account,)

        return self._command(decide)
