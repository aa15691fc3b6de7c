"""The account: deposits (institutions), recognition (officers), conversion and redemption (the
learner), revocation (the issuer or an officer)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry

from api.auth import Role
from api.graphql.accounts import QualificationProgress
from api.graphql.common import input_id
from api.graphql.context import Info
from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, Ids, mutate, mutation, outcome, outcomes, result
from api.graphql.outcomes import Outcome
from application.bank import CreditBank
from projections import progress


@strawberry.input(
    description="credential: an Open Badges 3.0 AchievementCredential as compact VC-JWT, or as "
    "JSON with a Data Integrity proof."
)
class DepositCredentialInput:
    learner_id: strawberry.ID
    credential: str


@strawberry.type
class DepositCredentialPayload:
    outcome: Outcome | None = None
    errors: list[UserError]


@strawberry.input
class RecognizeOutcomeInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID
    credits: Decimal | None = None
    level: int | None = None
    category: str | None = None


@strawberry.type
class RecognizeOutcomePayload:
    outcome: Outcome | None = None
    errors: list[UserError]


@strawberry.input
class RejectOutcomeInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID
    reason: str


@strawberry.type
class RejectOutcomePayload:
    outcome: Outcome | None = None
    errors: list[UserError]


@strawberry.input
class ConvertCreditsInput:
    learner_id: strawberry.ID
    outcome_ids: list[strawberry.ID]
    conversion_rule_id: strawberry.ID


@strawberry.type
class ConvertCreditsPayload:
    outcomes: list[Outcome] = strawberry.field(default_factory=list)
    errors: list[UserError]


@strawberry.input
class RedeemQualificationInput:
    learner_id: strawberry.ID
    qualification_id: strawberry.ID


@strawberry.type
class RedeemQualificationPayload:
    progress: QualificationProgress | None = None
    errors: list[UserError]


@strawberry.input
class RevokeOutcomeInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID
    reason: str


@strawberry.type
class RevokeOutcomePayload:
    outcome: Outcome | None = None
    errors: list[UserError]


async def _progress(info: Info, key: tuple[UUID, UUID]) -> QualificationProgress | None:
    learner_id, qualification_id = map(str, key)
    row = await info.context.read(progress.read_progress, learner_id, qualification_id)
    return None if row is None else QualificationProgress.of(row, qualification_id)


NEW_OUTCOME = Back("outcome", outcome, result)
OUTCOME = Back("outcome", outcome, lambda ids, _: ids.outcome_id)
SOURCES = Back("outcomes", outcomes, lambda ids, _: ids.outcome_ids)
PROGRESS = Back("progress", _progress, lambda ids, _: (ids.learner_id, ids.qualification_id))


@strawberry.type
class AccountMutations:
    @mutation(description="An institution deposits a credential it issued.")
    async def deposit_credential(
        self, info: Info, input: DepositCredentialInput
    ) -> DepositCredentialPayload:
        p = info.context.principal

        def command(bank: CreditBank, ids: Ids) -> UUID:
            issuer = input_id(p.subject or "", "subject")
            return bank.deposit_credential(ids.learner_id, input.credential, p.actor, issuer)

        return await mutate(info, DepositCredentialPayload, input, command, NEW_OUTCOME)

    @mutation(
        description="Officers recognise an outcome: by the applicable rule when no values are "
        "given, else with the credits, level and category given."
    )
    async def recognize_outcome(
        self, info: Info, input: RecognizeOutcomeInput
    ) -> RecognizeOutcomePayload:
        actor, i = info.context.principal.actor, input

        def command(bank: CreditBank, ids: Ids) -> None:
            values = (i.credits, i.level, i.category)
            bank.recognize_outcome(ids.learner_id, ids.outcome_id, actor, *values)

        return await mutate(info, RecognizeOutcomePayload, input, command, OUTCOME)

    @mutation(description="Officers reject an outcome's recognition, with a reason.")
    async def reject_outcome(self, info: Info, input: RejectOutcomeInput) -> RejectOutcomePayload:
        actor = info.context.principal.actor

        def command(bank: CreditBank, ids: Ids) -> None:
            bank.reject_outcome(ids.learner_id, ids.outcome_id, input.reason, actor)

        return await mutate(info, RejectOutcomePayload, input, command, OUTCOME)

    @mutation(description="The learner (or an officer) converts outcomes under a rule.")
    async def convert_credits(
        self, info: Info, input: ConvertCreditsInput
    ) -> ConvertCreditsPayload:
        actor = info.context.principal.actor

        def command(bank: CreditBank, ids: Ids) -> UUID:
            rule = ids.conversion_rule_id
            return bank.convert_credits(ids.learner_id, ids.outcome_ids, rule, actor)

        return await mutate(info, ConvertCreditsPayload, input, command, SOURCES)

    @mutation(description="The learner (or an officer) redeems credits for a qualification.")
    async def redeem_qualification(
        self, info: Info, input: RedeemQualificationInput
    ) -> RedeemQualificationPayload:
        actor = info.context.principal.actor

        def command(bank: CreditBank, ids: Ids) -> UUID:
            return bank.redeem_qualification(ids.learner_id, ids.qualification_id, actor)

        return await mutate(info, RedeemQualificationPayload, input, command, PROGRESS)

    @mutation(description="The issuer (or an officer) revokes an outcome.")
    async def revoke_outcome(self, info: Info, input: RevokeOutcomeInput) -> RevokeOutcomePayload:
        p = info.context.principal

        def command(bank: CreditBank, ids: Ids) -> Any:
            issuer = input_id(p.subject or "", "subject") if p.role is Role.INSTITUTION else None
            return bank.revoke_outcome(
                ids.learner_id, ids.outcome_id, input.reason, p.actor, issuer
            )

        return await mutate(info, RevokeOutcomePayload, input, command, OUTCOME)
