"""Credit schemes: claimed credits are normalised before they meet the framework (issue 11,
finding 2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.credit_schemes import (
    FRAMEWORK_CREDITS,
    CreditEquivalence,
    CreditScheme,
    framework_credits,
    parse_scheme,
    scheme_on,
)
from domain.errors import InvalidInput
from domain.framework import EQF

D = Decimal
amounts = st.decimals(min_value=D("0.5"), max_value=D("60"), places=1)
rates = st.decimals(min_value=D("5"), max_value=D("60"), places=1)


def test_a_korean_credit_is_half_an_ects_credit() -> None:
    """15 notional hours per credit (ACBS) against EQF/ECTS's 30."""
    hankuk = parse_scheme(CreditScheme(hours_per_credit=D(15)))
    assert EQF.hours_per_credit == D(30)
    assert framework_credits(D(3), None, hankuk, EQF) == D("1.50")
    assert framework_credits(D(3), None, FRAMEWORK_CREDITS, EQF) == D(3)


def test_stated_hours_bound_the_claim_and_alone_give_credits() -> None:
    assert framework_credits(D(50), D(30), FRAMEWORK_CREDITS, EQF) == D(1)  # 30 hours, 50 claimed
    assert framework_credits(D(0), D(90), FRAMEWORK_CREDITS, EQF) == D(3)  # hours only
    assert framework_credits(D(0), None, FRAMEWORK_CREDITS, EQF) is None  # nothing to go on


def test_a_table_places_only_the_values_it_lists() -> None:
    table = parse_scheme(
        CreditScheme(
            table=(
                CreditEquivalence(native=D(4), framework=D(5)),
                CreditEquivalence(native=D(2), framework=D(2.5)),
            )
        )
    )
    assert [r.native for r in table.table] == [D(2), D(4)]
    assert framework_credits(D(4), None, table, EQF) == D(5)
    assert framework_credits(D(3), None, table, EQF) is None


@pytest.mark.parametrize(
    "scheme",
    [
        CreditScheme(),
        CreditScheme(hours_per_credit=D(0)),
        CreditScheme(hours_per_credit=D(201)),
        CreditScheme(
            hours_per_credit=D(15), table=(CreditEquivalence(native=D(1), framework=D(1)),)
        ),
        CreditScheme(
            table=(
                CreditEquivalence(native=D(1), framework=D(1)),
                CreditEquivalence(native=D(1), framework=D(2)),
            )
        ),
    ],
    ids=["empty", "zero-hours", "too-many-hours", "both", "value-twice"],
)
def test_a_bad_scheme_is_refused(scheme: CreditScheme) -> None:
    with pytest.raises(InvalidInput):
        parse_scheme(scheme)


def test_the_scheme_in_force_when_the_learning_ended() -> None:
    old = CreditScheme(hours_per_credit=D(15))
    new = CreditScheme(hours_per_credit=D(20), effective_from=date(2024, 3, 1))
    assert scheme_on([old, new], date(2024, 2, 29)) is old
    assert scheme_on([old, new], date(2024, 3, 1)) is new
    assert scheme_on([new], date(2020, 1, 1)) is FRAMEWORK_CREDITS


@given(claimed=amounts, hours=st.one_of(st.none(), amounts), rate=rates)
def test_framework_credits_never_exceed_what_the_hours_are_worth(
    claimed: Decimal, hours: Decimal | None, rate: Decimal
) -> None:
    value = framework_credits(claimed, hours, CreditScheme(hours_per_credit=rate), EQF)
    assert value is not None
    assert value >= 0
    assert value <= claimed * rate / EQF.hours_per_credit
    if hours is not None:
        assert value <= hours / EQF.hours_per_credit


@given(a=amounts, b=amounts, rate=rates)
def test_more_claimed_is_never_worth_less(a: Decimal, b: Decimal, rate: Decimal) -> None:
    scheme = CreditScheme(hours_per_credit=rate)
    low, high = sorted((a, b))
    assert framework_credits(low, None, scheme, EQF) <= framework_credits(high, None, scheme, EQF)  # type: ignore[operator]
