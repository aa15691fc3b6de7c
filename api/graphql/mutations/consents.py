"""Consents (the learner): letting an enterprise see their training, or their whole record."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql.context import Info
from api.graphql.errors import UserError
from api.graphql.mutations.act import Ids, mutate, mutation
from application.bank import CreditBank
from domain.values import ConsentScope, parse_enum


@strawberry.input(description="scope: TRAINING (enterprise-training outcomes only) or ALL")
class GrantConsentInput:
    learner_id: strawberry.ID
    organization_id: strawberry.ID
    scope: str = strawberry.field(
        description="TRAINING: the enterprise-training outcomes only; ALL: the whole record"
    )
    expires_on: date | None = strawberry.field(
        default=None, description="the last day the consent holds (default: until revoked)"
    )


@strawberry.type
class GrantConsentPayload:
    errors: list[UserError]


@strawberry.input
class RevokeConsentInput:
    learner_id: strawberry.ID
    organization_id: strawberry.ID


@strawberry.type
class RevokeConsentPayload:
    errors: list[UserError]


@strawberry.type
class ConsentMutations:
    @mutation(description="The learner lets an enterprise see their training.")
    async def grant_consent(self, info: Info, input: GrantConsentInput) -> GrantConsentPayload:
        def command(bank: CreditBank, ids: Ids) -> None:
            scope = parse_enum(ConsentScope, input.scope, "scope")
            bank.grant_consent(ids.learner_id, ids.organization_id, scope, input.expires_on)

        return await mutate(info, GrantConsentPayload, input, command)

    @mutation(description="The learner withdraws an enterprise's consent.")
    async def revoke_consent(self, info: Info, input: RevokeConsentInput) -> RevokeConsentPayload:
        def command(bank: CreditBank, ids: Ids) -> None:
            bank.revoke_consent(ids.learner_id, ids.organization_id)

        return await mutate(info, RevokeConsentPayload, input, command)
