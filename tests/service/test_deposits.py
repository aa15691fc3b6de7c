"""Accepted deposits: VC-JWT with EdDSA and RS256, in the plain and the ``vc``-claim form, and a
JSON credential with an eddsa-rdfc-2022 Data Integrity proof that a recognition rule then
recognises. Each is mapped as docs/credentials.md says and kept as evidence (its digest)."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from application import data_integrity
from application.issuing import IssuerKey, sign_vc_jwt
from application.signing import multikey
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import OutcomeKind, OutcomeStatus, RuleModel
from tests.builders import SINCE, World, standards


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
@pytest.mark.parametrize("vc_claim", [False, True], ids=["plain", "vc-claim"])
def test_vc_jwt_is_accepted_and_mapped(world: World, algorithm: str, vc_claim: bool) -> None:
    keys = IssuerKey.ed25519() if algorithm == "EdDSA" else IssuerKey.rsa()
    uni, kim = world.issuer(keys=keys), world.learner(verified=False)
    valid_from = world.clock.now - timedelta(days=12)
    credential = world.credential(
        uni,
        kim,
        credits=4.5,
        achievement_type="Certification",
        human_code="NET-201",
        eqf_level=5,
        valid_from=valid_from,
    )
    token = sign_vc_jwt(credential, keys, vc_claim=vc_claim)
    before = world.bank.recorder.max_notification_id()
    outcome_id = world.bank.deposit_credential(kim.id, token, by_institution=uni.id)
    assert world.bank.recorder.max_notification_id() > before
    o = world.bank.account(kim.id).outcome(outcome_id)
    assert (o.credential_id, o.issuer_id, o.key_id) == (credential["id"], uni.id, keys.kid)
    assert o.credits_claimed == Decimal("4.5")
    assert o.kind is OutcomeKind.PROFESSIONAL_QUALIFICATION
    assert (o.level, o.standard_code, o.title) == (5, "NET-201", "Computer Networks")
    assert o.completed_on == valid_from.date()
    assert o.evidence_digest == "sha256:" + hashlib.sha256(token.encode()).hexdigest()
    assert o.status is OutcomeStatus.DEPOSITED  # unverified learner: not recognised yet


def test_data_integrity_credential_is_deposited_then_recognised_by_rule(world: World) -> None:
    uni, kim = world.issuer(), world.learner(verified=True)
    signed = world.data_integrity(uni, kim, human_code="MATH-101", credits=6)
    assert signed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    text = json.dumps(signed, ensure_ascii=False)
    verified = world.bank.verify_credential(text)
    assert (verified.issuer.id, verified.kid) == (uni.id, uni.keys.kid)

    outcome_id = world.bank.deposit_credential(kim.id, text, by_institution=uni.id)
    o = world.bank.account(kim.id).outcome(outcome_id)
    assert o.status is OutcomeStatus.DEPOSITED  # no rule yet
    assert (o.key_id, o.credits_claimed, o.standard_code, o.level) == (
        uni.keys.kid,
        Decimal("6"),
        "MATH-101",
        6,
    )
    assert o.evidence_digest == "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    world.bank.define_standard(
        "MATH-101", "Mathematics I", 6, Decimal("6"), (OutcomeKind.ACADEMIC_COURSE,)
    )
    rule_id = world.bank.create_recognition_rule(
        "Fudan mathematics",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            valid_from=SINCE,
            criteria=OutcomeCriteria(
                institution_id=uni.id, kind=OutcomeKind.ACADEMIC_COURSE, standard_code="MATH-101"
            ),
            level=6,
            category="major",
        ),
    )
    assert world.bank.apply_recognition_rules(kim.id) == 1
    o = world.bank.account(kim.id).outcome(outcome_id)
    assert o.status is OutcomeStatus.RECOGNIZED
    assert (o.recognized_credits, o.recognized_level, o.category) == (Decimal("6"), 6, "major")
    assert (o.rule_id, o.rule_version) == (rule_id, 1)
    assert (o.recognized_standard, o.standard_version) == ("MATH-101", 1)
    world.refused("DUPLICATE_CREDENTIAL", kim, text)


def test_data_integrity_with_a_second_registered_key(world: World) -> None:
    uni, kim = world.issuer(keys=IssuerKey.rsa()), world.learner()
    second = IssuerKey.ed25519()
    world.bank.add_institution_key(
        uni.id, second.jwk, valid_from=world.clock.now.replace(year=2020)
    )
    signed = world.data_integrity(uni, kim, keys=second)
    outcome_id = world.bank.deposit_credential(kim.id, json.dumps(signed))
    assert world.bank.account(kim.id).outcome(outcome_id).key_id == second.kid


def test_data_integrity_refusals(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    signed = world.data_integrity(uni, kim)

    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["creditsEarned"] = 30
    world.refused("INVALID_SIGNATURE", kim, json.dumps(tampered))

    # A valid proof by a key the issuer never registered.
    stranger = world.data_integrity(uni, kim, keys=IssuerKey.ed25519())
    world.refused("KEY_NOT_VALID", kim, json.dumps(stranger))

    # The proof of another credential of the same issuer.
    swapped = copy.deepcopy(signed)
    swapped["proof"] = world.data_integrity(uni, kim)["proof"]
    world.refused("INVALID_SIGNATURE", kim, json.dumps(swapped))

    no_proof = {k: v for k, v in signed.items() if k != "proof"}
    world.refused("INVALID_CREDENTIAL", kim, json.dumps(no_proof))

    expired = world.data_integrity(uni, kim, valid_until=world.clock.now - timedelta(days=1))
    world.refused("CREDENTIAL_EXPIRED", kim, json.dumps(expired))

    unknown = copy.deepcopy(signed)
    unknown["issuer"]["id"] = "https://nowhere.example/issuer"
    world.refused("UNKNOWN_ISSUER", kim, json.dumps(unknown))

    world.bank.suspend_institution(uni.id, "under review")
    world.refused("UNKNOWN_ISSUER", kim, json.dumps(signed))


def test_data_integrity_terms_outside_the_contexts_are_refused(world: World) -> None:
    """``achievement.ECTS`` (read for credits when creditsEarned/creditsAvailable are absent) is
    not defined by the shipped JSON-LD contexts, so RDFC-1.0 drops it and the proof cannot cover
    it. Added after signing, it must not be believed: undefined terms are refused (the Data
    Integrity spec's safe mode), so it cannot inflate a credential's credits."""
    uni, kim = world.issuer(), world.learner()
    credential = world.credential(uni, kim)
    del credential["credentialSubject"]["creditsEarned"]
    del credential["credentialSubject"]["achievement"]["creditsAvailable"]
    signed = data_integrity.sign(
        credential,
        uni.keys.private,
        f"{uni.uri}#{multikey(uni.keys.private.public_key())}",
        "2026-01-15T10:00:00Z",
        standards(),
    )
    world.refused("INVALID_CREDENTIAL", kim, json.dumps(signed))  # states no credits: refused

    inflated = copy.deepcopy(signed)
    inflated["credentialSubject"]["achievement"]["ECTS"] = 60
    world.refused("INVALID_CREDENTIAL", kim, json.dumps(inflated))

    # Any other undefined term is refused too, wherever it is.
    for where in ((), ("credentialSubject",), ("credentialSubject", "achievement")):
        extra = copy.deepcopy(world.data_integrity(uni, kim))
        target = extra
        for key in where:
            target = target[key]
        target["unsignedNote"] = "not covered by the proof"
        world.refused("INVALID_CREDENTIAL", kim, json.dumps(extra))


def test_data_integrity_sign_refuses_undefined_terms() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from domain.errors import InvalidCredential

    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:x", "ECTS": 3},
    }
    with pytest.raises(InvalidCredential, match="not defined"):
        data_integrity.sign(
            document,
            Ed25519PrivateKey.generate(),
            "https://issuer.example#k",
            "2026-01-15T10:00:00Z",
            standards(),
        )
