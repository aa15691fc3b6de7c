"""Recognition and conversion rules: explicit, versioned records.

A rule's terms change only by events (amend, retire) and every decision made under a rule records
the rule id and the version of its terms that it applied.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput, RuleNotApplicable
from domain.values import (
    OutcomeKind,
    RuleModel,
    check_window,
    parse_credits,
    parse_day,
    parse_enum,
    parse_instance,
    parse_level,
    parse_text,
    within,
)

MAX_RATIO = Decimal("10")


@dataclass(frozen=True, kw_only=True)
class OutcomeCriteria:
    """Which outcomes a rule applies to; an absent criterion matches any value."""

    institution_id: UUID | None = None
    kind: OutcomeKind | None = None
    standard_code: str | None = None

    def matches(self, institution_id: UUID, kind: OutcomeKind, standard_code: str | None) -> bool:
        return (
            (self.institution_id is None or self.institution_id == institution_id)
            and (self.kind is None or self.kind is kind)
            and (self.standard_code is None or self.standard_code == standard_code)
        )

    @property
    def specificity(self) -> int:
        return sum(c is not None for c in (self.institution_id, self.kind, self.standard_code))


@dataclass(frozen=True, kw_only=True)
class RecognitionTerms:
    criteria: OutcomeCriteria
    level: int
    category: str
    credits: Decimal | None = None  # None: the outcome's framework credits
    max_credits: Decimal | None = None  # at most this many (hours-based learning, say)
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True, kw_only=True)
class ConversionTerms:
    criteria: OutcomeCriteria
    target_institution_id: UUID
    target_code: str
    target_category: str
    ratio: Decimal
    max_credits_per_learner: Decimal | None = None  # None: no cap
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True, kw_only=True)
class RuleVersion:
    """What a decision cites: the rule, the version of its terms, and the terms themselves."""

    rule_id: UUID
    version: int
    name: str
    model: RuleModel
    terms: Any

    def applies_on(self, on: date) -> bool:
        return within(on, self.terms.valid_from, self.terms.valid_until)

    def check_applicable(self, on: date) -> None:
        if not self.applies_on(on):
            raise RuleNotApplicable(
                f"rule {self.name!r} v{self.version} does not cover {on} (its window: "
                f"{self.terms.valid_from or '…'} to {self.terms.valid_until or '…'})"
            )


def check_recognition_terms(terms: object, max_level: int) -> RecognitionTerms:
    terms = parse_instance(terms, RecognitionTerms, "terms")
    check_window(terms.valid_from, terms.valid_until)
    parse_level(terms.level, max_level)
    return replace(
        terms,
        credits=None if terms.credits is None else parse_credits(terms.credits),
        max_credits=None
        if terms.max_credits is None
        else parse_credits(terms.max_credits, "maxCredits"),
        category=parse_text(terms.category, "category", max_length=50),
        criteria=_check_criteria(terms.criteria),
    )


def check_conversion_terms(terms: object) -> ConversionTerms:
    terms = parse_instance(terms, ConversionTerms, "terms")
    check_window(terms.valid_from, terms.valid_until)
    ratio = parse_credits(terms.ratio, "ratio")
    if ratio > MAX_RATIO:
        raise InvalidInput(f"ratio must be at most {MAX_RATIO}", ("ratio",))
    return replace(
        terms,
        ratio=ratio,
        max_credits_per_learner=None
        if terms.max_credits_per_learner is None
        else parse_credits(terms.max_credits_per_learner, "maxCreditsPerLearner"),
        target_code=parse_text(terms.target_code, "targetCode", max_length=50),
        target_category=parse_text(terms.target_category, "targetCategory", max_length=50),
        criteria=_check_criteria(terms.criteria),
    )


def _check_criteria(criteria: object) -> OutcomeCriteria:
    criteria = parse_instance(criteria, OutcomeCriteria, "criteria")
    if criteria.kind is not None and not isinstance(criteria.kind, OutcomeKind):
        raise InvalidInput("kind must be an outcome kind", ("kind",))
    if criteria.standard_code is None:
        return criteria
    return replace(
        criteria, standard_code=parse_text(criteria.standard_code, "standardCode", max_length=50)
    )


@dataclass(frozen=True, kw_only=True)
class TermsVersion:
    """A version of a rule's terms and the learning it governs: completed from
    ``effective_from`` (None: from the start of its terms' window) until a later version's."""

    version: int
    effective_from: date | None
    terms: Any


class _VersionedRule(Aggregate):
    """Shared life cycle of both kinds of rule: created, amended (new version), retired.

    Learning is judged under the version in force when it was completed: an amendment takes
    effect from a date (default: the day it is made; an earlier one is an explicit, retroactive
    amendment), and the versions before it keep governing what was completed before.

    (No class-level annotations here: the library would read them as constructor fields; the
    ones below exist for the type checker only.)"""

    # 2: the versions of the terms are kept with the day each takes effect (snapshots of
    # version 1 kept only the current terms, which then governed all learning).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["versions"] = [
            TermsVersion(version=state["rule_version"], effective_from=None, terms=state["terms"])
        ]

    if TYPE_CHECKING:
        name: str
        model: RuleModel
        terms: Any
        rule_version: int
        retired: bool
        versions: list[TermsVersion]

    def _first_version(self, terms: Any) -> None:
        self.versions = [TermsVersion(version=1, effective_from=None, terms=terms)]

    def _amend(self, terms: Any, effective_from: date | None = None) -> None:
        if self.retired:
            raise RuleNotApplicable(f"rule {self.name!r} is retired")
        if terms == self.terms:
            raise InvalidInput("the amendment changes nothing")
        self._amended(terms=terms, effective_from=effective_from)

    class Amended(Aggregate.Event):
        class_version = 2
        terms: Any
        effective_from: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 applied the newest terms to all learning, whenever completed.
            state["effective_from"] = None

    @event(Amended)
    def _amended(self, terms: Any, effective_from: date | None) -> None:
        self.terms = terms
        self.rule_version += 1
        self.versions.append(
            TermsVersion(version=self.rule_version, effective_from=effective_from, terms=terms)
        )

    def version_on(self, day: date) -> RuleVersion | None:
        """The version governing learning completed on ``day`` (None: retired, or no version
        was in force then); its terms' window still has to admit the day."""
        if self.retired:
            return None
        in_force = [v for v in self.versions if v.effective_from is None or v.effective_from <= day]
        if not in_force:
            return None
        v = in_force[-1]
        return RuleVersion(
            rule_id=self.id, version=v.version, name=self.name, model=self.model, terms=v.terms
        )

    def retire(self) -> None:
        if self.retired:
            raise RuleNotApplicable(f"rule {self.name!r} is already retired")
        self._retired()

    @event("Retired")
    def _retired(self) -> None:
        self.retired = True

    def current(self) -> RuleVersion:
        if self.retired:
            raise RuleNotApplicable(f"rule {self.name!r} is retired")
        return RuleVersion(
            rule_id=self.id,
            version=self.rule_version,
            name=self.name,
            model=self.model,
            terms=self.terms,
        )


class RecognitionRule(_VersionedRule):
    """What an outcome is worth on the framework, applied automatically on deposit."""

    @event("Created")
    def __init__(self, name: str, model: RuleModel, terms: RecognitionTerms) -> None:
        self.name = name
        self.model = model
        self.terms: RecognitionTerms = terms
        self.rule_version = 1
        self.retired = False
        self._first_version(terms)

    @classmethod
    def create(
        cls,
        *,
        name: object,
        model: RuleModel,
        terms: RecognitionTerms,
        max_level: int,
        today: date,
    ) -> RecognitionRule:
        """A new rule reaches back only as far as its terms say: without ``valid_from`` it
        governs the learning completed from ``today``."""
        checked = check_recognition_terms(terms, max_level)
        if checked.valid_from is None:
            checked = replace(checked, valid_from=today)
            check_window(checked.valid_from, checked.valid_until)
        return cls(
            name=parse_text(name, "name", max_length=200),
            model=parse_enum(RuleModel, model, "model"),
            terms=checked,
        )

    def amend(
        self,
        terms: RecognitionTerms,
        max_level: int,
        effective_from: object = None,
        today: date | None = None,
    ) -> None:
        """A new version for the learning completed from ``effective_from`` (default:
        ``today``)."""
        effective = None if effective_from is None else parse_day(effective_from, "effectiveFrom")
        self._amend(check_recognition_terms(terms, max_level), effective or today)


class ConversionRule(_VersionedRule):
    """Moves recognised credits into a target institution's course or credit scheme."""

    @event("Created")
    def __init__(self, name: str, model: RuleModel, terms: ConversionTerms) -> None:
        self.name = name
        self.model = model
        self.terms: ConversionTerms = terms
        self.rule_version = 1
        self.retired = False
        self._first_version(terms)

    @classmethod
    def create(cls, *, name: object, model: RuleModel, terms: ConversionTerms) -> ConversionRule:
        model = parse_enum(RuleModel, model, "model")
        terms = check_conversion_terms(terms)
        _check_agreement(model, terms)
        return cls(name=parse_text(name, "name", max_length=200), model=model, terms=terms)

    def amend(self, terms: ConversionTerms) -> None:
        terms = check_conversion_terms(terms)
        _check_agreement(self.model, terms)
        self._amend(terms)


def _check_agreement(model: RuleModel, terms: ConversionTerms) -> None:
    if model is RuleModel.AGREEMENT and terms.criteria.institution_id is None:
        raise InvalidInput(
            "an agreement rule is made between two institutions: name the source institution",
            ("sourceInstitutionId",),
        )
