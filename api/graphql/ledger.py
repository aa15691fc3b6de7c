"""An institution's ledger: the outcomes it issued and the conversions into its scheme it accepted
(projections.institution_ledger), newest first."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import strawberry

from api.auth import Role
from api.graphql import authz
from api.graphql.common import PageInfo, gid, parse_id
from api.graphql.context import Info
from api.graphql.errors import ApiError
from api.graphql.pagination import decode_cursor, keyset_page, page_size
from projections import institution_ledger
from projections.base import Cursor
from projections.institution_ledger import LedgerRow


@strawberry.enum(description="Why an entry is in an institution's ledger.")
class LedgerRole(enum.Enum):
    ISSUED = strawberry.enum_value(
        "ISSUED", description="an outcome it issued, deposited into a learner's account"
    )
    ACCEPTED = strawberry.enum_value(
        "ACCEPTED", description="a learner's conversion into its scheme, under a conversion rule"
    )


@strawberry.type(description="An outcome an institution issued, or a conversion it accepted.")
class LedgerEntry:
    id: strawberry.ID = strawberry.field(
        description="the outcome's id (ISSUED: what revokeOutcome names) or the conversion's "
        "(ACCEPTED: what reverseConversion names)"
    )
    role: LedgerRole
    learner_id: strawberry.ID = strawberry.field(
        description="whose account it is in (the institution issued to, or converted for, them)"
    )
    title: str = strawberry.field(
        description="the outcome's title (ISSUED) or the course code converted into (ACCEPTED)"
    )
    credits: Decimal = strawberry.field(
        description="recognised credits, else those the credential claims (ISSUED); the "
        "credits the conversion gave (ACCEPTED)"
    )
    status: str = strawberry.field(
        description="an OutcomeStatus (ISSUED); ACTIVE or CANCELLED (ACCEPTED: reversed, or its "
        "source revoked)"
    )
    at: datetime = strawberry.field(description="deposited (ISSUED) or converted (ACCEPTED)")

    @classmethod
    def of(cls, row: LedgerRow) -> LedgerEntry:
        return cls(
            id=gid(row.entry_id),
            role=LedgerRole(row.role),
            learner_id=gid(row.learner_id),
            title=row.title,
            credits=row.credits,
            status=row.status,
            at=row.at,
        )


@strawberry.type
class LedgerEdge:
    cursor: str
    node: LedgerEntry


@strawberry.type
class LedgerConnection:
    edges: list[LedgerEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="entries matching the filters, all pages")


def _cursor(row: LedgerRow) -> str:
    return f"{row.stored_at} {row.entry_id}"


def _before(after: str | None) -> tuple[str, str] | None:
    if after is None:
        return None
    at, _, entry_id = decode_cursor(after).rpartition(" ")
    if not at or not entry_id:
        raise ApiError("INVALID_INPUT", "after is not a cursor from this API")
    return at, entry_id


async def read_ledger(
    info: Info,
    institution_id: strawberry.ID,
    first: int | None,
    after: str | None,
    role: LedgerRole | None,
    status: str | None,
) -> LedgerConnection:
    institution = str(parse_id(institution_id, "institutionId"))
    p = info.context.require()
    # POLICY compares the argument as written; this compares the id it names.
    if p.role is Role.INSTITUTION and not authz.subject_is(p, institution):
        raise authz.forbid("only the institution itself may read its ledger")
    if status is not None and status not in institution_ledger.STATUSES:
        raise ApiError(
            "INVALID_INPUT", f"status must be one of {', '.join(institution_ledger.STATUSES)}"
        )
    limit = page_size(first)
    before = _before(after)
    role_v = role.name if role else None  # its names are its values

    def query(cur: Cursor) -> tuple[list[LedgerRow], int]:
        rows = institution_ledger.read_page(
            cur, institution, before=before, limit=limit + 1, role=role_v, status=status
        )
        return rows, institution_ledger.count(cur, institution, role_v, status)

    rows, total = await info.context.read(query)
    page = keyset_page(rows, _cursor, limit, after)
    return LedgerConnection(
        edges=[LedgerEdge(cursor=c, node=LedgerEntry.of(r)) for c, r in page.items],
        page_info=PageInfo.of(page),  # type: ignore[arg-type]
        total_count=total,
    )
