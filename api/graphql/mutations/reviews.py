"""Decisions seen twice, reversals, appeals and recognition of prior learning (docs/domain.md,
governance): second officers approve or decline; learners undo their own conversions and
appeal; officers reverse with a reason and hear appeals; learners apply with a portfolio."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import strawberry

from api.auth import Role
from api.graphql.accounts import PendingDecision
from api.graphql.context import Context
from api.graphql.errors import UserError
from api.graphql.mutations.accounts import WAITING
from api.graphql.mutations.act import Back, Ids, command, outcome, outcomes, result
from api.graphql.outcomes import Outcome
from domain.records import EvidenceItem


@strawberry.input
class ApproveDecisionInput:
    learner_id: strawberry.ID
    decision_id: strawberry.ID


@strawberry.input
class DeclineDecisionInput(ApproveDecisionInput):
    reason: str


@strawberry.type
class DecisionPayload:
    outcomes: list[Outcome] = strawberry.field(
        default_factory=list, description="the outcomes the decision changed"
    )
    errors: list[UserError]


@strawberry.input(
    description="A learner undoes their own conversion within 30 days; an officer at any time, "
    "with a justification a second officer approves."
)
class ReverseConversionInput:
    learner_id: strawberry.ID
    conversion_id: strawberry.ID
    justification: str | None = None


@strawberry.type
class ReverseConversionPayload:
    decision: PendingDecision | None = strawberry.field(
        default=None, description="an officer's reversal, waiting for a second officer"
    )
    errors: list[UserError]


@strawberry.input
class AppealDecisionInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID
    grounds: str


@strawberry.input(
    description="Upheld, the officer's own decision replaces the one appealed (its credits, "
    "level, category and standard, under the same bounds and four-eyes)."
)
class HearAppealInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID
    upheld: bool
    reason: str
    credits: Decimal | None = None
    level: int | None = None
    category: str | None = None
    standard_code: str | None = None


@strawberry.type
class AppealPayload:
    outcome: Outcome | None = None
    decision: PendingDecision | None = strawberry.field(
        default=None, description="an upheld appeal's new decision, waiting for a second officer"
    )
    errors: list[UserError]


@strawberry.input
class EvidenceInput:
    description: str
    url: str | None = None
    digest: str | None = strawberry.field(default=None, description="sha256:<hex> of the document")


@strawberry.input(
    description="Recognition of prior learning: what the learner learnt and the evidence; an "
    "officer assesses it against a standard (recognizeOutcome with standardCode)."
)
class ApplyForPriorLearningInput:
    learner_id: strawberry.ID
    title: str
    completed_on: date
    description: str
    evidence: list[EvidenceInput]
    hours: Decimal | None = None


@strawberry.type
class ApplyForPriorLearningPayload:
    outcome: Outcome | None = None
    errors: list[UserError]


CHANGED = Back("outcomes", outcomes, result)
OUTCOME = Back("outcome", outcome, lambda ids, _: ids.outcome_id)


def _reverse(c: Context, ids: Ids, i: ReverseConversionInput) -> UUID | None:
    return c.bank.reverse_conversion(
        ids.learner_id,
        ids.conversion_id,
        c.principal.actor,
        by_officer=c.principal.role is Role.OFFICER,
        justification=i.justification,
    )


def _apply(c: Context, ids: Ids, i: ApplyForPriorLearningInput) -> UUID:
    return c.bank.apply_for_prior_learning(
        ids.learner_id,
        i.title,
        i.completed_on,
        i.description,
        [EvidenceItem(description=e.description, url=e.url, digest=e.digest) for e in i.evidence],
        i.hours,
        c.principal.actor,
    )


@strawberry.type
class ReviewMutations:
    approve_decision = command(
        "A second officer (not the proposer) approves a decision waiting on an account.",
        ApproveDecisionInput,
        DecisionPayload,
        lambda c, ids, i: c.bank.approve_decision(
            ids.learner_id, ids.decision_id, c.principal.actor
        ),
        CHANGED,
    )
    decline_decision = command(
        "An officer declines a decision waiting on an account (the proposer may withdraw it).",
        DeclineDecisionInput,
        DecisionPayload,
        lambda c, ids, i: c.bank.decline_decision(
            ids.learner_id, ids.decision_id, c.principal.actor, i.reason
        ),
    )
    reverse_conversion = command(
        "Undoes a conversion: its sources get back exactly what it took.",
        ReverseConversionInput,
        ReverseConversionPayload,
        _reverse,
        WAITING,
    )
    appeal_decision = command(
        "The learner appeals the decision on an outcome, once.",
        AppealDecisionInput,
        AppealPayload,
        lambda c, ids, i: c.bank.appeal_decision(ids.learner_id, ids.outcome_id, i.grounds),
        OUTCOME,
    )
    hear_appeal = command(
        "An officer other than the one who decided hears an appeal.",
        HearAppealInput,
        AppealPayload,
        lambda c, ids, i: c.bank.hear_appeal(
            ids.learner_id,
            ids.outcome_id,
            c.principal.actor,
            i.upheld,
            i.reason,
            i.credits,
            i.level,
            i.category,
            i.standard_code,
        ),
        OUTCOME,
        WAITING,
    )
    apply_for_prior_learning = command(
        "The learner applies for recognition of prior learning with a portfolio.",
        ApplyForPriorLearningInput,
        ApplyForPriorLearningPayload,
        _apply,
        Back("outcome", outcome, result),
    )
