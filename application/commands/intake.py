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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.base import Pending
from application.commands.accounts import AccountCommands, PreparedDeposit
from application.credentials import VerifiedCredential
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


class _Apart(Exception):
    """A learner's lines cannot be decided with the others': they are decided on their own."""

    def __init__(self, learner_id: UUID) -> None:
        super().__init__(str(learner_id))
        self.learner_id = learner_id


class IntakeCommands(AccountCommands):
    def deposit_groups(
        self,
        groups: dict[UUID, list[str]],
        actor: str | None,
        by_institution: UUID,
        verdicts: Mapping[str, VerifiedCredential | DomainError] | None = None,
    ) -> dict[UUID, list[LineResult]]:
        """Deposits an institution's credentials into several learners' accounts in one
        transaction (a lost race decides them all again on fresh state); each learner's results
        in the order given. A learner refused as a whole (unknown, erased) or a refusal that came
        after an account changed is decided on its own, so no learner fails another.
        ``verdicts``: credentials verified already, by their text (the others are verified
        here)."""
        verdicts = verdicts or {}
        total = sum(len(c) for c in groups.values())
        if not groups or not all(groups.values()) or total > MAX_BATCH:
            raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} credentials", ("credentials",))
        results: dict[UUID, list[LineResult | None]] = {
            lid: [None] * len(credentials) for lid, credentials in groups.items()
        }
        together: dict[UUID, dict[int, PreparedDeposit]] = {}
        alone: list[tuple[UUID, int, PreparedDeposit]] = []
        with self._read_once():  # the issuer, and each learner, read once for every line
            self._open_personal_data(groups)
            for learner_id, credentials in groups.items():
                try:
                    self.identity_guard.check(by_institution, learner_id)  # before the costly part
                except DomainError as exc:
                    results[learner_id] = [exc] * len(credentials)
                    continue
                for n, credential in enumerate(credentials):
                    try:
                        p = self._prepare_credential(
                            learner_id, credential, by_institution, verdicts.get(credential)
                        )
                    except DomainError as exc:
                        results[learner_id][n] = exc
                        continue
                    if p.identity is None:
                        together.setdefault(learner_id, {})[n] = p
                    else:  # told last, after the account's own checks: on its own
                        alone.append((learner_id, n, p))
        while together:
            try:
                with self.identity_guard.guarding(by_institution, next(iter(together))):
                    decided = self._command(lambda: self._decided(together, actor))
            except _Apart as apart:  # decide that learner alone, the others together again
                for n, p in together.pop(apart.learner_id).items():
                    alone.append((apart.learner_id, n, p))
                continue
            except DomainError as exc:  # the transaction itself: every line alike
                decided = {lid: dict.fromkeys(batch, exc) for lid, batch in together.items()}
            for learner_id, answers in decided.items():
                for n, result in answers.items():
                    results[learner_id][n] = result
            new = [r for a in decided.values() for r in a.values() if isinstance(r, Deposited)]
            self.identity_guard.deposited(by_institution, sum(1 for r in new if r.new))
            break
        for learner_id, n, p in sorted(alone, key=lambda item: (str(item[0]), item[1])):
            results[learner_id][n] = self._deposit_alone(learner_id, p, actor)
        return {lid: [r for r in answers if r is not None] for lid, answers in results.items()}

    def _decided(
        self, batches: dict[UUID, dict[int, PreparedDeposit]], actor: str | None
    ) -> tuple[dict[UUID, dict[int, LineResult]], Pending]:
        results: dict[UUID, dict[int, LineResult]] = {}
        accounts: list[Any] = []
        indexes: dict[UUID, CredentialIndex] = {}  # made or moved in this transaction
        with self._read_once():  # afresh on each attempt: a lost race reads everything again
            self._note_absent(
                CredentialIndex.create_id(p.outcome.issuer_id, p.outcome.credential_id)
                for batch in batches.values()
                for p in batch.values()
            )
            for learner_id, batch in batches.items():
                try:
                    results[learner_id], account = self._decide_batch(
                        learner_id, batch, actor, indexes
                    )
                except (_Tangled, DomainError) as exc:
                    raise _Apart(learner_id) from exc
                accounts.append(account)
        return results, (*accounts, *indexes.values())

    def _decide_batch(
        self,
        learner_id: UUID,
        batch: dict[int, PreparedDeposit],
        actor: str | None,
        indexes: dict[UUID, CredentialIndex],
    ) -> tuple[dict[int, LineResult], CreditAccount]:
        learner = self.learner(learner_id)
        self._check_active(learner)
        account = self.account(learner_id)
        results: dict[int, LineResult] = {}
        for n, prepared in batch.items():
            before = len(account.pending_events)
            try:
                outcome_id, _ = self._deposit_into(learner, account, prepared, actor, indexes)
                results[n] = Deposited(outcome_id, new=True)
            except DomainError as exc:
                if len(account.pending_events) != before:
                    raise _Tangled from exc
                results[n] = self._held(learner_id, prepared, indexes) or exc
        return results, account

    def _deposit_alone(
        self, learner_id: UUID, prepared: PreparedDeposit, actor: str | None
    ) -> LineResult:
        try:
            return Deposited(self._deposit_prepared(learner_id, prepared, actor), new=True)
        except DuplicateCredential as exc:
            return self._held(learner_id, prepared, {}) or exc
        except DomainError as exc:
            return exc

    def _held(
        self,
        learner_id: UUID,
        prepared: PreparedDeposit,
        indexes: dict[UUID, CredentialIndex],
    ) -> Deposited | None:
        outcome = prepared.outcome
        held = self._held_outcome(learner_id, outcome.issuer_id, outcome.credential_id, indexes)
        return None if held is None else Deposited(held, new=False)
