"""A compromised signing key (administrators) and the review of what it signed (officers)."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import strawberry

from api.graphql.catalogue import Institution
from api.graphql.context import Info
from api.graphql.errors import UserError, user_error
from api.graphql.mutations.act import Back, Ids, command, mutation, outcome, shown_as
from api.graphql.outcomes import Outcome
from domain.errors import DomainError
from projections import transcript

log = logging.getLogger("creditbank.api")


@strawberry.input(
    description="Compromise: nothing deposited after this call verifies with the key, whatever "
    "date a credential claims."
)
class RevokeInstitutionKeyInput:
    institution_id: strawberry.ID
    kid: str
    compromised_at: datetime
    reason: str


@strawberry.type
class RevokeInstitutionKeyPayload:
    institution: Institution | None = None
    under_review: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="the outcomes put under review: signed with the key, and claiming a signing "
        "date or deposited on or after compromisedAt",
    )
    errors: list[UserError]


@strawberry.input
class ClearOutcomeReviewInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID
    reason: str


@strawberry.type
class ClearOutcomeReviewPayload:
    outcome: Outcome | None = None
    errors: list[UserError]


@strawberry.input(
    description="Looks again for what a revoked key may have signed (after parked events were "
    "replayed, or when the views lagged at the revocation); changes nothing already reviewed."
)
class ReviewCompromisedKeyInput:
    institution_id: strawberry.ID
    kid: str


async def _review(info: Info, institution_id: UUID, kid: str) -> list[UUID]:
    """Puts under review what the revoked key may have signed, among the outcomes the views
    hold (the command checks each against its account)."""
    context = info.context
    found = await context.read(transcript.signed_by, str(institution_id))
    candidates = [(UUID(learner), UUID(o)) for learner, o in found]
    questioned: list[UUID] = await context.command(
        context.bank.review_compromised, institution_id, kid, candidates, context.principal.actor
    )
    return questioned


@strawberry.type
class CompromiseMutations:
    @mutation(
        description="Admins revoke a compromised key: it verifies nothing from now on (unlike "
        "retirement, which keeps verifying what was signed before it); outcomes it signed or "
        "that were deposited since compromisedAt go under review."
    )
    async def revoke_institution_key(
        self, info: Info, input: RevokeInstitutionKeyInput
    ) -> RevokeInstitutionKeyPayload:
        ids, context = Ids(input), info.context
        try:
            institution_id: UUID = ids.institution_id
            # Waits for the views to hold every deposit made before the revocation: the key
            # verifies nothing after it (deposits re-check it as they save).
            await context.command(
                context.bank.revoke_institution_key,
                institution_id,
                input.kid,
                input.compromised_at,
                input.reason,
            )
            questioned = await _review(info, institution_id, input.kid)
            shown = await shown_as(Institution)(info, institution_id)
        except DomainError as exc:
            return RevokeInstitutionKeyPayload(errors=[user_error(exc)])
        log.warning(
            "key %r of institution %s revoked as compromised by %s; %d outcome(s) under review",
            input.kid,
            institution_id,
            context.principal.actor,
            len(questioned),
        )
        return RevokeInstitutionKeyPayload(
            institution=shown,
            under_review=[strawberry.ID(str(i)) for i in questioned],
            errors=[],
        )

    @mutation(
        description="Admins look again for what a revoked key may have signed (idempotent): "
        "after parked events were replayed, or when the views lagged at the revocation."
    )
    async def review_compromised_key(
        self, info: Info, input: ReviewCompromisedKeyInput
    ) -> RevokeInstitutionKeyPayload:
        ids = Ids(input)
        try:
            institution_id: UUID = ids.institution_id
            questioned = await _review(info, institution_id, input.kid)
            shown = await shown_as(Institution)(info, institution_id)
        except DomainError as exc:
            return RevokeInstitutionKeyPayload(errors=[user_error(exc)])
        return RevokeInstitutionKeyPayload(
            institution=shown,
            under_review=[strawberry.ID(str(i)) for i in questioned],
            errors=[],
        )

    clear_outcome_review = command(
        "Officers clear an outcome put under review (its signature was checked another way): "
        "it counts again. To refuse it, revoke it (revokeOutcome).",
        ClearOutcomeReviewInput,
        ClearOutcomeReviewPayload,
        lambda c, ids, i: c.bank.clear_outcome_review(
            ids.learner_id, ids.outcome_id, i.reason, c.principal.actor
        ),
        Back("outcome", outcome, lambda ids, _: ids.outcome_id),
    )
