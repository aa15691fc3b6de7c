"""The bank's own signing key (Ed25519): checkpoints of the audit chain and verifiable exports.

Kept in the data dir (created on first use, owner-only). Published as a JWK set at
``/.well-known/jwks.json`` and as a Multikey / did:key for Data Integrity verifiers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from application.private_files import private_dir, write_new_private

KEY_FILE = "bank-signing-key.pem"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


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


def ed25519_jwk(public: Ed25519PublicKey) -> dict[str, str]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    # RFC 7638 thumbprint: a stable kid derived from the key itself.
    thumb = hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode())
    return {**jwk, "kid": "bank-" + b64url(thumb.digest())[:16], "alg": "EdDSA", "use": "sig"}


def multikey(public: Ed25519PublicKey) -> str:
    """Multibase base58btc of the multicodec-prefixed (0xed01) Ed25519 public key: z6Mk..."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58btc(b"\xed\x01" + raw)


class BankKeys:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private
        self.public = private.public_key()
        self.jwk = ed25519_jwk(self.public)
        self.kid = self.jwk["kid"]
        self.multikey = multikey(self.public)
        self.did = "did:key:" + self.multikey

    @classmethod
    def load_or_create(cls, data_dir: Path) -> BankKeys:
        path = data_dir / KEY_FILE
        private_dir(data_dir)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, Ed25519PrivateKey)
            return cls(key)
        except FileNotFoundError:
            pass
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            write_new_private(path, pem)
        except FileExistsError:
            return cls.load_or_create(data_dir)
        return cls(key)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def sign_jwt(self, payload: dict[str, Any]) -> str:
        return jwt.encode(
            payload, self.private, algorithm="EdDSA", headers={"kid": self.kid, "typ": "JWT"}
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
