"""Learning-outcome standards: the yardstick recognition measures against.

A standard (unit code, title, level, credits) says which outcomes can meet it (the kinds of
outcome, the issuers or kinds of issuer it accepts) and what counts as a pass. It is versioned:
an amendment takes effect from a date, a withdrawal too, and each applies to the learning
completed while it was in force. Recognition by rule never exceeds it (credits, level), and a
qualification's required standard is met only by outcomes recognised against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput, RuleNotApplicable
from domain.records import Outcome
from domain.values import (
    InstitutionKind,
    OutcomeKind,
    parse_credits,
    parse_day,
    parse_enum,
    parse_instance,
    parse_items,
    parse_level,
    parse_text,
    shared_copy,
)


@dataclass(frozen=True, kw_only=True)
class PassMark:
    """What counts as a pass: one of ``results`` (compared without case), or a numeric result
    of at least ``minimum_score``; either, when both are given."""

    __deepcopy__ = shared_copy

    results: tuple[str, ...] = ()
    minimum_score: Decimal | None = None

    def passes(self, result: str | None) -> bool:
        if result is None:
            return False
        if result.strip().upper() in {r.upper() for r in self.results}:
            return True
        if self.minimum_score is None:
            return False
        try:
            return Decimal(result.strip()) >= self.minimum_score
        except InvalidOperation:
            return False


@dataclass(frozen=True, kw_only=True)
class StandardTerms:
    __deepcopy__ = shared_copy

    title: str
    level: int
    credits: Decimal
    accepted_kinds: tuple[OutcomeKind, ...]
    accepted_issuers: tuple[UUID, ...] = ()  # none: any issuer (of the accepted kinds)
    accepted_issuer_kinds: tuple[InstitutionKind, ...] = ()  # none: any kind of issuer
    pass_mark: PassMark | None = None  # none: any result the credential does not mark failed


@dataclass(frozen=True, kw_only=True)
class StandardVersion:
    __deepcopy__ = shared_copy

    version: int
    terms: StandardTerms
    effective_from: date | None  # None: for all learning, whenever completed

    def bound(self, credits: Decimal, level: int) -> tuple[Decimal, int]:
        """What recognition against this version gives at most: its credits, its level."""
        return min(credits, self.terms.credits), min(level, self.terms.level)


def parse_terms(terms: object, max_level: int) -> StandardTerms:
    terms = parse_instance(terms, StandardTerms, "terms")
    kinds = parse_items(terms.accepted_kinds, object, "acceptedKinds")
    if not kinds:
        raise InvalidInput("a standard accepts at least one outcome kind", ("acceptedKinds",))
    mark = terms.pass_mark
    if mark is not None:
        mark = parse_instance(mark, PassMark, "passMark")
        results = tuple(
            parse_text(r, "passingResults", max_length=50)
            for r in parse_items(mark.results, str, "passingResults")
        )
        minimum = mark.minimum_score
        if minimum is not None:
            minimum = parse_credits(minimum, "minimumScore", allow_zero=True)
        if not results and minimum is None:
            raise InvalidInput(
                "a pass mark names passing results or a minimum score", ("passingResults",)
            )
        mark = PassMark(results=tuple(dict.fromkeys(results)), minimum_score=minimum)
    return StandardTerms(
        title=parse_text(terms.title, "title", max_length=300),
        level=parse_level(terms.level, max_level),
        credits=parse_credits(terms.credits),
        accepted_kinds=tuple(
            dict.fromkeys(parse_enum(OutcomeKind, k, "acceptedKinds") for k in kinds)
        ),
        accepted_issuers=tuple(
            dict.fromkeys(parse_items(terms.accepted_issuers, UUID, "acceptedIssuerIds"))
        ),
        accepted_issuer_kinds=tuple(
            dict.fromkeys(
                parse_enum(InstitutionKind, k, "acceptedIssuerKinds")
                for k in parse_items(terms.accepted_issuer_kinds, object, "acceptedIssuerKinds")
            )
        ),
        pass_mark=mark,
    )


def _optional_day(value: object, field: str) -> date | None:
    return None if value is None else parse_day(value, field)


class OutcomeStandard(Aggregate):
    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"creditbank:/standards/{code}")

    class Defined(Aggregate.Created):
        class_version = 2
        code: str
        title: str
        level: int
        credits: Decimal
        accepted_kinds: tuple[OutcomeKind, ...]
        accepted_issuers: tuple[UUID, ...]
        accepted_issuer_kinds: tuple[InstitutionKind, ...]
        pass_mark: PassMark | None
        effective_from: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1: any issuer, any result not marked failed, for all learning.
            state.update(
                accepted_issuers=(), accepted_issuer_kinds=(), pass_mark=None, effective_from=None
            )

    @event(Defined)
    def __init__(
        self,
        code: str,
        title: str,
        level: int,
        credits: Decimal,
        accepted_kinds: tuple[OutcomeKind, ...],
        accepted_issuers: tuple[UUID, ...],
        accepted_issuer_kinds: tuple[InstitutionKind, ...],
        pass_mark: PassMark | None,
        effective_from: date | None,
    ) -> None:
        self.code = code
        terms = StandardTerms(
            title=title,
            level=level,
            credits=credits,
            accepted_kinds=tuple(accepted_kinds),
            accepted_issuers=tuple(accepted_issuers),
            accepted_issuer_kinds=tuple(accepted_issuer_kinds),
            pass_mark=pass_mark,
        )
        self.versions = [StandardVersion(version=1, terms=terms, effective_from=effective_from)]
        self.withdrawn_on: date | None = None

    @classmethod
    def define(
        cls, *, code: object, terms: object, max_level: int, effective_from: object = None
    ) -> OutcomeStandard:
        checked = parse_terms(terms, max_level)
        return cls(
            code=parse_text(code, "code", max_length=50),
            title=checked.title,
            level=checked.level,
            credits=checked.credits,
            accepted_kinds=checked.accepted_kinds,
            accepted_issuers=checked.accepted_issuers,
            accepted_issuer_kinds=checked.accepted_issuer_kinds,
            pass_mark=checked.pass_mark,
            effective_from=_optional_day(effective_from, "effectiveFrom"),
        )

    # -- the current version, as the catalogue lists it ------------------------------------------
    @property
    def current(self) -> StandardVersion:
        return self.versions[-1]

    @property
    def title(self) -> str:
        return self.current.terms.title

    @property
    def level(self) -> int:
        return self.current.terms.level

    @property
    def credits(self) -> Decimal:
        return self.current.terms.credits

    @property
    def accepted_kinds(self) -> tuple[OutcomeKind, ...]:
        return self.current.terms.accepted_kinds

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_on is not None

    # -- amendment and withdrawal -----------------------------------------------------------------
    def amend(self, terms: object, max_level: int, effective_from: object, today: date) -> int:
        """A new version, for the learning completed from ``effective_from`` (default: today;
        an earlier date is an explicit retroactive amendment). Returns its number."""
        if self.withdrawn:
            raise RuleNotApplicable(f"standard {self.code} is withdrawn")
        checked = parse_terms(terms, max_level)
        if checked == self.current.terms:
            raise InvalidInput("the amendment changes nothing")
        effective = _optional_day(effective_from, "effectiveFrom") or today
        self._amended(terms=checked, effective_from=effective)
        return self.current.version

    @event("Amended")
    def _amended(self, terms: StandardTerms, effective_from: date) -> None:
        version = StandardVersion(
            version=len(self.versions) + 1, terms=terms, effective_from=effective_from
        )
        self.versions.append(version)

    def withdraw(self, effective_on: object = None, today: date | None = None) -> None:
        """Nothing completed on or after ``effective_on`` (default: today) is recognised against
        it; what was completed before still is (learners keep what they earned)."""
        if self.withdrawn:
            raise InvalidInput(f"standard {self.code} is already withdrawn")
        on = _optional_day(effective_on, "effectiveOn") or today
        if on is None:
            raise InvalidInput("a withdrawal takes effect on a date", ("effectiveOn",))
        self._withdrawn(withdrawn_on=on)

    class Withdrawn(Aggregate.Event):
        class_version = 2
        withdrawn_on: date

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 withdrew at once: from the day of the event.
            state["withdrawn_on"] = state["timestamp"].date()

    @event(Withdrawn)
    def _withdrawn(self, withdrawn_on: date) -> None:
        self.withdrawn_on = withdrawn_on

    # -- judging an outcome ---------------------------------------------------------------------
    def version_on(self, day: date) -> StandardVersion | None:
        """The version in force for learning completed on ``day`` (None: not in force then)."""
        if self.withdrawn_on is not None and day >= self.withdrawn_on:
            return None
        in_force = [v for v in self.versions if v.effective_from is None or v.effective_from <= day]
        return in_force[-1] if in_force else None

    def judge(self, outcome: Outcome, issuer_kind: InstitutionKind) -> StandardVersion:
        """The version the outcome meets, or RuleNotApplicable saying why it does not."""
        version = self.version_on(outcome.completed_on)
        if version is None:
            raise RuleNotApplicable(
                f"standard {self.code} was not in force for learning completed on "
                f"{outcome.completed_on}"
            )
        terms, code = version.terms, f"standard {self.code} v{version.version}"
        if outcome.kind not in terms.accepted_kinds:
            raise RuleNotApplicable(f"{code} does not accept {outcome.kind.value} outcomes")
        if terms.accepted_issuers and outcome.issuer_id not in terms.accepted_issuers:
            raise RuleNotApplicable(f"{code} does not accept this issuer")
        if terms.accepted_issuer_kinds and issuer_kind not in terms.accepted_issuer_kinds:
            raise RuleNotApplicable(f"{code} does not accept issuers of kind {issuer_kind.value}")
        if outcome.level is not None and outcome.level < terms.level:
            raise RuleNotApplicable(
                f"{code} is at level {terms.level}; the outcome states level {outcome.level}"
            )
        if outcome.passed is False or (
            terms.pass_mark is not None and not terms.pass_mark.passes(outcome.result)
        ):
            raise RuleNotApplicable(f"the result {outcome.result!r} is not a pass under {code}")
        return version
