"""Signed xAPI statements deposited as non-formal outcomes (``application.xapi``, docs/xapi.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application import xapi
from application.commands.accounts import AccountCommands
from domain.errors import Forbidden


class XapiCommands(AccountCommands):
    def verify_statement(self, statement_json: str | dict[str, Any]) -> xapi.VerifiedStatement:
        """Verifies a signed statement against the registered platforms' keys (no deposit)."""
        submission = xapi.parse_submission(statement_json)
        return xapi.verify(
            submission, self.institution_by_issuer, self.now(), self.standards_material
        )

    def deposit_statement(
        self,
        learner_id: UUID,
        statement_json: str | dict[str, Any],
        actor: str | None = None,
        by_institution: UUID | None = None,
    ) -> UUID:
        """Verifies ``{"statement": {...}, "signature": "<compact JWS>"}`` from a registered
        learning platform, checks its actor is this learner, and deposits it as a non-formal
        outcome whose credits the framework gives for its hours (``deposit`` does that, and
        recognises it by rule as any outcome). Returns the outcome id.

        As with credentials, whether it names the learner is worked out at the same cost either
        way and told last (``deposit``), so a refusal says nothing about who the learner is."""
        if by_institution is not None:  # before the costly verification
            self.identity_guard.check(by_institution, learner_id)
        submission = xapi.parse_submission(statement_json)
        verified = xapi.verify(
            submission, self.institution_by_issuer, self.now(), self.standards_material
        )
        if by_institution is not None and verified.issuer.id != by_institution:
            raise Forbidden("an institution deposits only the statements it signed")
        numbers = xapi.identity_numbers(verified.statement)
        outcome = xapi.to_outcome(verified)
        identity = self._numbers_finding(learner_id, numbers)
        return self.deposit(
            learner_id, outcome, submission.evidence(), actor=actor, identity=identity
        )
