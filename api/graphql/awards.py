"""Awards as the API shows them: a redeemed qualification, its status, and its reviews."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import strawberry

from api.graphql.catalogue import Qualification
from api.graphql.common import Node, gid
from api.graphql.context import Info
from api.graphql.errors import ApiError
from domain import values
from domain.records import Redemption
from projections import catalogue, progress
from projections.progress import AwardRow

AwardStatus = strawberry.enum(values.AwardStatus, name="AwardStatus")
AwardDecision = strawberry.enum(values.AwardDecision, name="AwardDecision")


@strawberry.type(description="An officer's review of an award.")
class AwardReview:
    decision: AwardDecision  # type: ignore[valid-type]
    reason: str
    by: str
    at: datetime


@strawberry.type(description="A redeemed qualification.")
class Award(Node):
    id: strawberry.ID
    status: AwardStatus  # type: ignore[valid-type]
    awarded_at: datetime
    credits_counted: Decimal
    qualification_version: int = strawberry.field(
        description="the version of the qualification's requirements it met"
    )
    under_review_because: list[str] = strawberry.field(
        description="what happened to credit under it (a revocation, a supersession, an award "
        "it stacks on rescinded): why it is, or was, reviewed"
    )
    reviews: list[AwardReview]
    qualification_id: strawberry.Private[str]

    @strawberry.field
    async def qualification(self, info: Info) -> Qualification:
        entry = await info.context.loader("catalogue", catalogue.read_entries).load(
            self.qualification_id
        )
        if entry is None:
            raise ApiError("NOT_FOUND", "no such qualification")
        return Qualification.of(entry)

    @classmethod
    def of(cls, row: AwardRow) -> Award:
        return cls(
            id=gid(row.id),
            status=values.AwardStatus(row.status),
            awarded_at=datetime.fromisoformat(row.awarded_at),
            credits_counted=row.counted,
            qualification_version=row.qualification_version,
            under_review_because=row.flags,
            reviews=[
                AwardReview(
                    decision=values.AwardDecision(r["decision"]),
                    reason=r["reason"],
                    by=r["by"],
                    at=datetime.fromisoformat(r["at"]),
                )
                for r in row.reviews
            ],
            qualification_id=row.qualification_id,
        )


def award_of(r: Redemption) -> Award:
    """An award as the account's state holds it (its past states: time travel)."""
    return Award(
        id=gid(r.id),
        status=r.status,
        awarded_at=r.redeemed_at,
        credits_counted=r.credits_counted,
        qualification_version=r.qualification_version,
        under_review_because=list(r.flags),
        reviews=[
            AwardReview(decision=v.decision, reason=v.reason, by=v.by, at=v.at) for v in r.reviews
        ],
        qualification_id=str(r.qualification_id),
    )


async def read_award(info: Info, award_id: UUID | str) -> Award | None:
    row = await info.context.read(progress.read_award, str(award_id))
    return None if row is None else Award.of(row)


async def read_awards(info: Info, learner_id: UUID) -> list[Award]:
    rows = await info.context.read(progress.read_awards, str(learner_id))
    return [Award.of(r) for r in rows]
