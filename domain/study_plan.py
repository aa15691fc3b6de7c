"""A learner's study plan for one qualification: what is left, and the earliest date it can be
met given the semester and yearly caps (docs/domain.md, awards).

What is left is the smallest set of shortfalls the exact assessment finds. New learning can be
chosen to close several at once (a major course at the right level from the awarding
institution closes the total, its category, the level share and the residency minimum
together), but categories are disjoint, so the credits still to earn are the largest of: the
total missing, the categories' shortfalls added up, each level's, and the awarding
institution's. They are then placed term by term from today, as much as each term's cap and its
year's cap leave after what already counts there: the term in which the last of them fits is
the earliest the qualification can be met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.assessment import Assessment, Calendar, Goal, Holding
from domain.values import ZERO

HORIZON_TERMS = 60  # thirty years of two terms: beyond it, "not within the horizon"


@dataclass(frozen=True, kw_only=True)
class PlannedTerm:
    term: str  # "2026/27 term 1"
    starts_on: date
    credits: Decimal  # the most that can count in it toward the qualification


@dataclass(frozen=True, kw_only=True)
class StudyPlan:
    met: bool
    shortfalls: dict[str, Decimal]  # requirement -> credits missing (a standard: 1)
    credits_to_earn: Decimal
    terms: tuple[PlannedTerm, ...]  # from today's term, until the credits fit
    earliest: date | None  # None: met already (today), or not within the horizon


def credits_to_earn(assessment: Assessment) -> Decimal:
    """The fewest new credits that close every credit shortfall (standards are courses)."""
    short = assessment.shortfalls
    categories = sum((v for k, v in short.items() if k.startswith("category ")), ZERO)
    others = [v for k, v in short.items() if not k.startswith(("category ", "required ", "award "))]
    return max([categories, *others], default=ZERO)


def study_plan(
    goal: Goal,
    assessment: Assessment,
    holdings: list[Holding],
    today: date,
    standard_credits: Decimal = ZERO,
) -> StudyPlan:
    """The plan from ``today``; ``standard_credits``: the credits of the required standards not
    held yet (their courses are learning to place too, and count toward the rest: at least the
    larger of the two is still to earn)."""
    need = max(credits_to_earn(assessment), standard_credits)
    if assessment.met:
        return StudyPlan(met=True, shortfalls={}, credits_to_earn=ZERO, terms=(), earliest=today)
    req = goal.requirements
    cal = goal.calendar
    by_id = {h.id: h for h in holdings}
    used_term: dict[tuple[int, int], Decimal] = {}
    used_year: dict[int, Decimal] = {}
    for hid, credits in assessment.allocations.items():
        h = by_id.get(hid)
        if h is None:
            continue
        t = cal.term_of(h.completed_on)
        used_term[t] = used_term.get(t, ZERO) + credits
        used_year[t[0]] = used_year.get(t[0], ZERO) + credits
    terms: list[PlannedTerm] = []
    left = need
    term = cal.term_of(today)
    for _ in range(HORIZON_TERMS):
        if left <= 0:
            break
        room = left
        if req.max_credits_per_semester is not None:
            room = min(room, req.max_credits_per_semester - used_term.get(term, ZERO))
        if req.max_credits_per_year is not None:
            room = min(room, req.max_credits_per_year - used_year.get(term[0], ZERO))
        room = max(room, ZERO)
        if room > 0:
            starts = max(today, term_start(cal, term))
            terms.append(PlannedTerm(term=cal.term_label(term), starts_on=starts, credits=room))
            used_term[term] = used_term.get(term, ZERO) + room
            used_year[term[0]] = used_year.get(term[0], ZERO) + room
            left -= room
        term = next_term(cal, term)
    return StudyPlan(
        met=False,
        shortfalls=dict(assessment.shortfalls),
        credits_to_earn=need,
        terms=tuple(terms),
        earliest=terms[-1].starts_on if terms and left <= 0 else None,
    )


def term_start(cal: Calendar, term: tuple[int, int]) -> date:
    """The first day of a term: (academic year, number from 1)."""
    first = cal.term_starts[0]
    months = sorted(cal.term_starts, key=lambda m: (m - first) % 12)
    month = months[term[1] - 1]
    return date(term[0] + (1 if month < first else 0), month, 1)


def next_term(cal: Calendar, term: tuple[int, int]) -> tuple[int, int]:
    year, number = term
    return (year, number + 1) if number < len(cal.term_starts) else (year + 1, 1)
