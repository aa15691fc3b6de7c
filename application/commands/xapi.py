"""Signed xAPI statements deposited as non-formal outcomes (``application.xapi``, docs/xapi.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application import xapi
from application.commands.accounts import AccountCommands
from application.commands.intake import Deposited, LineResult
from domain.errors import DomainError, DuplicateCredential, Forbidden, IdentityMismatch
from domain.records import DepositedOutcome


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
        outcome, evidence, identity = self._statement_outcome(
            learner_id, statement_json, by_institution
        )
        return self.deposit(learner_id, outcome, evidence, actor=actor, identity=identity)

    def deposit_statement_line(
        self,
        learner_id: UUID,
        statement_json: str | dict[str, Any],
        actor: str | None,
        by_institution: UUID,
    ) -> LineResult:
        """A statement line of an upload (POST /intake): answered as ``deposit_statement``
        answers, except that a statement this account already holds is held, as a credential
        line is: the upload sent again, or a worker killed between depositing the line and
        recording its answer, changes nothing and refuses nothing."""
        try:
            outcome, evidence, identity = self._statement_outcome(
                learner_id, statement_json, by_institution
            )
        except DomainError as exc:
            return exc
        try:
            deposited = self.deposit(learner_id, outcome, evidence, actor=actor, identity=identity)
        except DuplicateCredential as exc:
            held = self._held_outcome(learner_id, outcome.issuer_id, outcome.credential_id)
            return exc if held is None else Deposited(held, new=False)
        except DomainError as exc:
            return exc
        return Deposited(deposited, new=True)

    def _statement_outcome(
        self,
        learner_id: UUID,
        statement_json: str | dict[str, Any],
        by_institution: UUID | None,
    ) -> tuple[DepositedOutcome, bytes, IdentityMismatch | None]:
        """The verified statement as an outcome, its evidence and the identity finding."""
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
        return outcome, submission.evidence(), identity
