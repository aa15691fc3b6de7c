"""What the bank's defences recorded, for officers and auditors (docs/security.md)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.common import gid, parse_id
from api.graphql.context import Info
from api.graphql.pagination import page_size
from application.identity_attempts import IdentityFailure as Failure
from projections.runner import Parked, parked_events


@strawberry.type(
    description="A deposit refused because its credential named someone other than the "
    "account's learner. Many from one institution look like a search for a learner's "
    "identity number (the bank pauses that institution's deposits; docs/security.md)."
)
class IdentityFailure:
    at: datetime
    institution_id: strawberry.ID = strawberry.field(description="the credential's issuer")
    learner_id: strawberry.ID = strawberry.field(description="the account it was pushed into")
    actor: str | None = strawberry.field(description="who pushed it (role:subject)")

    @classmethod
    def of(cls, failure: Failure) -> IdentityFailure:
        return cls(
            at=failure.at,
            institution_id=gid(failure.institution_id),
            learner_id=gid(failure.learner_id),
            actor=failure.actor,
        )


async def identity_failures(
    info: Info, institution_id: strawberry.ID | None, first: int | None
) -> list[IdentityFailure]:
    institution = None if institution_id is None else parse_id(institution_id, "institutionId")
    log = info.context.bank.identity_guard.log
    found = await info.context.run(log.recent, institution, page_size(first))
    return [IdentityFailure.of(f) for f in found]


@strawberry.type(
    description="An event the views could not take (it cannot be decoded, or a view fails on "
    "it): its aggregate's views are stale until `creditbank projections replay-parked` applies "
    "it after a fix; every other account's views keep moving."
)
class ParkedEvent:
    notification_id: int
    aggregate_id: strawberry.ID
    aggregate_version: int
    topic: str
    error: str
    parked_at: str

    @classmethod
    def of(cls, p: Parked) -> ParkedEvent:
        return cls(
            notification_id=p.notification_id,
            aggregate_id=gid(p.originator_id),
            aggregate_version=p.originator_version,
            topic=p.topic,
            error=p.error,
            parked_at=p.parked_at,
        )


async def parked(info: Info, first: int | None) -> list[ParkedEvent]:
    found = await info.context.read(parked_events, page_size(first))
    return [ParkedEvent.of(p) for p in found]
