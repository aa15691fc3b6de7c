"""Value types shared by the aggregates: enumerations, credits, dates."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from domain.errors import InvalidInput

# Half credits exist; nobody needs finer than a hundredth.
CREDIT_QUANTUM = Decimal("0.01")
MAX_CREDITS = Decimal("1000")
MAX_HOURS = Decimal("100000")  # long work experience is counted in hours too
ZERO = Decimal("0")


def shared_copy(self: Any, memo: dict[int, Any]) -> Any:
    """``__deepcopy__`` of a record that nothing can change (frozen, holding only immutable
    values): the record itself. Aggregates are deep-copied each time the aggregate cache hands
    one to a command, and the generic deep copy visited every UUID, Decimal and date of each
    record, at every command (tests/unit/sharing.py checks what copies share)."""
    return self


class InstitutionKind(Enum):
    UNIVERSITY = "UNIVERSITY"
    JUNIOR_COLLEGE = "JUNIOR_COLLEGE"
    VOCATIONAL_SCHOOL = "VOCATIONAL_SCHOOL"
    ADULT_COLLEGE = "ADULT_COLLEGE"
    OPEN_UNIVERSITY = "OPEN_UNIVERSITY"
    TRAINING_PROVIDER = "TRAINING_PROVIDER"
    ENTERPRISE = "ENTERPRISE"
    CERTIFICATION_BODY = "CERTIFICATION_BODY"
    MOOC_PLATFORM = "MOOC_PLATFORM"


class OutcomeKind(Enum):
    ACADEMIC_COURSE = "ACADEMIC_COURSE"
    NON_DEGREE_COURSE = "NON_DEGREE_COURSE"
    VOCATIONAL_CERTIFICATE = "VOCATIONAL_CERTIFICATE"
    PROFESSIONAL_QUALIFICATION = "PROFESSIONAL_QUALIFICATION"
    MOOC = "MOOC"
    ENTERPRISE_TRAINING = "ENTERPRISE_TRAINING"
    WORK_EXPERIENCE = "WORK_EXPERIENCE"
    PRIOR_LEARNING = "PRIOR_LEARNING"  # a learner's portfolio, assessed by an officer (RPL)


class OutcomeStatus(Enum):
    DEPOSITED = "DEPOSITED"
    RECOGNIZED = "RECOGNIZED"
    REJECTED = "REJECTED"
    CONVERTED = "CONVERTED"
    REDEEMED = "REDEEMED"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"  # an updated credential, or a retake of the same learning, counts


class AwardStatus(Enum):
    STANDING = "STANDING"
    UNDER_REVIEW = "UNDER_REVIEW"  # credit under it was revoked or superseded: an officer decides
    RESCINDED = "RESCINDED"


class AwardDecision(Enum):
    REAFFIRM = "REAFFIRM"
    RESCIND = "RESCIND"


class IdentityVerification(Enum):
    UNVERIFIED = "UNVERIFIED"
    DOCUMENT_CHECKED = "DOCUMENT_CHECKED"
    ELECTRONIC_ID = "ELECTRONIC_ID"


class RuleModel(Enum):
    """Agreement: negotiated between two institutions (Shanghai model).
    Framework: derived from framework level and outcome standards (National Open University
    model)."""

    AGREEMENT = "AGREEMENT"
    FRAMEWORK = "FRAMEWORK"


class ConsentScope(Enum):
    OWN = "OWN"  # only the outcomes the organisation itself issued (the default)
    TRAINING = "TRAINING"  # enterprise-training outcomes, from any issuer (rival enterprises too)
    ALL = "ALL"  # the whole record


ENUM_TYPES: tuple[type[Enum], ...] = (
    InstitutionKind,
    OutcomeKind,
    OutcomeStatus,
    AwardStatus,
    AwardDecision,
    IdentityVerification,
    RuleModel,
    ConsentScope,
)


def parse_credits(
    value: object,
    field: str = "credits",
    *,
    allow_zero: bool = False,
    maximum: Decimal = MAX_CREDITS,
) -> Decimal:
    """Parses a credit amount: a finite, non-negative Decimal of at most two decimal places."""
    if isinstance(value, float):
        value = repr(value)  # never trust binary floats with money-like amounts
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{field} must be a decimal number, got {value!r}", (field,)) from None
    if not amount.is_finite():
        raise InvalidInput(f"{field} must be finite", (field,))
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(f"{field} must be greater than zero, got {amount}", (field,))
    if amount > maximum:
        raise InvalidInput(f"{field} must be at most {maximum}", (field,))
    if amount != amount.quantize(CREDIT_QUANTUM):
        raise InvalidInput(f"{field} has more than two decimal places: {amount}", (field,))
    return amount.quantize(CREDIT_QUANTUM)


def parse_text(value: object, field: str, *, max_length: int = 500, required: bool = True) -> str:
    """A trimmed, printable string of bounded length."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", (field,))
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput(f"{field} must not be empty", (field,))
    if len(cleaned) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", (field,))
    if any(unicodedata.category(c) == "Cc" for c in cleaned):  # C0, DEL and C1 controls
        raise InvalidInput(f"{field} contains control characters", (field,))
    return cleaned


E = TypeVar("E", bound=Enum)


def parse_enum(enum: type[E], value: object, field: str) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum)
        raise InvalidInput(f"{field} must be one of {allowed}, got {value!r}", (field,)) from None


def parse_level(value: object, max_level: int, field: str = "level") -> int:
    """A framework level: an integer in 1..max_level."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be an integer", (field,))
    if not 1 <= value <= max_level:
        raise InvalidInput(f"{field} must be between 1 and {max_level}, got {value}", (field,))
    return value


T = TypeVar("T")
MAX_INT64 = 2**63 - 1  # what both databases store in a version or limit column


def parse_whole(value: object, field: str, minimum: int = 0) -> int:
    """A whole number from ``minimum`` up to what a 64-bit column holds (a version, a limit)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be an integer", (field,))
    if not minimum <= value <= MAX_INT64:
        raise InvalidInput(f"{field} must be between {minimum} and {MAX_INT64}", (field,))
    return value


def parse_instance(value: object, cls: type[T], field: str) -> T:
    """A structured argument of the expected type (the API builds them; direct callers may not)."""
    if not isinstance(value, cls):
        raise InvalidInput(f"{field} must be {cls.__name__}, got {type(value).__name__}", (field,))
    return value


def parse_items(values: object, cls: type[T], field: str) -> tuple[T, ...]:
    """A list or tuple whose every item is of the expected type."""
    if not isinstance(values, list | tuple):
        raise InvalidInput(f"{field} must be a list", (field,))
    return tuple(parse_instance(v, cls, field) for v in values)


def parse_flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false", (field,))
    return value


def parse_day(value: object, field: str) -> date:
    """A calendar date (not a date-time, not text)."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(f"{field} must be a date", (field,))
    return value


def utc(moment: object, field: str = "timestamp") -> datetime:
    """Dates in the domain are timezone-aware UTC."""
    if not isinstance(moment, datetime):
        raise InvalidInput(f"{field} must be a date-time, got {type(moment).__name__}", (field,))
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("timestamps must be timezone-aware", (field,))
    return moment.astimezone(UTC)


def within(day: date, valid_from: date | None, valid_until: date | None) -> bool:
    """Inclusive validity window; an absent bound is open."""
    return (valid_from is None or valid_from <= day) and (valid_until is None or day <= valid_until)


def check_window(valid_from: object, valid_until: object) -> None:
    """A validity window of two optional calendar dates, in order."""
    if valid_from is not None:
        parse_day(valid_from, "validFrom")
    if valid_until is not None:
        parse_day(valid_until, "validUntil")
    if isinstance(valid_from, date) and isinstance(valid_until, date) and valid_until < valid_from:
        raise InvalidInput("validUntil is before validFrom", ("validUntil",))
