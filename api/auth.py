"""Bearer JWTs: who is calling (role and subject).

The embedded default signs tokens with the instance's own Ed25519 key, kept in the data dir
(``creditbank token`` prints one). In production, tokens come from an OpenID Connect provider and
are verified against its JWKS (issuer, audience and JWKS URL are settings). PyJWT does the crypto;
the accepted algorithms are fixed here, never taken from the token.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.private_files import private_dir, write_new_private

AUDIENCE = "creditbank"
ISSUER = "creditbank-local"
KEY_FILE = "jwt-signing-key.pem"


class Role(enum.Enum):
    LEARNER = "LEARNER"
    INSTITUTION = "INSTITUTION"
    ENTERPRISE = "ENTERPRISE"
    OFFICER = "OFFICER"
    AUDITOR = "AUDITOR"
    ADMIN = "ADMIN"


@dataclass(frozen=True)
class Principal:
    role: Role | None  # None: anonymous
    subject: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.role is None

    @property
    def actor(self) -> str:
        return f"{self.role.value.lower()}:{self.subject or '-'}" if self.role else "anonymous"


ANONYMOUS = Principal(None)


class AuthenticationError(Exception):
    code = "UNAUTHENTICATED"


def load_or_create_signing_key(data_dir: Path) -> Ed25519PrivateKey:
    path = data_dir / KEY_FILE
    private_dir(data_dir)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        write_new_private(path, pem)
    except FileExistsError:  # another process created it first: use theirs
        return load_or_create_signing_key(data_dir)
    return key


class TokenService:
    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        oidc_issuer: str | None = None,
        oidc_audience: str | None = None,
        oidc_jwks_url: str | None = None,
        role_claim: str = "role",
    ) -> None:
        self._key = signing_key
        self._public = signing_key.public_key()
        self._oidc_issuer = oidc_issuer
        self._oidc_audience = oidc_audience
        self._jwks = jwt.PyJWKClient(oidc_jwks_url) if oidc_jwks_url else None
        self._role_claim = role_claim

    def issue(self, role: Role, subject: str | None, ttl: timedelta = timedelta(hours=12)) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "role": role.value,
            "sub": subject or role.value.lower(),
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA")

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            if self._jwks is not None and header.get("kid"):
                signing_key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token,
                    signing_key,
                    algorithms=["RS256", "ES256", "EdDSA"],
                    audience=self._oidc_audience,
                    issuer=self._oidc_issuer,
                    options={"require": ["exp", "sub"]},
                )
            else:
                claims = jwt.decode(
                    token,
                    self._public,
                    algorithms=["EdDSA"],
                    audience=AUDIENCE,
                    issuer=ISSUER,
                    options={"require": ["exp", "sub", "role"]},
                )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid bearer token: {exc}") from None
        try:
            role = Role(str(claims.get(self._role_claim, "")).upper())
        except ValueError:
            raise AuthenticationError("the token carries no known role") from None
        return Principal(role, str(claims["sub"]))
