"""The verifier against hostile input, without a database: whatever arrives, it answers with a
typed refusal (a DomainError with a code) or with the very credential that was signed, never an
unexpected exception and never a changed credential.

The issuer is an in-memory Institution aggregate (the verifier only needs a lookup by URI).
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application import data_integrity
from application.credentials import verify
from application.issuing import IssuerKey, sign_vc_jwt
from application.signing import multikey
from domain.errors import DomainError
from domain.institution import Institution
from domain.values import InstitutionKind
from tests.builders import (
    CredentialSpec,
    achievement_credential,
    jwt_payload,
    segment,
    sign_jws,
    standards,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
URI = "https://robust.example.edu/issuer"
KEYS = IssuerKey.ed25519()


def _issuer() -> Institution:
    institution = Institution.register(
        id=uuid.uuid4(),
        name="Robust University",
        kind=InstitutionKind.UNIVERSITY,
        issuer_uri=URI,
        at=datetime(2015, 1, 1, tzinfo=UTC),
    )
    institution.add_key(KEYS.jwk, datetime(2015, 1, 1, tzinfo=UTC))
    return institution


ISSUER = _issuer()
CREDENTIAL = achievement_credential(
    CredentialSpec(
        issuer_uri=URI, document_number="110105199003071234", valid_from=NOW - timedelta(days=3)
    )
)
TOKEN = sign_vc_jwt(CREDENTIAL, KEYS)
PAYLOAD = jwt.decode(TOKEN, options={"verify_signature": False})  # credential + iss/jti/nbf/sub
SIGNED = data_integrity.sign(
    CREDENTIAL,
    KEYS.private,
    f"{URI}#{multikey(KEYS.private.public_key())}",
    "2026-02-26T09:00:00Z",
    standards(),
)
DOCUMENT = json.dumps(SIGNED, separators=(",", ":"))


def _verify(text: str) -> Any:
    return verify(text, lambda uri: ISSUER if uri == URI else None, NOW, standards())


def _refused(text: str) -> str:
    with pytest.raises(DomainError) as err:
        _verify(text)
    return err.value.code


def test_the_genuine_forms_verify() -> None:
    assert _verify(TOKEN).credential == PAYLOAD
    assert _verify(DOCUMENT).credential == SIGNED


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("nbf", 1e20),
        ("nbf", -1e20),
        ("exp", 1e20),
        ("nbf", float("nan")),
        ("exp", 10**30),
        ("nbf", "not a time"),
        ("nbf", []),
    ],
)
def test_out_of_range_claims_are_invalid(claim: str, value: Any) -> None:
    payload = {**jwt_payload(CREDENTIAL), claim: value}
    assert _refused(sign_jws({"alg": "EdDSA", "kid": KEYS.kid}, payload, KEYS)) in (
        "INVALID_CREDENTIAL",
        "CREDENTIAL_EXPIRED",
    )


@pytest.mark.parametrize(
    "valid_from",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2026-13-01T00:00Z",
        "2026-02-01T00:00:00",
    ],
)
def test_out_of_range_dates_are_invalid(valid_from: str) -> None:
    credential = {**copy.deepcopy(CREDENTIAL), "validFrom": valid_from}
    payload = {**credential, "iss": URI}
    assert _refused(sign_jws({"alg": "EdDSA", "kid": KEYS.kid}, payload, KEYS)) == (
        "INVALID_CREDENTIAL"
    )
    document = copy.deepcopy(SIGNED)
    document["validFrom"] = valid_from
    assert _refused(json.dumps(document)) in ("INVALID_CREDENTIAL", "INVALID_SIGNATURE")


def test_deeply_nested_input_is_invalid() -> None:
    deep = "[" * 50_000 + "]" * 50_000
    assert _refused('{"issuer": "' + URI + '", "x": ' + deep + "}") == "INVALID_CREDENTIAL"
    part = base64.urlsafe_b64encode(deep.encode()).decode().rstrip("=")
    assert _refused(f"{part}.{part}.sig") == "INVALID_CREDENTIAL"


@pytest.mark.parametrize("method", [f"{URI}#z0OIl", f"{URI}#z", f"{URI}#zz", f"{URI}#abc", 5])
def test_bad_verification_methods_are_refused(method: Any) -> None:
    document = copy.deepcopy(SIGNED)
    document["proof"]["verificationMethod"] = method
    assert _refused(json.dumps(document)) in ("INVALID_CREDENTIAL", "KEY_NOT_VALID")


@pytest.mark.parametrize(
    "context",
    [
        "x",
        ["https://www.w3.org/ns/credentials/v2", "relative"],
        "https://unknown.example/context.json",
        5,
    ],
)
def test_bad_contexts_are_refused(context: Any) -> None:
    document = copy.deepcopy(SIGNED)
    document["@context"] = context
    assert _refused(json.dumps(document)) in ("INVALID_CREDENTIAL", "INVALID_SIGNATURE")


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "EdDSA", "kid": []},
        {"alg": "EdDSA", "kid": {}},
        {"alg": "EdDSA", "jwk": "x"},
        {"alg": ["EdDSA"], "kid": KEYS.kid},
        {"kid": KEYS.kid},
    ],
)
def test_odd_headers_are_refused(header: dict[str, Any]) -> None:
    _, payload, signature = TOKEN.split(".")
    assert _refused(f"{segment(header)}.{payload}.{signature}") in (
        "KEY_NOT_VALID",
        "INVALID_SIGNATURE",
        "INVALID_CREDENTIAL",
    )


CHARS = st.characters(codec="ascii", exclude_categories=("Cc",))


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(position=st.integers(0, len(TOKEN) - 1), char=CHARS)
def test_any_changed_character_of_a_vc_jwt(position: int, char: str) -> None:
    changed = TOKEN[:position] + char + TOKEN[position + 1 :]
    try:
        verified = _verify(changed)
    except DomainError:
        return
    # Accepted only if it still says exactly what was signed (base64url has slack bits).
    assert verified.credential == PAYLOAD


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(position=st.integers(0, len(DOCUMENT) - 1), char=CHARS)
def test_any_changed_character_of_a_data_integrity_credential(position: int, char: str) -> None:
    changed = DOCUMENT[:position] + char + DOCUMENT[position + 1 :]
    try:
        verified = _verify(changed)
    except DomainError:
        return
    assert verified.credential == SIGNED
