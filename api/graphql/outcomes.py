"""What an account holds, as the API shows it: balances and outcomes (from the views, or from an
account rebuilt from its events)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry

from api.graphql.catalogue import Institution, load_institution
from api.graphql.common import Node, OutcomeKind, OutcomeStatus, PageInfo, credits, gid
from api.graphql.context import Info
from domain import values
from domain.records import Balance as DomainBalance
from domain.records import Outcome as DomainOutcome
from projections import transcript
from projections.balances import BalanceRow
from projections.transcript import TranscriptRow


@strawberry.type
class LevelCredits:
    level: int
    credits: Decimal


@strawberry.type
class KindCredits:
    kind: OutcomeKind  # type: ignore[valid-type]
    credits: Decimal


@strawberry.type
class CategoryCredits:
    category: str
    credits: Decimal


@strawberry.type(description="Recognised and converted credits held; redeemed ones are spent.")
class Balance:
    total: Decimal
    available: Decimal
    redeemed: Decimal
    by_level: list[LevelCredits]
    by_kind: list[KindCredits]
    by_category: list[CategoryCredits]

    @classmethod
    def of(cls, b: BalanceRow | DomainBalance | None) -> Balance:
        """From the balances view, or from an account rebuilt from its events (``asOf``)."""
        if b is None:
            zero = credits(0)
            return cls(
                total=zero, available=zero, redeemed=zero, by_level=[], by_kind=[], by_category=[]
            )
        return cls(
            total=_cents(b.total),
            available=_cents(b.available),
            redeemed=_cents(b.redeemed),
            by_level=[
                LevelCredits(level=int(k), credits=_cents(v)) for k, v in _sorted(b.by_level)
            ],
            by_kind=[
                KindCredits(kind=values.OutcomeKind(k), credits=_cents(v))
                for k, v in _sorted(b.by_kind)
            ],
            by_category=[
                CategoryCredits(category=k, credits=_cents(v)) for k, v in _sorted(b.by_category)
            ],
        )


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def _sorted(buckets: Mapping[Any, Decimal]) -> list[tuple[Any, Decimal]]:
    """Buckets in key order (enum keys by their value), as the view lists them."""
    return sorted(buckets.items(), key=lambda kv: getattr(kv[0], "value", kv[0]))


@strawberry.type
class Appeal:
    grounds: str
    lodged_at: datetime
    decided_by: str = strawberry.field(description="whose decision is appealed")
    heard_by: str | None = strawberry.field(description="the officer who heard it")
    upheld: bool | None
    reason: str | None

    @classmethod
    def of(cls, a: dict[str, Any]) -> Appeal:
        return cls(
            grounds=a["grounds"],
            lodged_at=datetime.fromisoformat(a["lodged_at"]),
            decided_by=a["decided_by"],
            heard_by=a["heard_by"],
            upheld=a["upheld"],
            reason=a["reason"],
        )


@strawberry.type
class EvidenceItem:
    description: str
    url: str | None
    digest: str | None


@strawberry.type
class Portfolio:
    description: str
    hours: Decimal | None
    evidence: list[EvidenceItem]

    @classmethod
    def of(cls, p: dict[str, Any]) -> Portfolio:
        return cls(
            description=p["description"],
            hours=None if p["hours"] is None else Decimal(p["hours"]),
            evidence=[EvidenceItem(**e) for e in p["evidence"]],
        )


@strawberry.type(description="A learning outcome in an account: what was deposited, and its fate.")
class Outcome(Node):
    id: strawberry.ID
    credential_id: str
    title: str
    kind: OutcomeKind  # type: ignore[valid-type]
    level: int | None = strawberry.field(description="framework level (recognised, else claimed)")
    credits: Decimal = strawberry.field(description="credits the credential claims")
    recognized_credits: Decimal | None
    category: str | None
    status: OutcomeStatus  # type: ignore[valid-type]
    completed_on: date | None
    deposited_at: datetime
    standard_code: str | None
    hours: Decimal | None
    rule_id: strawberry.ID | None = strawberry.field(description="recognition rule applied")
    rule_version: int | None
    recognized_by: str | None
    reason: str | None = strawberry.field(description="why it was rejected or revoked")
    framework_credits: Decimal | None = strawberry.field(
        description="the claimed credits through the issuer's credit scheme (what they are worth "
        "on the framework before any rule); null: no value the scheme can place"
    )
    issued_at: datetime | None = strawberry.field(description="the credential's validFrom")
    valid_until: datetime | None = strawberry.field(
        description="the credential's expiry: after it, its unspent credits no longer count"
    )
    passed: bool | None = strawberry.field(
        description="whether the credential records a pass (false: failed or unfinished, never "
        "credit); null: it does not say"
    )
    recognized_standard: str | None = strawberry.field(
        description="the catalogue standard it was recognised against (only this meets a "
        "qualification's required standard; standardCode is what the credential claims)"
    )
    standard_version: int | None = strawberry.field(
        description="the version of that standard the decision applied"
    )
    superseded_by: strawberry.ID | None = strawberry.field(
        description="the outcome that counts instead (status SUPERSEDED): an updated version of "
        "the credential, or a retake of the same learning"
    )
    available_credits: Decimal | None = strawberry.field(
        description="what conversions left of its recognised credits (a capped conversion "
        "takes only what it converts)"
    )
    justification: str | None = strawberry.field(
        description="the officer's written reason for the decision"
    )
    approved_by: str | None = strawberry.field(
        description="the second officer who approved a decision beyond its bounds"
    )
    appeal: Appeal | None = strawberry.field(description="the learner's appeal of the decision")
    portfolio: Portfolio | None = strawberry.field(
        description="prior learning (kind PRIOR_LEARNING): what the learner submitted"
    )
    under_review: str | None = strawberry.field(
        default=None,
        description="why it counts for nothing until an officer clears or revokes it (signed "
        "with a key later revoked as compromised)",
    )
    status_unknown: str | None = strawberry.field(
        default=None,
        description="why its issuer's status list could not be read at the deposit: it is not "
        "recognised until the list is read again (checked periodically) and says it stands",
    )
    issuer_id: strawberry.Private[str]
    # Set by a page that read its issuers with its rows (CreditAccount.transcript).
    known_issuer: strawberry.Private[Institution | None] = None

    @strawberry.field(graphql_type=Institution)
    def issuer(self, info: Info) -> Institution | Awaitable[Institution]:
        """The issuer read with the page: no coroutine a row (half of executing a 50-row page);
        else through the request's loader (one batch for all the rows)."""
        if self.known_issuer is not None:
            return self.known_issuer
        return load_institution(info, self.issuer_id)

    @strawberry.field(description="validUntil has passed (by the bank's clock)")
    def expired(self, info: Info) -> bool:
        return self.valid_until is not None and self.valid_until < info.context.bank.now()

    @classmethod
    def of_row(cls, r: TranscriptRow, issuer: Institution | None = None) -> Outcome:
        return cls(
            id=gid(r.outcome_id),
            credential_id=r.credential_id,
            title=r.title,
            kind=values.OutcomeKind(r.kind),
            level=r.recognized_level or r.level,
            credits=r.credits,
            recognized_credits=r.recognized_credits,
            category=r.category,
            status=values.OutcomeStatus(r.status),
            completed_on=r.completed_on,
            deposited_at=r.deposited_at,
            standard_code=r.standard_code,
            hours=r.hours,
            rule_id=gid(r.rule_id) if r.rule_id else None,
            rule_version=r.rule_version,
            recognized_by=r.recognized_by,
            reason=r.reason,
            framework_credits=r.framework_credits,
            issued_at=r.issued_at,
            valid_until=r.expires_at,
            passed=r.passed,
            recognized_standard=r.recognized_standard,
            standard_version=r.standard_version,
            superseded_by=gid(r.superseded_by) if r.superseded_by else None,
            available_credits=r.available_credits,
            justification=r.justification,
            approved_by=r.approved_by,
            appeal=None if r.appeal is None else Appeal.of(r.appeal),
            portfolio=None if r.portfolio is None else Portfolio.of(r.portfolio),
            under_review=r.under_review,
            status_unknown=r.status_unknown,
            issuer_id=r.issuer_id,
            known_issuer=issuer,
        )

    @classmethod
    def of(cls, learner_id: UUID, o: DomainOutcome) -> Outcome:
        """An outcome of an account rebuilt from its events, shown as the view shows it."""
        return cls.of_row(transcript.row_of(learner_id, o, seq=0))


@strawberry.type
class OutcomeEdge:
    cursor: str
    node: Outcome


@strawberry.type
class OutcomeConnection:
    edges: list[OutcomeEdge]
    page_info: PageInfo
    total_count: int
