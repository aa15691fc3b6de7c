"""Qualifications and their requirements (``domain.assessment`` decides whether credits meet them).

The reference is Korea's Academic Credit Bank System: a bachelor needs 140 credits (at least 60
major, 30 general), at most 24 credits count per semester and 42 per year, and per-institution
caps apply.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.assessment import Calendar, Goal
from domain.errors import InvalidInput, RuleNotApplicable
from domain.values import (
    OutcomeKind,
    parse_credits,
    parse_enum,
    parse_flag,
    parse_instance,
    parse_items,
    parse_level,
    parse_text,
    shared_copy,
)


@dataclass(frozen=True, kw_only=True)
class CategoryMinimum:
    __deepcopy__ = shared_copy

    category: str
    credits: Decimal


@dataclass(frozen=True, kw_only=True)
class LevelMinimum:
    """At least ``credits`` at framework level ``level`` or above."""

    __deepcopy__ = shared_copy

    level: int
    credits: Decimal


@dataclass(frozen=True, kw_only=True)
class KindMaximum:
    """At most ``credits`` from one kind of source (certificates, exams, work experience)."""

    __deepcopy__ = shared_copy

    kind: OutcomeKind
    credits: Decimal


@dataclass(frozen=True, kw_only=True)
class Stacking:
    """A qualification that stacks into this one (a certificate into the diploma it is part
    of): whether the credits its award counted count here again, and whether holding the award
    is itself required."""

    __deepcopy__ = shared_copy

    qualification_id: UUID
    counts_again: bool = True
    required: bool = False


@dataclass(frozen=True, kw_only=True)
class Requirements:
    __deepcopy__ = shared_copy

    total_credits: Decimal
    minimum_by_category: tuple[CategoryMinimum, ...] = ()
    minimum_at_level: tuple[LevelMinimum, ...] = ()
    required_standards: tuple[str, ...] = ()
    max_converted_share: Decimal | None = None  # 0..1 of total_credits
    max_credits_per_institution: Decimal | None = None
    max_credits_per_year: Decimal | None = None  # per academic year (the bank's calendar)
    max_credits_per_semester: Decimal | None = None
    # 0..1 of the total at the qualification's level - 1 or above (None: the bank's default).
    min_level_share: Decimal | None = None
    min_credits_from_awarding: Decimal | None = None  # earned at the awarding institution
    max_credits_by_kind: tuple[KindMaximum, ...] = ()
    stacks_from: tuple[Stacking, ...] = ()

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
        by_kind = [
            KindMaximum(
                kind=parse_enum(OutcomeKind, m.kind, "maxCreditsByKind"),
                credits=parse_credits(m.credits, "maxCreditsByKind", allow_zero=True),
            )
            for m in parse_items(self.max_credits_by_kind, KindMaximum, "maxCreditsByKind")
        ]
        if len({m.kind for m in by_kind}) != len(by_kind):
            raise InvalidInput("a kind is listed twice", ("maxCreditsByKind",))
        stacks = parse_items(self.stacks_from, Stacking, "stacksFrom")
        if len({s.qualification_id for s in stacks}) != len(stacks):
            raise InvalidInput("a qualification is listed twice", ("stacksFrom",))
        level_share = self.min_level_share
        if level_share is not None:
            level_share = parse_credits(level_share, "minLevelShare", allow_zero=True)
            if level_share > 1:
                raise InvalidInput("minLevelShare must be between 0 and 1", ("minLevelShare",))
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
            max_credits_per_semester=None
            if self.max_credits_per_semester is None
            else parse_credits(self.max_credits_per_semester, "maxCreditsPerSemester"),
            min_level_share=level_share,
            min_credits_from_awarding=None
            if self.min_credits_from_awarding is None
            else parse_credits(self.min_credits_from_awarding, "minCreditsFromAwarding"),
            max_credits_by_kind=tuple(by_kind),
            stacks_from=tuple(
                Stacking(
                    qualification_id=s.qualification_id,
                    counts_again=parse_flag(s.counts_again, "stacksFrom"),
                    required=parse_flag(s.required, "stacksFrom"),
                )
                for s in stacks
            ),
        )


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

    def goal(self, calendar: Calendar, level_share: Decimal) -> Goal:
        """What an assessment decides for it, with the bank's calendar and default level share.
        (Its terms at an earlier version: the aggregate read at that version; requirements
        version n is aggregate version n, retiring being its last event.)"""
        return Goal(
            requirements=self.requirements,
            level=self.level,
            awarding_institution_id=self.awarding_institution_id,
            calendar=calendar,
            level_share=level_share,
        )

    def retire(self) -> None:
        self._check_open()
        self._retired()

    @event("Retired")
    def _retired(self) -> None:
        self.retired = True

    def _check_open(self) -> None:
        if self.retired:
            raise RuleNotApplicable(f"qualification {self.name!r} is retired")
