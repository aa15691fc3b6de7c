"""Verifying a credential without the bank (``creditbank credential verify``): by the same code a
deposit runs, with the key given (or the one the credential carries) as its issuer's only key."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization

from application import data_integrity
from application.credentials import Report, VerifiedCredential, inspect
from application.signing import b64url
from application.standards import Standards
from domain.errors import InvalidCredential, InvalidInput
from domain.institution import Institution
from domain.values import InstitutionKind


def verify_offline(
    text: str, jwk: dict[str, Any] | None, now: datetime, standards: Standards
) -> VerifiedCredential:
    """Verifies a credential without the bank: the signature with ``jwk`` (else the key the
    credential carries: a header ``jwk``, or the proof's Multikey), the claims, the OB 3.0 schema
    and the validity window, by the same code the bank runs on a deposit."""
    return inspect_offline(text, jwk, now, standards).result()


def inspect_offline(
    text: str, jwk: dict[str, Any] | None, now: datetime, standards: Standards
) -> Report:
    """``verify_offline``'s every finding (application/credentials.inspect, as verifyCredential
    reports them); raises only when no key can be found to check with."""
    stripped = text.strip()
    document: Any = None
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except ValueError:
            raise InvalidCredential("the credential is not JSON", ("credential",)) from None
        issuer: Any = document.get("issuer") if isinstance(document, dict) else None
    else:
        parts = stripped.split(".")
        if len(parts) != 3:
            raise InvalidCredential("the credential is neither a compact JWS nor JSON")
        header, payload = (_segment(p) for p in parts[:2])
        body = payload.get("vc", payload)
        issuer = body.get("issuer") if isinstance(body, dict) else None
        if jwk is None and isinstance(header.get("jwk"), dict):
            jwk = header["jwk"]
        if jwk is not None and "kid" not in jwk:  # a JWK file without a kid: the header's
            jwk = {**jwk, "kid": str(header.get("kid") or "jwk")}
    uri = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(uri, str) or not uri:
        raise InvalidCredential("the credential names no issuer", ("credential", "issuer"))
    if jwk is None and document is not None:
        jwk = _proof_jwk(document)
    if jwk is None:
        raise InvalidInput("the credential carries no key: give the issuer's public JWK", ("jwk",))
    holder = Institution.register(
        id=uuid.uuid4(), name=uri, kind=InstitutionKind.UNIVERSITY, issuer_uri=uri, at=now
    )
    holder.add_key(jwk, datetime(1970, 1, 1, tzinfo=UTC))
    # the bank's own verification, with this key as the issuer's only registered key
    return inspect(stripped, lambda u: holder if u == uri else None, now, standards)


def _segment(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidCredential("the credential is not a compact JWS") from None
    if not isinstance(value, dict):
        raise InvalidCredential("the credential is not a compact JWS")
    return value


def _proof_jwk(document: Any) -> dict[str, Any] | None:
    """The Ed25519 key a Data Integrity proof names (its verificationMethod's Multikey)."""
    if not isinstance(document, dict):
        return None
    proof = data_integrity.find_proof(document)
    public = data_integrity.public_key_from_multikey(
        str(proof.get("verificationMethod") or "").rsplit("#", 1)[-1]
    )
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": "proof"}
