"""Personal data: readable through the bank, never in clear in the database, and gone for good
after erasure (crypto-shredding) while the credit history still loads."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from application.bank import CreditBank
from application.settings import Settings
from domain.errors import InvalidInput
from domain.learner import LearnerErased
from domain.values import ConsentScope, IdentityVerification, InstitutionKind, OutcomeStatus
from tests.builders import (
    all_stored_bytes,
    deposit,
    events_table,
    learner_key_count,
    learner_key_exists,
    outcome,
    register_issuer,
    snapshots_table,
)

NAME = "김민준 Kim Minjun"
DOCUMENT = "1101 0119-9003 07777x"
DOCUMENT_NORMALISED = "11010119900307777X"
BIRTH = date(1990, 3, 7)


def _needles() -> dict[str, bytes]:
    """The personal values in every form they could take in a row."""
    forms: dict[str, bytes] = {}
    for label, value in {
        "name": NAME,
        "hangul name": "김민준",
        "latin name": "Kim Minjun",
        "document": DOCUMENT,
        "document (normalised)": DOCUMENT_NORMALISED,
        "document digits": "110101199003077777",
        "birth date": BIRTH.isoformat(),
    }.items():
        forms[label] = value.encode()
        forms[label + " (json escaped)"] = json.dumps(value)[1:-1].encode()
        forms[label + " (utf-16)"] = value.encode("utf-16-le")
    return forms


def _leaks(bank: CreditBank, settings: Settings) -> dict[str, list[str]]:
    tables = all_stored_bytes(bank, settings)
    assert tables[events_table(bank)], "the event store was not found or is empty"
    assert snapshots_table(bank) in tables
    # Control: what is public (an institution's name) is found in clear, so the scan reads rows.
    assert any(b"Hankuk University" in cell for cell in tables[events_table(bank)])
    found: dict[str, list[str]] = {}
    for table, cells in tables.items():
        for label, needle in _needles().items():
            if any(needle in cell or needle.lower() in cell.lower() for cell in cells):
                found.setdefault(table, []).append(label)
    return found


def test_personal_data_is_sealed_and_erasable(
    bank: CreditBank, settings: Settings, reopen: Callable[[], CreditBank]
) -> None:
    uni = register_issuer(bank, "Hankuk University")
    corp = register_issuer(bank, "Hanbit Corp", InstitutionKind.ENTERPRISE)
    kim = bank.register_learner(NAME, "resident_id", DOCUMENT, BIRTH)
    lee = bank.register_learner("Lee Seoyeon", "PASSPORT", "M12345678", date(1995, 5, 5))
    bank.verify_learner_identity(kim, IdentityVerification.DOCUMENT_CHECKED, "officer")
    bank.grant_consent(kim, corp.id, ConsentScope.TRAINING)
    course = deposit(bank, kim, outcome(uni, "hk-101", credits="3"))
    bank.recognize_outcome(kim, course, "officer", level=6, category="major")
    for n in range(5):  # enough events for snapshots of the learner and the account
        deposit(bank, kim, outcome(uni, f"hk-2{n}", credits="1.5"))
    bank.revoke_consent(kim, corp.id)
    bank.grant_consent(kim, corp.id, ConsentScope.ALL)
    bank.revoke_consent(kim, corp.id)

    expected = {
        "name": NAME,
        "identityDocumentType": "RESIDENT_ID",
        "identityDocumentNumber": DOCUMENT.strip(),
        "identityDocumentCountry": "CN",
        "birthDate": BIRTH.isoformat(),
    }
    fresh = reopen()
    assert fresh.personal_data(kim) == expected
    assert (fresh.personal_data(lee) or {}).get("name") == "Lee Seoyeon"
    assert list(fresh.snapshots.get(kim)), "the learner should have a snapshot by now"  # type: ignore[union-attr]
    assert _leaks(bank, settings) == {}

    # -- erasure ------------------------------------------------------------------------------
    keys_before = learner_key_count(bank)
    assert learner_key_exists(bank, kim)
    bank.erase_learner(kim, "dpo@creditbank")
    assert not learner_key_exists(bank, kim)
    assert learner_key_count(bank) == keys_before - 2  # the learner's and the identity claim's
    assert learner_key_exists(bank, lee)

    fresh = reopen()
    assert fresh.personal_data(kim) is None
    learner = fresh.learner(kim)
    assert learner.erased
    assert learner.sealed_personal_data is None
    assert learner.consents == {}
    assert fresh.personal_data(lee) == {
        "name": "Lee Seoyeon",
        "identityDocumentType": "PASSPORT",
        "identityDocumentNumber": "M12345678",
        "identityDocumentCountry": "CN",
        "birthDate": "1995-05-05",
    }
    # The credit history stays: every event, every credit, at every version.
    account = fresh.account(kim)
    assert account.outcome(course).status is OutcomeStatus.RECOGNIZED
    assert account.balance().total == 3
    assert len(account.outcomes) == 6
    assert [h.type for h in fresh.account_history(kim)] == [
        "Opened",
        "OutcomeDeposited",
        "OutcomeRecognized",
        *["OutcomeDeposited"] * 5,
    ]
    assert list(fresh.account(kim, version=2).outcomes) == [str(course)]
    # An erased learner is refused further changes.
    with pytest.raises(InvalidInput):
        fresh.verify_learner_identity(kim, IdentityVerification.ELECTRONIC_ID, "officer")
    assert _leaks(bank, settings) == {}


def test_an_erased_learners_account_takes_nothing_new(bank: CreditBank) -> None:
    """After erasure the account serves audits (and issuers' revocations) only."""
    uni = register_issuer(bank, "Erasure University")
    kim = bank.register_learner(NAME, "resident_id", DOCUMENT, BIRTH)
    bank.verify_learner_identity(kim, IdentityVerification.DOCUMENT_CHECKED, "officer")
    pending = deposit(bank, kim, outcome(uni, "er-1", credits="3"))
    bank.erase_learner(kim, "dpo@creditbank")
    before = bank.recorder.max_notification_id()
    with pytest.raises(LearnerErased):
        bank.recognize_outcome(kim, pending, "officer", Decimal("3"), 6, "major")
    with pytest.raises(LearnerErased):
        deposit(bank, kim, outcome(uni, "er-2", credits="3"))
    assert bank.recorder.max_notification_id() == before
    bank.revoke_outcome(kim, pending, "issued in error", "officer")  # issuers still can
    assert bank.account(kim).outcome(pending).status is OutcomeStatus.REVOKED


def test_many_learners_personal_data_opened_at_once_is_each_ones(bank: CreditBank) -> None:
    """The batch path (intake) reads many learners' keys in one query: the same data as one by
    one, and nothing for an erased learner or one the bank never knew."""
    ids = [
        bank.register_learner(f"Batch {n}", "PASSPORT", f"E{n:08d}", date(1990, 1, n + 1))
        for n in range(3)
    ]
    bank.erase_learner(ids[1], "dpo@creditbank")
    stranger = uuid.uuid4()
    sealed = {i: bank.learner(i).sealed_personal_data for i in ids}
    sealed[stranger] = sealed[ids[0]]  # sealed with another learner's key: opens to nothing
    opened = bank.vault.open_many(sealed)
    assert opened[ids[0]] == bank.personal_data(ids[0])
    assert opened[ids[0]] is not None
    assert opened[ids[0]]["identityDocumentNumber"] == "E00000000"
    assert opened[ids[1]] is None
    assert opened[ids[2]] == bank.personal_data(ids[2])
    assert opened[stranger] is None
