"""An outcome's credential status, as its issuer publishes it (a status list), kept watched.

A credential that states a ``credentialStatus`` is watched from its deposit on: the status
entries are recorded (``StatusWatched``) so that the bank can read the issuer's list again
later, and an issuer revoking the credential in its list revokes the outcome. When the list
could not be read at the deposit, the outcome enters with its status *unknown*: deposited, but
never recognised (nor, therefore, converted or counted) until the list is read and says the
credential stands (``StatusEstablished``). A status is never taken as established by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event

from domain.awards import Awarding
from domain.errors import InvalidInput
from domain.values import OutcomeStatus, parse_text

if TYPE_CHECKING:
    from domain.records import Outcome

MAX_ENTRIES = 4  # a credential states one status per purpose; more is not a credential's


class StatusWatching(Awarding):
    """(No class-level annotations: see ``Superseding``.)"""

    if TYPE_CHECKING:
        outcomes: dict[str, Outcome]

        def outcome(self, outcome_id: UUID) -> Outcome: ...

    def watch_status(
        self, outcome_id: UUID, entries: list[dict[str, Any]], unknown: str | None
    ) -> None:
        """Records the outcome's status entries (as the credential states them, normalised);
        ``unknown``: why its status could not be established at the deposit."""
        if self.outcome(outcome_id).status is not OutcomeStatus.DEPOSITED:
            # Watched from its deposit: a status unknown after a decision would not undo it.
            raise InvalidInput("only a deposited outcome's status is watched", ("outcomeId",))
        if not entries or len(entries) > MAX_ENTRIES:
            raise InvalidInput("a credential states one to four status entries", ("credential",))
        self._status_watched(
            outcome_id=outcome_id,
            entries=[dict(e) for e in entries],
            unknown=None if unknown is None else parse_text(unknown, "reason"),
        )

    @event("StatusWatched")
    def _status_watched(
        self, outcome_id: UUID, entries: list[dict[str, Any]], unknown: str | None
    ) -> None:
        self.outcomes[str(outcome_id)].status_unknown = unknown

    def establish_status(self, outcome_id: UUID, reason: object) -> bool:
        """The issuer's list was read and the credential stands: its outcome may be recognised
        from now on. False: nothing to do (its status was not unknown, or it was revoked)."""
        outcome = self.outcome(outcome_id)
        if outcome.status_unknown is None or outcome.status is OutcomeStatus.REVOKED:
            return False
        self._status_established(outcome_id=outcome_id, reason=parse_text(reason, "reason"))
        return True

    @event("StatusEstablished")
    def _status_established(self, outcome_id: UUID, reason: str) -> None:
        self.outcomes[str(outcome_id)].status_unknown = None
