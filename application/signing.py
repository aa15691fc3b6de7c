"""The bank's own signing keys: checkpoints of the audit chain and verifiable exports.

Kept in the data dir (created on first use, owner-only). The first key, Ed25519
(``bank-signing-key.pem``), signs the audit checkpoints for good and the exports until a newer
key of the configured algorithm exists. Export keys of other algorithms (ES256, RS256: what the
1EdTech validator's external-proof probe accepts) and rotated keys live in ``bank-keys/`` as
``<sequence>-<algorithm>.pem``; the newest of an algorithm signs, and every key ever made stays
published (JWK set, did:web document) so earlier exports keep verifying.

Key ids are ``bank-`` plus the start of the key's RFC 7638 thumbprint; in exports the ``kid``
is the DID URL ``did:web:<host>#<key id>`` (OB 3.0 §8.2.3: a URI that dereferences to the key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, cast, get_args
from urllib.parse import quote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from application.private_files import private_dir, write_new_private

KEY_FILE = "bank-signing-key.pem"
KEY_DIR = "bank-keys"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
Algorithm = Literal["EdDSA", "ES256", "RS256"]
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
RSA_BITS = 3072
KEY_NAME = re.compile(r"^(\d{4,})-(EdDSA|ES256|RS256)\.pem$")
# RFC 7638: the required members of each key type, the only ones a thumbprint hashes.
THUMBPRINT_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
}
PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def base58btc(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = BASE58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def base58btc_decode(text: str) -> bytes:
    n = 0
    for c in text:
        n = n * 58 + BASE58.index(c)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
    members = {m: jwk[m] for m in THUMBPRINT_MEMBERS[jwk["kty"]]}
    return b64url(hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest())


def ed25519_jwk(public: Ed25519PublicKey) -> dict[str, str]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    return {**jwk, "kid": "bank-" + thumbprint(jwk)[:16], "alg": "EdDSA", "use": "sig"}


def multikey(public: Ed25519PublicKey) -> str:
    """Multibase base58btc of the multicodec-prefixed (0xed01) Ed25519 public key: z6Mk..."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58btc(b"\xed\x01" + raw)


def did_web(public_url: str) -> str:
    """The did:web DID of the bank's public URL (did:web method: the host, a port as ``%3A``,
    each path segment after a ``:``)."""
    parts = urlsplit(public_url)
    host = quote((parts.hostname or "").lower(), safe=".-")
    if parts.port is not None:
        host += f"%3A{parts.port}"
    segments = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", host, *segments])


def did_document_path(public_url: str) -> str:
    """Where did:web resolves the DID: ``/.well-known/did.json`` for a bare host, else
    ``<path>/did.json``."""
    path = urlsplit(public_url).path.rstrip("/")
    return f"{path}/did.json" if path else "/.well-known/did.json"


def _public_jwk(public: Any, algorithm: Algorithm) -> dict[str, Any]:
    if algorithm == "ES256":
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    elif algorithm == "RS256":
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}


@dataclass(frozen=True)
class BankKey:
    """One signing key of the bank: ``key_id`` is the fragment of its DID URL."""

    sequence: int  # 0 for the first Ed25519 key; order of creation otherwise
    algorithm: Algorithm
    private: PrivateKey

    @property
    def public(self) -> Any:
        return self.private.public_key()

    @cached_property
    def public_jwk(self) -> dict[str, Any]:
        return _public_jwk(self.public, self.algorithm)

    @cached_property
    def key_id(self) -> str:
        return "bank-" + thumbprint(self.public_jwk)[:16]

    @property
    def multikey(self) -> str | None:
        return multikey(self.public) if isinstance(self.private, Ed25519PrivateKey) else None

    def jwk(self, kid: str) -> dict[str, Any]:
        return {**self.public_jwk, "kid": kid, "alg": self.algorithm, "use": "sig"}

    def verification_method(self, did: str) -> dict[str, Any]:
        """The did:web document entry: a Multikey for Ed25519 (what eddsa-rdfc-2022 verifiers
        read), a JsonWebKey otherwise (RSA has no Multikey encoding)."""
        method: dict[str, Any] = {"id": f"{did}#{self.key_id}", "controller": did}
        if self.multikey is not None:
            return {**method, "type": "Multikey", "publicKeyMultibase": self.multikey}
        return {**method, "type": "JsonWebKey", "publicKeyJwk": self.jwk(f"{did}#{self.key_id}")}


def _generate(algorithm: Algorithm) -> PrivateKey:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return Ed25519PrivateKey.generate()


def _pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load(path: Path, algorithm: Algorithm) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    expected = {"EdDSA": Ed25519PrivateKey, "ES256": ec.EllipticCurvePrivateKey}.get(
        algorithm, rsa.RSAPrivateKey
    )
    if not isinstance(key, expected):
        raise ValueError(f"{path} is not an {algorithm} key")
    return cast(PrivateKey, key)


class BankKeys:
    """The bank's keys in ``data_dir``. ``private``/``public``/``kid``/``sign``/``verify`` are
    the first Ed25519 key's (audit checkpoints: their signatures name it and must keep
    verifying); exports use ``current()``, the newest key of the configured algorithm."""

    def __init__(self, data_dir: Path, algorithm: Algorithm = "EdDSA") -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"export algorithm {algorithm!r} is not one of {ALGORITHMS}")
        self.data_dir = data_dir
        self.algorithm: Algorithm = algorithm
        first = self._first_key()
        self.private = first
        self.public = first.public_key()
        self.jwk = ed25519_jwk(self.public)
        self.kid = self.jwk["kid"]
        self.multikey = multikey(self.public)
        self._keys: list[BankKey] = [BankKey(0, "EdDSA", first)]
        self._seen: frozenset[str] | None = None  # the key folder's names when last read
        if self.current_or_none(algorithm) is None:
            self._create(algorithm, only_if_missing=True)

    @classmethod
    def load_or_create(cls, data_dir: Path, algorithm: Algorithm = "EdDSA") -> BankKeys:
        return cls(data_dir, algorithm)

    # -- the key files ----------------------------------------------------------------------------
    def _first_key(self) -> Ed25519PrivateKey:
        path = self.data_dir / KEY_FILE
        private_dir(self.data_dir)
        while True:
            try:
                return cast(Ed25519PrivateKey, _load(path, "EdDSA"))
            except FileNotFoundError:
                pass
            try:
                write_new_private(path, _pem(Ed25519PrivateKey.generate()))
            except FileExistsError:  # another process made it just now: read theirs
                continue

    def _refresh(self) -> None:
        """Reads ``bank-keys/`` again when it changed (``creditbank keys rotate`` from another
        process): a running service publishes and signs with the new key without a restart."""
        folder = self.data_dir / KEY_DIR
        if not folder.is_dir():
            return
        seen = frozenset(os.listdir(folder))  # a handful of names: cheaper than a doubt
        if seen == self._seen:
            return
        known = {k.sequence for k in self._keys}
        for path in sorted(folder.iterdir()):
            match = KEY_NAME.match(path.name)
            if match is None or int(match[1]) in known:
                continue
            algorithm = cast(Algorithm, match[2])
            self._keys.append(BankKey(int(match[1]), algorithm, _load(path, algorithm)))
        self._keys.sort(key=lambda k: k.sequence)
        self._seen = seen

    def _create(self, algorithm: Algorithm, *, only_if_missing: bool = False) -> BankKey:
        folder = private_dir(self.data_dir / KEY_DIR)
        key = _generate(algorithm)
        while True:
            self._refresh()
            if only_if_missing and (found := self.current_or_none(algorithm)) is not None:
                return found  # another process made the first key of this algorithm
            sequence = max(k.sequence for k in self._keys) + 1
            try:
                write_new_private(folder / f"{sequence:04d}-{algorithm}.pem", _pem(key))
            except FileExistsError:  # that number was just taken: read it, take the next
                continue
            self._refresh()
            return self.current(algorithm)

    def rotate(self, algorithm: Algorithm | None = None) -> BankKey:
        """A new key for ``algorithm`` (default: the configured one): it signs from now on,
        the earlier ones stay published."""
        return self._create(algorithm or self.algorithm)

    # -- lookups ----------------------------------------------------------------------------------
    def keys(self) -> list[BankKey]:
        """Every key, oldest first."""
        self._refresh()
        return list(self._keys)

    def current_or_none(self, algorithm: Algorithm) -> BankKey | None:
        self._refresh()
        return next((k for k in reversed(self._keys) if k.algorithm == algorithm), None)

    def current(self, algorithm: Algorithm | None = None) -> BankKey:
        found = self.current_or_none(algorithm or self.algorithm)
        if found is None:
            raise LookupError(f"no {algorithm or self.algorithm} key")
        return found

    def find(self, kid: str, did: str) -> BankKey | None:
        """The key a JWS ``kid`` names: ``<did>#<key id>`` (this bank's DID only), or the bare
        key id that exports carried before DID URLs."""
        did_part, hash_, fragment = kid.partition("#")
        if hash_ and did_part != did:
            return None
        key_id = fragment if hash_ else kid
        return next((k for k in self.keys() if k.key_id == key_id), None)

    # -- publishing -------------------------------------------------------------------------------
    def jwks(self, did: str) -> dict[str, Any]:
        """Every key under its DID URL kid; the first key also under its bare id, the kid of
        exports made before DID URLs (their verifiers pick the key by that kid)."""
        published = [k.jwk(f"{did}#{k.key_id}") for k in self.keys()]
        return {"keys": [*published, self.jwk]}

    def did_document(self, did: str, also_known_as: list[str]) -> dict[str, Any]:
        methods = [k.verification_method(did) for k in self.keys()]
        return {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/jwk/v1",
            ],
            "id": did,
            "alsoKnownAs": also_known_as,
            "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods],
        }

    # -- signing ----------------------------------------------------------------------------------
    def sign_jwt(self, payload: dict[str, Any], did: str) -> str:
        key = self.current()
        return jwt.encode(
            payload,
            key.private,
            algorithm=key.algorithm,
            headers={"kid": f"{did}#{key.key_id}", "typ": "JWT"},
        )

    def sign(self, data: bytes) -> str:
        return b64url(self.private.sign(data))

    def verify(self, data: bytes, signature: str) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            self.public.verify(
                base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), data
            )
        except (InvalidSignature, ValueError):
            return False
        return True
