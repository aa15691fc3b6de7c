"""Institution: universities, colleges, training providers, enterprises, certification bodies.

An institution issues learning outcomes (signed with one of its registered keys), accepts
conversions, or, when it is an enterprise, reads the training of employees who consented.
"""

from __future__ import annotations

import base64
import copy
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.credit_schemes import CreditScheme, parse_scheme, scheme_on
from domain.errors import InvalidInput, KeyNotValid, UnknownIssuer
from domain.values import InstitutionKind, parse_enum, parse_text, utc

# JWK members that only a private key has: a registered key must never carry them.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_KID_LENGTH = 200
MAX_JWK_CHARS = 16 * 1024  # a 4096-bit RSA key is under 1 KiB
MIN_RSA_BITS = 2048  # NIST SP 800-131A: shorter RSA keys no longer protect signatures
B64URL = re.compile(r"[A-Za-z0-9_-]*")
# RFC 3986: an absolute URI starts with a scheme (a letter, then letters, digits, "+", "-", ".").
ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")


@dataclass(frozen=True, kw_only=True)
class SigningKey:
    kid: str
    algorithm: str  # taken from the registered key, never from a token (no algorithm confusion)
    public_jwk: dict[str, Any]
    valid_from: datetime
    valid_until: datetime | None
    retired_at: datetime | None = None
    # Revoked as compromised: from then on it verifies nothing, whatever date a credential
    # claims; credentials it signed from ``compromised_at`` on are put under review.
    compromised_at: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> SigningKey:
        # Frozen, but its JWK is a dict: the copy has its own (the rest is immutable).
        return replace(self, public_jwk=copy.deepcopy(self.public_jwk, memo))

    def valid_at(self, moment: datetime) -> bool:
        if moment < self.valid_from:
            return False
        if self.valid_until is not None and moment > self.valid_until:
            return False
        return self.retired_at is None or moment < self.retired_at


def _b64url_bytes(value: str, member: str) -> bytes:
    """A JWK member is unpadded base64url (RFC 7518); anything else is not a key."""
    if len(value) > MAX_JWK_CHARS or not B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise InvalidInput(f"publicKeyJwk {member} is not base64url", ("publicKeyJwk", member))
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def algorithm_for(jwk: object) -> str:
    """Checks a public JWK's shape and returns the one algorithm it may be used with."""
    if not isinstance(jwk, dict):
        raise InvalidInput("publicKeyJwk must be a JSON object", ("publicKeyJwk",))
    if PRIVATE_JWK_MEMBERS & jwk.keys():
        raise InvalidInput("publicKeyJwk contains private key material", ("publicKeyJwk",))
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid.strip() or len(kid) > MAX_KID_LENGTH:
        raise InvalidInput("publicKeyJwk needs a kid", ("publicKeyJwk", "kid"))
    kty = jwk.get("kty")
    if kty == "OKP" and jwk.get("crv") == "Ed25519" and isinstance(jwk.get("x"), str):
        if len(_b64url_bytes(jwk["x"], "x")) != 32:
            raise InvalidInput("an Ed25519 key's x is 32 bytes", ("publicKeyJwk", "x"))
        return _flat(jwk, "EdDSA")
    if kty == "RSA" and isinstance(jwk.get("n"), str) and isinstance(jwk.get("e"), str):
        n = int.from_bytes(_b64url_bytes(jwk["n"], "n"), "big")
        e = int.from_bytes(_b64url_bytes(jwk["e"], "e"), "big")
        if n.bit_length() < MIN_RSA_BITS or n % 2 == 0:
            raise InvalidInput(
                f"an RSA key's modulus is odd and at least {MIN_RSA_BITS} bits",
                ("publicKeyJwk", "n"),
            )
        if e < 3 or e % 2 == 0 or e >= n:
            raise InvalidInput("an RSA key's exponent is odd, 3 or more", ("publicKeyJwk", "e"))
        return _flat(jwk, "RS256")
    raise InvalidInput(
        "publicKeyJwk must be an OKP Ed25519 key (kty, crv, x) or an RSA key (kty, n, e)",
        ("publicKeyJwk",),
    )


def _flat(jwk: dict[str, Any], algorithm: str) -> str:
    """Other members (alg, use, key_ops, ...) must be strings or lists of strings too, and the
    whole key small: nothing nested that could grow without bound."""

    def size(v: object) -> int:
        if isinstance(v, str):
            return len(v)
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return sum(len(x) for x in v)
        raise InvalidInput(
            "publicKeyJwk members must be strings or lists of strings", ("publicKeyJwk",)
        )

    if sum(len(str(k)) + size(v) for k, v in jwk.items()) > MAX_JWK_CHARS:
        raise InvalidInput("publicKeyJwk is too large", ("publicKeyJwk",))
    return algorithm


class Institution(Aggregate):
    # 2: credit schemes (snapshots of version 1 have none: the institution counted in framework
    # credits).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["credit_schemes"] = []

    @event("Registered")
    def __init__(
        self, name: str, kind: InstitutionKind, issuer_uri: str, registered_at: datetime
    ) -> None:
        self.name = name
        self.kind = kind
        self.issuer_uri = issuer_uri
        self.active = True
        self.keys: dict[str, SigningKey] = {}
        self.credit_schemes: list[CreditScheme] = []

    @classmethod
    def register(
        cls,
        *,
        id: UUID,  # the issuer URI defaults to this id, so it is chosen first
        name: object,
        kind: InstitutionKind,
        issuer_uri: object | None,
        at: datetime,
    ) -> Institution:
        uri = f"urn:uuid:{id}" if issuer_uri is None else parse_text(issuer_uri, "issuerUri")
        if not ABSOLUTE_URI.fullmatch(uri):
            raise InvalidInput("issuerUri must be an absolute URI", ("issuerUri",))
        return cls._create(
            cls.Registered,  # type: ignore[attr-defined]  # made by @event
            id=id,
            name=parse_text(name, "name", max_length=200),
            kind=parse_enum(InstitutionKind, kind, "kind"),
            issuer_uri=uri,
            registered_at=utc(at),
        )

    # -- keys ---------------------------------------------------------------------------------
    def add_key(
        self, jwk: object, valid_from: datetime, valid_until: datetime | None = None
    ) -> SigningKey:
        algorithm = algorithm_for(jwk)
        assert isinstance(jwk, dict)
        kid = str(jwk["kid"]).strip()
        if kid in self.keys:
            raise InvalidInput(f"key {kid!r} is already registered", ("publicKeyJwk", "kid"))
        valid_from = utc(valid_from)
        if valid_until is not None and utc(valid_until) <= valid_from:
            raise InvalidInput("key validUntil must be after validFrom", ("validUntil",))
        self._key_added(
            kid=kid,
            algorithm=algorithm,
            public_jwk=dict(jwk),
            valid_from=valid_from,
            valid_until=utc(valid_until) if valid_until else None,
        )
        return self.keys[kid]

    @event("KeyAdded")
    def _key_added(
        self,
        kid: str,
        algorithm: str,
        public_jwk: dict[str, Any],
        valid_from: datetime,
        valid_until: datetime | None,
    ) -> None:
        self.keys[kid] = SigningKey(
            kid=kid,
            algorithm=algorithm,
            public_jwk=public_jwk,
            valid_from=valid_from,
            valid_until=valid_until,
        )

    def retire_key(self, kid: str, at: datetime) -> None:
        kid = parse_text(kid, "kid", max_length=MAX_KID_LENGTH)
        key = self.keys.get(kid)
        if key is None:
            raise KeyNotValid(f"no key {kid!r} on {self.name}", ("kid",))
        if key.retired_at is not None:
            raise KeyNotValid(f"key {kid!r} is already retired", ("kid",))
        self._key_retired(kid=kid, retired_at=utc(at))

    @event("KeyRetired")
    def _key_retired(self, kid: str, retired_at: datetime) -> None:
        self.keys[kid] = replace(self.keys[kid], retired_at=retired_at)

    def revoke_key(self, kid: str, compromised_at: datetime, reason: object, at: datetime) -> None:
        """A key known to be compromised since ``compromised_at``: unlike retirement (rotation,
        which keeps verifying what was signed before it), a revoked key verifies nothing from
        now on, since anyone holding it can claim any signing date."""
        kid = parse_text(kid, "kid", max_length=MAX_KID_LENGTH)
        key = self.keys.get(kid)
        if key is None:
            raise KeyNotValid(f"no key {kid!r} on {self.name}", ("kid",))
        if key.revoked_at is not None:
            raise KeyNotValid(f"key {kid!r} is already revoked", ("kid",))
        compromised_at, at = utc(compromised_at), utc(at)
        if compromised_at > at:
            raise InvalidInput("compromisedAt must not be in the future", ("compromisedAt",))
        self._key_revoked(
            kid=kid,
            compromised_at=max(compromised_at, key.valid_from),
            revoked_at=at,
            reason=parse_text(reason, "reason"),
        )

    @event("KeyRevoked")
    def _key_revoked(
        self, kid: str, compromised_at: datetime, revoked_at: datetime, reason: str
    ) -> None:
        self.keys[kid] = replace(
            self.keys[kid],
            compromised_at=compromised_at,
            revoked_at=revoked_at,
            revocation_reason=reason,
        )

    def key_for(self, kid: str, issued_at: datetime) -> SigningKey:
        """The key that may verify a credential this institution issued at ``issued_at``."""
        if not self.active:
            raise UnknownIssuer(f"{self.name} is suspended and cannot deposit")
        key = self.keys.get(kid)
        if key is None:
            raise KeyNotValid(f"{self.name} has no key {kid!r}")
        if key.revoked_at is not None:
            raise KeyNotValid(
                f"key {kid!r} of {self.name} was revoked as compromised: it verifies nothing "
                "deposited since, whatever date a credential claims"
            )
        if not key.valid_at(utc(issued_at)):
            raise KeyNotValid(f"key {kid!r} of {self.name} was not valid at {issued_at}")
        return key

    # -- credit scheme ------------------------------------------------------------------------
    def declare_credit_scheme(self, scheme: object) -> CreditScheme:
        """How this institution's credits compare with the framework's, from a date (default:
        for all its learning)."""
        scheme = parse_scheme(scheme)
        if self.credit_schemes and self.credit_schemes[-1] == scheme:
            raise InvalidInput("the credit scheme is already declared")
        self._credit_scheme_declared(scheme=scheme)
        return scheme

    @event("CreditSchemeDeclared")
    def _credit_scheme_declared(self, scheme: CreditScheme) -> None:
        self.credit_schemes.append(scheme)

    def credit_scheme_on(self, day: date) -> CreditScheme:
        return scheme_on(self.credit_schemes, day)

    # -- status -------------------------------------------------------------------------------
    def suspend(self, reason: object) -> None:
        if not self.active:
            raise InvalidInput(f"{self.name} is already suspended")
        self._suspended(reason=parse_text(reason, "reason"))

    @event("Suspended")
    def _suspended(self, reason: str) -> None:
        self.active = False

    def reactivate(self) -> None:
        if self.active:
            raise InvalidInput(f"{self.name} is already active")
        self._reactivated()

    @event("Reactivated")
    def _reactivated(self) -> None:
        self.active = True

    def rename(self, name: object) -> None:
        self._renamed(name=parse_text(name, "name", max_length=200))

    @event("Renamed")
    def _renamed(self, name: str) -> None:
        self.name = name
