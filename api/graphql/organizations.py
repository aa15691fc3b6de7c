"""The enterprise view: consenting employees' training, within the consented scope."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from api.graphql.common import Node, PageInfo
from api.graphql.context import Info
from api.graphql.learners import Learner
from api.graphql.pagination import decode_cursor, keyset_page, page_size
from projections import catalogue, enterprise


@strawberry.type
class TrainingPeriod:
    period: str = strawberry.field(description="YYYY-MM of completion")
    category: str | None
    credits: Decimal
    hours: Decimal


@strawberry.type
class EmployeeTraining:
    training_credits: Decimal
    training_hours: Decimal
    learner_id: strawberry.Private[str]
    organization_id: strawberry.Private[str]

    @strawberry.field
    async def learner(self, info: Info) -> Learner:
        entry = await info.context.loader("catalogue", catalogue.read_entries).load(self.learner_id)
        return Learner.of(entry)

    @strawberry.field(description="Training by month and category.")
    async def by_period(self, info: Info) -> list[TrainingPeriod]:
        rows = await info.context.read(
            enterprise.training_by_period,
            self.organization_id,
            self.learner_id,
            info.context.today(),
        )
        return [
            TrainingPeriod(period=r.period, category=r.category, credits=r.credits, hours=r.hours)
            for r in rows
        ]


@strawberry.type
class EmployeeTrainingEdge:
    cursor: str
    node: EmployeeTraining


@strawberry.type
class EmployeeTrainingConnection:
    edges: list[EmployeeTrainingEdge]
    page_info: PageInfo


@strawberry.type(
    description="Enterprise view (an institution of kind ENTERPRISE): its employees are the "
    "learners whose consent to it is in force, seen only within the consented scope."
)
class Organization(Node):
    id: strawberry.ID
    name: str

    @strawberry.field
    async def employees(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        period_from: str | None = None,
        period_to: str | None = None,
    ) -> EmployeeTrainingConnection:
        limit = page_size(first)
        after_learner = decode_cursor(after) if after else ""
        rows = await info.context.read(
            enterprise.employees_page,
            str(self.id),
            info.context.today(),
            after_learner,
            limit + 1,
            period_from,
            period_to,
        )
        page = keyset_page(rows, lambda r: r.learner_id, limit, after)
        return EmployeeTrainingConnection(
            edges=[
                EmployeeTrainingEdge(
                    cursor=c,
                    node=EmployeeTraining(
                        training_credits=r.credits,
                        training_hours=r.hours,
                        learner_id=r.learner_id,
                        organization_id=str(self.id),
                    ),
                )
                for c, r in page.items
            ],
            page_info=PageInfo.of(page),  # type: ignore[arg-type]
        )
