"""What a conversion would give: the plan a conversion follows (its credits under the rule's ratio
and cap, the level, kind, year and standards it carries) and the conversion options of an
account toward a qualification (the same plan, tried out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any
from uuid import UUID

from domain.errors import RuleNotApplicable
from domain.qualification import Holding, Requirements, assess
from domain.records import Outcome
from domain.rules import ConversionTerms, RuleVersion
from domain.values import CREDIT_QUANTUM, ZERO, OutcomeKind, OutcomeStatus, within


@dataclass(frozen=True, kw_only=True)
class ConversionPlan:
    source_credits: Decimal
    credits: Decimal  # after the ratio and the learner's remaining cap (0 or less: none)
    level: int | None
    kind: OutcomeKind
    completed_on: date
    standard_codes: tuple[str, ...]

    @classmethod
    def of(
        cls, sources: Sequence[Outcome], terms: ConversionTerms, converted_before: Decimal
    ) -> ConversionPlan:
        source_credits = sum((o.recognized_credits or ZERO for o in sources), ZERO)
        amount = (source_credits * terms.ratio).quantize(CREDIT_QUANTUM, rounding=ROUND_DOWN)
        if terms.max_credits_per_learner is not None:
            amount = min(amount, terms.max_credits_per_learner - converted_before)
        levels = [o.recognized_level for o in sources if o.recognized_level is not None]
        codes = {terms.target_code} | {
            o.recognized_standard for o in sources if o.recognized_standard
        }
        return cls(
            source_credits=source_credits,
            credits=amount,
            level=min(levels) if levels else None,
            kind=max(sources, key=lambda o: o.recognized_credits or ZERO).kind,
            completed_on=max(o.completed_on for o in sources),
            standard_codes=tuple(sorted(codes)),
        )

    @classmethod
    def checked(
        cls, sources: Sequence[Outcome], rule: RuleVersion, converted_before: Decimal, on: date
    ) -> ConversionPlan:
        """The plan for converting exactly these sources under the rule, refused
        (RuleNotApplicable) when one of them is not convertible or the cap leaves nothing."""
        terms = rule.terms
        assert isinstance(terms, ConversionTerms)
        for o in sources:
            if o.status is not OutcomeStatus.RECOGNIZED:
                raise RuleNotApplicable(
                    f"outcome {o.id} is {o.status.value}; only recognised, unspent outcomes "
                    "can be converted"
                )
            if not terms.criteria.matches(o.issuer_id, o.kind, o.standard_code):
                raise RuleNotApplicable(f"rule {rule.name!r} does not apply to outcome {o.id}")
            if o.expired_on(on):
                raise RuleNotApplicable(f"outcome {o.id}'s credential has expired")
        plan = cls.of(sources, terms, converted_before)
        if plan.credits <= 0:
            raise RuleNotApplicable(
                f"rule {rule.name!r} allows no more credits for this learner "
                f"(cap {terms.max_credits_per_learner})"
            )
        return plan

    def holding(self, holding_id: UUID, terms: ConversionTerms) -> Holding:
        """The converted credits as a qualification would count them."""
        return Holding(
            id=holding_id,
            credits=self.credits,
            level=self.level,
            kind=self.kind,
            category=terms.target_category,
            institution_id=terms.target_institution_id,
            completed_on=self.completed_on,
            converted=True,
            standard_codes=frozenset(self.standard_codes),
            spent=False,
        )


@dataclass(frozen=True, kw_only=True)
class ConversionOption:
    rule_id: UUID
    rule_version: int
    rule_name: str
    outcome_ids: tuple[UUID, ...]
    source_credits: Decimal
    credits: Decimal
    category: str
    unmet_before: tuple[str, ...]
    unmet_after: tuple[str, ...]
    counted_change: Decimal

    @property
    def closes(self) -> tuple[str, ...]:
        """The requirements unmet before and met after (named as in ``unmet``, up to ':')."""
        after = {_requirement(u) for u in self.unmet_after}
        return tuple(r for r in map(_requirement, self.unmet_before) if r not in after)

    @property
    def changes_nothing(self) -> bool:
        return self.unmet_after == self.unmet_before and self.counted_change == 0


def convertible(outcome: Outcome, terms: ConversionTerms, on: date) -> bool:
    return (
        outcome.status is OutcomeStatus.RECOGNIZED
        and not outcome.expired_on(on)
        and terms.criteria.matches(outcome.issuer_id, outcome.kind, outcome.standard_code)
    )


def _requirement(unmet: str) -> str:
    return unmet.split(":", 1)[0]


def conversion_options(
    account: Any, rules: list[RuleVersion], requirements: Requirements, on: date
) -> list[ConversionOption]:
    """Conversions the learner could make now, and what each would do for a qualification:
    the rule, the outcomes it would take, the credits it would give (capped), and the
    requirements still unmet after it. Options that would change nothing (the same unmet
    requirements, the same credits counted) are left out; best first: most requirements
    closed, then fewest unmet, then most credits counted."""
    current = assess(requirements, account.holdings(on))
    options: list[ConversionOption] = []
    for rule in rules:
        terms = rule.terms
        if not isinstance(terms, ConversionTerms) or not within(
            on, terms.valid_from, terms.valid_until
        ):
            continue
        sources = [o for o in account.outcomes.values() if convertible(o, terms, on)]
        if not sources:
            continue
        plan = ConversionPlan.of(sources, terms, account.converted_under(rule.rule_id))
        if plan.credits <= 0:
            continue
        source_ids = {o.id for o in sources}
        converted = plan.holding(rule.rule_id, terms)
        after = assess(
            requirements,
            [h for h in account.holdings(on) if h.id not in source_ids] + [converted],
        )
        options.append(
            ConversionOption(
                rule_id=rule.rule_id,
                rule_version=rule.version,
                rule_name=rule.name,
                outcome_ids=tuple(o.id for o in sources),
                source_credits=plan.source_credits,
                credits=plan.credits,
                category=terms.target_category,
                unmet_before=current.unmet,
                unmet_after=after.unmet,
                counted_change=after.credits_counted - current.credits_counted,
            )
        )
    useful = [o for o in options if not o.changes_nothing]
    return sorted(useful, key=lambda o: (-len(o.closes), len(o.unmet_after), -o.counted_change))
