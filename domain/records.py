"""The records a credit account keeps: its outcomes, conversions and redemptions (mutable
state, folded from the account's events), what a deposit states, and the balance they make."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from typing import Any
from uuid import UUID

from domain.assessment import Holding
from domain.values import (
    MAX_HOURS,
    ZERO,
    AwardDecision,
    AwardStatus,
    OutcomeKind,
    OutcomeStatus,
    parse_credits,
    parse_day,
    parse_enum,
    parse_flag,
    parse_level,
    parse_text,
    shared_copy,
    utc,
)


@dataclass(kw_only=True)
class Outcome:
    id: UUID
    issuer_id: UUID
    credential_id: str
    kind: OutcomeKind
    title: str
    standard_code: str | None
    level: int | None
    credits_claimed: Decimal
    hours: Decimal | None
    result: str | None
    completed_on: date
    evidence_digest: str
    key_id: str | None
    deposited_at: datetime
    # What the credential says of itself (None in outcomes deposited before generation 2).
    issued_at: datetime | None = None  # its validFrom: which of two versions is the later
    expires_at: datetime | None = None  # its validUntil: no credit after it
    passed: bool | None = None  # False: a failed or unfinished result; None: not stated
    # Claimed credits through the issuer's scheme (None: no value the scheme can place; outcomes
    # of generation 1 are upcast to their claim, as it was then taken).
    framework_credits: Decimal | None = None
    recognized_credits: Decimal | None = None
    recognized_level: int | None = None
    category: str | None = None
    recognized_standard: str | None = None  # the standard it was recognised against
    standard_version: int | None = None
    rule_id: UUID | None = None
    rule_version: int | None = None
    recognized_by: str | None = None
    rejection_reason: str | None = None
    rejected_by: str | None = None
    conversion_id: UUID | None = None  # the conversion that took the last of its credits
    # Conversion id -> the credits of this outcome it consumed (a capped conversion takes only
    # part: the rest stays recognised, available).
    converted_credits: dict[str, Decimal] = field(default_factory=dict)
    redemption_id: UUID | None = None
    revoked_reason: str | None = None
    superseded_by: UUID | None = None  # the outcome that counts instead (kept in history)
    superseded_because: str | None = None  # "updated credential" or "retake"
    justification: str | None = None  # an officer's, for a decision
    approved_by: str | None = None  # the second officer of a decision beyond the bounds
    appeal: Appeal | None = None  # a learner appeals a decision once
    portfolio: Portfolio | None = None  # prior learning: what the learner submitted
    # Why it waits for an officer (signed with a key later revoked as compromised): it counts
    # for nothing, and nothing built on it counts, until cleared or revoked.
    under_review: str | None = None
    review_cleared_by: str | None = None  # the officer who found it genuine after all
    # Why its issuer's status list could not be read at the deposit: it is never recognised
    # until the list is read again and says the credential stands (domain.credential_status).
    status_unknown: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Outcome:
        # Its other fields are immutable values (or frozen records): shared, not copied.
        new = object.__new__(Outcome)
        new.__dict__.update(self.__dict__)
        new.converted_credits = dict(self.converted_credits)
        if self.appeal is not None:
            new.appeal = copy.copy(self.appeal)
        return new

    def expired_on(self, day: date) -> bool:
        return self.expires_at is not None and self.expires_at.date() < day

    @property
    def moved_on(self) -> bool:
        """Some of its credit was converted or spent: it keeps counting as it is (a retake,
        an update or a merge never replaces it)."""
        return bool(self.converted_credits) or self.status in (
            OutcomeStatus.CONVERTED,
            OutcomeStatus.REDEEMED,
        )

    @property
    def available_credits(self) -> Decimal:
        """Its recognised credits that no conversion has taken."""
        return (self.recognized_credits or ZERO) - sum(self.converted_credits.values(), ZERO)

    def consumed_by(self, conversion_id: UUID, credits: Decimal) -> None:
        self.converted_credits[str(conversion_id)] = credits
        if self.available_credits <= 0:
            self.conversion_id = conversion_id

    def returned_by(self, conversion_id: UUID) -> None:
        """A cancelled or reversed conversion gives back exactly what it took."""
        self.converted_credits.pop(str(conversion_id), None)
        self.conversion_id = None

    @property
    def status(self) -> OutcomeStatus:
        if self.revoked_reason is not None:
            return OutcomeStatus.REVOKED
        if self.superseded_by is not None:
            return OutcomeStatus.SUPERSEDED
        if self.redemption_id is not None:
            return OutcomeStatus.REDEEMED
        if self.conversion_id is not None:
            return OutcomeStatus.CONVERTED
        if self.recognized_credits is not None:
            return OutcomeStatus.RECOGNIZED
        if self.rejection_reason is not None:
            return OutcomeStatus.REJECTED
        return OutcomeStatus.DEPOSITED


@dataclass(frozen=True, kw_only=True)
class OfficerDecision:
    """An officer's recognition: the values, and the standard (version) it is measured against."""

    __deepcopy__ = shared_copy

    credits: Decimal
    level: int
    category: str
    standard_code: str | None = None
    standard_version: int | None = None

    def beyond(
        self, outcome: Outcome, standard: Any | None, threshold: Decimal | None
    ) -> str | None:
        """Why it needs a second officer (None: it does not): beyond the standard version's
        value, beyond what the credential states, or above the configured threshold."""
        if standard is not None and (
            self.credits > standard.terms.credits or self.level > standard.terms.level
        ):
            return (
                f"beyond standard {self.standard_code} v{standard.version} "
                f"({standard.terms.credits} credits, level {standard.terms.level})"
            )
        # A credential's own claim bounds its recognition too, whatever standard is named
        # (prior learning claims nothing: the standard bounds it).
        stated = outcome.framework_credits
        if stated is not None and self.credits > stated:
            return f"beyond the {stated} credits the credential states"
        if outcome.level is not None and self.level > outcome.level:
            return f"above the level {outcome.level} the credential states"
        if threshold is not None and self.credits > threshold:
            return f"more than {threshold} credits"
        return None


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """A decision that waits for a second officer: a recognition beyond the bounds, or an
    officer's reversal of a conversion."""

    __deepcopy__ = shared_copy

    id: UUID
    action: str  # RECOGNITION or REVERSAL
    subject_id: UUID  # the outcome or the conversion
    decision: OfficerDecision | None
    proposed_by: str
    justification: str
    proposed_at: datetime | None


@dataclass(kw_only=True)
class Appeal:
    id: UUID
    grounds: str
    lodged_at: datetime
    decided_by: str  # the officer (or "rule") whose decision is appealed
    heard_by: str | None = None
    upheld: bool | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class EvidenceItem:
    __deepcopy__ = shared_copy

    description: str
    url: str | None = None
    digest: str | None = None  # sha256:<hex> of the document, when the learner gives it


@dataclass(frozen=True, kw_only=True)
class Portfolio:
    """Prior learning as the learner describes it."""

    __deepcopy__ = shared_copy

    description: str
    hours: Decimal | None
    evidence: tuple[EvidenceItem, ...]


@dataclass(frozen=True, kw_only=True)
class ConvertedPart:
    """What one source gave a conversion: the credits of it consumed and the converted credits
    they became, keeping the source's completion date, institution and kind (and its level,
    unless the conversion is a course equivalence, which grants the target course's)."""

    __deepcopy__ = shared_copy

    id: UUID  # the holding a qualification counts
    source_id: UUID
    consumed: Decimal
    credits: Decimal
    level: int | None
    kind: OutcomeKind
    institution_id: UUID
    completed_on: date


@dataclass(kw_only=True)
class Conversion:
    id: UUID
    rule_id: UUID
    rule_version: int
    ratio: Decimal
    source_ids: tuple[UUID, ...]
    source_credits: Decimal
    credits: Decimal
    target_institution_id: UUID
    target_code: str
    category: str
    level: int | None
    kind: OutcomeKind
    completed_on: date
    standard_codes: tuple[str, ...]
    converted_at: datetime
    redemption_id: UUID | None = None
    cancelled_because: UUID | None = None  # the revoked source outcome
    # Empty in conversions recorded before parts: one holding, dated, placed and levelled as
    # then decided (every named source consumed whole).
    parts: tuple[ConvertedPart, ...] = ()
    equivalence: bool = False  # a course-to-course conversion: the target course's credits
    reversed_reason: str | None = None
    reversed_by: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Conversion:
        return copy.copy(self)  # every field an immutable value, tuple or frozen record

    @property
    def active(self) -> bool:
        return self.cancelled_because is None and self.reversed_reason is None

    @property
    def consumed_from(self) -> tuple[UUID, ...]:
        """The sources it took credits from."""
        return tuple(p.source_id for p in self.parts) if self.parts else self.source_ids

    @property
    def holding_ids(self) -> tuple[UUID, ...]:
        return tuple(p.id for p in self.parts) if self.parts else (self.id,)


@dataclass(frozen=True, kw_only=True)
class AwardReview:
    __deepcopy__ = shared_copy

    decision: AwardDecision
    reason: str
    by: str
    at: datetime


@dataclass(kw_only=True)
class Redemption:
    """An award: a qualification redeemed with the credits its assessment counted."""

    id: UUID
    qualification_id: UUID
    qualification_version: int
    allocations: dict[str, Decimal]  # holding id -> credits counted
    credits_counted: Decimal
    redeemed_at: datetime
    flags: list[str] = field(default_factory=list)  # why it is (or was) under review
    status: AwardStatus = AwardStatus.STANDING
    # The qualifications (transitively) stacking into this one whose awards' credits it may
    # count again: what it counts of theirs spends nothing new.
    stacks_from: tuple[UUID, ...] = ()
    requires: tuple[UUID, ...] = ()  # the qualifications whose award it required
    reviews: list[AwardReview] = field(default_factory=list)

    def __deepcopy__(self, memo: dict[int, Any]) -> Redemption:
        new = copy.copy(self)
        new.allocations, new.flags = dict(self.allocations), list(self.flags)
        new.reviews = list(self.reviews)  # of frozen records
        return new

    @property
    def active(self) -> bool:
        """Its credits are spent (standing, or under review and so still reserved)."""
        return self.status is not AwardStatus.RESCINDED


@dataclass(frozen=True, kw_only=True)
class Balance:
    total: Decimal
    available: Decimal
    redeemed: Decimal
    by_level: dict[int, Decimal]
    by_kind: dict[OutcomeKind, Decimal]
    by_category: dict[str, Decimal]


@dataclass(frozen=True, kw_only=True)
class DepositedOutcome:
    """What a verified credential states, as the deposit command receives it."""

    issuer_id: UUID
    credential_id: str
    kind: OutcomeKind
    title: str
    credits: Decimal
    completed_on: date
    evidence_digest: str
    standard_code: str | None = None
    level: int | None = None
    hours: Decimal | None = None
    result: str | None = None
    key_id: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    passed: bool | None = None
    framework_credits: Decimal | None = None  # set by the bank from the issuer's scheme

    def checked(self, max_level: int) -> DepositedOutcome:
        """The same statement with every field parsed and bounded (InvalidInput names the first
        one that is not)."""
        return DepositedOutcome(
            issuer_id=self.issuer_id,
            credential_id=parse_text(self.credential_id, "credentialId", max_length=500),
            kind=parse_enum(OutcomeKind, self.kind, "kind"),
            title=parse_text(self.title, "title", max_length=300),
            # Hours alone (work experience, training) may claim no credits of their own.
            credits=parse_credits(self.credits, allow_zero=self.hours is not None),
            completed_on=parse_day(self.completed_on, "completedOn"),
            evidence_digest=parse_text(self.evidence_digest, "evidenceDigest", max_length=200),
            standard_code=_optional(self.standard_code, parse_text, "standardCode", max_length=50),
            level=None if self.level is None else parse_level(self.level, max_level),
            hours=_optional(self.hours, parse_credits, "hours", maximum=MAX_HOURS),
            result=_optional(self.result, parse_text, "result", max_length=50),
            key_id=self.key_id,
            issued_at=_optional(self.issued_at, utc, "issuedAt"),
            expires_at=_optional(self.expires_at, utc, "expiresAt"),
            passed=_optional(self.passed, parse_flag, "passed"),
            framework_credits=_optional(
                self.framework_credits, parse_credits, "frameworkCredits", allow_zero=True
            ),
        )


def _optional(value: Any, parse: Callable[..., Any], field: str, **bounds: Any) -> Any:
    return None if value is None else parse(value, field, **bounds)


Spending = dict[str, dict[str, Decimal]]  # holding id -> award id -> credits it spent


def spending(redemptions: Iterable[Redemption]) -> Spending:
    """What each active award spent of each holding: what it counts, less what it counts again
    of an award stacking into it (in the order they were awarded)."""
    spent: Spending = defaultdict(dict)
    qualification_of = {str(r.id): r.qualification_id for r in redemptions}
    for r in redemptions:
        if not r.active:
            continue
        for holding_id, counted in r.allocations.items():
            given = spent[holding_id]
            recountable = sum(
                (v for rid, v in given.items() if qualification_of[rid] in r.stacks_from), ZERO
            )
            fresh = counted - min(counted, recountable)
            if fresh > 0:
                given[str(r.id)] = fresh
    return spent


def holdings(
    outcomes: Iterable[Outcome],
    conversions: Iterable[Conversion],
    on: date | None = None,
    spent: Spending | None = None,
    recountable: frozenset[str] = frozenset(),
    released: frozenset[str] = frozenset(),
) -> list[Holding]:
    """What counts toward qualifications: recognised (or redeemed) outcomes, less what
    conversions took of them, and active conversions; on a given day, not the unspent credits of
    a credential expired by then. ``spent``: what awards spent of each; ``recountable``: the
    awards whose spending counts again here (they stack into the qualification assessed);
    ``released``: awards whose own spending is available here (one under review, re-assessed:
    what it spent stays its own, even of a credential that has expired since)."""
    spent = spent or {}

    def holding(h: Holding, expired: bool) -> Holding | None:
        given = spent.get(str(h.id), {})
        total = sum(given.values(), ZERO)  # an expired credential keeps what awards spent
        again = sum((v for rid, v in given.items() if rid in recountable), ZERO)
        freed = sum((v for rid, v in given.items() if rid in released), ZERO)
        credits = min(total, h.credits) if expired else h.credits
        if credits <= 0:
            return None
        return replace(
            h, credits=credits, spent=max(min(total - again - freed, credits), ZERO), again=again
        )

    outcomes = list(outcomes)
    questioned = {o.id for o in outcomes if o.under_review is not None}
    held: list[Holding] = []
    for o in outcomes:
        if (
            o.under_review is not None
            or o.recognized_credits is None
            or o.available_credits <= 0
            or o.status not in (OutcomeStatus.REDEEMED, OutcomeStatus.RECOGNIZED)
        ):
            continue
        found = holding(
            Holding(
                id=o.id,
                credits=o.available_credits,
                level=o.recognized_level,
                kind=o.kind,
                category=o.category or "",
                institution_id=o.issuer_id,
                completed_on=o.completed_on,
                converted=False,
                # Only a standard it was recognised against, never one it merely claims.
                standard_codes=frozenset({o.recognized_standard} if o.recognized_standard else ()),
            ),
            expired=on is not None and o.expired_on(on),
        )
        if found is not None:
            held.append(found)
    for c in conversions:
        if c.active and not questioned.intersection(c.consumed_from):
            held += [h for h in map(holding, conversion_holdings(c), repeat(False)) if h]
    return held


def conversion_holdings(c: Conversion) -> list[Holding]:
    """A conversion's credits as qualifications count them: a holding per source part."""
    if not c.parts:
        return [
            Holding(
                id=c.id,
                credits=c.credits,
                level=c.level,
                kind=c.kind,
                category=c.category,
                institution_id=c.target_institution_id,
                completed_on=c.completed_on,
                converted=True,
                standard_codes=frozenset(c.standard_codes),
            )
        ]
    return [part_holding(p, c.category, c.standard_codes) for p in c.parts]


def part_holding(p: ConvertedPart, category: str, standard_codes: Iterable[str]) -> Holding:
    """One source's part of a conversion, dated and placed where that learning happened."""
    return Holding(
        id=p.id,
        credits=p.credits,
        level=p.level,
        kind=p.kind,
        category=category,
        institution_id=p.institution_id,
        completed_on=p.completed_on,
        converted=True,
        standard_codes=frozenset(standard_codes),
    )


def balance(held: Iterable[Holding]) -> Balance:
    by_level: defaultdict[int, Decimal] = defaultdict(Decimal)
    by_kind: defaultdict[OutcomeKind, Decimal] = defaultdict(Decimal)
    by_category: defaultdict[str, Decimal] = defaultdict(Decimal)
    total = redeemed = ZERO
    for h in held:
        total += h.credits
        redeemed += h.spent
        if h.level is not None:
            by_level[h.level] += h.credits
        by_kind[h.kind] += h.credits
        by_category[h.category] += h.credits
    return Balance(
        total=total,
        available=total - redeemed,
        redeemed=redeemed,
        by_level=dict(by_level),
        by_kind=dict(by_kind),
        by_category=dict(by_category),
    )
