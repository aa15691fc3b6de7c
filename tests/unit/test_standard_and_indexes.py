"""Outcome standards and the uniqueness index aggregates."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import InvalidInput
from domain.indexes import CredentialIndex, IdentityIndex, IssuerIndex
from domain.standard import OutcomeStandard, StandardTerms
from domain.values import OutcomeKind
from tests.unit.support import MAX_LEVEL, D, names, refused

D_DAY = date(2026, 6, 1)


def define(**kwargs: object) -> OutcomeStandard:
    fields: dict[str, object] = {
        "title": "Programming fundamentals",
        "level": 5,
        "credits": "4",
        "accepted_kinds": (OutcomeKind.ACADEMIC_COURSE, OutcomeKind.MOOC, OutcomeKind.MOOC),
    }
    code = kwargs.pop("code", " CS-101 ")
    fields.update(kwargs)
    return OutcomeStandard.define(
        code=code,
        terms=StandardTerms(**fields),  # type: ignore[arg-type]
        max_level=MAX_LEVEL,
    )


def test_define_standard() -> None:
    standard = define()
    assert standard.id == OutcomeStandard.create_id("CS-101")
    assert (standard.code, standard.level, standard.credits) == ("CS-101", 5, D("4.00"))
    assert standard.accepted_kinds == (OutcomeKind.ACADEMIC_COURSE, OutcomeKind.MOOC)
    assert names(standard.collect_events()) == ["Defined"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"level": 0}, ("level",)),
        ({"level": MAX_LEVEL + 1}, ("level",)),
        ({"accepted_kinds": ()}, ("acceptedKinds",)),
        ({"code": ""}, ("code",)),
        ({"title": "t" * 301}, ("title",)),
        ({"credits": "0"}, ("credits",)),
    ],
)
def test_define_refuses(kwargs: dict[str, object], field: tuple[str]) -> None:
    with pytest.raises(InvalidInput) as info:
        define(**kwargs)
    assert info.value.code == "INVALID_INPUT"
    assert info.value.field == field


def test_withdraw_once() -> None:
    standard = define()
    standard.withdraw(today=D_DAY)
    assert standard.withdrawn
    standard.collect_events()
    with refused(standard, InvalidInput, "INVALID_INPUT"):
        standard.withdraw(today=D_DAY)


def test_index_ids_are_derived_from_the_unique_value() -> None:
    issuer, account, outcome = uuid4(), uuid4(), uuid4()
    claim = CredentialIndex(
        issuer_id=issuer, credential_id="urn:c:1", account_id=account, outcome_id=outcome
    )
    assert claim.id == CredentialIndex.create_id(issuer, "urn:c:1")
    assert (claim.account_id, claim.outcome_id) == (account, outcome)
    assert CredentialIndex.create_id(issuer, "urn:c:2") != claim.id
    assert CredentialIndex.create_id(uuid4(), "urn:c:1") != claim.id
    identity = IdentityIndex.claim(
        id=IdentityIndex.create_id("h"), claim_id=outcome, sealed_holder="sealed"
    )
    assert (identity.learner_id, identity.claim_id, identity.released) == (None, outcome, False)
    assert IssuerIndex(issuer_uri="did:web:x", institution_id=issuer).id == (
        IssuerIndex.create_id("did:web:x")
    )
    # Different kinds of index never share an id for the same text.
    assert IdentityIndex.create_id("h") != IdentityIndex.create_id("i")
    assert len({IdentityIndex.create_id("x"), IssuerIndex.create_id("x")}) == 2


def test_an_identity_is_released_once_and_claimed_again() -> None:
    identity = IdentityIndex.claim(id=uuid4(), claim_id=uuid4(), sealed_holder="first")
    identity.release()
    assert (identity.released, identity.sealed_holder) == (True, None)
    with refused(identity, InvalidInput, "INVALID_INPUT"):
        identity.release()
    second = uuid4()
    identity.reclaim(second, "second")
    assert (identity.released, identity.claim_id, identity.sealed_holder) == (
        False,
        second,
        "second",
    )
