"""Qualifications and their requirements, and the pure check of an account's credits against them.

The reference is Korea's Academic Credit Bank System: a bachelor needs 140 credits (at least 60
major, 30 general), at most 42 credits count per year, and per-institution caps apply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_DOWN, Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput, RuleNotApplicable
from domain.values import (
    CREDIT_QUANTUM,
    ZERO,
    OutcomeKind,
    parse_credits,
    parse_instance,
    parse_items,
    parse_level,
    parse_text,
)


@dataclass(frozen=True, kw_only=True)
class CategoryMinimum:
    category: str
    credits: Decimal


@dataclass(frozen=True, kw_only=True)
class LevelMinimum:
    """At least ``credits`` at framework level ``level`` or above."""

    level: int
    credits: Decimal


@dataclass(frozen=True, kw_only=True)
class Requirements:
    total_credits: Decimal
    minimum_by_category: tuple[CategoryMinimum, ...] = ()
    minimum_at_level: tuple[LevelMinimum, ...] = ()
    required_standards: tuple[str, ...] = ()
    max_converted_share: Decimal | None = None  # 0..1 of total_credits
    max_credits_per_institution: Decimal | None = None
    max_credits_per_year: Decimal | None = None

    @staticmethod
    def check(requirements: object, max_level: int) -> Requirements:
        """Requirements as given by any caller: of the right type, every value in range."""
        return parse_instance(requirements, Requirements, "requirements").checked(max_level)

    def checked(self, max_level: int) -> Requirements:
        total = parse_credits(self.total_credits, "totalCredits")
        by_category = parse_items(self.minimum_by_category, CategoryMinimum, "minimumByCategory")
        at_level = parse_items(self.minimum_at_level, LevelMinimum, "minimumAtLevel")
        categories = [
            CategoryMinimum(
                category=parse_text(m.category, "category", max_length=50),
                credits=parse_credits(m.credits),
            )
            for m in by_category
        ]
        if len({m.category for m in categories}) != len(categories):
            raise InvalidInput("a category is listed twice", ("minimumByCategory",))
        for m in at_level:
            parse_level(m.level, max_level, "minimumAtLevel")
        share = self.max_converted_share
        if share is not None:
            share = parse_credits(share, "maxConvertedShare", allow_zero=True)
            if share > 1:
                raise InvalidInput(
                    "maxConvertedShare must be between 0 and 1", ("maxConvertedShare",)
                )
        return replace(
            self,
            total_credits=total,
            minimum_by_category=tuple(categories),
            minimum_at_level=tuple(
                LevelMinimum(level=m.level, credits=parse_credits(m.credits)) for m in at_level
            ),
            required_standards=tuple(
                parse_text(code, "requiredStandards", max_length=50)
                for code in parse_items(self.required_standards, str, "requiredStandards")
            ),
            max_converted_share=share,
            max_credits_per_institution=None
            if self.max_credits_per_institution is None
            else parse_credits(self.max_credits_per_institution, "maxCreditsPerInstitution"),
            max_credits_per_year=None
            if self.max_credits_per_year is None
            else parse_credits(self.max_credits_per_year, "maxCreditsPerYear"),
        )


@dataclass(frozen=True, kw_only=True)
class Holding:
    """Credits an account holds: a recognised outcome or a conversion, as requirements see them."""

    id: UUID
    credits: Decimal
    level: int | None
    kind: OutcomeKind
    category: str
    institution_id: UUID
    completed_on: date
    converted: bool
    standard_codes: frozenset[str]
    spent: bool


@dataclass(frozen=True, kw_only=True)
class Assessment:
    met: bool
    unmet: tuple[str, ...]
    credits_counted: Decimal
    allocations: dict[UUID, Decimal] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # What each unmet requirement lacks (named as in ``unmet``, up to ':'; a standard: 1).
    shortfalls: dict[str, Decimal] = field(default_factory=dict)


def assess(requirements: Requirements, holdings: Iterable[Holding]) -> Assessment:
    """Chooses which unspent holdings count toward a qualification and says precisely what is unmet.

    Greedy and deterministic (oldest first): holdings citing required standards, then those that
    fill category and level minimums, then any that fill the total. Caps (per year, per
    institution, converted share) limit how much of a holding counts.
    """
    req = requirements
    pool = sorted((h for h in holdings if not h.spent), key=lambda h: (h.completed_on, str(h.id)))
    allocations: dict[UUID, Decimal] = {}
    per_year: defaultdict[int, Decimal] = defaultdict(Decimal)
    per_institution: defaultdict[UUID, Decimal] = defaultdict(Decimal)
    converted_limit = (
        None
        if req.max_converted_share is None
        else (req.total_credits * req.max_converted_share).quantize(
            CREDIT_QUANTUM, rounding=ROUND_DOWN
        )
    )
    converted_used = ZERO
    capped: defaultdict[str, Decimal] = defaultdict(Decimal)
    no_room: set[UUID] = set()  # holdings a cap already left out (room never grows back)

    def room(h: Holding) -> Decimal:
        r = h.credits
        if req.max_credits_per_year is not None:
            r = min(r, req.max_credits_per_year - per_year[h.completed_on.year])
        if req.max_credits_per_institution is not None:
            r = min(r, req.max_credits_per_institution - per_institution[h.institution_id])
        if h.converted and converted_limit is not None:
            r = min(r, converted_limit - converted_used)
        return max(r, ZERO)

    def take(h: Holding) -> None:
        nonlocal converted_used
        if h.id in allocations or h.id in no_room:
            return
        r = room(h)
        if r < h.credits:
            capped[_cap_reason(req, h, per_year, per_institution)] += h.credits - r
        if r <= 0:
            no_room.add(h.id)
            return
        allocations[h.id] = r
        per_year[h.completed_on.year] += r
        per_institution[h.institution_id] += r
        if h.converted:
            converted_used += r

    def counted(pred: Callable[[Holding], bool]) -> Decimal:
        return sum((allocations[h.id] for h in pool if h.id in allocations and pred(h)), ZERO)

    for code in req.required_standards:
        for h in pool:
            if code in h.standard_codes:
                take(h)
                if h.id in allocations:
                    break
    for cm in req.minimum_by_category:
        for h in pool:
            if counted(lambda x, c=cm.category: x.category == c) >= cm.credits:  # type: ignore[misc]
                break
            if h.category == cm.category:
                take(h)
    for lm in req.minimum_at_level:
        for h in pool:
            if counted(lambda x, lv=lm.level: _at_or_above(x, lv)) >= lm.credits:  # type: ignore[misc]
                break
            if _at_or_above(h, lm.level):
                take(h)
    for h in pool:
        if sum(allocations.values(), ZERO) >= req.total_credits:
            break
        take(h)

    total = sum(allocations.values(), ZERO).quantize(CREDIT_QUANTUM)
    unmet: list[str] = []
    shortfalls: dict[str, Decimal] = {}
    if total < req.total_credits:
        shortfalls["total"] = req.total_credits - total
        unmet.append(
            f"total: {total} of {req.total_credits} credits counted "
            f"({req.total_credits - total} missing)"
        )
    for cm in req.minimum_by_category:
        got = counted(lambda x, c=cm.category: x.category == c).quantize(CREDIT_QUANTUM)  # type: ignore[misc]
        if got < cm.credits:
            shortfalls[f"category {cm.category}"] = cm.credits - got
            unmet.append(
                f"category {cm.category}: {got} of {cm.credits} credits "
                f"({cm.credits - got} missing)"
            )
    for lm in req.minimum_at_level:
        got = counted(lambda x, lv=lm.level: _at_or_above(x, lv)).quantize(CREDIT_QUANTUM)  # type: ignore[misc]
        if got < lm.credits:
            shortfalls[f"level {lm.level} or above"] = lm.credits - got
            unmet.append(
                f"level {lm.level} or above: {got} of {lm.credits} credits "
                f"({lm.credits - got} missing)"
            )
    for code in req.required_standards:
        if not any(code in h.standard_codes and h.id in allocations for h in pool):
            shortfalls[f"required standard {code}"] = Decimal(1)
            unmet.append(f"required standard {code}: not held")
    notes = tuple(
        f"{reason}: {amount.quantize(CREDIT_QUANTUM)} credits not counted"
        for reason, amount in capped.items()
    )
    return Assessment(
        met=not unmet,
        unmet=tuple(unmet),
        credits_counted=total,
        allocations=allocations,
        notes=notes,
        shortfalls=shortfalls,
    )


def _at_or_above(h: Holding, level: int) -> bool:
    return h.level is not None and h.level >= level


def _cap_reason(
    req: Requirements,
    h: Holding,
    per_year: dict[int, Decimal],
    per_institution: dict[UUID, Decimal],
) -> str:
    year_cap = req.max_credits_per_year
    if year_cap is not None and per_year[h.completed_on.year] + h.credits > year_cap:
        return f"yearly cap of {year_cap} in {h.completed_on.year}"
    inst_cap = req.max_credits_per_institution
    if inst_cap is not None and per_institution[h.institution_id] + h.credits > inst_cap:
        return f"institution cap of {inst_cap}"
    return "converted share cap"


class Qualification(Aggregate):
    """A diploma, vocational or training certificate that credits can be redeemed toward."""

    @event("Created")
    def __init__(
        self, name: str, level: int, awarding_institution_id: UUID, requirements: Requirements
    ) -> None:
        self.name = name
        self.level = level
        self.awarding_institution_id = awarding_institution_id
        self.requirements = requirements
        self.requirements_version = 1
        self.retired = False

    @classmethod
    def create(
        cls,
        *,
        name: object,
        level: int,
        awarding_institution_id: UUID,
        requirements: Requirements,
        max_level: int,
    ) -> Qualification:
        return cls(
            name=parse_text(name, "name", max_length=200),
            level=parse_level(level, max_level),
            awarding_institution_id=awarding_institution_id,
            requirements=Requirements.check(requirements, max_level),
        )

    def amend(self, requirements: Requirements, max_level: int) -> None:
        self._check_open()
        checked = Requirements.check(requirements, max_level)
        if checked == self.requirements:
            raise InvalidInput("the amendment changes nothing")
        self._amended(requirements=checked)

    @event("Amended")
    def _amended(self, requirements: Requirements) -> None:
        self.requirements = requirements
        self.requirements_version += 1

    def retire(self) -> None:
        self._check_open()
        self._retired()

    @event("Retired")
    def _retired(self) -> None:
        self.retired = True

    def _check_open(self) -> None:
        if self.retired:
            raise RuleNotApplicable(f"qualification {self.name!r} is retired")
