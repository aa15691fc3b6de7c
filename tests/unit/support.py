"""Builders and assertions shared by the domain unit tests (no I/O anywhere)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from domain.credit_account import CreditAccount
from domain.errors import DomainError
from domain.framework import EQF
from domain.records import DepositedOutcome
from domain.rules import (
    ConversionRule,
    ConversionTerms,
    OutcomeCriteria,
    RecognitionRule,
    RecognitionTerms,
    RuleVersion,
)
from domain.standard import OutcomeStandard, StandardTerms
from domain.values import OutcomeKind, RuleModel

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
# Rules in these tests reach back explicitly (a rule's window starts on its creation day unless
# it says otherwise), so that the learning of years past is theirs to decide.
SINCE = date(2000, 1, 1)
MAX_LEVEL = EQF.max_level


def D(value: str | int) -> Decimal:
    return Decimal(value)


def _state(agg: Aggregate) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in vars(agg).items() if k != "_pending_events"})


@contextmanager
def refused(agg: Aggregate, error: type[DomainError], code: str) -> Iterator[Any]:
    """Asserts the block raises exactly ``error`` with ``code`` and leaves ``agg`` untouched:
    no new pending event, same version, same state."""
    pending = list(agg.pending_events)
    version = agg.version
    state = _state(agg)
    with pytest.raises(error) as info:
        yield info
    assert type(info.value) is error, f"expected {error.__name__}, got {type(info.value)}"
    assert info.value.code == code
    assert error.code == code
    assert list(agg.pending_events) == pending, "a refused command recorded an event"
    assert agg.version == version
    assert _state(agg) == state, "a refused command changed the aggregate"


def names(events: Any) -> list[str]:
    return [type(e).__name__ for e in events]


def replay(events: Any) -> Any:
    agg = None
    for e in events:
        agg = e.mutate(agg)
    return agg


# -- credit account builders ---------------------------------------------------------------------
def credential(
    *,
    issuer_id: UUID | None = None,
    credential_id: str | None = None,
    kind: OutcomeKind = OutcomeKind.ACADEMIC_COURSE,
    title: str = "Linear Algebra",
    credits: object = "3",
    completed_on: date | None = None,
    standard_code: str | None = None,
    level: int | None = 6,
    hours: object | None = None,
    result: str | None = None,
    key_id: str | None = "k1",
    evidence_digest: str = "sha256:abc",
) -> DepositedOutcome:
    return DepositedOutcome(
        issuer_id=issuer_id or uuid4(),
        credential_id=credential_id or f"urn:uuid:{uuid4()}",
        kind=kind,
        title=title,
        credits=credits,  # type: ignore[arg-type]  # the domain parses what it is given
        completed_on=completed_on or TODAY - timedelta(days=30),
        evidence_digest=evidence_digest,
        standard_code=standard_code,
        level=level,
        hours=hours,  # type: ignore[arg-type]
        result=result,
        key_id=key_id,
        framework_credits=_as_framework(credits),
    )


def _as_framework(credits: object) -> Decimal | None:
    """What the bank would normalise the claim to for an issuer with no declared scheme (the
    claim itself), when the claim is a number at all (bad-input tests pass anything)."""
    try:
        return Decimal(str(credits))
    except ArithmeticError:
        return None


def new_account() -> CreditAccount:
    return CreditAccount(learner_id=uuid4())


def deposit(account: CreditAccount, at: datetime = NOW, **kwargs: Any) -> UUID:
    outcome_id = uuid4()
    account.deposit(credential(**kwargs), outcome_id, at, MAX_LEVEL)
    return outcome_id


def recognized(
    account: CreditAccount,
    *,
    credits: object = "3",
    level: int = 6,
    category: str = "major",
    **kwargs: Any,
) -> UUID:
    """Deposits and recognises by an officer, at the stated credits (against the catalogue
    standard of its ``standard_code``, if it claims one)."""
    outcome_id = deposit(account, credits=credits, level=level, **kwargs)
    code = kwargs.get("standard_code")
    account.recognize_by_officer(
        outcome_id,
        credits=None,
        level=level,
        category=category,
        officer="officer-1",
        max_level=MAX_LEVEL,
        identity_verified=True,
        on=TODAY,
        standard=None if code is None else standard(code),
    )
    return outcome_id


def standard(code: str, **changes: Any) -> OutcomeStandard:
    """A catalogue standard: level 6, 10 credits, every outcome kind, any issuer and result."""
    fields: dict[str, Any] = {
        "title": f"Standard {code}",
        "level": 6,
        "credits": D("10"),
        "accepted_kinds": tuple(OutcomeKind),
    }
    return OutcomeStandard.define(
        code=code, terms=StandardTerms(**{**fields, **changes}), max_level=MAX_LEVEL
    )


# -- rules ---------------------------------------------------------------------------------------
def recognition_terms(
    *,
    institution_id: UUID | None = None,
    kind: OutcomeKind | None = None,
    standard_code: str | None = None,
    credits: Decimal | None = None,
    level: int = 6,
    category: str = "major",
    valid_from: date | None = SINCE,
    valid_until: date | None = None,
) -> RecognitionTerms:
    return RecognitionTerms(
        criteria=OutcomeCriteria(
            institution_id=institution_id, kind=kind, standard_code=standard_code
        ),
        credits=credits,
        level=level,
        category=category,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def recognition_rule(today: date = TODAY, **kwargs: Any) -> RecognitionRule:
    return RecognitionRule.create(
        today=today,
        name="Course recognition",
        model=RuleModel.FRAMEWORK,
        terms=recognition_terms(**kwargs),
        max_level=MAX_LEVEL,
    )


def conversion_terms(
    *,
    institution_id: UUID | None = None,
    kind: OutcomeKind | None = None,
    standard_code: str | None = None,
    target_institution_id: UUID | None = None,
    target_code: str = "CS101",
    target_category: str = "major",
    ratio: object = "1",
    cap: object | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> ConversionTerms:
    return ConversionTerms(
        criteria=OutcomeCriteria(
            institution_id=institution_id, kind=kind, standard_code=standard_code
        ),
        target_institution_id=target_institution_id or uuid4(),
        target_code=target_code,
        target_category=target_category,
        ratio=ratio,  # type: ignore[arg-type]
        max_credits_per_learner=cap,  # type: ignore[arg-type]
        valid_from=valid_from,
        valid_until=valid_until,
    )


def conversion_rule(model: RuleModel = RuleModel.FRAMEWORK, **kwargs: Any) -> ConversionRule:
    """A conversion rule in force (accepted by the institutions it binds, approved by a second
    officer if it creates credit)."""
    terms = conversion_terms(**kwargs)
    return in_force(
        ConversionRule.create(
            name="Course conversion",
            model=model,
            terms=terms,
            justification=justification_for(terms),
        )
    )


def justification_for(terms: ConversionTerms) -> str | None:
    try:
        creates = Decimal(terms.ratio) > 1
    except (TypeError, ArithmeticError):
        return None
    return "a transfer the bank's audit allowed" if creates else None


def in_force(rule: ConversionRule) -> ConversionRule:
    for party in list(rule.awaiting_parties):
        rule.accept(party, f"registrar:{party}")
    if rule.needs_approval:
        rule.approve("officer-2")
    return rule


def version_of(rule: RecognitionRule | ConversionRule) -> RuleVersion:
    return rule.current()
