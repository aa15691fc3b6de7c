"""Deposits in bulk (the intake path): one learner's credentials from one institution decided and
saved in one transaction, each line with the answer ``depositCredential`` would give it.

The checks are the single deposit's own (``AccountCommands._prepare_credential`` before the
transaction, ``_deposit_into`` inside it), so a line's code cannot drift from the mutation's.
Two things differ, both for the batch's sake: a refused line never touches the account (the
identity finding, the one refusal told after the account's own checks, goes through the single
path), and a credential this institution already deposited into this account counts as held,
not refused, so sending the same upload again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from application.base import Pending
from application.commands.accounts import AccountCommands, PreparedDeposit
from domain.credit_account import CreditAccount
from domain.errors import DomainError, DuplicateCredential, InvalidInput
from domain.indexes import CredentialIndex

MAX_BATCH = 1000  # one account's lines in one transaction: bounded, like a request


@dataclass(frozen=True)
class Deposited:
    outcome_id: UUID
    new: bool  # False: the account already held this credential (a repeated line)


LineResult = Deposited | DomainError


class _Tangled(Exception):
    """A refusal came after the account had changed: the batch is decided line by line."""


class IntakeCommands(AccountCommands):
    def deposit_batch(
        self,
        learner_id: UUID,
        credentials: Sequence[str],
        actor: str | None,
        by_institution: UUID,
    ) -> list[LineResult]:
        """Deposits an institution's credentials into one learner's account; one result a
        credential, in order. One refused credential never fails the others."""
        if not credentials or len(credentials) > MAX_BATCH:
            raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} credentials", ("credentials",))
        results: list[LineResult | None] = [None] * len(credentials)
        prepared: dict[int, PreparedDeposit] = {}
        try:
            self.identity_guard.check(by_institution, learner_id)  # before the costly part
        except DomainError as exc:
            return [exc] * len(credentials)
        with self._read_once():  # the issuer and the learner, read once for every line
            for n, credential in enumerate(credentials):
                try:
                    prepared[n] = self._prepare_credential(learner_id, credential, by_institution)
                except DomainError as exc:
                    results[n] = exc
        together = {n: p for n, p in prepared.items() if p.identity is None}
        alone = {n: p for n, p in prepared.items() if p.identity is not None}
        if together:
            try:
                with self.identity_guard.guarding(by_institution, learner_id):
                    decided = self._command(lambda: self._decided(learner_id, together, actor))
                for n, result in decided.items():
                    results[n] = result
            except _Tangled:
                alone.update(together)
            except DomainError as exc:  # the learner or the transaction: every line alike
                for n in together:
                    results[n] = exc
        for n in sorted(alone):
            results[n] = self._deposit_alone(learner_id, alone[n], actor)
        return [r for r in results if r is not None]

    def _decided(
        self, learner_id: UUID, batch: dict[int, PreparedDeposit], actor: str | None
    ) -> tuple[dict[int, LineResult], Pending]:
        with self._read_once():  # afresh on each attempt: a lost race reads everything again
            return self._decide_batch(learner_id, batch, actor)

    def _decide_batch(
        self, learner_id: UUID, batch: dict[int, PreparedDeposit], actor: str | None
    ) -> tuple[dict[int, LineResult], Pending]:
        learner = self.learner(learner_id)
        self._check_active(learner)
        account = self.account(learner_id)
        indexes: dict[UUID, CredentialIndex] = {}
        results: dict[int, LineResult] = {}
        for n, prepared in batch.items():
            before = len(account.pending_events)
            try:
                outcome_id, _ = self._deposit_into(learner, account, prepared, actor, indexes)
                results[n] = Deposited(outcome_id, new=True)
            except DomainError as exc:
                if len(account.pending_events) != before:
                    raise _Tangled from exc
                results[n] = self._held(account, prepared, indexes) or exc
        return results, (account, *indexes.values())

    def _deposit_alone(
        self, learner_id: UUID, prepared: PreparedDeposit, actor: str | None
    ) -> LineResult:
        try:
            return Deposited(self._deposit_prepared(learner_id, prepared, actor), new=True)
        except DuplicateCredential as exc:
            try:
                account = self.account(learner_id)
            except DomainError:
                return exc
            return self._held(account, prepared, {}) or exc
        except DomainError as exc:
            return exc

    def _held(
        self,
        account: CreditAccount,
        prepared: PreparedDeposit,
        indexes: dict[UUID, CredentialIndex],
    ) -> Deposited | None:
        """For a credential refused as a duplicate: the outcome this account holds under the
        same issuer's same credential id (the line repeats a deposit), else None (it is in
        another account)."""
        outcome = prepared.outcome
        index_id = CredentialIndex.create_id(outcome.issuer_id, outcome.credential_id)
        index = indexes.get(index_id) or self._find(CredentialIndex, index_id)
        if index is None or self.credential_account(index).id != account.id:
            return None
        return Deposited(index.outcome_id, new=False)
