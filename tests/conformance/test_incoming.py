"""Incoming credentials (issue 15, items 1, 2, 3, 6, 7, 8, 10) and the one verifier behind
``verifyCredential`` and ``creditbank credential verify`` that reports every finding.

Each fixture is built here from the specifications and signed with the issuer tooling
(application/issuing.py, tests/builders.py): nothing is mocked. Each test names the rule it comes
from: OB 3.0 §8 (verification), VC-JOSE-COSE as OB 3.0 §8.2 uses it, VC Data Integrity
(verification methods and their controller), JSON-LD 1.1 (safe mode), and the 1EdTech validator's
probes (digital-credentials-public-validator: OB30Inspector), whose names the checks carry.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from typer.testing import CliRunner

from api.cli import cli
from application import data_integrity
from application.bank import CreditBank
from application.bootstrap import in_memory
from application.credentials import Report, Verification
from application.export import Exporter
from application.issuing import IssuerKey, sign_vc_jwt
from application.settings import Settings
from application.signing import BankKeys, multikey
from domain.errors import DomainError
from tests.api.conftest import build_world, served  # noqa: F401  (the served fixture)
from tests.builders import NOW, Issuer, Learner, World, jwt_payload, sign_jws, standards

PUBLIC_URL = "https://bank.example"
CREATED = datetime(2026, 1, 15, 10, tzinfo=UTC)


@pytest.fixture
def bank(clock: Any) -> Iterator[CreditBank]:
    memory = in_memory(clock=clock)
    try:
        yield memory
    finally:
        memory.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret_key="conformance-tests")


@pytest.fixture
def world(bank: CreditBank, clock: Any, settings: Settings) -> World:
    clock.now = NOW
    return World(bank, clock, settings)


@pytest.fixture
def exporter(world: World) -> Exporter:
    return Exporter(world.bank, BankKeys.load_or_create(world.settings.data_dir), PUBLIC_URL)


@pytest.fixture
def uni(world: World) -> Issuer:
    return world.issuer()


@pytest.fixture
def kim(world: World) -> Learner:
    return world.learner()


def inspected(exporter: Exporter, credential: str | dict[str, Any]) -> Verification:
    text = credential if isinstance(credential, str) else json.dumps(credential)
    return exporter.inspect(text)


def codes(report: Report) -> list[str]:
    return [error.code for _, error in report.errors]


def outcome(report: Report, rule: str) -> str:
    return next(c.outcome for c in report.checks if c.rule == rule)


def refused(exporter: Exporter, credential: str | dict[str, Any], code: str) -> str:
    """Asserts the credential is refused with ``code`` by verifyCredential's verifier; returns
    the message."""
    verification = inspected(exporter, credential)
    assert not verification.valid
    assert codes(verification.report)[0] == code, verification.report.findings
    return verification.report.errors[0][1].message


def prove(credential: dict[str, Any], keys: IssuerKey, method: str) -> dict[str, Any]:
    """An eddsa-rdfc-2022 proof by ``keys`` naming ``method`` as its verification method."""
    return data_integrity.sign(
        credential, keys.private, method, CREATED.isoformat().replace("+00:00", "Z"), standards()
    )


def bare_jwk(keys: IssuerKey) -> dict[str, Any]:
    return {k: v for k, v in keys.jwk.items() if k != "kid"}


# -- item 1: verifyCredential takes JSON with a Data Integrity proof (OB 3.0 §8.3) ---------------
def test_1_data_integrity_json_verifies_through_verify_credential(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    signed = world.data_integrity(uni, kim)
    verification = inspected(exporter, "\n  " + json.dumps(signed, indent=2))
    assert verification.valid, verification.report.findings
    assert verification.issuer == uni.uri
    assert outcome(verification.report, "EmbeddedProofProbe") == "PASSED"
    assert exporter.verify(json.dumps(signed)) == (uni.uri, False)
    tampered = copy.deepcopy(signed)
    tampered["name"] = "Computer Networks II"
    assert refused(exporter, tampered, "INVALID_SIGNATURE")


# -- item 2: a header jwk instead of a kid (OB 3.0 §8.2.3) -----------------------------------------
def test_2_a_header_jwk_without_kid_is_matched_to_a_registered_key(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    payload = jwt_payload(world.credential(uni, kim))
    token = sign_jws({"alg": "EdDSA", "typ": "JWT", "jwk": bare_jwk(uni.keys)}, payload, uni.keys)
    verification = inspected(exporter, token)
    assert verification.valid, verification.report.findings
    assert world.bank.verify_credential(token).kid == uni.kid

    # a key the issuer never registered, carried in the header: it signs, but it is not theirs
    stranger = IssuerKey.ed25519()
    forged = sign_jws({"alg": "EdDSA", "jwk": bare_jwk(stranger)}, payload, stranger)
    assert "not a registered key" in refused(exporter, forged, "KEY_NOT_VALID")
    # a jwk naming only the key type matches nothing (every member of the key must agree)
    partial = sign_jws({"alg": "EdDSA", "kid": uni.kid, "jwk": {"kty": "OKP"}}, payload, uni.keys)
    assert refused(exporter, partial, "KEY_NOT_VALID")
    # a registered key's material with a private part is still refused outright
    private = sign_jws(
        {"alg": "EdDSA", "jwk": {**bare_jwk(uni.keys), "d": "AA"}}, payload, uni.keys
    )
    assert refused(exporter, private, "INVALID_SIGNATURE")


def test_2_a_header_jwk_of_an_rsa_key_is_matched_by_n_and_e(
    world: World, exporter: Exporter
) -> None:
    keys = IssuerKey.rsa()
    college = world.issuer("RSA College", keys=keys)
    payload = jwt_payload(world.credential(college, world.learner()))
    token = sign_jws({"alg": "RS256", "jwk": bare_jwk(keys)}, payload, keys)
    assert inspected(exporter, token).valid


# -- item 3: iss, sub, nbf and jti are required (OB 3.0 §8.2.4.1) ----------------------------------
@pytest.mark.parametrize("claim", ["iss", "sub", "nbf", "jti"])
def test_3_a_vc_jwt_without_a_required_claim_is_refused(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner, claim: str
) -> None:
    payload = jwt_payload(world.credential(uni, kim))
    del payload[claim]
    token = sign_jws({"alg": "EdDSA", "kid": uni.kid}, payload, uni.keys)
    message = refused(exporter, token, "INVALID_CREDENTIAL")
    assert f"lacks {claim}" in message
    with pytest.raises(DomainError) as deposit:
        world.bank.deposit_credential(kim.id, token)
    assert deposit.value.code == "INVALID_CREDENTIAL"


def test_3_claims_must_agree_with_the_credential(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    credential = world.credential(uni, kim)
    cases = {
        "iss": "https://other.example/issuer",
        "sub": "did:example:someone-else",
        "jti": "urn:uuid:00000000-0000-0000-0000-000000000000",
        "nbf": int((NOW - timedelta(days=3)).timestamp()),
    }
    for claim, value in cases.items():
        token = sign_vc_jwt(credential, uni.keys, claims={claim: value})
        assert f"{claim} does not match" in refused(exporter, token, "INVALID_CREDENTIAL")


def test_3_what_the_issuer_tooling_signs_carries_every_claim(world: World, uni: Issuer) -> None:
    credential = world.credential(uni, world.learner())
    for vc_claim in (False, True):
        payload = jwt.decode(
            sign_vc_jwt(credential, uni.keys, vc_claim=vc_claim),
            options={"verify_signature": False},
        )
        assert payload["iss"] == uni.uri
        assert payload["sub"] == credential["credentialSubject"]["id"]
        assert payload["jti"] == credential["id"]
        assert payload["nbf"] == int(datetime.fromisoformat(credential["validFrom"]).timestamp())


def test_3_a_subject_without_id_needs_no_sub_but_is_warned_of(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    credential = world.credential(uni, kim)
    del credential["credentialSubject"]["id"]
    token = sign_vc_jwt(credential, uni.keys)
    assert "sub" not in jwt.decode(token, options={"verify_signature": False})
    verification = inspected(exporter, token)
    assert verification.valid, verification.report.findings
    assert [w.rule for w in verification.report.warnings] == ["JwtClaimsProbe"]


# -- item 6: the proof's verification method is controlled by the issuer (VC Data Integrity) -----
def test_6_a_proof_whose_key_is_not_under_the_issuer_is_refused(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    credential = world.credential(uni, kim)
    key = multikey(uni.keys.private.public_key())
    for method in (
        f"https://attacker.example/keys#{key}",  # the registered key, someone else's URL
        f"did:key:{key}#{key}",  # the same key as a did:key: the issuer's id is not that DID
        f"{uni.uri}.attacker.example#{key}",  # a prefix of the issuer id is not the issuer id
    ):
        message = refused(exporter, prove(credential, uni.keys, method), "KEY_NOT_VALID")
        assert "not controlled by the issuer" in message
    # the issuer tooling's own form (issuer id # Multikey) stays valid
    assert inspected(exporter, world.data_integrity(uni, kim)).valid


def test_6_a_did_issuer_signs_with_a_key_of_its_did(world: World, exporter: Exporter) -> None:
    keys = IssuerKey.ed25519()
    did = f"did:key:{multikey(keys.private.public_key())}"
    issuer = world.issuer("DID College", keys=keys, uri=did)
    credential = world.credential(issuer, world.learner())
    own = prove(credential, keys, f"{did}#{multikey(keys.private.public_key())}")
    assert inspected(exporter, own).valid
    other = IssuerKey.ed25519()
    elsewhere = (
        f"did:key:{multikey(other.private.public_key())}#{multikey(keys.private.public_key())}"
    )
    assert refused(exporter, prove(credential, keys, elsewhere), "KEY_NOT_VALID")


# -- item 7: an unknown JSON-LD context is named (JSON-LD 1.1 loading documents) -----------------
def test_7_an_unknown_context_is_named(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    signed = world.data_integrity(uni, kim)
    signed["@context"] = [*signed["@context"], "https://contexts.example/unknown-v1.json"]
    message = refused(exporter, signed, "INVALID_CREDENTIAL")
    assert message.startswith("unknown JSON-LD context https://contexts.example/unknown-v1.json")
    assert "NormalizeError" not in message
    assert "loading" not in message


# -- item 8: relative IRIs are refused, never resolved against a base (JSON-LD safe mode) --------
@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("id", "achievement-1"),
        ("achievement.id", "achievements/networks"),
        ("type", "relative/Type"),
    ],
)
def test_8_a_relative_iri_is_refused_by_name(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner, where: str, value: str
) -> None:
    signed = world.data_integrity(uni, kim)
    if where == "id":
        signed["id"] = value
    elif where == "achievement.id":
        signed["credentialSubject"]["achievement"]["id"] = value
    else:
        signed["type"] = [*signed["type"], value]
    message = refused(exporter, signed, "INVALID_CREDENTIAL")
    assert "relative IRI" in message
    assert value in message
    # and one cannot sign one either: the same canonicalisation refuses it
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    with pytest.raises(DomainError, match="relative IRI"):
        prove(unsigned, uni.keys, f"{uni.uri}#{multikey(uni.keys.private.public_key())}")


# -- item 10: validFrom missing, and VC 1.1 content ------------------------------------------------
def test_10_a_missing_valid_from_is_said_so(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    payload = jwt_payload(world.credential(uni, kim))
    del payload["validFrom"]
    token = sign_jws({"alg": "EdDSA", "kid": uni.kid}, payload, uni.keys)
    assert refused(exporter, token, "INVALID_CREDENTIAL") == "the credential has no validFrom"


def vc11(world: World, uni: Issuer, kim: Learner) -> tuple[str, dict[str, Any]]:
    """VC Data Model 1.1 content in the vc claim: the v1 context, issuanceDate (and
    expirationDate) instead of validFrom (validUntil)."""
    credential = world.credential(uni, kim, valid_until=NOW + timedelta(days=365))
    credential["@context"][0] = "https://www.w3.org/2018/credentials/v1"
    credential["issuanceDate"] = credential.pop("validFrom")
    credential["expirationDate"] = credential.pop("validUntil")
    issued = datetime.fromisoformat(credential["issuanceDate"])
    payload = {
        "iss": uni.uri,
        "sub": credential["credentialSubject"]["id"],
        "jti": credential["id"],
        "nbf": int(issued.timestamp()),
        "vc": credential,
    }
    return sign_jws({"alg": "EdDSA", "kid": uni.kid, "typ": "JWT"}, payload, uni.keys), credential


def test_10_vc_1_1_content_is_valid_with_warnings(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    token, credential = vc11(world, uni, kim)
    verification = inspected(exporter, token)
    assert verification.valid, verification.report.findings
    assert {w.rule for w in verification.report.warnings} == {
        "ContextPropertyProbe",
        "IssuanceProbe",
    }
    assert outcome(verification.report, "ContextPropertyProbe") == "WARNING"
    assert outcome(verification.report, "IssuanceProbe") == "WARNING"
    verified = world.bank.verify_credential(token)
    assert verified.valid_from == datetime.fromisoformat(credential["issuanceDate"])
    assert verified.valid_until == datetime.fromisoformat(credential["expirationDate"])
    # and a deposit reads issuanceDate as validFrom
    outcome_id = world.bank.deposit_credential(kim.id, token)
    deposited = world.bank.account(kim.id).outcome(outcome_id)
    assert deposited.issued_at == verified.valid_from


# -- the verifier that reports every finding -------------------------------------------------------
def test_every_finding_is_reported_with_its_rule(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    credential = world.credential(
        uni,
        kim,
        valid_from=NOW - timedelta(days=400),
        valid_until=NOW - timedelta(days=1),
    )
    credential["credentialSubject"]["achievement"]["name"] = 42  # the schema wants a string
    payload = jwt_payload(credential)
    del payload["jti"]
    payload["sub"] = "did:example:someone-else"
    token = sign_jws({"alg": "EdDSA", "kid": uni.kid}, payload, uni.keys)
    report = inspected(exporter, token).report
    rules = [rule for rule, _ in report.errors]
    assert rules == ["JwtClaimsProbe", "JwtClaimsProbe", "JsonSchemasProbe", "ExpirationProbe"]
    assert codes(report) == [
        "INVALID_CREDENTIAL",
        "INVALID_CREDENTIAL",
        "INVALID_CREDENTIAL",
        "CREDENTIAL_EXPIRED",
    ]
    outcomes = {c.rule: c.outcome for c in report.checks}
    assert outcomes == {
        "CredentialParseProbe": "PASSED",
        "ContextPropertyProbe": "PASSED",
        "IssuerProbe": "PASSED",
        "ExternalProofProbe": "PASSED",
        "JwtClaimsProbe": "FAILED",
        "CredentialSubjectProbe": "PASSED",
        "TypePropertyProbe": "PASSED",
        "JsonSchemasProbe": "FAILED",
        "IssuanceProbe": "PASSED",
        "ExpirationProbe": "FAILED",
        "JsonLDValidationProbe": "NOT_APPLICABLE",  # a VC-JWT: the schema judges it
    }
    # a deposit is refused with the first of them, as before
    with pytest.raises(DomainError) as deposit:
        world.bank.deposit_credential(kim.id, token)
    assert deposit.value.message == report.errors[0][1].message


def test_a_fatal_rule_stops_the_rules_that_depend_on_it(
    world: World, exporter: Exporter, uni: Issuer, kim: Learner
) -> None:
    impostor = IssuerKey.ed25519(kid=uni.kid)
    token = sign_vc_jwt(world.credential(uni, kim), impostor)
    report = inspected(exporter, token).report
    assert codes(report) == ["INVALID_SIGNATURE"]
    assert [c.rule for c in report.checks][-1] == "ExternalProofProbe"
    assert "JsonSchemasProbe" not in {c.rule for c in report.checks}


def test_revocation_is_a_check(world: World, exporter: Exporter, uni: Issuer, kim: Learner) -> None:
    token = world.token(uni, kim)
    report = inspected(exporter, token).report
    assert outcome(report, "RevocationListProbe") == "NOT_APPLICABLE"  # it states no status
    outcome_id = world.bank.deposit_credential(kim.id, token)
    world.bank.revoke_outcome(kim.id, outcome_id, "issued in error", "officer-1")
    revoked = inspected(exporter, token)
    assert revoked.valid
    assert revoked.revoked
    assert outcome(revoked.report, "RevocationListProbe") == "FAILED"


# -- the CLI says the same -------------------------------------------------------------------------
def test_the_cli_lists_every_check_warning_and_error(
    world: World, uni: Issuer, kim: Learner, tmp_path: Path
) -> None:
    token, _ = vc11(world, uni, kim)
    jwk = tmp_path / "uni.jwk.json"
    jwk.write_text(json.dumps(uni.keys.jwk))
    good = tmp_path / "vc11.jwt"
    good.write_text(token)
    result = CliRunner().invoke(cli, ["credential", "verify", str(good), "--jwk", str(jwk)])
    assert result.exit_code == 0, result.output
    assert "warning: ContextPropertyProbe" in result.output
    assert "warning: IssuanceProbe" in result.output
    assert "PASSED" in result.output
    assert "ExternalProofProbe" in result.output

    payload = jwt_payload(world.credential(uni, kim, valid_until=NOW - timedelta(days=1)))
    del payload["nbf"]
    bad = tmp_path / "bad.jwt"
    bad.write_text(sign_jws({"alg": "EdDSA", "kid": uni.kid}, payload, uni.keys))
    result = CliRunner().invoke(cli, ["credential", "verify", str(bad), "--jwk", str(jwk)])
    assert result.exit_code == 1
    assert "INVALID_CREDENTIAL: the VC-JWT payload lacks nbf" in result.output
    assert "CREDENTIAL_EXPIRED" in result.output  # both, not only the first


# -- verifyCredential over HTTP: the contract's fields, plus checks and warnings -----------------
VERIFY = """query($c: String!) { verifyCredential(credential: $c) {
  valid issuer revoked errors { code message field }
  warnings { rule code message field } checks { name outcome message } } }"""


@pytest.fixture(scope="module")
def api_world(served: Any) -> Any:  # noqa: F811  (the fixture imported above)
    return build_world(served)


def test_verify_credential_over_http_reports_checks_and_warnings(api_world: Any) -> None:
    from application.issuing import sign_data_integrity
    from tests.builders import CredentialSpec, achievement_credential

    university = api_world.university
    learner = api_world.learner()
    credential = achievement_credential(
        CredentialSpec(
            issuer_uri=university.issuer_uri,
            document_number=learner.document_number,
            valid_from=datetime.now(UTC).replace(microsecond=0) - timedelta(days=30),
        )
    )
    signed = sign_data_integrity(credential, university.keys, standards(), CREATED)
    result = api_world.gql(VERIFY, {"c": json.dumps(signed)}).ok()["verifyCredential"]
    assert result["valid"] is True, result  # item 1 over HTTP
    assert result["issuer"] == university.issuer_uri
    assert result["errors"] == []
    assert result["warnings"] == []
    checks = {c["name"]: c["outcome"] for c in result["checks"]}
    assert checks["EmbeddedProofProbe"] == "PASSED"
    assert checks["JsonSchemasProbe"] == "PASSED"

    # VC 1.1 content: valid, with the warnings 1EdTech gives
    vc = dict(credential)
    vc["@context"] = ["https://www.w3.org/2018/credentials/v1", *credential["@context"][1:]]
    vc["issuanceDate"] = vc.pop("validFrom")
    payload = {
        "iss": university.issuer_uri,
        "sub": vc["credentialSubject"]["id"],
        "jti": vc["id"],
        "nbf": int(datetime.fromisoformat(vc["issuanceDate"]).timestamp()),
        "vc": vc,
    }
    token = sign_jws({"alg": "EdDSA", "kid": university.keys.kid}, payload, university.keys)
    result = api_world.gql(VERIFY, {"c": token}).ok()["verifyCredential"]
    assert result["valid"] is True, result
    assert {w["rule"] for w in result["warnings"]} == {"ContextPropertyProbe", "IssuanceProbe"}
    assert {w["code"] for w in result["warnings"]} == {"WARNING"}

    # several errors at once, each with its rule
    del payload["jti"]
    payload["vc"] = {**vc, "expirationDate": "2020-01-01T00:00:00Z"}
    token = sign_jws({"alg": "EdDSA", "kid": university.keys.kid}, payload, university.keys)
    result = api_world.gql(VERIFY, {"c": token}).ok()["verifyCredential"]
    assert result["valid"] is False
    assert result["issuer"] is None
    assert [e["code"] for e in result["errors"]] == ["INVALID_CREDENTIAL", "CREDENTIAL_EXPIRED"]
    failed = [c["name"] for c in result["checks"] if c["outcome"] == "FAILED"]
    assert failed == ["JwtClaimsProbe", "ExpirationProbe"]
