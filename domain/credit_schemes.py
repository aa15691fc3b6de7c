"""Credit schemes: how an institution's own credits compare with the framework's.

Institutions count credits differently (the same course is 2 credits at one, 3 at another), so a
claimed credit is not a framework credit. Each institution declares its scheme: the notional
learning hours one of its credits stands for, or a table from its credit values to framework
credits (for schemes that are not proportional). A claimed amount is normalised through the
scheme in force when the learning was completed; where the credential states learning hours too,
the framework credits never exceed what those hours are worth. An institution that declared no
scheme counts in framework credits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from domain.errors import InvalidInput
from domain.framework import Framework
from domain.values import CREDIT_QUANTUM, parse_credits, parse_day, parse_instance, shared_copy

MAX_HOURS_PER_CREDIT = Decimal("200")


@dataclass(frozen=True, kw_only=True)
class CreditEquivalence:
    """One row of a credit table: ``native`` credits of the institution are ``framework``
    credits."""

    __deepcopy__ = shared_copy

    native: Decimal
    framework: Decimal


@dataclass(frozen=True, kw_only=True)
class CreditScheme:
    __deepcopy__ = shared_copy

    hours_per_credit: Decimal | None = None
    table: tuple[CreditEquivalence, ...] = ()
    effective_from: date | None = None  # None: since always

    def normalise(self, claimed: Decimal, framework: Framework) -> Decimal | None:
        """Framework credits for ``claimed`` native credits; None when the table has no row for
        that value (an officer decides)."""
        if self.table:
            return next((row.framework for row in self.table if row.native == claimed), None)
        if self.hours_per_credit is None:
            return claimed
        hours = claimed * self.hours_per_credit
        return (hours / framework.hours_per_credit).quantize(CREDIT_QUANTUM, rounding=ROUND_DOWN)


FRAMEWORK_CREDITS = CreditScheme()  # an institution that declared no scheme


def framework_credits(
    claimed: Decimal, hours: Decimal | None, scheme: CreditScheme, framework: Framework
) -> Decimal | None:
    """What an outcome is worth on the framework before any rule applies: its claimed credits
    through the issuer's scheme, never more than its stated hours are worth; hours alone
    (work experience, training) give credits by the framework's hours per credit. None: nothing
    to go on (an officer decides)."""
    value = scheme.normalise(claimed, framework) if claimed > 0 else None
    if hours is not None:
        by_hours = framework.credits_for_hours(hours)
        value = by_hours if value is None else min(value, by_hours)
    return value


def parse_scheme(scheme: object) -> CreditScheme:
    scheme = parse_instance(scheme, CreditScheme, "creditScheme")
    hours = scheme.hours_per_credit
    if hours is not None:
        hours = parse_credits(hours, "hoursPerCredit", maximum=MAX_HOURS_PER_CREDIT)
    table = tuple(parse_instance(row, CreditEquivalence, "table") for row in scheme.table)
    if hours is not None and table:
        raise InvalidInput("declare hours per credit or a table, not both", ("table",))
    rows = tuple(
        CreditEquivalence(
            native=parse_credits(row.native, "table.native"),
            framework=parse_credits(row.framework, "table.framework", allow_zero=True),
        )
        for row in table
    )
    if len({row.native for row in rows}) != len(rows):
        raise InvalidInput("the table lists a credit value twice", ("table",))
    if hours is None and not rows:
        raise InvalidInput(
            "a credit scheme states hours per credit or a table", ("hoursPerCredit",)
        )
    effective = scheme.effective_from
    return CreditScheme(
        hours_per_credit=hours,
        table=tuple(sorted(rows, key=lambda r: r.native)),
        effective_from=None if effective is None else parse_day(effective, "effectiveFrom"),
    )


def scheme_on(schemes: Sequence[CreditScheme], day: date) -> CreditScheme:
    """The scheme in force on ``day``: the last declared whose effective date is not after it."""
    in_force = [s for s in schemes if s.effective_from is None or s.effective_from <= day]
    return in_force[-1] if in_force else FRAMEWORK_CREDITS
