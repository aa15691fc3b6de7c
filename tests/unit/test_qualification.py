"""Qualification requirements and the pure assessment of holdings against them."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.assessment import Assessment, Holding, assess
from domain.errors import InvalidInput, RuleNotApplicable
from domain.qualification import (
    CategoryMinimum,
    LevelMinimum,
    Qualification,
    Requirements,
)
from domain.values import OutcomeKind, parse_credits
from tests.unit.support import MAX_LEVEL, D, names, refused, replay

UNIVERSITY = uuid4()


def holding(
    credits: str,
    category: str = "major",
    *,
    year: int = 2024,
    day: int = 1,
    level: int | None = 6,
    institution: UUID = UNIVERSITY,
    converted: bool = False,
    standards: tuple[str, ...] = (),
    spent: str = "0",
    id: UUID | None = None,
) -> Holding:
    return Holding(
        id=id or uuid4(),
        credits=parse_credits(credits),
        level=level,
        kind=OutcomeKind.ACADEMIC_COURSE,
        category=category,
        institution_id=institution,
        completed_on=date(year, 1, day),
        converted=converted,
        standard_codes=frozenset(standards),
        spent=parse_credits(spent, allow_zero=True),
    )


def req(total: str, **kwargs: object) -> Requirements:
    return Requirements(total_credits=D(total), **kwargs).checked(MAX_LEVEL)  # type: ignore[arg-type]


def counted(result: Assessment, *hs: Holding) -> list[Decimal | None]:
    return [result.allocations.get(h.id) for h in hs]


# -- total, categories, levels, standards ---------------------------------------------------------
def test_total_met_and_unmet() -> None:
    hs = [holding("3"), holding("4")]
    result = assess(req("7"), hs)
    assert result.met
    assert result.unmet == ()
    assert result.credits_counted == D("7")
    assert result.notes == ()
    result = assess(req("8"), hs)
    assert not result.met
    assert result.unmet == ("total: 7.00 of 8.00 credits counted (1.00 missing)",)
    assert assess(req("1"), []).unmet == ("total: 0.00 of 1.00 credits counted (1.00 missing)",)


def test_spent_holdings_do_not_count() -> None:
    fresh, spent = holding("3"), holding("30", spent="30")
    result = assess(req("10"), [fresh, spent])
    assert spent.id not in result.allocations
    assert result.credits_counted == D("3.00")


def test_category_minimums() -> None:
    major, general = holding("6", "major"), holding("2", "general")
    r = req(
        "8",
        minimum_by_category=(
            CategoryMinimum(category="major", credits=D(5)),
            CategoryMinimum(category="general", credits=D(3)),
        ),
    )
    result = assess(r, [major, general])
    assert result.unmet == ("category general: 2.00 of 3.00 credits (1.00 missing)",)
    assert result.credits_counted == D("8.00")


def test_category_minimum_is_filled_before_the_total() -> None:
    # Oldest first would pick the electives for the total; the major minimum is served first.
    electives = [holding("3", "elective", year=2020) for _ in range(3)]
    major = holding("3", "major", year=2024)
    r = req("6", minimum_by_category=(CategoryMinimum(category="major", credits=D(3)),))
    result = assess(r, [*electives, major])
    assert result.met
    assert result.allocations[major.id] == D("3.00")
    assert result.credits_counted == D("6.00")
    assert counted(result, *electives).count(None) == 2


def test_level_minimums() -> None:
    low = holding("4", level=4, year=2020)
    high = holding("2", level=7)
    unknown = holding("5", level=None)
    r = req("6", minimum_at_level=(LevelMinimum(level=6, credits=D(3)),))
    result = assess(r, [low, high, unknown])
    assert result.unmet == ("level 6 or above: 2.00 of 3.00 credits (1.00 missing)",)
    assert assess(
        replace(r, minimum_at_level=(LevelMinimum(level=7, credits=D(2)),)), [low, high]
    ).met


def test_required_standards() -> None:
    math = holding("3", standards=("MATH-1",), year=2024)
    old = holding("3", year=2020)
    converted = holding("3", converted=True, standards=("CS-101", "SE-200"), year=2024)
    r = req("3", required_standards=("SE-200",))
    result = assess(r, [old, math, converted])
    assert result.met
    # The standard is served first even though "old" is older.
    assert result.allocations == {converted.id: D("3.00")}
    r = req("6", required_standards=("MATH-1", "PHYS-1"))
    result = assess(r, [old, math, converted])
    assert result.unmet == ("required standard PHYS-1: not held",)
    assert math.id in result.allocations


def test_required_standard_skips_a_holding_left_out_by_a_cap() -> None:
    first = holding("3", standards=("MATH-1",), year=2024, day=1)
    filler = holding("3", year=2023)
    second = holding("3", standards=("MATH-1",), year=2025)
    r = req("6", required_standards=("MATH-1",), max_credits_per_year=D(3))
    other_2024 = holding("3", standards=("X",), year=2024, day=2)
    result = assess(
        replace(r, required_standards=("X", "MATH-1")), [first, filler, second, other_2024]
    )
    # "X" took 2024's room, so MATH-1 is counted from 2025.
    assert result.allocations.get(first.id) is None
    assert result.allocations[second.id] == D("3.00")
    assert result.met


# -- caps -----------------------------------------------------------------------------------------
def test_max_converted_share() -> None:
    own = [holding("4", year=2020), holding("4", year=2020)]
    conv = [holding("2", converted=True, year=2018), holding("2", converted=True, year=2019)]
    r = req("10", max_converted_share=D("0.3"))
    result = assess(r, [*own, *conv])
    # Exactly the total counts (a redemption spends no more), at most 3 of it converted.
    assert result.met
    assert result.credits_counted == D("10.00")
    assert sum(a or 0 for a in counted(result, *conv)) <= D("3.00")
    assert result.notes == ()  # notes explain what is unmet
    result = assess(req("12", max_converted_share=D("0.25")), [*own, *conv])
    assert counted(result, *conv) == [D("2.00"), D("1.00")]
    assert result.unmet == ("total: 11.00 of 12.00 credits counted (1.00 missing)",)
    assert result.notes == ("converted share cap: 1.00 credits not counted",)


def test_converted_share_never_yields_more_than_hundredths() -> None:
    conv = holding("10", converted=True)
    result = assess(req("10.5", max_converted_share=D("0.33")), [conv])
    assert result.allocations[conv.id] == D("3.46")  # 3.465 rounded down
    assert result.credits_counted.as_tuple().exponent >= -2


def test_zero_converted_share_counts_no_conversion() -> None:
    conv = holding("5", converted=True)
    result = assess(req("5", max_converted_share=D("0")), [conv])
    assert result.allocations == {}
    assert result.notes == ("converted share cap: 5.00 credits not counted",)


def test_per_institution_cap() -> None:
    other = uuid4()
    a = [holding("4", institution=UNIVERSITY, day=d) for d in (1, 2, 3)]
    b = holding("4", institution=other, day=4)
    r = req("14", max_credits_per_institution=D(10))
    result = assess(r, [*a, b])
    assert counted(result, *a, b) == [D("4.00"), D("4.00"), D("2.00"), D("4.00")]
    assert result.unmet == ()
    assert result.met
    result = assess(req("15", max_credits_per_institution=D(10)), [*a, b])
    assert result.unmet == ("total: 14.00 of 15.00 credits counted (1.00 missing)",)
    assert result.notes == ("institution cap of 10.00: 2.00 credits not counted",)


def test_yearly_cap_partial_holding() -> None:
    hs = [holding("20", year=2024, day=1), holding("20", year=2024, day=2)]
    hs.append(holding("4", year=2024, day=3))
    result = assess(req("45", max_credits_per_year=D(42)), hs)
    assert counted(result, *hs) == [D("20.00"), D("20.00"), D("2.00")]
    assert result.unmet == ("total: 42.00 of 45.00 credits counted (3.00 missing)",)
    assert result.notes == ("yearly cap of 42.00 in 2024: 2.00 credits not counted",)


def test_capped_credits_are_noted_once() -> None:
    # Twenty 3-credit major courses, all in one year: 42 count, 18 do not. Each holding left
    # out is reported once, even though the category pass and the total pass both look at it.
    hs = [holding("3", "major", year=2024, day=1 + i) for i in range(20)]
    r = req(
        "140",
        minimum_by_category=(CategoryMinimum(category="major", credits=D(60)),),
        max_credits_per_year=D(42),
    )
    result = assess(r, hs)
    assert result.credits_counted == D("42.00")
    assert result.notes == ("yearly cap of 42.00 in 2024: 18.00 credits not counted",)
    assert result.unmet == (
        "total: 42.00 of 140.00 credits counted (98.00 missing)",
        "category major: 42.00 of 60.00 credits (18.00 missing)",
    )


# -- Korea's Academic Credit Bank System: bachelor ------------------------------------------------
ACBS_BACHELOR = Requirements(
    total_credits=D(140),
    minimum_by_category=(
        CategoryMinimum(category="major", credits=D(60)),
        CategoryMinimum(category="general", credits=D(30)),
    ),
    max_credits_per_year=D(42),
).checked(MAX_LEVEL)


def acbs_record(major: int, general: int, elective: int, years: range) -> list[Holding]:
    """3-credit courses spread over ``years``, at most 14 courses (42 credits) a year."""
    courses = ["major"] * major + ["general"] * general + ["elective"] * elective
    slots = [(y, d) for y in years for d in range(1, 15)]
    assert len(courses) <= len(slots)
    return [holding("3", c, year=y, day=d) for c, (y, d) in zip(courses, slots, strict=False)]


def test_acbs_bachelor_met() -> None:
    record = acbs_record(major=24, general=11, elective=12, years=range(2021, 2025))  # 141 credits
    result = assess(ACBS_BACHELOR, record)
    assert result.met, result.unmet
    # 141 credits held, exactly 140 counted: a redemption spends one credit of a course and
    # leaves the other two available.
    assert result.credits_counted == D("140.00")
    assert sum(1 for a in result.allocations.values() if a != D(3)) == 1
    assert result.notes == ()


def test_acbs_bachelor_short_of_major_and_general() -> None:
    record = acbs_record(major=19, general=9, elective=19, years=range(2021, 2025))
    result = assess(ACBS_BACHELOR, record)
    assert result.unmet == (
        "category major: 57.00 of 60.00 credits (3.00 missing)",
        "category general: 27.00 of 30.00 credits (3.00 missing)",
    )
    assert result.credits_counted == D("140.00")


def test_acbs_yearly_cap_keeps_a_fast_learner_from_finishing_in_three_years() -> None:
    # 150 credits earned in three years (50 a year): only 42 a year count.
    record = [
        holding("5", c, year=y, day=d)
        for y in (2022, 2023, 2024)
        for d, c in enumerate(["major"] * 6 + ["general"] * 3 + ["elective"], start=1)
    ]
    result = assess(ACBS_BACHELOR, record)
    assert result.credits_counted == D("126.00")
    assert result.unmet == ("total: 126.00 of 140.00 credits counted (14.00 missing)",)
    assert set(result.notes) == {
        f"yearly cap of 42.00 in {y}: 8.00 credits not counted" for y in (2022, 2023, 2024)
    }
    # A fourth year closes the gap.
    record += [holding("5", "elective", year=2025, day=d) for d in (1, 2, 3)]
    assert assess(ACBS_BACHELOR, record).met


# -- determinism ----------------------------------------------------------------------------------
def test_allocation_is_deterministic_and_oldest_first() -> None:
    hs = [
        holding("3", c, year=2020 + i % 5, day=1 + i)
        for i, c in enumerate(["major", "general", "elective"] * 8)
    ]
    r = req(
        "30",
        minimum_by_category=(CategoryMinimum(category="general", credits=D(6)),),
        max_credits_per_year=D(12),
    )
    expected = assess(r, hs)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = hs[:]
        rng.shuffle(shuffled)
        assert assess(r, shuffled) == expected
    oldest, newest = holding("3", year=2020), holding("3", year=2025)
    assert assess(req("3"), [newest, oldest]).allocations == {oldest.id: D("3.00")}
    # Same day: the id breaks the tie.
    a = holding("3", id=UUID(int=1))
    b = holding("3", id=UUID(int=2))
    assert assess(req("3"), [b, a]).allocations == {a.id: D("3.00")}


# -- checked requirements and the Qualification aggregate -----------------------------------------
def test_requirements_checked_normalises() -> None:
    r = Requirements(
        total_credits=D(140),
        minimum_by_category=(CategoryMinimum(category=" major ", credits=D(60)),),
        minimum_at_level=(LevelMinimum(level=6, credits=D(30)),),
        required_standards=(" CS-101 ",),
        max_converted_share=D("0.5"),
        max_credits_per_institution=D(70),
        max_credits_per_year=D(42),
    ).checked(MAX_LEVEL)
    assert r.total_credits == D("140.00")
    assert r.minimum_by_category == (CategoryMinimum(category="major", credits=D("60.00")),)
    assert r.required_standards == ("CS-101",)
    assert r.max_converted_share == D("0.50")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"total_credits": D(0)}, ("totalCredits",)),
        (
            {
                "minimum_by_category": (
                    CategoryMinimum(category="a", credits=D(1)),
                    CategoryMinimum(category=" a", credits=D(2)),
                )
            },
            ("minimumByCategory",),
        ),
        ({"minimum_by_category": (CategoryMinimum(category="", credits=D(1)),)}, ("category",)),
        ({"minimum_at_level": (LevelMinimum(level=0, credits=D(1)),)}, ("minimumAtLevel",)),
        (
            {"minimum_at_level": (LevelMinimum(level=MAX_LEVEL + 1, credits=D(1)),)},
            ("minimumAtLevel",),
        ),
        ({"max_converted_share": D("1.01")}, ("maxConvertedShare",)),
        ({"max_converted_share": D("-0.1")}, ("maxConvertedShare",)),
        ({"max_credits_per_institution": D(0)}, ("maxCreditsPerInstitution",)),
        ({"max_credits_per_year": D("-1")}, ("maxCreditsPerYear",)),
        ({"required_standards": ("",)}, ("requiredStandards",)),
    ],
)
def test_requirements_checked_refuses(kwargs: dict[str, object], field: tuple[str]) -> None:
    base = Requirements(total_credits=D(10))
    with pytest.raises(InvalidInput) as info:
        replace(base, **kwargs).checked(MAX_LEVEL)  # type: ignore[arg-type]
    assert info.value.code == "INVALID_INPUT"
    assert info.value.field == field


def create(**kwargs: object) -> Qualification:
    args: dict[str, object] = {
        "name": "Bachelor of Engineering (ACBS)",
        "level": 6,
        "awarding_institution_id": UNIVERSITY,
        "requirements": ACBS_BACHELOR,
        "max_level": MAX_LEVEL,
    }
    args.update(kwargs)
    return Qualification.create(**args)  # type: ignore[arg-type]


def test_qualification_create_amend_retire() -> None:
    q = create(requirements=Requirements(total_credits=D(140)))
    assert q.requirements == Requirements(total_credits=D("140.00"))
    assert (q.name, q.level, q.requirements_version, q.retired) == (
        "Bachelor of Engineering (ACBS)",
        6,
        1,
        False,
    )
    q.amend(ACBS_BACHELOR, MAX_LEVEL)
    assert q.requirements_version == 2
    assert q.requirements == ACBS_BACHELOR
    q.retire()
    assert q.retired
    events = q.collect_events()
    assert names(events) == ["Created", "Amended", "Retired"]
    rebuilt = replay(events)
    assert (rebuilt.requirements, rebuilt.requirements_version, rebuilt.retired) == (
        ACBS_BACHELOR,
        2,
        True,
    )


def test_qualification_refusals() -> None:
    for bad in ({"level": 0}, {"level": MAX_LEVEL + 1}, {"name": " "}):
        with pytest.raises(InvalidInput):
            create(**bad)
    q = create()
    q.collect_events()
    with refused(q, InvalidInput, "INVALID_INPUT") as info:
        q.amend(replace(ACBS_BACHELOR, total_credits=D("140")), MAX_LEVEL)  # same once checked
    assert "changes nothing" in info.value.message
    with refused(q, InvalidInput, "INVALID_INPUT"):
        q.amend(replace(ACBS_BACHELOR, max_converted_share=D(2)), MAX_LEVEL)
    q.retire()
    q.collect_events()
    with refused(q, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        q.retire()
    with refused(q, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        q.amend(replace(ACBS_BACHELOR, total_credits=D(120)), MAX_LEVEL)
