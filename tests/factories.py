"""Test factories: real issuer key pairs and signed Open Badges 3.0 credentials (VC-JWT).

Nothing here is mocked: keys are generated with ``cryptography`` and credentials signed with
PyJWT exactly as an issuer would, so tests exercise the real verification path.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _int_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass
class IssuerKeys:
    """An issuer's key pair; ``jwk`` is the public JWK to register."""

    kid: str
    algorithm: str
    private: Any
    jwk: dict[str, Any]

    @classmethod
    def ed25519(cls, kid: str | None = None) -> IssuerKeys:
        from cryptography.hazmat.primitives import serialization

        private = Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        kid = kid or f"ed-{uuid.uuid4().hex[:8]}"
        return cls(
            kid, "EdDSA", private, {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid}
        )

    @classmethod
    def rsa(cls, kid: str | None = None) -> IssuerKeys:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = private.public_key().public_numbers()
        kid = kid or f"rsa-{uuid.uuid4().hex[:8]}"
        jwk = {"kty": "RSA", "n": _int_b64(numbers.n), "e": _int_b64(numbers.e), "kid": kid}
        return cls(kid, "RS256", private, jwk)


def identity_object(document_number: str, salt: str = "s4lt") -> dict[str, Any]:
    digest = hashlib.sha256((document_number + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": "sha256$" + digest,
        "identityType": "nationalIdentityNumber",
        "hashed": True,
        "salt": salt,
    }


@dataclass
class CredentialSpec:
    issuer_uri: str
    document_number: str
    title: str = "Computer Networks"
    credits: str | float = 3
    achievement_type: str = "Course"
    human_code: str | None = None
    eqf_level: int | None = 6
    credential_id: str = field(default_factory=lambda: f"urn:uuid:{uuid.uuid4()}")
    valid_from: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    )
    valid_until: datetime | None = None
    subject_id: str = "did:example:learner"


def achievement_credential(spec: CredentialSpec) -> dict[str, Any]:
    achievement: dict[str, Any] = {
        "id": f"https://example.edu/achievements/{uuid.uuid4().hex[:8]}",
        "type": ["Achievement"],
        "achievementType": spec.achievement_type,
        "name": spec.title,
        "description": f"{spec.title} (assessed)",
        "criteria": {"narrative": "Passed the final assessment."},
        "creditsAvailable": spec.credits,
    }
    if spec.human_code:
        achievement["humanCode"] = spec.human_code
    if spec.eqf_level is not None:
        achievement["alignment"] = [
            {
                "type": ["Alignment"],
                "targetType": "ext:EQF",
                "targetName": f"EQF level {spec.eqf_level}",
                "targetCode": str(spec.eqf_level),
                "targetUrl": "https://europa.eu/europass/en/eqf",
            }
        ]
    credential: dict[str, Any] = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": spec.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": spec.issuer_uri, "type": ["Profile"], "name": "Test Issuer"},
        "validFrom": spec.valid_from.isoformat().replace("+00:00", "Z"),
        "name": spec.title,
        "credentialSubject": {
            "id": spec.subject_id,
            "type": ["AchievementSubject"],
            "identifier": [identity_object(spec.document_number)],
            "creditsEarned": spec.credits,
            "achievement": achievement,
        },
    }
    if spec.valid_until is not None:
        credential["validUntil"] = spec.valid_until.isoformat().replace("+00:00", "Z")
    return credential


def sign_vc_jwt(
    credential: dict[str, Any],
    keys: IssuerKeys,
    *,
    vc_claim: bool = False,
    headers: dict[str, Any] | None = None,
    algorithm: str | None = None,
    claims: dict[str, Any] | None = None,
) -> str:
    """OB 3.0 VC-JWT: the credential plus iss/jti/nbf/sub(/exp); or the older ``vc`` claim form."""
    valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    registered: dict[str, Any] = {
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "nbf": int(valid_from.timestamp()),
        "sub": credential["credentialSubject"]["id"],
    }
    if "validUntil" in credential:
        until = datetime.fromisoformat(credential["validUntil"].replace("Z", "+00:00"))
        registered["exp"] = int(until.timestamp())
    payload = {**registered, "vc": credential} if vc_claim else {**credential, **registered}
    payload.update(claims or {})
    return jwt.encode(
        payload,
        keys.private,
        algorithm=algorithm or keys.algorithm,
        headers={"kid": keys.kid, "typ": "JWT", **(headers or {})},
    )
