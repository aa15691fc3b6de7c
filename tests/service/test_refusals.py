"""Every refusal of a deposit, with the bad credential built for real (real keys, real JWS), its
error code, and proof that nothing was stored: the log position and the account are unchanged.

Runs on SQLite and PostgreSQL (the ``bank`` fixture is parametrised over both).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from application.issuing import IssuerKey, identity_object, sign_vc_jwt
from application.signing import b64url
from domain.errors import DomainError
from domain.values import InstitutionKind
from tests.builders import Issuer, World, jwt_payload, segment, sign_jws


# -- signatures ------------------------------------------------------------------------------------
def test_forged_signature_with_the_registered_kid(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    forger = IssuerKey.ed25519(kid=uni.keys.kid)  # another key, claiming the registered kid
    world.refused("INVALID_SIGNATURE", kim, sign_vc_jwt(world.credential(uni, kim), forger))


def test_forged_rsa_signature_with_the_registered_kid(world: World) -> None:
    uni, kim = world.issuer(keys=IssuerKey.rsa()), world.learner()
    forger = IssuerKey.rsa(kid=uni.keys.kid)
    world.refused("INVALID_SIGNATURE", kim, sign_vc_jwt(world.credential(uni, kim), forger))


def test_swapped_payload(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    genuine = world.token(uni, kim, credits=3)
    inflated = world.token(uni, kim, credits=30)
    header, _, signature = genuine.split(".")
    swapped = ".".join((header, inflated.split(".")[1], signature))
    world.refused("INVALID_SIGNATURE", kim, swapped)
    world.bank.deposit_credential(kim.id, genuine)  # the genuine one is fine


def test_edited_payload_keeps_nothing(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    header, payload, signature = world.token(uni, kim, credits=3).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["creditsEarned"] = 60
    world.refused("INVALID_SIGNATURE", kim, f"{header}.{segment(claims)}.{signature}")


def test_alg_none(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    payload = jwt_payload(world.credential(uni, kim))
    for alg in ("none", "None", "NONE"):
        header = {"alg": alg, "kid": uni.keys.kid, "typ": "JWT"}
        world.refused("INVALID_SIGNATURE", kim, f"{segment(header)}.{segment(payload)}.")


@pytest.mark.parametrize("secret", ["raw-public-key", "jwk-json", "x-member"])
def test_hs256_signed_with_the_public_key(world: World, secret: str) -> None:
    uni, kim = world.issuer(), world.learner()
    public = uni.keys.private.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = {
        "raw-public-key": raw,
        "jwk-json": json.dumps(uni.keys.jwk).encode(),
        "x-member": uni.keys.jwk["x"].encode(),
    }[secret]
    signing_input = (
        segment({"alg": "HS256", "kid": uni.keys.kid, "typ": "JWT"})
        + "."
        + segment(jwt_payload(world.credential(uni, kim)))
    )
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    world.refused("INVALID_SIGNATURE", kim, f"{signing_input}.{b64url(mac)}")


def test_hs256_signed_with_the_rsa_public_pem(world: World) -> None:
    uni, kim = world.issuer(keys=IssuerKey.rsa()), world.learner()
    pem = uni.keys.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = (
        segment({"alg": "HS256", "kid": uni.keys.kid})
        + "."
        + segment(jwt_payload(world.credential(uni, kim)))
    )
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    world.refused("INVALID_SIGNATURE", kim, f"{signing_input}.{b64url(mac)}")


def test_rs256_token_for_an_ed25519_key(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    rsa = IssuerKey.rsa(kid=uni.keys.kid)
    token = sign_vc_jwt(world.credential(uni, kim), rsa)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    world.refused("INVALID_SIGNATURE", kim, token)


def test_eddsa_token_for_an_rsa_key(world: World) -> None:
    uni, kim = world.issuer(keys=IssuerKey.rsa()), world.learner()
    ed = IssuerKey.ed25519(kid=uni.keys.kid)
    world.refused("INVALID_SIGNATURE", kim, sign_vc_jwt(world.credential(uni, kim), ed))


def test_embedded_jwk_with_private_d_is_refused(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    d = uni.keys.private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    leaked = {**uni.keys.jwk, "d": b64url(d)}
    payload = jwt_payload(world.credential(uni, kim))
    for header in (
        {"alg": "EdDSA", "jwk": leaked},
        {"alg": "EdDSA", "jwk": leaked, "kid": uni.keys.kid},
    ):
        token = sign_jws(header, payload, uni.keys)
        # docs/credentials.md lists the jwk check (never carrying d) with KEY_NOT_VALID; the
        # verifier answers INVALID_SIGNATURE. Either way it is refused and nothing is stored.
        before = world.stored(kim)
        with pytest.raises(DomainError) as err:
            world.bank.deposit_credential(kim.id, token)
        assert err.value.code in ("KEY_NOT_VALID", "INVALID_SIGNATURE")
        assert world.stored(kim) == before


def test_embedded_jwk_of_another_key_is_refused(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    attacker = IssuerKey.ed25519(kid=uni.keys.kid)
    token = sign_vc_jwt(world.credential(uni, kim), attacker, headers={"jwk": attacker.jwk})
    world.refused("KEY_NOT_VALID", kim, token)


def test_embedded_public_jwk_of_the_registered_key_is_accepted(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    header = {"alg": "EdDSA", "typ": "JWT", "jwk": uni.keys.jwk}
    token = sign_jws(header, jwt_payload(world.credential(uni, kim)), uni.keys)
    outcome_id = world.bank.deposit_credential(kim.id, token)
    assert world.bank.account(kim.id).outcome(outcome_id).key_id == uni.keys.kid


# -- issuers and keys ------------------------------------------------------------------------------
def test_unregistered_issuer_uri(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    credential = world.credential(uni, kim)
    credential["issuer"]["id"] = "https://diploma-mill.example/issuer"
    world.refused("UNKNOWN_ISSUER", kim, sign_vc_jwt(credential, uni.keys))


def test_unknown_kid(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    token = sign_vc_jwt(world.credential(uni, kim), uni.keys, headers={"kid": "no-such-key"})
    world.refused("KEY_NOT_VALID", kim, token)


def test_kid_of_another_institution(world: World) -> None:
    uni, other, kim = world.issuer(), world.issuer("Tongji University"), world.learner()
    # Signed by the other institution's real key, naming that key, but claiming uni as issuer.
    world.refused("KEY_NOT_VALID", kim, sign_vc_jwt(world.credential(uni, kim), other.keys))


def test_no_kid_at_all(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    token = sign_jws({"alg": "EdDSA"}, jwt_payload(world.credential(uni, kim)), uni.keys)
    world.refused("KEY_NOT_VALID", kim, token)


def test_retired_key(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    before_retirement = world.token(uni, kim, valid_from=world.clock.now - timedelta(days=2))
    retired_at = world.clock.now
    world.bank.retire_institution_key(uni.id, uni.keys.kid)
    world.clock.now = retired_at + timedelta(days=10)
    after = world.token(uni, kim, valid_from=retired_at + timedelta(days=1))
    world.refused("KEY_NOT_VALID", kim, after)
    # Issued while the key was in force: still verifiable and depositable.
    assert world.bank.verify_credential(before_retirement).kid == uni.keys.kid
    world.bank.deposit_credential(kim.id, before_retirement)


def test_key_rotation(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    old_credential = world.token(uni, kim, valid_from=world.clock.now - timedelta(days=20))
    rotated_at = world.clock.now
    new_keys = IssuerKey.rsa()
    world.bank.add_institution_key(uni.id, new_keys.jwk, valid_from=rotated_at)
    world.bank.retire_institution_key(uni.id, uni.keys.kid)
    world.clock.now = rotated_at + timedelta(days=30)

    # Old credentials still verify with the old key, valid at their validFrom.
    verified = world.bank.verify_credential(old_credential)
    assert verified.kid == uni.keys.kid
    world.bank.deposit_credential(kim.id, old_credential)

    rotated = Issuer(uni.id, uni.uri, new_keys, uni.name)
    fresh = world.token(rotated, kim, valid_from=rotated_at + timedelta(days=1))
    assert world.bank.verify_credential(fresh).kid == new_keys.kid
    world.bank.deposit_credential(kim.id, fresh)

    # The new key did not exist before the rotation; the old one is retired after it.
    world.refused(
        "KEY_NOT_VALID", kim, world.token(rotated, kim, valid_from=rotated_at - timedelta(days=1))
    )
    world.refused(
        "KEY_NOT_VALID", kim, world.token(uni, kim, valid_from=rotated_at + timedelta(days=1))
    )
    assert len(world.bank.account(kim.id).outcomes) == 2


def test_suspended_institution(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    token = world.token(uni, kim)
    world.bank.suspend_institution(uni.id, "accreditation withdrawn")
    world.refused("UNKNOWN_ISSUER", kim, token)
    world.bank.reactivate_institution(uni.id)
    world.bank.deposit_credential(kim.id, token)


# -- validity --------------------------------------------------------------------------------------
def test_expired_valid_until(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    token = world.token(uni, kim, valid_until=world.clock.now - timedelta(days=1))
    world.refused("CREDENTIAL_EXPIRED", kim, token)


def test_expired_exp_claim_only(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    credential = world.credential(uni, kim)
    expired = int((world.clock.now - timedelta(hours=1)).timestamp())
    world.refused(
        "CREDENTIAL_EXPIRED", kim, sign_vc_jwt(credential, uni.keys, claims={"exp": expired})
    )


def test_expired_in_vc_claim_form(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    credential = world.credential(uni, kim, valid_until=world.clock.now - timedelta(seconds=1))
    world.refused("CREDENTIAL_EXPIRED", kim, sign_vc_jwt(credential, uni.keys, vc_claim=True))


def test_not_yet_valid(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    token = world.token(uni, kim, valid_from=world.clock.now + timedelta(days=1))
    world.refused("INVALID_CREDENTIAL", kim, token)


def test_schema_invalid_achievement_without_criteria(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    credential = world.credential(uni, kim)
    del credential["credentialSubject"]["achievement"]["criteria"]
    err = world.refused("INVALID_CREDENTIAL", kim, sign_vc_jwt(credential, uni.keys))
    assert "schema" in err.message


@pytest.mark.parametrize(
    "types",
    [
        ["VerifiableCredential", "EndorsementCredential"],
        ["VerifiableCredential"],
        "OpenBadgeCredential",
    ],
)
def test_wrong_type(world: World, types: Any) -> None:
    uni, kim = world.issuer(), world.learner()
    credential = world.credential(uni, kim)
    credential["type"] = types
    world.refused("INVALID_CREDENTIAL", kim, sign_vc_jwt(credential, uni.keys))


@pytest.mark.parametrize(
    "claims",
    [
        {"jti": "urn:uuid:00000000-0000-4000-8000-000000000000"},
        {"sub": "did:example:someone-else"},
        {"nbf": "shift"},
        {"iss": "https://elsewhere.example/issuer"},
    ],
    ids=["jti", "sub", "nbf", "iss"],
)
def test_mismatched_registered_claims(world: World, claims: dict[str, Any]) -> None:
    uni, kim = world.issuer(), world.learner()
    credential = world.credential(uni, kim)
    if claims.get("nbf") == "shift":
        claims = {"nbf": int((world.clock.now - timedelta(days=3)).timestamp())}
    world.refused("INVALID_CREDENTIAL", kim, sign_vc_jwt(credential, uni.keys, claims=claims))


@pytest.mark.parametrize("form", ["not a jws", "a.b", "{not json", "a.b.c"])
def test_not_a_credential(world: World, form: str) -> None:
    world.issuer()
    world.refused("INVALID_CREDENTIAL", world.learner(), form)


def test_too_large(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    credential = world.credential(uni, kim)
    credential["description"] = "x" * (300 * 1024)
    world.refused("INVALID_CREDENTIAL", kim, sign_vc_jwt(credential, uni.keys))


# -- identity and uniqueness -----------------------------------------------------------------------
def test_wrong_identity_hash(world: World) -> None:
    uni, kim, lee = world.issuer(), world.learner(), world.learner()
    # Lee's credential, deposited into Kim's account.
    world.refused("IDENTITY_MISMATCH", kim, world.token(uni, lee), others=(lee,))
    # Kim's number with one digit changed, then with a salt the hash was not made with.
    credential = world.credential(uni, kim)
    wrong = kim.document_number[:-1] + str((int(kim.document_number[-1]) + 1) % 10)
    credential["credentialSubject"]["identifier"] = [identity_object(wrong)]
    world.refused("IDENTITY_MISMATCH", kim, sign_vc_jwt(credential, uni.keys))
    credential["credentialSubject"]["identifier"] = [
        {**identity_object(kim.document_number), "salt": "other-salt"}
    ]
    world.refused("IDENTITY_MISMATCH", kim, sign_vc_jwt(credential, uni.keys))
    # Right hash, wrong identityType.
    credential["credentialSubject"]["identifier"] = [
        {**identity_object(kim.document_number), "identityType": "emailAddress"}
    ]
    world.refused("IDENTITY_MISMATCH", kim, sign_vc_jwt(credential, uni.keys))


def test_identity_hash_of_the_normalised_number_is_accepted(world: World) -> None:
    uni = world.issuer()
    kim = world.learner(number="g1234-567 8a")
    credential = world.credential(uni, kim)
    credential["credentialSubject"]["identifier"] = [identity_object("G12345678A")]
    world.bank.deposit_credential(kim.id, sign_vc_jwt(credential, uni.keys))


def test_duplicate_into_the_same_learner(world: World) -> None:
    uni, kim = world.issuer(), world.learner()
    token = world.token(uni, kim)
    world.bank.deposit_credential(kim.id, token)
    world.refused("DUPLICATE_CREDENTIAL", kim, token)
    # Re-signed with other content but the same credential id: the same credential.
    credential = world.credential(uni, kim, credits=9)
    credential["id"] = jwt.decode(token, options={"verify_signature": False})["id"]
    world.refused("DUPLICATE_CREDENTIAL", kim, sign_vc_jwt(credential, uni.keys, vc_claim=True))
    assert len(world.bank.account(kim.id).outcomes) == 1


def test_duplicate_into_a_different_learner(world: World) -> None:
    uni, kim, lee = world.issuer(), world.learner(), world.learner()
    credential = world.credential(uni, kim)
    world.bank.deposit_credential(kim.id, sign_vc_jwt(credential, uni.keys))
    # The same credential id, re-issued naming Lee (a genuine signature of the issuer).
    credential["credentialSubject"]["identifier"] = [identity_object(lee.document_number)]
    world.refused("DUPLICATE_CREDENTIAL", lee, sign_vc_jwt(credential, uni.keys), others=(kim,))
    # One credential naming both learners: in at most one account.
    both = world.credential(uni, kim)
    both["credentialSubject"]["identifier"].append(identity_object(lee.document_number))
    token = sign_vc_jwt(both, uni.keys)
    world.bank.deposit_credential(lee.id, token)
    world.refused("DUPLICATE_CREDENTIAL", kim, token, others=(lee,))


def test_depositing_institution_is_not_the_issuer(world: World) -> None:
    uni, other, kim = world.issuer(), world.issuer("Tongji University"), world.learner()
    token = world.token(uni, kim)
    world.refused("FORBIDDEN", kim, token, by_institution=other.id)
    world.bank.deposit_credential(kim.id, token, by_institution=uni.id)


# -- institution kinds still map -------------------------------------------------------------------
def test_enterprise_credential_maps_to_enterprise_training(world: World) -> None:
    corp = world.issuer("Huawei Training", kind=InstitutionKind.ENTERPRISE)
    kim = world.learner()
    outcome_id = world.bank.deposit_credential(kim.id, world.token(corp, kim))
    assert world.bank.account(kim.id).outcome(outcome_id).kind.value == "ENTERPRISE_TRAINING"
