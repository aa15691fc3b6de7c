"""The study plan as the API shows it: what is left toward a qualification, what would close
it, and the earliest date it can be met given the semester and yearly caps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.graphql.catalogue import OutcomeStandard, RecognitionRule
from api.graphql.conversions import ConversionOption
from application.commands.awards import PlanFor
from projections.catalogue import entry_of


@strawberry.type(description="A requirement not met yet and what it lacks.")
class Shortfall:
    requirement: str
    credits: Decimal = strawberry.field(description="credits missing (a standard or award: 1)")


@strawberry.type(description="A term in which credits toward the qualification can count.")
class PlannedTerm:
    term: str
    starts_on: date
    credits: Decimal = strawberry.field(
        description="the most that can count in it, after its term and year caps"
    )


@strawberry.type(
    description="What is left toward a qualification and how to close it: the smallest set of "
    "shortfalls, the credits still to earn, the terms they fit in from today under the "
    "semester and yearly caps, and the conversions, standards and recognition rules that "
    "would close them."
)
class StudyPlan:
    met: bool
    missing: list[Shortfall]
    credits_to_earn: Decimal = strawberry.field(
        description="at least this many new credits (chosen well, one credit closes the total, "
        "its category, the level share and residency together)"
    )
    terms: list[PlannedTerm]
    earliest_completion: date | None = strawberry.field(
        description="the earliest date it can be met (today if met; null: beyond 30 years)"
    )
    conversions: list[ConversionOption] = strawberry.field(
        description="conversions now possible that close or bring closer a requirement"
    )
    standards: list[OutcomeStandard] = strawberry.field(
        description="required standards not held yet"
    )
    routes: list[RecognitionRule] = strawberry.field(
        description="recognition rules that give credits in a category still short"
    )

    @classmethod
    def of(cls, found: PlanFor) -> StudyPlan:
        plan = found.plan
        return cls(
            met=plan.met,
            missing=[Shortfall(requirement=k, credits=v) for k, v in plan.shortfalls.items()],
            credits_to_earn=plan.credits_to_earn,
            terms=[
                PlannedTerm(term=t.term, starts_on=t.starts_on, credits=t.credits)
                for t in plan.terms
            ],
            earliest_completion=plan.earliest,
            conversions=[ConversionOption.of(o) for o in found.conversions],
            standards=[OutcomeStandard.of(entry_of(s)) for s in found.standards],
            routes=[RecognitionRule.of(entry_of(r)) for r in found.routes],
        )
