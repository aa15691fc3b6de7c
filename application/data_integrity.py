"""Data Integrity proofs with the eddsa-rdfc-2022 cryptosuite (W3C VC Data Integrity EdDSA).

Canonicalise the document without its proof and the proof options (the proof without
``proofValue``, with the document's ``@context``) with RDFC-1.0 (URDNA2015, via pyld and the
offline document loader, bounded and run in a worker process with a deadline:
application/canonicalisation.py); sign or verify Ed25519 over sha256(proof) || sha256(document);
the proofValue is multibase base58btc (``z...``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from application import canonicalisation
from application.signing import base58btc, base58btc_decode
from application.standards import Standards
from domain.errors import InvalidCredential, InvalidSignature

CRYPTOSUITE = "eddsa-rdfc-2022"
MULTIKEY_ED25519_PREFIX = b"\xed\x01"


def canonical(document: dict[str, Any], standards: Standards) -> str:
    """The RDFC-1.0 N-Quads of ``document``, bounded (application/canonicalisation.py): its size,
    nesting and blank nodes are checked first, then a worker process canonicalises it with a
    deadline; a credential over either is refused as INVALID_CREDENTIAL."""
    return canonicalisation.canonicalise([document], standards.directory)[0]


def hash_data(document: dict[str, Any], options: dict[str, Any], standards: Standards) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof_config = {k: v for k, v in options.items() if k != "proofValue"}
    proof_config["@context"] = unsecured.get("@context")
    # One call, one deadline for both: the bounds hold for the proof's options as well.
    proof_canon, document_canon = canonicalisation.canonicalise(
        [proof_config, unsecured], standards.directory
    )
    proof_hash = hashlib.sha256(proof_canon.encode()).digest()
    document_hash = hashlib.sha256(document_canon.encode()).digest()
    return proof_hash + document_hash


def public_key_from_multikey(multikey: str) -> Ed25519PublicKey:
    if not multikey.startswith("z"):
        raise InvalidCredential("verificationMethod is not a base58btc Multikey")
    try:
        raw = base58btc_decode(multikey[1:])
    except ValueError:
        raise InvalidCredential("verificationMethod is not a base58btc Multikey") from None
    if not raw.startswith(MULTIKEY_ED25519_PREFIX) or len(raw) != 34:
        raise InvalidCredential("verificationMethod is not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def find_proof(document: dict[str, Any]) -> dict[str, Any]:
    proofs = document.get("proof")
    candidates = proofs if isinstance(proofs, list) else [proofs]
    for proof in candidates:
        if isinstance(proof, dict) and proof.get("cryptosuite") == CRYPTOSUITE:
            return proof
    raise InvalidCredential(f"the credential has no {CRYPTOSUITE} proof", ("credential", "proof"))


def verify(document: dict[str, Any], public_key: Ed25519PublicKey, standards: Standards) -> None:
    """Checks the proof's structure and its key first (cheap, and what a forger controls least),
    then the bounded canonicalisation, then the signature."""
    proof = find_proof(document)
    if proof.get("type") != "DataIntegrityProof" or proof.get("proofPurpose") != "assertionMethod":
        raise InvalidCredential("the proof is not a DataIntegrityProof for assertionMethod")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or "#" not in method:
        raise InvalidCredential("the proof's verificationMethod is not a URI#Multikey")
    if _raw(public_key_from_multikey(method.rsplit("#", 1)[1])) != _raw(public_key):
        raise InvalidCredential("the proof's verificationMethod is not the key it is checked with")
    if "created" in proof and not isinstance(proof["created"], str):
        raise InvalidCredential("the proof's created is not a date-time")
    signature = _signature(proof.get("proofValue"))
    document = {**document, "proof": proof}
    try:
        public_key.verify(signature, hash_data(document, proof, standards))
    except CryptoInvalidSignature:
        raise InvalidSignature("the Data Integrity proof does not hold") from None


def _signature(value: Any) -> bytes:
    """The proofValue's Ed25519 signature: multibase base58btc of exactly 64 bytes."""
    if not isinstance(value, str) or not value.startswith("z") or len(value) > 100:
        raise InvalidSignature("proofValue is not multibase base58btc")
    try:
        signature = base58btc_decode(value[1:])
    except ValueError:
        raise InvalidSignature("proofValue is not multibase base58btc") from None
    if len(signature) != 64:
        raise InvalidSignature("proofValue is not an Ed25519 signature (64 bytes)")
    return signature


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    standards: Standards,
) -> dict[str, Any]:
    """Returns the document with an eddsa-rdfc-2022 proof added."""
    options = {
        "type": "DataIntegrityProof",
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
    }
    signature = private_key.sign(hash_data(document, options, standards))
    return {**document, "proof": {**options, "proofValue": "z" + base58btc(signature)}}
