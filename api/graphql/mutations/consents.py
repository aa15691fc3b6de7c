"""Consents (the learner): letting an enterprise see their training, or their whole record."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql.errors import UserError
from api.graphql.mutations.act import command
from domain.values import ConsentScope, parse_enum


@strawberry.input(
    description="scope: OWN (only what that enterprise issued; the default), TRAINING "
    "(enterprise training from any issuer, other enterprises' included) or ALL"
)
class GrantConsentInput:
    learner_id: strawberry.ID
    organization_id: strawberry.ID
    scope: str = strawberry.field(
        default="OWN",
        description="OWN: only the outcomes this enterprise issued itself; TRAINING: every "
        "enterprise-training outcome, whoever issued it (other employers' too); ALL: the whole "
        "record",
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
    grant_consent = command(
        "The learner lets an enterprise see their training.",
        GrantConsentInput,
        GrantConsentPayload,
        lambda c, ids, i: c.bank.grant_consent(
            ids.learner_id,
            ids.organization_id,
            parse_enum(ConsentScope, i.scope, "scope"),
            i.expires_on,
        ),
    )
    revoke_consent = command(
        "The learner withdraws an enterprise's consent.",
        RevokeConsentInput,
        RevokeConsentPayload,
        lambda c, ids, i: c.bank.revoke_consent(ids.learner_id, ids.organization_id),
    )
