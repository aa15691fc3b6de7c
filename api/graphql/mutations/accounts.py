"""The account: deposits (institutions), recognition (officers), conversion and redemption (the
learner), revocation (the issuer or an officer)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry

from api.auth import Role
from api.graphql.accounts import PendingDecision, QualificationProgress
from api.graphql.awards import Award, read_award
from api.graphql.common import input_id
from api.graphql.context import Context, Info
from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, command, outcome, outcomes, result
from api.graphql.outcomes import Outcome
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
    standard_code: str | None = strawberry.field(
        default=None,
        description="The catalogue standard the officer recognises the outcome against: only "
        "then does it meet a qualification's required standard.",
    )
    justification: str | None = strawberry.field(
        default=None,
        description="Required for a decision beyond the standard's value, beyond what the "
        "credential states, or above the bank's threshold: it then waits for a second officer "
        "(approveDecision).",
    )


@strawberry.type
class RecognizeOutcomePayload:
    outcome: Outcome | None = None
    decision: PendingDecision | None = strawberry.field(
        default=None, description="the decision, when it waits for a second officer"
    )
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
    award: Award | None = None
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


async def _waiting(info: Info, key: tuple[UUID, Any]) -> PendingDecision | None:
    """The decision a command left waiting for a second officer (None: it took effect)."""
    learner_id, decision_id = key
    if decision_id is None:
        return None
    account = await info.context.run(info.context.bank.account, learner_id)
    waiting = account.proposals.get(str(decision_id))
    return None if waiting is None else PendingDecision.of(waiting)


WAITING = Back("decision", _waiting, lambda ids, waiting: (ids.learner_id, waiting))
NEW_OUTCOME = Back("outcome", outcome, result)
OUTCOME = Back("outcome", outcome, lambda ids, _: ids.outcome_id)
SOURCES = Back("outcomes", outcomes, lambda ids, _: ids.outcome_ids)
PROGRESS = Back("progress", _progress, lambda ids, _: (ids.learner_id, ids.qualification_id))


def _issuer(c: Context) -> UUID | None:
    """The depositing or revoking institution (its token's subject), for its own credentials."""
    p = c.principal
    return input_id(p.subject or "", "subject") if p.role is Role.INSTITUTION else None


@strawberry.type
class AccountMutations:
    deposit_credential = command(
        "An institution deposits a credential it issued.",
        DepositCredentialInput,
        DepositCredentialPayload,
        lambda c, ids, i: c.bank.deposit_credential(
            ids.learner_id, i.credential, c.principal.actor, _issuer(c)
        ),
        NEW_OUTCOME,
    )
    recognize_outcome = command(
        "Officers recognise an outcome: by the applicable rule when no values are given, else "
        "with the credits, level and category given (against standardCode, when given).",
        RecognizeOutcomeInput,
        RecognizeOutcomePayload,
        lambda c, ids, i: c.bank.recognize_outcome(
            ids.learner_id,
            ids.outcome_id,
            c.principal.actor,
            i.credits,
            i.level,
            i.category,
            i.standard_code,
            i.justification,
        ),
        OUTCOME,
        WAITING,
    )
    reject_outcome = command(
        "Officers reject an outcome's recognition, with a reason.",
        RejectOutcomeInput,
        RejectOutcomePayload,
        lambda c, ids, i: c.bank.reject_outcome(
            ids.learner_id, ids.outcome_id, i.reason, c.principal.actor
        ),
        OUTCOME,
    )
    convert_credits = command(
        "The learner (or an officer) converts outcomes under a rule.",
        ConvertCreditsInput,
        ConvertCreditsPayload,
        lambda c, ids, i: c.bank.convert_credits(
            ids.learner_id, ids.outcome_ids, ids.conversion_rule_id, c.principal.actor
        ),
        SOURCES,
    )
    redeem_qualification = command(
        "The learner (or an officer) redeems credits for a qualification.",
        RedeemQualificationInput,
        RedeemQualificationPayload,
        lambda c, ids, i: c.bank.redeem_qualification(
            ids.learner_id, ids.qualification_id, c.principal.actor
        ),
        PROGRESS,
        Back("award", read_award, result),
    )
    revoke_outcome = command(
        "The issuer (or an officer) revokes an outcome.",
        RevokeOutcomeInput,
        RevokeOutcomePayload,
        lambda c, ids, i: c.bank.revoke_outcome(
            ids.learner_id, ids.outcome_id, i.reason, c.principal.actor, _issuer(c)
        ),
        OUTCOME,
    )
