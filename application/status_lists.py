"""An incoming credential's status, read from its issuer's status list (issue 15, item 4).

Two status methods: W3C Bitstring Status List v1.0 (``BitstringStatusListEntry``: a bit at
``statusListIndex`` of the list credential's GZIP'd, multibase-base64url ``encodedList``, the
first bit index 0) and 1EdTech's ``1EdTechRevocationList`` (a JSON list of revoked credential
ids). The list is fetched with httpx: only from a host on the issuer's allow-list (the host of
its registered issuer URI: a credential cannot make the bank fetch anything else), https unless
that host is a loopback address (tests), no redirects, a timeout and a size cap, and cached as
long as the list's ``ttl`` (or its HTTP ``max-age``) says, 5 minutes by default. A Bitstring list
must be signed by the issuer with one of its registered keys (VC-JWT); a list that cannot be read
or trusted gives UNKNOWN, never ACTIVE.
"""

from __future__ import annotations

import base64
import enum
import ipaddress
import json
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from domain.errors import DomainError, InvalidCredential
from domain.institution import Institution

TIMEOUT = 5.0  # seconds for the whole fetch
MAX_BYTES = 1024 * 1024  # a list credential, as fetched
MAX_BITS = 16 * 1024 * 1024 * 8  # 16 MiB of decompressed bitstring (the spec's lists are 16 KiB+)
# Bitstring Status List v1.0: at least 131,072 entries (16 KiB), so that one entry tells little
# of whose credential it is; a shorter list is not trusted (the 1EdTech validator errors too).
MIN_BITS = 131_072
DEFAULT_TTL = 300.0  # seconds a list is kept when it says nothing
MAX_TTL = 86_400.0
BITSTRING = "BitstringStatusListEntry"
REVOCATION_LIST = "1EdTechRevocationList"
MAX_AGE = re.compile(r"max-age=(\d+)")


class Verdict(enum.Enum):
    ACTIVE = "ACTIVE"  # every list consulted says so
    REVOKED = "REVOKED"
    UNKNOWN = "UNKNOWN"  # a list could not be read or trusted: never taken as active
    NOT_APPLICABLE = "NOT_APPLICABLE"  # the credential states no status


@dataclass(frozen=True)
class Status:
    verdict: Verdict
    reason: str
    transient: bool = False  # UNKNOWN because the list could not be fetched: try again later


@dataclass(frozen=True)
class StatusWatch:
    """What a deposit records of a credential's status: its entries, normalised, and why the
    status is unknown (None: the list was read and the credential stands)."""

    entries: list[dict[str, Any]]
    unknown: str | None


@dataclass(frozen=True)
class Entry:
    kind: str
    list_url: str
    purpose: str = "revocation"
    index: int = 0


class Unreadable(Exception):
    """The list could not be fetched, parsed or trusted (the message says which)."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def entries(credential: dict[str, Any]) -> list[Entry]:
    """The credential's status entries; a malformed one refuses the credential (raised here,
    reported by the inspection as a RevocationListProbe finding: application/credentials)."""
    stated = credential.get("credentialStatus")
    if stated is None:
        return []
    found = []
    for item in stated if isinstance(stated, list) else [stated]:
        if not isinstance(item, dict):
            raise InvalidCredential("credentialStatus is not an object", ("credential",))
        kind = item.get("type")
        if kind == BITSTRING:
            url, index = item.get("statusListCredential"), item.get("statusListIndex")
            if not isinstance(url, str) or not urlsplit(url).scheme:
                raise InvalidCredential("statusListCredential is not a valid URI", ("credential",))
            if not isinstance(index, (str, int)) or not str(index).isdigit():
                raise InvalidCredential(
                    "statusListIndex is not a non-negative integer", ("credential",)
                )
            purpose = str(item.get("statusPurpose") or "revocation")
            found.append(Entry(BITSTRING, url, purpose, int(index)))
        elif kind == REVOCATION_LIST:
            url = item.get("id")
            if not isinstance(url, str) or not urlsplit(url).scheme:
                raise InvalidCredential(
                    "the revocation list id is not a valid URI", ("credential",)
                )
            found.append(Entry(REVOCATION_LIST, url))
        # Other methods are not the bank's to judge; they are reported as unknown below.
        else:
            found.append(Entry(str(kind), ""))
    return found


def stated(found: list[Entry]) -> list[dict[str, Any]]:
    """Supported entries as a credential states them, normalised: what an outcome records to
    be read again later (``check`` takes them back as a ``credentialStatus``)."""
    forms: list[dict[str, Any]] = []
    for entry in found:
        if entry.kind == BITSTRING:
            forms.append(
                {
                    "type": BITSTRING,
                    "statusListCredential": entry.list_url,
                    "statusPurpose": entry.purpose,
                    "statusListIndex": str(entry.index),
                }
            )
        elif entry.kind == REVOCATION_LIST:
            forms.append({"type": REVOCATION_LIST, "id": entry.list_url})
    return forms


def allowed_hosts(issuer: Institution) -> frozenset[str]:
    """Where the bank fetches an issuer's lists from: the host of its registered issuer URI."""
    host = urlsplit(issuer.issuer_uri).hostname
    return frozenset({host} if host else ())


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass
class _Cached:
    expires: float
    value: Any  # bytes (a bitstring) or frozenset[str] (revoked ids)


class StatusLists:
    def __init__(
        self,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self._clock, self._now = clock, now
        self._cache: dict[tuple[str, str], _Cached] = {}
        self._lock = threading.Lock()

    def check(self, issuer: Institution, credential: dict[str, Any]) -> Status:
        found = entries(credential)
        if not found:
            return Status(Verdict.NOT_APPLICABLE, "the credential states no status")
        for entry in found:
            if entry.kind not in (BITSTRING, REVOCATION_LIST):
                return Status(Verdict.UNKNOWN, f"status method {entry.kind!r} is not supported")
            try:
                if entry.kind == BITSTRING:
                    bits = self._list(issuer, entry.list_url, entry.purpose)
                    if entry.index >= len(bits) * 8:
                        return Status(Verdict.UNKNOWN, "statusListIndex is beyond the list")
                    if bits[entry.index // 8] & (0x80 >> (entry.index % 8)):
                        return Status(Verdict.REVOKED, f"{entry.purpose}: set in its status list")
                else:
                    revoked = self._list(issuer, entry.list_url, "revocation")
                    if str(credential.get("id")) in revoked:
                        return Status(Verdict.REVOKED, "listed in its issuer's revocation list")
            except Unreadable as exc:
                return Status(Verdict.UNKNOWN, str(exc), exc.transient)
        return Status(Verdict.ACTIVE, "not set in its issuer's status list")

    # -- fetching -------------------------------------------------------------------------------
    def _list(self, issuer: Institution, url: str, purpose: str) -> Any:
        key = (str(issuer.id), url)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached.expires > self._clock():
            return cached.value
        body, max_age = self._fetch(issuer, url)
        value, ttl = self._read(issuer, url, body, purpose)
        # max-age=0 (or a ttl of 0) means "do not keep it": the next check fetches again.
        stated_ttl = ttl if ttl is not None else max_age
        lifetime = min(MAX_TTL, DEFAULT_TTL if stated_ttl is None else stated_ttl)
        with self._lock:
            self._cache[key] = _Cached(self._clock() + lifetime, value)
        return value

    def _fetch(self, issuer: Institution, url: str) -> tuple[bytes, float | None]:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host not in allowed_hosts(issuer):
            raise Unreadable(f"the status list's host {host!r} is not the issuer's")
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(host)):
            raise Unreadable("the status list is not served over https")
        try:
            with self._http.stream(
                "GET",
                url,
                headers={"Accept": "application/vc+jwt, application/vc+ld+json, application/json"},
            ) as response:
                if response.status_code != 200:
                    raise Unreadable(
                        f"the status list answered HTTP {response.status_code}",
                        # Not (yet) published, or the server failing: establish it later.
                        transient=response.status_code in (404, 408, 429)
                        or response.status_code >= 500,
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise Unreadable("the status list is too large")
                control = response.headers.get("cache-control", "")
        except httpx.HTTPError as exc:
            raise Unreadable(
                f"the status list could not be fetched ({type(exc).__name__})", transient=True
            ) from None
        age = MAX_AGE.search(control)
        return bytes(body), float(age.group(1)) if age else None

    def _read(
        self, issuer: Institution, url: str, body: bytes, purpose: str
    ) -> tuple[Any, float | None]:
        text = body.decode("utf-8", errors="replace").strip()
        if text.startswith("{"):
            try:
                document = json.loads(text)
            except ValueError:
                raise Unreadable("the status list is not JSON") from None
            if isinstance(document, dict) and document.get("type") == REVOCATION_LIST:
                revoked = document.get("revokedCredentials") or []
                ids = frozenset(str(r.get("id")) for r in revoked if isinstance(r, dict))
                return ids, None
            raise Unreadable("the status list is not signed by its issuer (VC-JWT)")
        credential = self._verified(issuer, text)
        if str(credential.get("id", url)) != url:
            raise Unreadable("the status list credential is not the one the credential names")
        subject = credential.get("credentialSubject") or {}
        if not isinstance(subject, dict) or subject.get("type") != "BitstringStatusList":
            raise Unreadable("the status list is not a BitstringStatusList")
        if str(subject.get("statusPurpose") or "revocation") != purpose:
            raise Unreadable(f"the status list is not for {purpose}")
        ttl = subject.get("ttl")
        seconds = float(ttl) / 1000 if isinstance(ttl, (int, float)) and ttl >= 0 else None
        return _bitstring(subject.get("encodedList")), seconds

    def _verified(self, issuer: Institution, token: str) -> dict[str, Any]:
        """The list credential, signed by the issuer with a key registered and valid now."""
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            key = issuer.key_for(str(kid), self._now()) if kid else None
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unreadable(f"the status list is not a VC-JWT ({exc})") from None
        except DomainError as exc:  # an unknown, retired or revoked key
            raise Unreadable(f"the status list's key is not the issuer's: {exc}") from None
        if key is None:
            raise Unreadable("the status list's header names no key")
        try:
            public = jwt.PyJWK(key.public_jwk, algorithm=key.algorithm).key
            payload = jwt.decode(
                token, public, algorithms=[key.algorithm], options={"verify_aud": False}
            )
        except jwt.PyJWTError as exc:
            raise Unreadable(f"the status list's signature does not hold ({exc})") from None
        credential = payload.get("vc", payload)
        issuer_id = credential.get("issuer")
        issuer_id = issuer_id.get("id") if isinstance(issuer_id, dict) else issuer_id
        if issuer_id != issuer.issuer_uri:
            raise Unreadable("the status list is not issued by the credential's issuer")
        return dict(credential)


def _bitstring(encoded: Any) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u") or len(encoded) < 2:
        raise Unreadable("encodedList is not multibase base64url")
    try:
        packed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
        inflater = zlib.decompressobj(wbits=31)  # gzip
        bits = inflater.decompress(packed, MAX_BITS // 8 + 1)
    except (ValueError, zlib.error):
        raise Unreadable("encodedList is not GZIP'd base64url") from None
    if len(bits) > MAX_BITS // 8:
        raise Unreadable("encodedList is too large")
    if not bits:
        raise Unreadable("encodedList is empty")
    if len(bits) * 8 < MIN_BITS:
        raise Unreadable(
            f"the status list has {len(bits) * 8:,} entries, fewer than the {MIN_BITS:,} "
            "Bitstring Status List v1.0 requires"
        )
    return bits
