"""What the bank issues: the CLR 2.0 transcript and single OB 3.0 outcomes, as VC-JWTs signed by
the bank. Each validates against the official JSON Schema (shipped in application/standards),
verifies with nothing but the published JWK set, and carries a Bitstring Status List entry whose
bit flips when the outcome is revoked."""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jsonschema import Draft201909Validator

from application import data_integrity
from application.export import Exporter
from application.issuing import IssuerKey, sign_vc_jwt
from application.signing import BankKeys, b64url
from domain.errors import DomainError
from domain.values import OutcomeStatus
from projections.runner import EventSource, ProjectionRunner
from tests.builders import STANDARDS, Issuer, Learner, World, segment

PUBLIC_URL = "http://bank.example"
JWT_CLAIMS = ("iss", "jti", "nbf", "sub", "exp", "iat", "aud")


@cache
def validator(path: str) -> Draft201909Validator:
    schema = json.loads((STANDARDS / path).read_text())
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_errors(path: str, document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message[:200]}"
        for e in validator(path).iter_errors(document)
    ]


CLR_SCHEMA = "schemas/clr2/clr_v2p0_clrcredential_schema.json"
OB3_SCHEMA = "schemas/ob3/ob_v3p0_achievementcredential_schema.json"
CLR_AC_SCHEMA = "schemas/clr2/clr_v2p0_achievementcredential_schema.json"


def outside_verify(token: str, published: dict[str, Any]) -> dict[str, Any]:
    """What an outside verifier does: pick the key by the header's kid from the JWK set it
    fetched (JSON only), build it with PyJWK, verify with the key's own algorithm."""
    header = jwt.get_unverified_header(token)
    (jwk,) = [k for k in published["keys"] if k["kid"] == header["kid"]]
    assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & jwk.keys()
    key = jwt.PyJWK(jwk)
    assert key.algorithm_name == jwk["alg"] == "EdDSA"  # the default export algorithm
    payload: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=[key.algorithm_name], options={"verify_aud": False}
    )
    return payload


def credential_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The credential: the payload without the JWT registered claims, checked against them."""
    credential = {k: v for k, v in payload.items() if k not in JWT_CLAIMS}
    issuer = credential["issuer"]
    assert payload["iss"] == (issuer["id"] if isinstance(issuer, dict) else issuer)
    assert payload["jti"] == credential["id"]
    assert payload["sub"] == credential["credentialSubject"]["id"]
    valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    assert payload["nbf"] == int(valid_from.timestamp())
    return credential


def decode_status_list(encoded: str) -> bytes:
    assert encoded.startswith("u")  # multibase base64url, no padding
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def bit(bits: bytes, index: int) -> int:
    """Bit ``index`` of the list: index 0 is the most significant bit of byte 0."""
    return (bits[index // 8] >> (7 - index % 8)) & 1


@dataclass
class Transcripts:
    world: World
    exporter: Exporter
    published: dict[str, Any]
    issuer: Issuer
    kim: Learner
    outcomes: list[UUID]

    def catch_up(self) -> None:
        bank = self.world.bank
        ProjectionRunner(EventSource(bank), bank.database).catch_up()

    def status_bits(self) -> bytes:
        token = self.exporter.status_list_credential()
        payload = outside_verify(token, self.published)
        credential = credential_of(payload)
        assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        subject = credential["credentialSubject"]
        assert (subject["type"], subject["statusPurpose"]) == ("BitstringStatusList", "revocation")
        bits = decode_status_list(subject["encodedList"])
        assert len(bits) * 8 >= 131_072  # the minimum list length (16 KiB)
        return bits


@pytest.fixture
def transcripts(world: World) -> Transcripts:
    bank = world.bank
    uni, kim = world.issuer("Peking University"), world.learner(verified=True)
    world.course_rule(uni)
    outcomes = [
        bank.deposit_credential(
            kim.id, world.token(uni, kim, title=title, credits=credits, human_code=code)
        )
        for title, credits, code in (
            ("Linear Algebra 线性代数", 4, "MATH-201"),
            ("Operating Systems", 3.5, None),
            ("Databases", 3, "CS-305"),
        )
    ]
    account = bank.account(kim.id)
    assert all(account.outcome(o).status is OutcomeStatus.RECOGNIZED for o in outcomes)
    exporter = Exporter(bank, BankKeys.load_or_create(world.settings.data_dir), PUBLIC_URL)
    published = json.loads(json.dumps(exporter.jwks()))  # as fetched from /.well-known/jwks.json
    return Transcripts(world, exporter, published, uni, kim, outcomes)


# -- schemas ---------------------------------------------------------------------------------------
def test_transcript_credential_validates_against_the_clr_schema(transcripts: Transcripts) -> None:
    clr = transcripts.exporter.transcript_credential(transcripts.kim.id)
    assert schema_errors(CLR_SCHEMA, clr) == []
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    inner = clr["credentialSubject"]["verifiableCredential"]
    assert len(inner) == 3
    for credential in inner:
        assert schema_errors(OB3_SCHEMA, credential) == []
        assert schema_errors(CLR_AC_SCHEMA, credential) == []
        assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"  # each one signed
    assert {a["name"] for a in clr["credentialSubject"]["achievement"]} == {
        "Linear Algebra 线性代数",
        "Operating Systems",
        "Databases",
    }


def test_exported_transcript_jwt(transcripts: Transcripts) -> None:
    token = transcripts.exporter.export_transcript(transcripts.kim.id)
    header = jwt.get_unverified_header(token)
    # A DID URL (OB 3.0 section 8.2.3: a URI that dereferences to the key), under the bank's
    # did:web DID, naming the current key.
    key = transcripts.exporter.keys.current()
    assert header["kid"] == f"did:web:bank.example#{key.key_id}"
    assert header["kid"] == transcripts.published["keys"][0]["kid"]
    clr = credential_of(outside_verify(token, transcripts.published))
    assert schema_errors(CLR_SCHEMA, clr) == []
    assert clr["issuer"]["id"] == PUBLIC_URL + "/issuer"
    assert clr["credentialSubject"]["id"] == f"urn:uuid:{transcripts.kim.id}"
    credits = sorted(
        c["credentialSubject"]["creditsEarned"]
        for c in clr["credentialSubject"]["verifiableCredential"]
    )
    assert credits == [3, 3.5, 4]
    # The learner travels as the bank's own identifier, never as their document number (not
    # even hashed: tests/security/test_export_identity.py).
    assert transcripts.kim.document_number not in json.dumps(clr)
    assert clr["credentialSubject"]["identifier"] == [
        {
            "type": "IdentityObject",
            "identityType": "identifier",
            "hashed": False,
            "identityHash": f"urn:uuid:{transcripts.kim.id}",
        }
    ]


def test_exported_outcome_jwt(transcripts: Transcripts) -> None:
    for outcome_id in transcripts.outcomes:
        token = transcripts.exporter.export_outcome(transcripts.kim.id, outcome_id)
        credential = credential_of(outside_verify(token, transcripts.published))
        assert schema_errors(OB3_SCHEMA, credential) == []
        assert credential["type"] == ["VerifiableCredential", "AchievementCredential"]
        status = credential["credentialStatus"]
        assert status["type"] == "BitstringStatusListEntry"
        assert status["statusListCredential"] == PUBLIC_URL + "/status/1"
        assert status["statusListIndex"] == str(transcripts.exporter.status_index(outcome_id))
        alignment = credential["credentialSubject"]["achievement"]["alignment"][0]
        assert (alignment["targetType"], alignment["targetCode"]) == ("ext:EQF", "6")


def test_only_recognised_outcomes_export(world: World) -> None:
    """A deposited (not yet recognised) outcome does not export, and a transcript with nothing
    recognised is refused rather than issued invalid (ClrSubject.verifiableCredential needs at
    least one credential in the official schema)."""
    uni, kim = world.issuer(), world.learner(verified=False)
    outcome_id = world.bank.deposit_credential(kim.id, world.token(uni, kim))
    exporter = Exporter(world.bank, BankKeys.load_or_create(world.settings.data_dir), PUBLIC_URL)
    for export in (
        lambda: exporter.export_outcome(kim.id, outcome_id),
        lambda: exporter.export_transcript(kim.id),
    ):
        with pytest.raises(DomainError) as err:
            export()
        assert err.value.code == "NOT_FOUND"


def test_published_key_is_in_the_did_web_document(transcripts: Transcripts) -> None:
    """The JWK set and the did:web document publish the same Ed25519 key: a JWK under the DID
    URL kid (and its earlier bare kid, for exports made before DID URLs), a Multikey in the
    document, an assertionMethod."""
    exporter = transcripts.exporter
    key = exporter.keys.current()
    did_url = f"did:web:bank.example#{key.key_id}"
    (jwk,) = [k for k in transcripts.published["keys"] if k["kid"] == did_url]
    (legacy,) = [k for k in transcripts.published["keys"] if k["kid"] == exporter.keys.kid]
    assert {**legacy, "kid": did_url} == jwk
    document = exporter.did_document()
    assert document["id"] == "did:web:bank.example"
    (method,) = document["verificationMethod"]
    assert (method["id"], method["type"], method["controller"]) == (
        did_url,
        "Multikey",
        "did:web:bank.example",
    )
    assert document["assertionMethod"] == [did_url]
    public = data_integrity.public_key_from_multikey(method["publicKeyMultibase"])
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert jwk["x"] == b64url(raw)
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")


# -- revocation ------------------------------------------------------------------------------------
def test_revocation_flips_the_status_bit(transcripts: Transcripts) -> None:
    exporter, kim, outcomes = transcripts.exporter, transcripts.kim, transcripts.outcomes
    exports = {o: exporter.export_outcome(kim.id, o) for o in outcomes}
    clr_token = exporter.export_transcript(kim.id)
    indexes = {o: exporter.status_index(o) for o in outcomes}
    assert len(set(indexes.values())) == 3

    transcripts.catch_up()
    bits = transcripts.status_bits()
    assert all(bit(bits, i) == 0 for i in indexes.values())
    assert not any(bits)
    for token in exports.values():
        assert exporter.verify(token) == (PUBLIC_URL + "/issuer", False)

    revoked = outcomes[1]
    transcripts.world.bank.revoke_outcome(kim.id, revoked, "issued in error", "officer-1")
    transcripts.catch_up()
    bits = transcripts.status_bits()
    assert bit(bits, indexes[revoked]) == 1
    assert sum(bin(b).count("1") for b in bits) == 1  # that bit and no other
    for outcome_id, token in exports.items():
        assert exporter.verify(token) == (PUBLIC_URL + "/issuer", outcome_id == revoked)
    # The transcript itself carries no status entry: it verifies, not revoked.
    assert exporter.verify(clr_token) == (PUBLIC_URL + "/issuer", False)


def test_revoked_deposit_is_reported_revoked(transcripts: Transcripts) -> None:
    world, kim = transcripts.world, transcripts.kim
    token = world.token(transcripts.issuer, kim, title="Compilers")
    assert transcripts.exporter.verify(token) == (transcripts.issuer.uri, False)  # not deposited
    outcome_id = world.bank.deposit_credential(kim.id, token)
    assert transcripts.exporter.verify(token) == (transcripts.issuer.uri, False)
    world.bank.revoke_outcome(
        kim.id, outcome_id, "plagiarism", "officer-1", by_institution=transcripts.issuer.id
    )
    assert transcripts.exporter.verify(token) == (transcripts.issuer.uri, True)


# -- tampering -------------------------------------------------------------------------------------
def test_tampered_export_fails_verification(transcripts: Transcripts) -> None:
    exporter, kim = transcripts.exporter, transcripts.kim
    token = exporter.export_outcome(kim.id, transcripts.outcomes[0])
    header_b64, payload_b64, signature = token.split(".")
    payload = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)

    more = copy.deepcopy(payload)
    more["credentialSubject"]["creditsEarned"] = 40
    forgeries = {
        "edited payload": f"{header_b64}.{segment(more)}.{signature}",
        "signature bit": f"{header_b64}.{payload_b64}."
        + ("A" if signature[0] != "A" else "B")
        + signature[1:],
        "alg none": f"{segment({**header, 'alg': 'none'})}.{payload_b64}.",
        "other key, bank kid": sign_vc_jwt_raw(more, header),
        "hs256 with the public jwk": hs256(
            {"alg": "HS256", "kid": header["kid"]},
            more,
            json.dumps(transcripts.published["keys"][0]).encode(),
        ),
    }
    for name, forged in forgeries.items():
        with pytest.raises(DomainError) as err:
            exporter.verify(forged)
        assert err.value.code in ("INVALID_SIGNATURE", "INVALID_CREDENTIAL"), name
        with pytest.raises(jwt.PyJWTError):
            outside_verify(forged, transcripts.published)
    # The untouched token still verifies.
    assert exporter.verify(token) == (PUBLIC_URL + "/issuer", False)


def hs256(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{segment(header)}.{segment(payload)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def sign_vc_jwt_raw(payload: dict[str, Any], header: dict[str, Any]) -> str:
    forger = IssuerKey.ed25519(kid=header["kid"])
    return jwt.encode(payload, forger.private, algorithm="EdDSA", headers={"kid": header["kid"]})


def test_other_issuers_credential_is_not_a_bank_export(transcripts: Transcripts) -> None:
    """A credential claiming the bank as issuer, signed by anyone else, is refused."""
    world = transcripts.world
    forger = IssuerKey.ed25519(kid=transcripts.published["keys"][0]["kid"])
    credential = world.credential(transcripts.issuer, transcripts.kim)
    credential["issuer"] = {"id": PUBLIC_URL + "/issuer", "type": ["Profile"], "name": "Bank"}
    with pytest.raises(DomainError) as err:
        transcripts.exporter.verify(sign_vc_jwt(credential, forger))
    assert err.value.code == "INVALID_SIGNATURE"
