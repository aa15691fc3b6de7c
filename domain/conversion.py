"""What a conversion would give: the plan a conversion follows (its credits under the rule's ratio
and cap, the level, kind, year and standards it carries) and the conversion options of an
account toward a qualification (the same plan, tried out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.assessment import Goal, Holding, assess
from domain.errors import RuleNotApplicable
from domain.records import ConvertedPart, Outcome, part_holding
from domain.rules import ConversionTerms, RuleVersion
from domain.values import CREDIT_QUANTUM, ZERO, OutcomeKind, OutcomeStatus, within

NIL = UUID(int=0)  # the conversion id of a plan only tried out


@dataclass(frozen=True, kw_only=True)
class ConversionPlan:
    """Which credits of which sources a conversion takes, and what each becomes.

    A ratio conversion (a credit-scheme transfer) gives ratio x what it takes, never more than
    the rule's cap allows: capped, it takes only the source credits it converts (first sources
    first) and the rest stays available. A course equivalence takes its sources whole and grants
    the target course's credits and level, shared among the sources. Either way each part keeps
    its source's completion date, institution and kind, for the caps of qualifications."""

    source_credits: Decimal  # what it takes
    credits: Decimal  # what it gives (0 or less: nothing)
    parts: tuple[ConvertedPart, ...]
    level: int | None
    kind: OutcomeKind
    completed_on: date
    standard_codes: tuple[str, ...]

    @classmethod
    def of(
        cls,
        sources: Sequence[Outcome],
        terms: ConversionTerms,
        converted_before: Decimal,
        conversion_id: UUID = NIL,
    ) -> ConversionPlan:
        available = [(o, o.available_credits) for o in sources if o.available_credits > 0]
        total = sum((a for _, a in available), ZERO)
        if terms.target_credits is not None:
            credits, taken = terms.target_credits, [(o, a) for o, a in available]
        else:
            credits = (total * terms.ratio).quantize(CREDIT_QUANTUM, rounding=ROUND_DOWN)
            if terms.max_credits_per_learner is not None:
                credits = min(credits, terms.max_credits_per_learner - converted_before)
            need = min(total, (max(credits, ZERO) / terms.ratio).quantize(CREDIT_QUANTUM, ROUND_UP))
            taken = []
            for o, a in available:
                take = min(a, need - sum((t for _, t in taken), ZERO))
                if take <= 0:
                    break
                taken.append((o, take))
        parts = _parts(conversion_id, taken, max(credits, ZERO), terms)
        levels = [p.level for p in parts if p.level is not None]
        codes = {terms.target_code} | {
            o.recognized_standard for o, _ in taken if o.recognized_standard
        }
        return cls(
            source_credits=sum((t for _, t in taken), ZERO),
            credits=credits,
            parts=parts,
            level=terms.target_level if terms.equivalence else (min(levels) if levels else None),
            kind=max(sources, key=lambda o: o.recognized_credits or ZERO).kind,
            completed_on=max((o.completed_on for o, _ in taken), default=sources[0].completed_on),
            standard_codes=tuple(sorted(codes)),
        )

    @classmethod
    def checked(
        cls,
        sources: Sequence[Outcome],
        rule: RuleVersion,
        converted_before: Decimal,
        on: date,
        conversion_id: UUID = NIL,
    ) -> ConversionPlan:
        """The plan for converting exactly these sources under the rule, refused
        (RuleNotApplicable) when one of them is not convertible or the cap leaves nothing."""
        terms = rule.terms
        assert isinstance(terms, ConversionTerms)
        for o in sources:
            if o.status is not OutcomeStatus.RECOGNIZED or o.available_credits <= 0:
                raise RuleNotApplicable(
                    f"outcome {o.id} is {o.status.value}; only recognised, unspent outcomes "
                    "can be converted"
                )
            if o.under_review is not None:
                raise RuleNotApplicable(f"outcome {o.id} is under review: {o.under_review}")
            if not terms.criteria.matches(o.issuer_id, o.kind, o.standard_code):
                raise RuleNotApplicable(f"rule {rule.name!r} does not apply to outcome {o.id}")
            if o.expired_on(on):
                raise RuleNotApplicable(f"outcome {o.id}'s credential has expired")
            if terms.equivalence and o.converted_credits:
                # An equivalence is learning for learning: what is left of a course is not it.
                raise RuleNotApplicable(
                    f"outcome {o.id} was partly converted already: a course equivalence takes "
                    "whole courses",
                    ("outcomeIds",),
                )
        plan = cls.of(sources, terms, converted_before, conversion_id)
        if plan.credits <= 0:
            raise RuleNotApplicable(
                f"rule {rule.name!r} allows no more credits for this learner "
                f"(cap {terms.max_credits_per_learner})"
            )
        unused = [o.id for o in sources if o.id not in {p.source_id for p in plan.parts}]
        if unused:
            raise RuleNotApplicable(
                f"the cap of rule {rule.name!r} leaves nothing to take from outcome "
                f"{unused[0]}: convert without it",
                ("outcomeIds",),
            )
        return plan

    def holdings(self, terms: ConversionTerms) -> list[Holding]:
        """The converted credits as a qualification would count them."""
        return [part_holding(p, terms.target_category, self.standard_codes) for p in self.parts]


def part_id(conversion_id: UUID, source_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"creditbank:/conversions/{conversion_id}/{source_id}")


def _parts(
    conversion_id: UUID,
    taken: list[tuple[Outcome, Decimal]],
    credits: Decimal,
    terms: ConversionTerms,
) -> tuple[ConvertedPart, ...]:
    """Shares ``credits`` among the sources in proportion to what each gave (the last takes the
    rounding)."""
    total = sum((t for _, t in taken), ZERO)
    parts: list[ConvertedPart] = []
    given = ZERO
    for i, (o, take) in enumerate(taken):
        if i == len(taken) - 1:
            share = credits - given
        else:
            share = (credits * take / total).quantize(CREDIT_QUANTUM, rounding=ROUND_DOWN)
        given += share
        parts.append(
            ConvertedPart(
                id=part_id(conversion_id, o.id),
                source_id=o.id,
                consumed=take,
                credits=share,
                level=terms.target_level if terms.equivalence else o.recognized_level,
                kind=o.kind,
                institution_id=o.issuer_id,
                completed_on=o.completed_on,
            )
        )
    return tuple(parts)


@dataclass(frozen=True, kw_only=True)
class ConversionOption:
    rule_id: UUID
    rule_version: int
    rule_name: str
    outcome_ids: tuple[UUID, ...]
    source_credits: Decimal  # what it costs: the credits it takes from the sources
    credits: Decimal  # what it gives
    category: str
    unmet_before: tuple[str, ...]
    unmet_after: tuple[str, ...]
    counted_change: Decimal
    closer: tuple[str, ...] = ()  # unmet requirements it brings closer (or closes)

    @property
    def closes(self) -> tuple[str, ...]:
        """The requirements unmet before and met after (named as in ``unmet``, up to ':')."""
        after = {_requirement(u) for u in self.unmet_after}
        return tuple(r for r in map(_requirement, self.unmet_before) if r not in after)

    @property
    def opens(self) -> tuple[str, ...]:
        """The requirements met before and unmet after: what it would cost the qualification."""
        before = {_requirement(u) for u in self.unmet_before}
        return tuple(r for r in map(_requirement, self.unmet_after) if r not in before)

    @property
    def loss(self) -> bool:
        """It would unmeet a requirement, or count fewer credits without bringing any unmet
        requirement closer."""
        return bool(self.opens) or (self.counted_change < 0 and not self.closer)

    @property
    def changes_nothing(self) -> bool:
        return self.unmet_after == self.unmet_before and self.counted_change == 0


def convertible(outcome: Outcome, terms: ConversionTerms, on: date) -> bool:
    return (
        outcome.status is OutcomeStatus.RECOGNIZED
        and outcome.under_review is None
        and outcome.available_credits > 0
        and not outcome.expired_on(on)
        and terms.criteria.matches(outcome.issuer_id, outcome.kind, outcome.standard_code)
    )


def _requirement(unmet: str) -> str:
    return unmet.split(":", 1)[0]


def conversion_options(
    account: Any, rules: list[RuleVersion], goal: Goal, on: date, pathway: Any = None
) -> list[ConversionOption]:
    """Conversions the learner could make now, and what each would do for a qualification:
    the rule, the outcomes and credits it would take (a capped one takes only what it converts),
    the credits it would give, and the requirements it would close. Options that change nothing
    or lose (unmeet a requirement, or count fewer credits closing nothing) are left out; best
    first: most requirements closed, then fewest unmet, then most credits counted."""
    held = account.holdings(on) if pathway is None else account.holdings(on, pathway)
    current = assess(goal, held)
    options: list[ConversionOption] = []
    for rule in rules:
        terms = rule.terms
        if not isinstance(terms, ConversionTerms) or not within(
            on, terms.valid_from, terms.valid_until
        ):
            continue
        if terms.equivalence and account.holds_course(terms) is not None:
            continue  # a target course counts once
        sources = [o for o in account.outcomes.values() if convertible(o, terms, on)]
        if not sources:
            continue
        if terms.equivalence:
            # One whole course is the target course: the one that costs least.
            whole = [o for o in sources if not o.converted_credits]
            if not whole:
                continue
            sources = [min(whole, key=lambda o: (o.available_credits, str(o.id)))]
        plan = ConversionPlan.of(sources, terms, account.converted_under(rule.rule_id))
        if plan.credits <= 0:
            continue
        taken = {p.source_id: p.consumed for p in plan.parts}
        after_held = [
            replace(h, credits=h.credits - taken[h.id]) if h.id in taken else h for h in held
        ]
        after = assess(goal, [h for h in after_held if h.credits > 0] + plan.holdings(terms))
        options.append(
            ConversionOption(
                rule_id=rule.rule_id,
                rule_version=rule.version,
                rule_name=rule.name,
                outcome_ids=tuple(p.source_id for p in plan.parts),
                source_credits=plan.source_credits,
                credits=plan.credits,
                category=terms.target_category,
                unmet_before=current.unmet,
                unmet_after=after.unmet,
                counted_change=after.credits_counted - current.credits_counted,
                closer=tuple(
                    r
                    for r, lack in current.shortfalls.items()
                    if after.shortfalls.get(r, ZERO) < lack
                ),
            )
        )
    useful = [o for o in options if not o.changes_nothing and not o.loss]
    return sorted(useful, key=lambda o: (-len(o.closes), len(o.unmet_after), -o.counted_change))
