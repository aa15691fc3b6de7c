"""Value parsing: credits, text, enumerations, timestamps and validity windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.values import (
    MAX_CREDITS,
    MAX_INT64,
    OutcomeKind,
    check_window,
    parse_credits,
    parse_enum,
    parse_instance,
    parse_items,
    parse_text,
    parse_whole,
    utc,
    within,
)


# -- credits --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("3", Decimal("3.00")),
        ("0.5", Decimal("0.50")),
        (" 2.25 ", Decimal("2.25")),
        (7, Decimal("7.00")),
        (Decimal("4.5"), Decimal("4.50")),
        ("1000", Decimal("1000.00")),
        ("1e2", Decimal("100.00")),
        (0.1, Decimal("0.10")),  # via repr, never binary noise
    ],
)
def test_credits_parses_valid_amounts(given: object, expected: Decimal) -> None:
    amount = parse_credits(given)
    assert amount == expected
    assert amount.as_tuple().exponent == -2  # always quantised to the hundredth


def test_credits_float_uses_shortest_repr() -> None:
    assert parse_credits(1.5) == Decimal("1.50")
    assert parse_credits(0.29) == Decimal("0.29")  # Decimal(0.29) would be 0.28999999999999998...
    # repr(2.675) is "2.675": three decimals are refused, not rounded from 2.67499999...
    with pytest.raises(InvalidInput):
        parse_credits(2.675)


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("-1", "greater than zero"),
        (-0.5, "greater than zero"),
        ("0", "greater than zero"),
        (0, "greater than zero"),
        ("NaN", "finite"),
        ("sNaN", "finite"),
        (float("nan"), "finite"),
        ("Infinity", "finite"),
        ("-Infinity", "finite"),
        (float("inf"), "finite"),
        ("1.005", "more than two decimal places"),
        ("0.001", "more than two decimal places"),
        (0.125, "more than two decimal places"),
        ("1000.01", "at most 1000"),
        ("1e4", "at most 1000"),
        (1001, "at most 1000"),
        ("abc", "decimal number"),
        ("", "decimal number"),
        ("   ", "decimal number"),
        ("1,5", "decimal number"),
        (None, "decimal number"),
        (True, "decimal number"),
        ([1], "decimal number"),
    ],
)
def test_credits_refuses(given: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_credits(given, "creditsClaimed")
    assert info.value.code == "INVALID_INPUT"
    assert fragment in info.value.message
    assert info.value.field == ("creditsClaimed",)


def test_credits_zero_only_when_allowed() -> None:
    assert parse_credits("0", allow_zero=True) == Decimal("0.00")
    with pytest.raises(InvalidInput):
        parse_credits("-0.01", allow_zero=True)


def test_credits_bound_is_inclusive() -> None:
    assert parse_credits(MAX_CREDITS) == MAX_CREDITS
    assert parse_credits("0.01") == Decimal("0.01")


# -- text -----------------------------------------------------------------------------------------
def test_text_trims() -> None:
    assert parse_text("  Linear Algebra  ", "title") == "Linear Algebra"
    assert parse_text("线性代数", "title") == "线性代数"


@pytest.mark.parametrize("given", ["", "   ", "\u3000"])
def test_text_required_refuses_empty(given: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_text(given, "title")
    assert info.value.code == "INVALID_INPUT"
    assert info.value.field == ("title",)
    assert "must not be empty" in info.value.message


def test_text_optional_accepts_empty() -> None:
    assert parse_text("  ", "note", required=False) == ""


def test_text_length_bound() -> None:
    assert parse_text("x" * 10, "code", max_length=10) == "x" * 10
    with pytest.raises(InvalidInput) as info:
        parse_text("x" * 11, "code", max_length=10)
    assert "longer than 10" in info.value.message
    # The bound applies after trimming.
    assert parse_text(" " + "x" * 10 + " ", "code", max_length=10) == "x" * 10


@pytest.mark.parametrize(
    "given", ["a\nb", "a\tb", "a\x00b", "a\x1bb", "a\rb", "a\x7fb", "a\x85b", "a\x9fb"]
)
def test_text_refuses_control_characters(given: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_text(given, "title")
    assert info.value.code == "INVALID_INPUT"
    assert "control characters" in info.value.message


@pytest.mark.parametrize("given", [None, 3, b"bytes", ["a"]])
def test_text_refuses_non_strings(given: object) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_text(given, "title")
    assert "must be a string" in info.value.message


# -- enumerations and timestamps ------------------------------------------------------------------
def test_enum_value() -> None:
    assert parse_enum(OutcomeKind, "MOOC", "kind") is OutcomeKind.MOOC
    with pytest.raises(InvalidInput) as info:
        parse_enum(OutcomeKind, "mooc", "kind")
    assert info.value.field == ("kind",)
    assert "ACADEMIC_COURSE" in info.value.message


def test_utc_requires_aware_and_normalises() -> None:
    with pytest.raises(InvalidInput) as info:
        utc(datetime(2026, 1, 1, 12, 0))
    assert info.value.code == "INVALID_INPUT"
    beijing = timezone(timedelta(hours=8))
    moment = utc(datetime(2026, 1, 1, 6, 0, tzinfo=beijing))
    assert moment == datetime(2025, 12, 31, 22, 0, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(0)


# -- validity windows -----------------------------------------------------------------------------
FROM, UNTIL = date(2025, 1, 1), date(2025, 12, 31)


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2024, 12, 31), False),
        (FROM, True),  # inclusive
        (date(2025, 6, 15), True),
        (UNTIL, True),  # inclusive
        (date(2026, 1, 1), False),
    ],
)
def test_within_closed_window(day: date, inside: bool) -> None:
    assert within(day, FROM, UNTIL) is inside


def test_within_open_bounds() -> None:
    assert within(date(1900, 1, 1), None, UNTIL)
    assert not within(date(2026, 1, 1), None, UNTIL)
    assert within(date(2999, 1, 1), FROM, None)
    assert not within(date(2024, 1, 1), FROM, None)
    assert within(date(2024, 1, 1), None, None)


def test_check_window() -> None:
    check_window(FROM, UNTIL)
    check_window(FROM, FROM)  # a one-day window
    check_window(None, UNTIL)
    check_window(FROM, None)
    check_window(None, None)
    with pytest.raises(InvalidInput) as info:
        check_window(UNTIL, FROM)
    assert info.value.code == "INVALID_INPUT"
    assert info.value.field == ("validUntil",)


# -- arguments of the wrong type (found by fuzzing the application's commands) -------------------
@pytest.mark.parametrize("given", [date(2026, 1, 1), "2026-01-01T00:00:00Z", 0, None])
def test_utc_refuses_what_is_not_a_datetime(given: object) -> None:
    with pytest.raises(InvalidInput) as info:
        utc(given, "validFrom")
    assert info.value.field == ("validFrom",)


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [(datetime(2025, 1, 1), None), (None, datetime(2025, 1, 1, tzinfo=UTC)), ("2025-01-01", None)],
)
def test_windows_take_calendar_dates_only(valid_from: object, valid_until: object) -> None:
    with pytest.raises(InvalidInput):
        check_window(valid_from, valid_until)


@pytest.mark.parametrize(
    ("given", "minimum", "ok"),
    [
        (0, 0, True),
        (MAX_INT64, 0, True),
        (MAX_INT64 + 1, 0, False),
        (-1, 0, False),
        (0, 1, False),
        (True, 0, False),
        (1.0, 0, False),
        ("1", 0, False),
    ],
)
def test_whole_numbers_fit_a_64_bit_column(given: object, minimum: int, ok: bool) -> None:
    if ok:
        assert parse_whole(given, "limit", minimum) == given
    else:
        with pytest.raises(InvalidInput):
            parse_whole(given, "limit", minimum)


def test_instance_and_items_check_structured_arguments() -> None:
    assert parse_instance(OutcomeKind.MOOC, OutcomeKind, "kind") is OutcomeKind.MOOC
    with pytest.raises(InvalidInput) as info:
        parse_instance({"kind": "MOOC"}, OutcomeKind, "kind")
    assert "OutcomeKind" in info.value.message
    assert parse_items(["a", "b"], str, "codes") == ("a", "b")
    for bad in ("ab", ["a", 1], None):
        with pytest.raises(InvalidInput):
            parse_items(bad, str, "codes")
