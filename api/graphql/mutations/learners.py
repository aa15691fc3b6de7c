"""Learners (officers): opening an account, verifying identity, erasure."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import strawberry

from api.graphql.common import IdentityVerification
from api.graphql.context import Info
from api.graphql.errors import UserError
from api.graphql.learners import Learner
from api.graphql.mutations.act import Back, Ids, mutate, mutation, result, shown_as
from application.bank import CreditBank
from domain.learner import DOCUMENT_TYPES


@strawberry.input
class RegisterLearnerInput:
    name: str
    identity_document_type: str = strawberry.field(
        description="one of " + ", ".join(sorted(DOCUMENT_TYPES)) + " (case-insensitive)"
    )
    identity_document_number: str = strawberry.field(
        description="as printed; compared without spaces, dashes or case"
    )
    birth_date: date


@strawberry.type
class RegisterLearnerPayload:
    learner: Learner | None = None
    errors: list[UserError]


@strawberry.input
class VerifyLearnerIdentityInput:
    learner_id: strawberry.ID
    method: IdentityVerification  # type: ignore[valid-type]


@strawberry.type
class VerifyLearnerIdentityPayload:
    learner: Learner | None = None
    errors: list[UserError]


@strawberry.input
class EraseLearnerInput:
    learner_id: strawberry.ID


@strawberry.type
class EraseLearnerPayload:
    errors: list[UserError]


NEW = Back("learner", shown_as(Learner), result)
LEARNER = Back("learner", shown_as(Learner), lambda ids, _: ids.learner_id)


@strawberry.type
class LearnerMutations:
    @mutation(description="Officers open a learner's account.")
    async def register_learner(
        self, info: Info, input: RegisterLearnerInput
    ) -> RegisterLearnerPayload:
        def command(bank: CreditBank, ids: Ids) -> UUID:
            i = input
            number = i.identity_document_number
            return bank.register_learner(i.name, i.identity_document_type, number, i.birth_date)

        return await mutate(info, RegisterLearnerPayload, input, command, NEW)

    @mutation(description="Officers record how a learner's identity was verified.")
    async def verify_learner_identity(
        self, info: Info, input: VerifyLearnerIdentityInput
    ) -> VerifyLearnerIdentityPayload:
        actor = info.context.principal.actor

        def command(bank: CreditBank, ids: Ids) -> None:
            bank.verify_learner_identity(ids.learner_id, input.method, actor)

        return await mutate(info, VerifyLearnerIdentityPayload, input, command, LEARNER)

    @mutation(description="Officers erase a learner's personal data (crypto-shredding).")
    async def erase_learner(self, info: Info, input: EraseLearnerInput) -> EraseLearnerPayload:
        actor = info.context.principal.actor

        def command(bank: CreditBank, ids: Ids) -> None:
            bank.erase_learner(ids.learner_id, actor)

        return await mutate(info, EraseLearnerPayload, input, command)
