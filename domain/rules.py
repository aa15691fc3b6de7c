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

from domain.errors import Forbidden, InvalidInput, RuleNotApplicable
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
    shared_copy,
    within,
)

MAX_RATIO = Decimal("10")
MAX_FRAMEWORK_LEVEL = 8  # the EQF's; the application passes its framework's


@dataclass(frozen=True, kw_only=True)
class OutcomeCriteria:
    """Which outcomes a rule applies to; an absent criterion matches any value."""

    __deepcopy__ = shared_copy

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

    def _fields(self) -> dict[str, object]:
        named = {"institution": self.institution_id, "kind": self.kind, "code": self.standard_code}
        return {k: v for k, v in named.items() if v is not None}

    def overlaps(self, other: OutcomeCriteria) -> bool:
        """Some outcome could match both."""
        mine, theirs = self._fields(), other._fields()
        return all(theirs[k] == v for k, v in mine.items() if k in theirs)

    def narrower_than(self, other: OutcomeCriteria) -> bool:
        """Every outcome it matches the other matches too, and not the reverse: the more
        specific rule decides, an explicit order."""
        mine, theirs = self._fields(), other._fields()
        return len(mine) > len(theirs) and all(mine.get(k) == v for k, v in theirs.items())


@dataclass(frozen=True, kw_only=True)
class RecognitionTerms:
    __deepcopy__ = shared_copy

    criteria: OutcomeCriteria
    level: int
    category: str
    credits: Decimal | None = None  # None: the outcome's framework credits
    max_credits: Decimal | None = None  # at most this many (hours-based learning, say)
    valid_from: date | None = None
    valid_until: date | None = None
    priority: int = 0  # of two rules covering the same outcomes, the higher decides


@dataclass(frozen=True, kw_only=True)
class ConversionTerms:
    __deepcopy__ = shared_copy

    criteria: OutcomeCriteria
    target_institution_id: UUID
    target_code: str
    target_category: str
    ratio: Decimal
    max_credits_per_learner: Decimal | None = None  # None: no cap
    valid_from: date | None = None
    valid_until: date | None = None
    # A course equivalence: the target course's credits and level, whatever the sources'.
    target_credits: Decimal | None = None
    target_level: int | None = None
    priority: int = 0  # of two rules into one target covering the same outcomes, the higher

    @property
    def equivalence(self) -> bool:
        return self.target_credits is not None

    @property
    def creates_credit(self) -> bool:
        """It may give more credits than it takes: a ratio above 1, or a course equivalence
        (the target course's credits, whatever the sources are worth)."""
        return self.ratio > 1 or self.equivalence


@dataclass(frozen=True, kw_only=True)
class RuleVersion:
    """What a decision cites: the rule, the version of its terms, and the terms themselves."""

    __deepcopy__ = shared_copy

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
        priority=parse_priority(terms.priority),
    )


def parse_priority(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -1000 <= value <= 1000:
        raise InvalidInput("priority must be a whole number from -1000 to 1000", ("priority",))
    return value


def check_conversion_terms(terms: object, max_level: int = MAX_FRAMEWORK_LEVEL) -> ConversionTerms:
    terms = parse_instance(terms, ConversionTerms, "terms")
    check_window(terms.valid_from, terms.valid_until)
    ratio = parse_credits(terms.ratio, "ratio")
    if ratio > MAX_RATIO:
        raise InvalidInput(f"ratio must be at most {MAX_RATIO}", ("ratio",))
    target_credits, target_level = terms.target_credits, terms.target_level
    if (target_credits is None) != (target_level is None):
        raise InvalidInput(
            "a course equivalence names both the target course's credits and its level",
            ("targetCredits" if target_credits is None else "targetLevel",),
        )
    if target_credits is not None:
        target_credits = parse_credits(target_credits, "targetCredits")
        target_level = parse_level(target_level, max_level, "targetLevel")
        if ratio != 1:
            raise InvalidInput(
                "a course equivalence grants the target course's credits: its ratio is 1",
                ("ratio",),
            )
    return replace(
        terms,
        ratio=ratio,
        target_credits=target_credits,
        target_level=target_level,
        priority=parse_priority(terms.priority),
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

    __deepcopy__ = shared_copy

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

    def awaiting(self) -> str | None:
        """Why the rule is not in force yet (None: it is)."""
        return None

    def version_on(self, day: date) -> RuleVersion | None:
        """The version governing learning completed on ``day`` (None: retired, not in force
        yet, or no version was in force then); its terms' window still has to admit the day."""
        if self.retired or self.awaiting() is not None:
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
        if (waits := self.awaiting()) is not None:
            raise RuleNotApplicable(f"rule {self.name!r} is not in force: {waits}")
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
    """Moves recognised credits into a target institution's course or credit scheme.

    Governance (docs/domain.md): an agreement binds its two institutions and is in force only
    once the party that did not propose it accepts (both, when an officer records it); a rule
    that creates credit (ratio above 1, or an institution's rule into its own courses) states a
    justification and needs an officer's approval, never its proposer's. An amendment is
    proposed again the same way; the rule waits meanwhile."""

    # 3: rules know who proposed them and what they wait for (before: in force when created).
    class_version = 3

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state.update(
            proposed_by=None,
            proposer_institution=None,
            awaiting_parties=[],
            needs_approval=False,
            justification=None,
            approved_by=None,
        )

    if TYPE_CHECKING:
        proposed_by: str | None
        proposer_institution: UUID | None
        awaiting_parties: list[UUID]
        needs_approval: bool
        justification: str | None
        approved_by: str | None

    @event("Created")
    def __init__(self, name: str, model: RuleModel, terms: ConversionTerms) -> None:
        self.name = name
        self.model = model
        self.terms: ConversionTerms = terms
        self.rule_version = 1
        self.retired = False
        self._first_version(terms)
        self.proposed_by = self.proposer_institution = self.justification = None
        self.approved_by = None
        self.awaiting_parties = []
        self.needs_approval = False

    @classmethod
    def create(
        cls,
        *,
        name: object,
        model: RuleModel,
        terms: ConversionTerms,
        proposed_by: str = "officer",
        proposer_institution: UUID | None = None,
        justification: object = None,
        max_level: int = MAX_FRAMEWORK_LEVEL,
    ) -> ConversionRule:
        model = parse_enum(RuleModel, model, "model")
        terms = check_conversion_terms(terms, max_level)
        _check_agreement(model, terms)
        rule = cls(name=parse_text(name, "name", max_length=200), model=model, terms=terms)
        rule._propose(proposed_by, proposer_institution, justification)
        return rule

    def amend(
        self,
        terms: ConversionTerms,
        proposed_by: str = "officer",
        justification: object = None,
        max_level: int = MAX_FRAMEWORK_LEVEL,
    ) -> None:
        terms = check_conversion_terms(terms, max_level)
        _check_agreement(self.model, terms)
        self._amend(terms)
        self._propose(proposed_by, None, justification)

    @property
    def parties(self) -> tuple[UUID, ...]:
        """The institutions an agreement binds."""
        if self.model is not RuleModel.AGREEMENT:
            return ()
        source = self.terms.criteria.institution_id
        assert source is not None
        target = self.terms.target_institution_id
        return (source,) if source == target else (source, target)

    def creates_credit(self, proposer_institution: UUID | None) -> bool:
        return self.terms.creates_credit or (
            proposer_institution is not None
            and proposer_institution == self.terms.target_institution_id
        )

    def _propose(
        self, proposed_by: str, proposer_institution: UUID | None, justification: object
    ) -> None:
        if proposer_institution is not None and proposer_institution not in self.parties:
            raise Forbidden("an institution proposes only an agreement it is a party to")
        why = None if justification is None else parse_text(justification, "justification")
        needs_approval = self.creates_credit(proposer_institution)
        if needs_approval and why is None:
            raise InvalidInput(
                "a rule that creates credit (a ratio above 1, a course equivalence, or into the "
                "proposer's own courses) states a justification; an officer other than its "
                "proposer approves it",
                ("justification",),
            )
        self._proposed(
            proposed_by=parse_text(proposed_by, "proposedBy", max_length=200),
            proposer_institution=proposer_institution,
            awaiting_parties=tuple(p for p in self.parties if p != proposer_institution),
            needs_approval=needs_approval,
            justification=why,
        )

    @event("Proposed")
    def _proposed(
        self,
        proposed_by: str,
        proposer_institution: UUID | None,
        awaiting_parties: tuple[UUID, ...],
        needs_approval: bool,
        justification: str | None,
    ) -> None:
        self.proposed_by, self.proposer_institution = proposed_by, proposer_institution
        self.awaiting_parties = list(awaiting_parties)
        self.needs_approval, self.justification = needs_approval, justification
        self.approved_by = None

    def awaiting(self) -> str | None:
        if self.awaiting_parties:
            names = ", ".join(str(p) for p in self.awaiting_parties)
            return f"awaiting acceptance by institution {names}"
        if self.needs_approval:
            return "awaiting an officer's approval"
        return None

    def accept(self, institution_id: UUID, actor: str) -> None:
        """A party to the agreement accepts it."""
        self._check_open()
        if institution_id not in self.awaiting_parties:
            raise Forbidden("only a party whose acceptance the agreement awaits accepts it")
        self._accepted(institution_id=institution_id, actor=actor)

    @event("Accepted")
    def _accepted(self, institution_id: UUID, actor: str) -> None:
        self.awaiting_parties.remove(institution_id)

    def approve(self, officer: str) -> None:
        """An officer other than the proposer approves a rule that creates credit."""
        self._check_open()
        if not self.needs_approval:
            raise InvalidInput("the rule needs no approval", ("ruleId",))
        if officer == self.proposed_by:
            raise Forbidden("an officer other than the rule's proposer approves it")
        self._approved(officer=officer)

    @event("Approved")
    def _approved(self, officer: str) -> None:
        self.needs_approval, self.approved_by = False, officer

    def decline(self, actor: str, reason: object) -> None:
        """A party or an officer declines a rule that is not in force yet: it is retired."""
        self._check_open()
        if self.awaiting() is None:
            raise InvalidInput("the rule is in force: retire it instead", ("ruleId",))
        self._declined(actor=actor, reason=parse_text(reason, "reason"))

    @event("Declined")
    def _declined(self, actor: str, reason: str) -> None:
        self.retired = True

    def _check_open(self) -> None:
        if self.retired:
            raise RuleNotApplicable(f"rule {self.name!r} is retired")


def _check_agreement(model: RuleModel, terms: ConversionTerms) -> None:
    if model is RuleModel.AGREEMENT and terms.criteria.institution_id is None:
        raise InvalidInput(
            "an agreement rule is made between two institutions: name the source institution",
            ("sourceInstitutionId",),
        )
