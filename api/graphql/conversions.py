"""Conversions as the API shows them: those an account made (in its past states: what was
converted, under which rule version, into what, and whether it still counts), and those it could
make now (options, with what each would do for a qualification)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.graphql.catalogue import ConversionRule
from api.graphql.common import gid
from api.graphql.context import Info
from domain.conversion import ConversionOption as DomainConversionOption
from domain.records import Conversion as DomainConversion
from projections import catalogue


@strawberry.type(description="Recognised credits converted into a target institution's scheme.")
class Conversion:
    id: strawberry.ID
    rule_id: strawberry.ID
    rule_version: int
    source_outcome_ids: list[strawberry.ID]
    source_credits: Decimal = strawberry.field(description="what it took of its sources")
    credits: Decimal
    target_institution_id: strawberry.ID
    target_code: str
    category: str
    level: int | None
    converted_at: datetime
    active: bool = strawberry.field(description="it counts (not reversed or cancelled)")
    reversed_reason: str | None
    cancelled_because: strawberry.ID | None = strawberry.field(
        description="the revoked or superseded source that cancelled it"
    )

    @classmethod
    def of(cls, c: DomainConversion) -> Conversion:
        return cls(
            id=gid(c.id),
            rule_id=gid(c.rule_id),
            rule_version=c.rule_version,
            source_outcome_ids=[gid(s) for s in c.consumed_from],
            source_credits=c.source_credits,
            credits=c.credits,
            target_institution_id=gid(c.target_institution_id),
            target_code=c.target_code,
            category=c.category,
            level=c.level,
            converted_at=c.converted_at,
            active=c.active,
            reversed_reason=c.reversed_reason,
            cancelled_because=None if c.cancelled_because is None else gid(c.cancelled_because),
        )


@strawberry.type(
    description="A conversion the learner could make now, and what it would do; options that "
    "would change nothing are not listed, and the one closing most requirements comes first."
)
class ConversionOption:
    rule_version: int
    outcome_ids: list[strawberry.ID] = strawberry.field(description="the outcomes it would take")
    source_credits: Decimal = strawberry.field(
        description="what it costs: the credits it would take from them (a capped conversion "
        "takes only what it converts; the rest stays available)"
    )
    credits: Decimal = strawberry.field(description="credits it would give (capped)")
    category: str
    unmet_before: list[str]
    unmet_after: list[str] = strawberry.field(description="what would still be missing")
    closes: list[str] = strawberry.field(
        description="requirements it would close (unmet before, met after), as named in unmet"
    )
    counted_change: Decimal = strawberry.field(description="change in credits counted")
    closer: list[str] = strawberry.field(
        description="unmet requirements it would bring closer or close; an option that would "
        "unmeet a requirement, or count fewer credits bringing none closer, is never listed"
    )
    rule_id: strawberry.Private[str]

    @classmethod
    def of(cls, o: DomainConversionOption) -> ConversionOption:
        return cls(
            rule_version=o.rule_version,
            outcome_ids=[gid(i) for i in o.outcome_ids],
            source_credits=o.source_credits,
            credits=o.credits,
            category=o.category,
            unmet_before=list(o.unmet_before),
            unmet_after=list(o.unmet_after),
            closes=list(o.closes),
            counted_change=o.counted_change,
            closer=list(o.closer),
            rule_id=str(o.rule_id),
        )

    @strawberry.field
    async def rule(self, info: Info) -> ConversionRule:
        entry = await info.context.loader("catalogue", catalogue.read_entries).load(self.rule_id)
        return ConversionRule.of(entry)
