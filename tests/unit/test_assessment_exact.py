"""The exact assessment against brute force: on small random accounts and requirements, every
allocation in whole quanta (0.01 credits) is tried, and the solver must agree on whether the
qualification is met, spend no more than the cheapest allocation that meets it, and, when none
does, report the smallest set of shortfalls (fewest requirements unmet, then fewest credits)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from uuid import UUID, uuid4

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.assessment import Calendar, Goal, Holding, _Rows, _solve, assess
from domain.qualification import CategoryMinimum, KindMaximum, LevelMinimum, Requirements
from domain.values import CREDIT_QUANTUM, OutcomeKind

Q = CREDIT_QUANTUM
CALENDAR = Calendar(term_starts=(9, 3))
AWARDING, OTHER = uuid4(), uuid4()
KINDS = (OutcomeKind.ACADEMIC_COURSE, OutcomeKind.VOCATIONAL_CERTIFICATE)


def quanta(n: int) -> Decimal:
    return (Decimal(n) * Q).quantize(Q)


@st.composite
def holdings(draw: st.DrawFn) -> list[Holding]:
    n = draw(st.integers(1, 5))
    return [
        Holding(
            id=UUID(int=i + 1),
            credits=quanta(draw(st.integers(1, 4))),
            level=draw(st.sampled_from([None, 1, 2, 3])),
            kind=draw(st.sampled_from(KINDS)),
            category=draw(st.sampled_from(["a", "b"])),
            institution_id=draw(st.sampled_from([AWARDING, OTHER])),
            completed_on=date(
                draw(st.sampled_from([2020, 2021])), draw(st.sampled_from([1, 9])), 1
            ),
            converted=draw(st.booleans()),
            standard_codes=frozenset(draw(st.sampled_from([(), ("S",)]))),
            spent=ZERO_Q,
        )
        for i in range(n)
    ]


ZERO_Q = Decimal("0.00")


@st.composite
def goals(draw: st.DrawFn) -> Goal:
    opt = lambda s: draw(st.one_of(st.none(), s))  # noqa: E731
    small = st.integers(1, 8).map(quanta)
    requirements = Requirements(
        total_credits=quanta(draw(st.integers(1, 12))),
        minimum_by_category=tuple(
            CategoryMinimum(category=c, credits=draw(small))
            for c in draw(st.sampled_from([(), ("a",), ("a", "b")]))
        ),
        minimum_at_level=tuple(
            LevelMinimum(level=draw(st.integers(1, 3)), credits=draw(small))
            for _ in range(draw(st.integers(0, 1)))
        ),
        required_standards=draw(st.sampled_from([(), ("S",)])),
        max_converted_share=opt(st.sampled_from([Decimal("0"), Decimal("0.25"), Decimal("0.5")])),
        max_credits_per_institution=opt(small),
        max_credits_per_year=opt(small),
        max_credits_per_semester=opt(small),
        min_level_share=opt(st.sampled_from([Decimal("0"), Decimal("0.5")])),
        min_credits_from_awarding=opt(small),
        max_credits_by_kind=tuple(
            KindMaximum(kind=KINDS[1], credits=draw(small)) for _ in range(draw(st.integers(0, 1)))
        ),
    )
    return Goal(
        requirements=requirements,
        level=draw(st.sampled_from([None, 2, 3])),
        awarding_institution_id=AWARDING,
        calendar=CALENDAR,
        level_share=Decimal("0.5"),
    )


@dataclass(frozen=True)
class Verdict:
    unmet: int  # requirements unmet
    missing: Decimal  # credits missing over the unmet minimums
    spent: Decimal  # credits counted


def judge(goal: Goal, hs: list[Holding], x: tuple[int, ...]) -> Verdict | None:
    """The requirements read straight from their definitions; None if a cap is broken."""
    r = goal.requirements
    counted = [quanta(v) for v in x]

    def total(pred: object) -> Decimal:
        return sum((c for h, c in zip(hs, counted, strict=True) if pred(h)), Decimal(0))  # type: ignore[operator]

    caps: list[tuple[object, Decimal]] = []
    if r.max_credits_per_year is not None:
        for y in {CALENDAR.year_of(h.completed_on) for h in hs}:
            caps.append(
                (lambda h, y=y: CALENDAR.year_of(h.completed_on) == y, r.max_credits_per_year)
            )
    if r.max_credits_per_semester is not None:
        for t in {CALENDAR.term_of(h.completed_on) for h in hs}:
            caps.append(
                (lambda h, t=t: CALENDAR.term_of(h.completed_on) == t, r.max_credits_per_semester)
            )
    if r.max_credits_per_institution is not None:
        for i in (AWARDING, OTHER):
            caps.append((lambda h, i=i: h.institution_id == i, r.max_credits_per_institution))
    for km in r.max_credits_by_kind:
        caps.append((lambda h, k=km.kind: h.kind is k, km.credits))
    if r.max_converted_share is not None:
        limit = (r.total_credits * r.max_converted_share).quantize(Q, rounding=ROUND_DOWN)
        caps.append((lambda h: h.converted, limit))
    if any(total(pred) > limit for pred, limit in caps):
        return None
    minimums: list[tuple[object, Decimal]] = [(lambda h: True, r.total_credits)]
    for cm in r.minimum_by_category:
        minimums.append((lambda h, c=cm.category: h.category == c, cm.credits))
    levels: dict[int, Decimal] = {}
    for lm in r.minimum_at_level:
        levels[lm.level] = max(levels.get(lm.level, Decimal(0)), lm.credits)
    share = goal.level_share if r.min_level_share is None else r.min_level_share
    if goal.level is not None and goal.level > 1 and share > 0:
        near = (r.total_credits * share).quantize(Q, rounding=ROUND_CEILING)
        levels[goal.level - 1] = max(levels.get(goal.level - 1, Decimal(0)), near)
    for level, credits in levels.items():
        minimums.append((lambda h, lv=level: h.level is not None and h.level >= lv, credits))
    if r.min_credits_from_awarding is not None:
        minimums.append(
            (
                lambda h: h.institution_id == AWARDING and not h.converted,
                r.min_credits_from_awarding,
            )
        )
    unmet, missing = 0, Decimal(0)
    for pred, need in minimums:
        got = total(pred)
        if got < need:
            unmet, missing = unmet + 1, missing + need - got
    for code in r.required_standards:  # a holding citing it counts in full
        if not any(
            code in h.standard_codes and c == h.credits for h, c in zip(hs, counted, strict=True)
        ):
            unmet += 1
    return Verdict(unmet, missing, sum(counted, Decimal(0)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hs=holdings(), goal=goals())
def test_the_solver_agrees_with_brute_force(hs: list[Holding], goal: Goal) -> None:
    verdicts = [
        v
        for x in itertools.product(*(range(int(h.credits / Q) + 1) for h in hs))
        if (v := judge(goal, hs, x)) is not None
    ]
    best = min(verdicts, key=lambda v: (v.unmet, v.missing))
    result = assess(goal, hs)
    # The solver's own allocation, judged the same way, breaks no cap and is what it reports.
    x = tuple(int(result.allocations.get(h.id, Decimal(0)) / Q) for h in hs)
    own = judge(goal, hs, x)
    assert own is not None, "the solver's allocation breaks a cap"
    assert result.met == (best.unmet == 0)
    assert (own.unmet, own.missing) == (best.unmet, best.missing)
    assert len(result.unmet) == best.unmet
    assert (
        sum((v for k, v in result.shortfalls.items() if not k.startswith("required")), Decimal(0))
        == best.missing
    )
    if result.met:
        # It spends no more than the cheapest allocation that meets everything.
        assert result.credits_counted == min(v.spent for v in verdicts if v.unmet == 0)


def test_each_relaxation_is_believed_only_when_its_optimum_is_whole() -> None:
    """The solver tries the linear relaxation, then integrality on the decision columns alone,
    then on every column; an optimum in fractions of a quantum goes on to the next. Here the
    credit column's best is 1.5 in both relaxations (2x <= 3): only the last gives 1."""
    rows = _Rows(2)
    rows.add({0: 2}, None, 3)  # twice the credits at most 3 quanta
    rows.add({0: 1, 1: -10}, None, 0)  # counted only if decided (a 0/1 column)
    cost = np.array([-1.0, 0.1])
    solution = _solve(cost, rows, np.zeros(2), np.array([10.0, 1.0]), quanta=1)
    assert [round(v, 9) for v in solution] == [1, 1]
