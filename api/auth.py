"""Bearer JWTs: who is calling (role and subject).

Two kinds of token. Local ones are signed with the instance's own Ed25519 key, kept in the data dir
(``creditbank token`` prints one): short-lived (an ADMIN token at most 12 hours, any other at most
30 days), each with a ``jti`` that ``creditbank revoke-token`` puts on a revocation list every API
process reads. In production, tokens come from an OpenID Connect provider and are verified against
its JWKS; issuer and audience are then required, and local tokens are refused unless
``CREDITBANK_LOCAL_TOKENS`` says otherwise. PyJWT does the crypto and fetches the JWKS; the
accepted algorithms are fixed here, never taken from the token. Nothing here blocks the event loop:
the JWKS and the revocation list are read in a worker thread, one fetch at a time, with a timeout
and a cooldown after a failure. A refusal says "invalid bearer token" and at most a reason from a
fixed list; the details (a fetch error, a URL) go to the log only.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.private_files import private_dir, write_new_private

if TYPE_CHECKING:
    from application.database import Database

log = logging.getLogger("creditbank.auth")

AUDIENCE = "creditbank"
ISSUER = "creditbank-local"
KEY_FILE = "jwt-signing-key.pem"
PROVIDER_ALGORITHMS = ["RS256", "ES256", "EdDSA"]
LEEWAY = 30  # seconds of clock skew tolerated between the provider and us
JWKS_LIFESPAN = 300.0  # seconds a fetched key set is used before it is fetched again
STALE_GRACE = 3600.0  # seconds a listed key outlives its lifespan while the provider is down
UNKNOWN_KID_COOLDOWN = 30.0  # after a fetch, an unknown kid is refused without fetching again
REVOCATIONS_REFRESH = 5.0  # seconds a read of the revocation list is reused


class Role(enum.Enum):
    LEARNER = "LEARNER"
    INSTITUTION = "INSTITUTION"
    ENTERPRISE = "ENTERPRISE"
    OFFICER = "OFFICER"
    AUDITOR = "AUDITOR"
    ADMIN = "ADMIN"


DEFAULT_TTL = timedelta(hours=12)
MAX_TTL = timedelta(days=30)
# A stolen ADMIN token is the worst case and no script needs one for long: half a day at most.
MAX_TTL_BY_ROLE = {Role.ADMIN: timedelta(hours=12)}


def max_ttl(role: Role) -> timedelta:
    return MAX_TTL_BY_ROLE.get(role, MAX_TTL)


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
    """A refused bearer token (401). The message is safe to show: never exception text."""

    code = "UNAUTHENTICATED"

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(f"invalid bearer token: {reason}" if reason else "invalid bearer token")


# PyJWT's refusals a caller may be told about; anything else is just "invalid bearer token".
SAFE_REASONS: list[tuple[type[jwt.PyJWTError], str]] = [
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not yet valid"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "algorithm not accepted"),
]


def refusal(exc: jwt.PyJWTError) -> AuthenticationError:
    log.info("bearer token refused: %s: %s", type(exc).__name__, exc)
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return AuthenticationError(f"missing claim {exc.claim}")  # one of our required names
    for kind, reason in SAFE_REASONS:
        if isinstance(exc, kind):
            return AuthenticationError(reason)
    return AuthenticationError()


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


class SingleFlight:
    """One run of a blocking call at a time, in a worker thread: callers arriving while it runs
    await the same result instead of starting their own (N requests, one fetch)."""

    def __init__(self, call: Callable[[], Any], deadline: float) -> None:
        self._call = call
        self._deadline = deadline
        self._running: asyncio.Task[Any] | None = None

    @property
    def running(self) -> bool:
        return self._running is not None

    async def __call__(self) -> Any:
        if self._running is None:
            task = asyncio.get_running_loop().create_task(self._run())
            # A caller that goes away (client disconnect) must not leave an unread exception.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._running = task
        return await asyncio.shield(self._running)  # one caller cancelled: the run goes on

    async def _run(self) -> Any:
        try:
            # The thread's own socket timeout bounds each read; this bounds the whole call.
            return await asyncio.wait_for(asyncio.to_thread(self._call), self._deadline)
        finally:
            self._running = None


class ProviderKeys:
    """The OIDC provider's signing keys, by kid. PyJWKClient fetches and parses the JWKS (http(s)
    only, no redirects, a socket timeout); this keeps the keys for ``lifespan`` seconds, fetches
    them off the event loop one request at a time, refuses an unknown kid without fetching again
    for a while after a fetch (random kids cannot make us hammer the provider), and after a failed
    fetch answers at once for ``retry_after`` seconds instead of letting every request wait."""

    def __init__(
        self,
        url: str,
        timeout: float = 5.0,
        retry_after: float = 30.0,
        lifespan: float = JWKS_LIFESPAN,
    ) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=timeout)
        self._lifespan = lifespan
        self._retry_after = retry_after
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -math.inf
        self._retry_at = -math.inf
        self._fetch = SingleFlight(self._client.get_signing_keys, timeout + 1.0)

    async def key(self, kid: str) -> jwt.PyJWK:
        age = time.monotonic() - self._fetched_at
        if kid in self._keys and age < self._lifespan:
            return self._keys[kid]
        if kid not in self._keys and age < UNKNOWN_KID_COOLDOWN:
            raise AuthenticationError("unknown signing key")
        if time.monotonic() < self._retry_at and not self._fetch.running:
            return self._stale(kid)
        try:
            keys: list[jwt.PyJWK] = await self._fetch()
        except Exception:
            self._retry_at = time.monotonic() + self._retry_after
            log.warning("could not fetch the OIDC provider's JWKS", exc_info=True)
            return self._stale(kid)
        self._keys = {str(k.key_id): k for k in keys}
        self._fetched_at = time.monotonic()
        if kid not in self._keys:
            raise AuthenticationError("unknown signing key")
        return self._keys[kid]

    def _stale(self, kid: str) -> jwt.PyJWK:
        """While the provider cannot be reached, a key it listed stays usable for a grace period
        (an outage does not log everyone out); a kid never seen is refused."""
        if kid in self._keys and time.monotonic() - self._fetched_at < self._lifespan + STALE_GRACE:
            return self._keys[kid]
        raise AuthenticationError("signing keys unavailable")


class Revocations:
    """The revoked local tokens' ids, read from the database (every process sees a revocation)
    at most every ``refresh`` seconds, in a worker thread; a request meanwhile checks a set in
    memory. A failed read keeps the last list; with none read yet, local tokens are refused."""

    def __init__(self, database: Database, refresh: float = REVOCATIONS_REFRESH) -> None:
        self.database = database
        self._refresh = refresh
        self._ids: frozenset[str] | None = None
        self._read_at = -math.inf
        self._read = SingleFlight(lambda: revoked_token_ids(database), 10.0)

    async def revoked(self, jti: str) -> bool:
        due = time.monotonic() - self._read_at >= self._refresh
        # While another request reads, this one uses the list read a moment ago (if any).
        if due and (self._ids is None or not self._read.running):
            try:
                ids = await self._read()
                self._ids, self._read_at = frozenset(ids), time.monotonic()
            except Exception:
                log.warning("could not read the revoked tokens", exc_info=True)
                self._read_at = time.monotonic() - self._refresh + 1.0  # retry in a second
        if self._ids is None:
            raise AuthenticationError("revocation list unavailable")
        return jti in self._ids


def revoked_token_ids(database: Database) -> list[str]:
    now = datetime.now(UTC).isoformat()
    with database.transaction(readonly=True) as cur:
        cur.execute("SELECT jti FROM revoked_tokens WHERE expires_at > ?", (now,))
        return [str(row[0]) for row in cur.fetchall()]


def revoke_token(database: Database, jti: str, reason: str = "") -> bool:
    """Puts a local token's id on the revocation list (False: it was already there). The row
    outlives any local token (MAX_TTL); rows past that are deleted here."""
    now = datetime.now(UTC)
    with database.transaction() as cur:
        cur.execute("DELETE FROM revoked_tokens WHERE expires_at <= ?", (now.isoformat(),))
        cur.execute("SELECT 1 FROM revoked_tokens WHERE jti = ?", (jti,))
        if cur.fetchone() is not None:
            return False
        cur.execute(
            "INSERT INTO revoked_tokens (jti, revoked_at, expires_at, reason) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (jti) DO NOTHING",  # a concurrent revocation of the same token
            (jti, now.isoformat(), (now + MAX_TTL).isoformat(), reason),
        )
    return True


@dataclass(frozen=True)
class LocalToken:
    token: str
    jti: str
    expires: datetime


class TokenService:
    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        oidc_issuer: str | None = None,
        oidc_audience: str | None = None,
        oidc_jwks_url: str | None = None,
        role_claim: str = "role",
        *,
        local_tokens: bool | None = None,
        jwks_timeout: float = 5.0,
        jwks_retry_after: float = 30.0,
    ) -> None:
        self._key = signing_key
        self._public = signing_key.public_key()
        self._oidc_issuer = oidc_issuer
        self._oidc_audience = oidc_audience
        self._role_claim = role_claim
        self.provider: ProviderKeys | None = None
        if oidc_jwks_url:
            if not (oidc_issuer and oidc_audience):  # Settings refuses this first, with a line
                raise ValueError("an OIDC provider needs both an issuer and an audience")
            self.provider = ProviderKeys(oidc_jwks_url, jwks_timeout, jwks_retry_after)
        self.local_tokens = self.provider is None if local_tokens is None else local_tokens
        self._revocations: Revocations | None = None

    def mint(self, role: Role, subject: str | None, ttl: timedelta = DEFAULT_TTL) -> LocalToken:
        if not timedelta(0) < ttl <= max_ttl(role):
            raise ValueError(f"a local {role.value} token lives at most {max_ttl(role)}")
        now = datetime.now(UTC)
        jti = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": jti,
            "role": role.value,
            "sub": subject or role.value.lower(),
        }
        return LocalToken(jwt.encode(claims, self._key, algorithm="EdDSA"), jti, now + ttl)

    def issue(self, role: Role, subject: str | None, ttl: timedelta = DEFAULT_TTL) -> str:
        return self.mint(role, subject, ttl).token

    async def authenticate(self, token: str, database: Database) -> Principal:
        """The caller a bearer token names, or AuthenticationError. ``database`` holds the
        revocation list of local tokens."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise refusal(exc) from None
        if unverified.get("iss") == ISSUER:
            claims = self._local_claims(token)
            if await self._revocations_for(database).revoked(str(claims["jti"])):
                log.info("revoked local token %s refused", claims["jti"])
                raise AuthenticationError("revoked")
        elif self.provider is not None:
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise AuthenticationError("no key id")
            claims = self._provider_claims(token, await self.provider.key(kid))
        else:
            raise AuthenticationError("wrong issuer")
        try:
            role = Role(str(claims.get(self._role_claim, "")).upper())
        except ValueError:
            raise AuthenticationError("no known role") from None
        return Principal(role, str(claims["sub"]))

    def _local_claims(self, token: str) -> dict[str, Any]:
        if not self.local_tokens:
            raise AuthenticationError("local tokens are not accepted here")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._public,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "role", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise refusal(exc) from None
        # A token the key signed for longer than its role may live (minted by hand, or by an
        # older version) is refused, whatever its exp says.
        try:
            lifetime = timedelta(seconds=float(claims["exp"]) - float(claims["iat"]))
            role = Role(str(claims["role"]).upper())
        except (TypeError, ValueError):
            raise AuthenticationError() from None
        if lifetime > max_ttl(role):
            raise AuthenticationError("lifetime too long")
        return claims

    def _provider_claims(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,  # a PyJWK: its own algorithm must match the header's, within the list
                algorithms=PROVIDER_ALGORITHMS,
                audience=self._oidc_audience,
                issuer=self._oidc_issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise refusal(exc) from None
        return claims

    def _revocations_for(self, database: Database) -> Revocations:
        if self._revocations is None or self._revocations.database is not database:
            self._revocations = Revocations(database)
        return self._revocations
