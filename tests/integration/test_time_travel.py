"""Time travel: an account as it stood at a version or a moment, and its history, by the bank's
clock (the ``clock`` fixture is moved between commands)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from application.bank import CreditBank
from domain.errors import InvalidInput
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, OutcomeStatus, RuleModel
from tests.builders import SINCE, deposit, outcome, register_issuer
from tests.conftest import Clock

KST = timezone(timedelta(hours=9))


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_versions_and_history_follow_the_clock(
    bank: CreditBank, clock: Clock, reopen: Callable[[], CreditBank]
) -> None:
    clock.now = at(1)
    uni = register_issuer(bank, "Hankuk University")
    bank.create_recognition_rule(
        "Hankuk courses",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            valid_from=SINCE,
            criteria=OutcomeCriteria(institution_id=uni.id),
            level=6,
            category="major",
        ),
    )
    kim = bank.register_learner("Kim", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    clock.now = at(2, 10)
    course_a = deposit(bank, kim, outcome(uni, "hk-a", credits="3"), actor="hankuk-registrar")
    clock.now = at(3)
    bank.verify_learner_identity(kim, IdentityVerification.DOCUMENT_CHECKED, "officer-park")
    clock.now = at(5, 14, 30)
    course_b = deposit(bank, kim, outcome(uni, "hk-b", credits="4.5"), actor="hankuk-registrar")
    clock.now = at(8)
    bank.revoke_outcome(kim, course_a, "issued in error", "officer-park")

    expected = [
        (1, "Opened", at(1), None),
        (2, "OutcomeDeposited", at(2, 10), "hankuk-registrar"),
        (3, "OutcomeRecognized", at(3), "rule"),
        (4, "OutcomeDeposited", at(5, 14, 30), "hankuk-registrar"),
        (5, "OutcomeRecognized", at(5, 14, 30), "rule"),
        (6, "OutcomeRevoked", at(8), "officer-park"),
    ]
    for app in (bank, reopen()):
        history = list(app.account_history(kim))
        assert [(h.version, h.type, h.at, h.actor) for h in history] == expected
        assert all(h.at.tzinfo is not None and h.at.utcoffset() == timedelta(0) for h in history)
        assert history[0].data == {"learner_id": kim}
        assert history[1].data["outcome_id"] == course_a
        assert history[1].data["credits"] == Decimal("3.00")
        assert history[1].data["completed_on"] == date(2025, 6, 30)
        assert history[2].data["outcome_id"] == course_a
        assert history[2].data["level"] == 6
        assert history[5].data["reason"] == "issued in error"
        page = list(app.account_history(kim, after_version=3, limit=2))
        assert [h.version for h in page] == [4, 5]
        assert list(app.account_history(kim, after_version=6)) == []

        moments = {
            at(1) - timedelta(microseconds=1): 0,  # before the account was opened
            at(1): 1,
            at(2, 9, 59): 1,
            at(2, 10): 2,
            datetime(2026, 3, 2, 19, 0, tzinfo=KST): 2,  # the same instant in Seoul
            at(4): 3,
            at(5, 14, 29): 3,
            at(6): 5,
            at(8): 6,
            at(31): 6,
        }
        assert {m: app.account_version_at(kim, m) for m in moments} == moments

        def as_of(moment: datetime, app: CreditBank = app) -> tuple[Decimal, dict[str, str]]:
            account = app.account(kim, version=app.account_version_at(kim, moment))
            statuses = {o.credential_id: o.status.value for o in account.outcomes.values()}
            return account.balance().total, statuses

        assert as_of(at(2, 12)) == (Decimal(0), {"hk-a": OutcomeStatus.DEPOSITED.value})
        assert as_of(at(4)) == (Decimal("3"), {"hk-a": "RECOGNIZED"})
        assert as_of(at(6)) == (Decimal("7.5"), {"hk-a": "RECOGNIZED", "hk-b": "RECOGNIZED"})
        assert as_of(at(9)) == (Decimal("4.5"), {"hk-a": "REVOKED", "hk-b": "RECOGNIZED"})
        assert app.account(kim).outcome(course_b).deposited_at == at(5, 14, 30)

    with pytest.raises(InvalidInput):
        bank.account_version_at(kim, datetime(2026, 3, 4))  # naive: refused


def test_an_unknown_learner_has_no_history(bank: CreditBank) -> None:
    from uuid import uuid4

    nobody = uuid4()
    assert list(bank.account_history(nobody)) == []
    assert bank.account_version_at(nobody, at(1)) == 0
