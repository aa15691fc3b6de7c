"""Open Badges 3.0 AchievementCredentials as compact VC-JWTs: verify, then map to an outcome.

Verification follows OB 3.0 §8.2: the issuer (``iss`` = ``issuer.id``) must be a registered,
active institution; the header's ``kid`` must name one of its keys valid when the credential was
issued (``validFrom``); the algorithm is the registered key's, never the token's (so ``none``,
HMAC and algorithm swaps fail); the signature must hold; ``jti``/``sub``/``nbf``/``exp`` must agree
with the credential; it must be valid now. Both the plain payload form and the older ``vc``-claim
form are accepted. PyJWT does the cryptography.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from application import data_integrity
from application.standards import Standards
from application.text import UNSAFE_MESSAGE, first_unsafe
from application.vault import normalize_document_number
from domain.errors import (
    CredentialExpired,
    InvalidCredential,
    InvalidInput,
    InvalidSignature,
    KeyNotValid,
    UnknownIssuer,
)
from domain.institution import Institution, SigningKey

MAX_CREDENTIAL_BYTES = 256 * 1024


@dataclass(frozen=True)
class VerifiedCredential:
    issuer: Institution
    credential: dict[str, Any]
    kid: str
    valid_from: datetime
    valid_until: datetime | None


def _b64json(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidCredential("the credential is not a compact JWS", ("credential",)) from None
    if not isinstance(value, dict):
        raise InvalidCredential("the credential is not a compact JWS", ("credential",))
    _check_text(value)
    return value


def _check_text(value: dict[str, Any]) -> None:
    """The decoded JSON of a credential holds no NUL or unpaired surrogate: inside a JWT payload
    or a JSON string argument, ``"\\u0000"`` and ``"\\ud800"`` are plain escapes the request's
    own check cannot see, and the stores cannot hold what they decode to (a title "Net\\ud800works"
    failed at save with an encoding error)."""
    if first_unsafe(value) is not None:
        raise InvalidCredential(f"the credential's {UNSAFE_MESSAGE}", ("credential",))


def moment_of(value: Any, field: str) -> datetime:
    try:  # NaN, out-of-range numbers and dates are not moments either
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidCredential(f"{field} is not a date-time", ("credential", field)) from None
    raise InvalidCredential(f"{field} needs a timezone", ("credential", field))


def _id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


def verify(
    credential: str, issuer_by_uri: Any, now: datetime, standards: Standards
) -> VerifiedCredential:
    """A VC-JWT, or JSON with an eddsa-rdfc-2022 Data Integrity proof."""
    standards.check()  # the bank's own material first: a server problem is never the credential's
    text = credential.strip()
    if len(text) > MAX_CREDENTIAL_BYTES:
        raise InvalidCredential("the credential is too large", ("credential",))
    if text.startswith("{"):
        return verify_data_integrity(text, issuer_by_uri, now, standards)
    return verify_jwt(text, issuer_by_uri, now, standards)


def verify_data_integrity(
    text: str, issuer_by_uri: Any, now: datetime, standards: Standards
) -> VerifiedCredential:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidCredential("the credential is not JSON", ("credential",)) from None
    if not isinstance(document, dict):
        raise InvalidCredential("the credential is not a JSON object", ("credential",))
    _check_text(document)
    issuer_uri = _id(document.get("issuer"))
    if not isinstance(issuer_uri, str) or not issuer_uri:
        raise InvalidCredential("the credential names no issuer", ("credential", "issuer"))
    issuer = issuer_by_uri(issuer_uri)
    if issuer is None:
        raise UnknownIssuer(f"no registered institution has issuer URI {issuer_uri}")
    valid_from = moment_of(document.get("validFrom"), "validFrom")
    proof = data_integrity.find_proof(document)
    method = str(proof.get("verificationMethod") or "")
    public = data_integrity.public_key_from_multikey(method.rsplit("#", 1)[-1])
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = next(
        (
            k.kid
            for k in issuer.keys.values()
            if k.public_jwk.get("crv") == "Ed25519" and k.public_jwk.get("x") == _b64url(raw)
        ),
        None,
    )
    if kid is None:
        raise KeyNotValid(f"the proof's key is not a registered key of {issuer.name}")
    issuer.key_for(kid, valid_from)
    data_integrity.verify(document, public, standards)
    _check_types(document)
    standards.check_achievement_credential({k: v for k, v in document.items() if k != "proof"})
    until = document.get("validUntil")
    verified = VerifiedCredential(
        issuer, document, kid, valid_from, moment_of(until, "validUntil") if until else None
    )
    return _in_force(verified, now)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _in_force(verified: VerifiedCredential, now: datetime) -> VerifiedCredential:
    if verified.valid_from > now:
        raise InvalidCredential("the credential is not yet valid", ("credential", "validFrom"))
    if verified.valid_until is not None and verified.valid_until <= now:
        raise CredentialExpired(f"the credential expired at {verified.valid_until.isoformat()}")
    return verified


def verify_jwt(
    token: str, issuer_by_uri: Any, now: datetime, standards: Standards
) -> VerifiedCredential:
    """Verifies a VC-JWT; ``issuer_by_uri(uri) -> Institution | None`` resolves issuers."""
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidCredential("the credential is not a compact JWS", ("credential",))
    header, payload = _b64json(parts[0]), _b64json(parts[1])
    if "jwk" in header and isinstance(header["jwk"], dict) and "d" in header["jwk"]:
        raise InvalidSignature("the header's jwk carries a private key")
    credential = payload.get("vc", payload)
    if not isinstance(credential, dict):
        raise InvalidCredential("the vc claim is not an object", ("credential",))
    issuer_uri = _id(credential.get("issuer"))
    if not isinstance(issuer_uri, str) or not issuer_uri:
        raise InvalidCredential("the credential names no issuer", ("credential", "issuer"))
    if payload.get("iss", issuer_uri) != issuer_uri:
        raise InvalidCredential("iss does not match issuer.id", ("credential", "iss"))
    issuer = issuer_by_uri(issuer_uri)
    if issuer is None:
        raise UnknownIssuer(f"no registered institution has issuer URI {issuer_uri}")
    valid_from = moment_of(
        credential.get("validFrom") or credential.get("issuanceDate"), "validFrom"
    )
    kid = header.get("kid")
    if not isinstance(kid, str):
        jwk_header = header.get("jwk")
        kid = jwk_header.get("kid") if isinstance(jwk_header, dict) else None
    if not isinstance(kid, str) or not kid:
        raise KeyNotValid("the credential's header names no key (kid)")
    key = issuer.key_for(kid, valid_from)  # unknown, retired, out-of-window, suspended issuer
    if isinstance(header.get("jwk"), dict):
        embedded = {k: v for k, v in header["jwk"].items() if k != "kid"}
        registered = {k: v for k, v in key.public_jwk.items() if k != "kid"}
        if any(
            registered.get(k) != v
            for k, v in embedded.items()
            if k in ("kty", "crv", "x", "n", "e")
        ):
            raise KeyNotValid("the embedded jwk is not the registered key")
    if header.get("alg") != key.algorithm:
        raise InvalidSignature(
            f"the token says alg {header.get('alg')!r}; key {kid} is registered for {key.algorithm}"
        )
    try:
        jwt.decode(
            token,
            verifying_key(key),
            algorithms=[key.algorithm],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidSignature("the signature does not hold") from None
    except jwt.PyJWTError as exc:
        raise InvalidCredential(f"the token is invalid: {exc}", ("credential",)) from None
    _check_claims(payload, credential, valid_from)
    valid_until = credential.get("validUntil") or credential.get("expirationDate")
    until = moment_of(valid_until, "validUntil") if valid_until else None
    if "exp" in payload:
        exp = moment_of(payload["exp"], "exp")
        until = exp if until is None else min(until, exp)
    jwt_claims = ("iss", "jti", "nbf", "sub", "exp", "iat", "aud")  # JWT claims, not schema
    standards.check_achievement_credential(
        {k: v for k, v in credential.items() if k not in jwt_claims}
    )
    return _in_force(VerifiedCredential(issuer, credential, kid, valid_from, until), now)


def verifying_key(key: SigningKey) -> Any:
    """The registered key as the cryptography object that verifies with it. Registration calls
    this too, so a key that cannot verify is refused then, never on a later deposit."""
    try:
        return jwt.PyJWK({**key.public_jwk, "alg": key.algorithm}).key
    except (jwt.PyJWKError, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"publicKeyJwk is not a usable {key.algorithm} key: {exc}", ("publicKeyJwk",)
        ) from None


def _check_claims(
    payload: dict[str, Any], credential: dict[str, Any], valid_from: datetime
) -> None:
    if "jti" in payload and payload["jti"] != credential.get("id"):
        raise InvalidCredential("jti does not match the credential id", ("credential", "jti"))
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise InvalidCredential("credentialSubject is missing", ("credential",))
    if "sub" in payload and subject.get("id") is not None and payload["sub"] != subject.get("id"):
        raise InvalidCredential("sub does not match credentialSubject.id", ("credential", "sub"))
    if (
        "nbf" in payload
        and abs((moment_of(payload["nbf"], "nbf") - valid_from).total_seconds()) >= 1
    ):
        raise InvalidCredential("nbf does not match validFrom", ("credential", "nbf"))
    _check_types(credential)


def _check_types(credential: dict[str, Any]) -> None:
    types = credential.get("type")
    if not isinstance(types, list) or not {"OpenBadgeCredential", "AchievementCredential"} & set(
        types
    ):
        raise InvalidCredential("not an Open Badges AchievementCredential", ("credential", "type"))


MAX_IDENTITY_NUMBERS = 2  # a person's national number, plus one former or second document


def identity_numbers(credential: dict[str, Any]) -> list[dict[str, Any]]:
    """The subject's national identity numbers (IdentityObjects). More than a person holds is
    refused before any is compared: a list of candidates is how a document number is guessed."""
    subject = credential.get("credentialSubject") or {}
    identifiers = subject.get("identifier") if isinstance(subject, dict) else None
    if not isinstance(identifiers, list):
        return []
    numbers = [
        ident
        for ident in identifiers
        if isinstance(ident, dict) and ident.get("identityType") == "nationalIdentityNumber"
    ]
    if len(numbers) > MAX_IDENTITY_NUMBERS:
        raise InvalidCredential(
            f"the credential names more than {MAX_IDENTITY_NUMBERS} national identity numbers",
            ("credential", "credentialSubject", "identifier"),
        )
    return numbers


def identity_matches(numbers: list[dict[str, Any]], document_number: str) -> bool:
    """One of the subject's IdentityObjects (``identity_numbers``) must be the learner's national
    identity number (salted sha256, or plain); the number is tried as written and normalised.
    Every candidate is compared, so the time taken does not tell which matched."""
    candidates = {document_number.strip(), normalize_document_number(document_number)}
    found = False
    for ident in numbers:
        value = str(ident.get("identityHash", ""))
        if ident.get("hashed") is False:
            found |= any(hmac.compare_digest(value.encode(), c.encode()) for c in candidates)
            continue
        salt = str(ident.get("salt") or "")
        for number in candidates:
            digest = "sha256$" + hashlib.sha256((number + salt).encode()).hexdigest()
            found |= hmac.compare_digest(value.lower().encode(), digest.encode())
    return found
