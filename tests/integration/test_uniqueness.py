"""Uniqueness: one credential in one account once; one identity document per learner; one issuer
URI per institution. Each refusal is typed and leaves the store as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

import pytest

from application.bank import CreditBank
from domain.errors import DuplicateCredential, DuplicateIdentity, InvalidInput
from domain.indexes import CredentialIndex
from domain.values import IdentityVerification, InstitutionKind
from tests.builders import (
    deposit,
    ed25519_jwk,
    learner_key_count,
    outcome,
    register_issuer,
)


def _copies(bank: CreditBank, learners: list[UUID], issuer_id: UUID, credential_id: str) -> int:
    return sum(
        1
        for learner_id in learners
        for o in bank.account(learner_id).outcomes.values()
        if o.issuer_id == issuer_id and o.credential_id == credential_id
    )


def test_same_credential_twice_into_one_account(
    bank: CreditBank, reopen: Callable[[], CreditBank]
) -> None:
    uni = register_issuer(bank, "Hankuk University")
    kim = bank.register_learner("Kim", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    bank.verify_learner_identity(kim, IdentityVerification.ELECTRONIC_ID, "officer")
    first = deposit(bank, kim, outcome(uni, "hk-101"))
    before = bank.recorder.max_notification_id()
    with pytest.raises(DuplicateCredential) as err:
        deposit(bank, kim, outcome(uni, "hk-101", credits="6", title="Same id, other content"))
    assert err.value.code == "DUPLICATE_CREDENTIAL"
    assert bank.recorder.max_notification_id() == before
    fresh = reopen()
    assert _copies(fresh, [kim], uni.id, "hk-101") == 1
    assert list(fresh.account(kim).outcomes) == [str(first)]
    index = fresh.repository.get(CredentialIndex.create_id(uni.id, "hk-101"))
    assert (index.account_id, index.outcome_id) == (fresh.account_id(kim), first)


def test_same_credential_into_two_accounts(
    bank: CreditBank, reopen: Callable[[], CreditBank]
) -> None:
    uni = register_issuer(bank, "Hankuk University")
    kim = bank.register_learner("Kim", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    lee = bank.register_learner("Lee", "PASSPORT", "M12345678", date(1995, 5, 5))
    deposit(bank, kim, outcome(uni, "hk-101"))
    before = bank.recorder.max_notification_id()
    with pytest.raises(DuplicateCredential) as err:
        deposit(bank, lee, outcome(uni, "hk-101"))
    assert err.value.code == "DUPLICATE_CREDENTIAL"
    assert bank.recorder.max_notification_id() == before
    fresh = reopen()
    assert _copies(fresh, [kim, lee], uni.id, "hk-101") == 1
    assert fresh.account(lee).outcomes == {}


def test_same_credential_id_from_another_issuer_is_another_credential(bank: CreditBank) -> None:
    uni = register_issuer(bank, "Hankuk University")
    college = register_issuer(bank, "Seoul JC", InstitutionKind.JUNIOR_COLLEGE)
    kim = bank.register_learner("Kim", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    deposit(bank, kim, outcome(uni, "course-101"))
    deposit(bank, kim, outcome(college, "course-101"))
    assert len(bank.account(kim).outcomes) == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("11010119900307777X", "11010119900307777X", id="identical"),
        pytest.param("11010119900307777X", "1101 0119-9003 07777x", id="spacing-and-case"),
        pytest.param("11010119900307777X", "１１０１０１１９９００３０７７７７Ｘ", id="full-width"),
        pytest.param("M12345678", " m1234-5678 ", id="passport-dashes"),
    ],
)
def test_same_identity_document_opens_one_learner(
    bank: CreditBank, reopen: Callable[[], CreditBank], first: str, second: str
) -> None:
    kim = bank.register_learner("Kim Minjun", "RESIDENT_ID", first, date(1990, 3, 7))
    before = bank.recorder.max_notification_id()
    keys = learner_key_count(bank)
    with pytest.raises(DuplicateIdentity) as err:
        bank.register_learner("Someone Else", "resident_id", second, date(1991, 1, 1))
    assert err.value.code == "DUPLICATE_IDENTITY"
    assert bank.recorder.max_notification_id() == before
    assert learner_key_count(bank) == keys == 2  # the learner's and the identity claim's
    assert reopen().learner_ids() == [kim]


# -- identity: country + number (issue 11, finding 5) --------------------------------------------
def test_one_citizen_number_under_two_document_types_opens_one_account(
    bank: CreditBank, reopen: Callable[[], CreditBank]
) -> None:
    kim = bank.register_learner("Kim", "RESIDENT_ID", "110105199003077777", date(1990, 3, 7))
    before, keys = bank.recorder.max_notification_id(), learner_key_count(bank)
    with pytest.raises(DuplicateIdentity):
        bank.register_learner("Kim", "NATIONAL_ID", "110105199003077777", date(1990, 3, 7))
    assert (bank.recorder.max_notification_id(), learner_key_count(bank)) == (before, keys)
    assert reopen().find_learner("110105-19900307-7777") == kim


def test_the_same_passport_number_from_two_countries_is_two_people(bank: CreditBank) -> None:
    lee = bank.register_learner("Lee", "PASSPORT", "M12345678", date(1995, 5, 5), "KR")
    tan = bank.register_learner("Tan", "PASSPORT", "m1234-5678", date(1992, 2, 2), "SG")
    assert lee != tan
    assert (bank.find_learner("M12345678", "kr"), bank.find_learner("M12345678", "SG")) == (
        lee,
        tan,
    )
    assert bank.find_learner("M12345678") is None  # not a Chinese document
    assert bank.personal_data(tan)["identityDocumentCountry"] == "SG"
    with pytest.raises(DuplicateIdentity):
        bank.register_learner("Lee", "RESIDENCE_PERMIT", "M12345678", date(1995, 5, 5), "KR")


@pytest.mark.parametrize("country", ["XX", "china", "", "C1", 86])
def test_an_unknown_country_is_refused_and_nothing_is_written(
    bank: CreditBank, country: object
) -> None:
    before, keys = bank.recorder.max_notification_id(), learner_key_count(bank)
    with pytest.raises(InvalidInput) as err:
        bank.register_learner("Kim", "PASSPORT", "M1", date(1990, 1, 1), country)  # type: ignore[arg-type]
    assert err.value.field == ("identityDocumentCountry",)
    assert (bank.recorder.max_notification_id(), learner_key_count(bank)) == (before, keys)


def test_erasure_cuts_the_identity_link_and_the_person_may_return(
    bank: CreditBank, reopen: Callable[[], CreditBank]
) -> None:
    first = bank.register_learner("Kim", "RESIDENT_ID", "110105199003077777", date(1990, 3, 7))
    bank.erase_learner(first, "officer-1")
    fresh = reopen()
    assert fresh.find_learner("110105199003077777") is None
    assert learner_key_count(fresh) == 0  # nothing left that could open the link
    again = fresh.register_learner("Kim", "NATIONAL_ID", "110105199003077777", date(1990, 3, 7))
    assert again != first
    assert reopen().find_learner("110105199003077777") == again
    with pytest.raises(DuplicateIdentity):
        fresh.register_learner("Kim", "RESIDENT_ID", "110105199003077777", date(1990, 3, 7))


def test_issuer_uri_reused(bank: CreditBank, reopen: Callable[[], CreditBank]) -> None:
    uri = "https://hankuk.example.ac.kr/issuer"
    uni = bank.register_institution(
        "Hankuk University", InstitutionKind.UNIVERSITY, ed25519_jwk("k1"), issuer_uri=uri
    )
    before = bank.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as err:
        bank.register_institution(
            "Impostor University", InstitutionKind.UNIVERSITY, ed25519_jwk("k1"), issuer_uri=uri
        )
    assert err.value.code == "INVALID_INPUT"
    assert err.value.field == ("issuerUri",)
    assert bank.recorder.max_notification_id() == before
    fresh = reopen()
    assert [i.id for i in fresh.institutions()] == [uni]
    found = fresh.institution_by_issuer(uri)
    assert found is not None
    assert found.name == "Hankuk University"
