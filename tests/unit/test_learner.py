"""Learner: identity verification, consents, erasure."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidInput, NotFound
from domain.learner import Consent, Learner, LearnerErased
from domain.values import ConsentScope, IdentityVerification, OutcomeKind
from tests.unit.support import NOW, TODAY, names, refused, replay


def learner() -> Learner:
    person = Learner.register(
        id=uuid4(), document_hash="hmac:0badc0de", sealed_personal_data="sealed:blob", at=NOW
    )
    person.collect_events()
    return person


def test_register() -> None:
    lid = uuid4()
    person = Learner.register(
        id=lid, document_hash="hmac:1", sealed_personal_data="sealed:2", at=NOW
    )
    assert person.id == lid
    assert person.verification is IdentityVerification.UNVERIFIED
    assert not person.identity_verified
    assert not person.erased
    assert person.consents == {}
    events = person.collect_events()
    assert names(events) == ["Registered"]
    # Only the keyed hash and the sealed blob are recorded: no clear personal data.
    assert events[0].document_hash == "hmac:1"
    assert events[0].sealed_personal_data == "sealed:2"


@pytest.mark.parametrize("doc", ["", "hmac:1"])
def test_register_needs_sealed_data(doc: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Learner.register(id=uuid4(), document_hash=doc, sealed_personal_data="", at=NOW)
    assert info.value.code == "INVALID_INPUT"


def test_the_learner_keeps_no_identity_key_in_clear() -> None:
    """Since generation 2 the link from the document to the account is the identity index's,
    sealed; the learner's own event carries no key (generation 1 kept one here)."""
    person = Learner.register(id=uuid4(), document_hash="", sealed_personal_data="s", at=NOW)
    assert person.document_hash == ""


# -- identity -------------------------------------------------------------------------------------
def test_verify_identity_records_who_and_when() -> None:
    person = learner()
    person.verify_identity(IdentityVerification.DOCUMENT_CHECKED, "officer-7", NOW)
    assert person.identity_verified
    assert person.verification is IdentityVerification.DOCUMENT_CHECKED
    assert (person.verified_by, person.verified_at) == ("officer-7", NOW)
    events = person.collect_events()
    assert names(events) == ["IdentityVerified"]
    assert events[0].method is IdentityVerification.DOCUMENT_CHECKED


def test_verify_identity_upgrade_and_same_level() -> None:
    person = learner()
    person.verify_identity(IdentityVerification.DOCUMENT_CHECKED, "officer-7", NOW)
    person.verify_identity(IdentityVerification.ELECTRONIC_ID, "eid-gateway", NOW)
    person.verify_identity(IdentityVerification.ELECTRONIC_ID, "eid-gateway", NOW)
    assert person.verification is IdentityVerification.ELECTRONIC_ID
    assert len(person.collect_events()) == 3


def test_verify_identity_refuses_unverified() -> None:
    person = learner()
    with refused(person, InvalidInput, "INVALID_INPUT") as info:
        person.verify_identity(IdentityVerification.UNVERIFIED, "officer-7", NOW)
    assert info.value.field == ("method",)


def test_verify_identity_refuses_a_downgrade() -> None:
    person = learner()
    person.verify_identity(IdentityVerification.ELECTRONIC_ID, "eid-gateway", NOW)
    person.collect_events()
    with refused(person, InvalidInput, "INVALID_INPUT") as info:
        person.verify_identity(IdentityVerification.DOCUMENT_CHECKED, "officer-7", NOW)
    assert "already verified by ELECTRONIC_ID" in info.value.message


def test_verify_identity_refused_after_erasure() -> None:
    person = learner()
    person.erase("officer-1", NOW)
    person.collect_events()
    with refused(person, LearnerErased, "INVALID_INPUT"):
        person.verify_identity(IdentityVerification.DOCUMENT_CHECKED, "officer-7", NOW)


# -- consents -------------------------------------------------------------------------------------
def test_grant_consent_and_consent_for() -> None:
    person, employer = learner(), uuid4()
    expires = TODAY + timedelta(days=90)
    person.grant_consent(employer, ConsentScope.TRAINING, expires, NOW)
    assert names(person.collect_events()) == ["ConsentGranted"]
    consent = person.consent_for(employer, TODAY)
    assert consent == Consent(
        organization_id=employer, scope=ConsentScope.TRAINING, expires_on=expires, granted_at=NOW
    )
    assert person.consent_for(employer, expires) == consent  # inclusive expiry
    assert person.consent_for(employer, expires + timedelta(days=1)) is None
    assert person.consent_for(uuid4(), TODAY) is None


def test_consent_without_expiry_and_expiring_today() -> None:
    person, org = learner(), uuid4()
    person.grant_consent(org, ConsentScope.ALL, None, NOW)
    assert person.consent_for(org, TODAY + timedelta(days=10_000)) is not None
    person.grant_consent(org, ConsentScope.TRAINING, TODAY, NOW)  # replaces the previous grant
    consent = person.consent_for(org, TODAY)
    assert consent is not None
    assert consent.scope is ConsentScope.TRAINING
    assert len(person.consents) == 1


def test_grant_consent_refuses_an_expiry_in_the_past() -> None:
    person = learner()
    with refused(person, InvalidInput, "INVALID_INPUT") as info:
        person.grant_consent(uuid4(), ConsentScope.ALL, TODAY - timedelta(days=1), NOW)
    assert info.value.field == ("expiresOn",)


ORG, RIVAL = uuid4(), uuid4()


@pytest.mark.parametrize(
    ("scope", "kind", "issuer", "covered"),
    [
        (ConsentScope.TRAINING, OutcomeKind.ENTERPRISE_TRAINING, ORG, True),
        (ConsentScope.TRAINING, OutcomeKind.ENTERPRISE_TRAINING, RIVAL, True),  # any issuer
        (ConsentScope.TRAINING, OutcomeKind.ACADEMIC_COURSE, ORG, False),
        (ConsentScope.TRAINING, OutcomeKind.MOOC, RIVAL, False),
        (ConsentScope.TRAINING, OutcomeKind.WORK_EXPERIENCE, ORG, False),
        *((ConsentScope.OWN, kind, ORG, True) for kind in OutcomeKind),
        *((ConsentScope.OWN, kind, RIVAL, False) for kind in OutcomeKind),
        *((ConsentScope.ALL, kind, RIVAL, True) for kind in OutcomeKind),
    ],
)
def test_consent_covers_by_scope(
    scope: ConsentScope, kind: OutcomeKind, issuer: UUID, covered: bool
) -> None:
    consent = Consent(organization_id=ORG, scope=scope, expires_on=None, granted_at=NOW)
    assert consent.covers(kind, issuer) is covered


def test_revoke_consent() -> None:
    person, org = learner(), uuid4()
    person.grant_consent(org, ConsentScope.ALL, None, NOW)
    person.revoke_consent(org)
    assert person.consent_for(org, TODAY) is None
    assert names(person.collect_events()) == ["ConsentGranted", "ConsentRevoked"]


def test_revoke_unknown_consent() -> None:
    person = learner()
    person.grant_consent(uuid4(), ConsentScope.ALL, None, NOW)
    person.collect_events()
    with refused(person, NotFound, "NOT_FOUND") as info:
        person.revoke_consent(uuid4())
    assert info.value.field == ("organizationId",)


# -- erasure --------------------------------------------------------------------------------------
def test_erase_clears_personal_data_and_consents() -> None:
    person, org = learner(), uuid4()
    person.verify_identity(IdentityVerification.DOCUMENT_CHECKED, "officer-7", NOW)
    person.grant_consent(org, ConsentScope.ALL, None, NOW)
    person.erase("dpo", NOW + timedelta(days=1))
    assert person.erased
    assert person.erased_at == NOW + timedelta(days=1)
    assert person.sealed_personal_data is None
    assert person.consents == {}
    assert person.consent_for(org, TODAY) is None
    assert names(person.collect_events()) == ["IdentityVerified", "ConsentGranted", "Erased"]


def test_erase_is_final() -> None:
    person, org = learner(), uuid4()
    person.erase("dpo", NOW)
    person.collect_events()
    with refused(person, LearnerErased, "INVALID_INPUT"):
        person.erase("dpo", NOW)
    with refused(person, LearnerErased, "INVALID_INPUT"):
        person.grant_consent(org, ConsentScope.ALL, None, NOW)
    with refused(person, NotFound, "NOT_FOUND"):
        person.revoke_consent(org)


def test_replay_rebuilds_the_learner() -> None:
    person = Learner.register(
        id=uuid4(), document_hash="hmac:1", sealed_personal_data="sealed:2", at=NOW
    )
    org1, org2 = uuid4(), uuid4()
    person.verify_identity(IdentityVerification.ELECTRONIC_ID, "eid", NOW)
    person.grant_consent(org1, ConsentScope.ALL, None, NOW)
    person.grant_consent(org2, ConsentScope.TRAINING, TODAY, NOW)
    person.revoke_consent(org1)
    rebuilt = replay(person.collect_events())
    assert rebuilt.consents == person.consents
    assert rebuilt.verification is IdentityVerification.ELECTRONIC_ID
    assert rebuilt.version == person.version == 5
