"""Data Integrity proofs with the eddsa-rdfc-2022 cryptosuite (W3C VC Data Integrity EdDSA).

Canonicalise the document without its proof and the proof options (the proof without
``proofValue``, with the document's ``@context``) with RDFC-1.0 (URDNA2015, via pyld and the
offline document loader); sign or verify Ed25519 over sha256(proof) || sha256(document); the
proofValue is multibase base58btc (``z...``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from application.signing import base58btc, base58btc_decode
from application.standards import Standards
from domain.errors import InvalidCredential, InvalidSignature

CRYPTOSUITE = "eddsa-rdfc-2022"
MULTIKEY_ED25519_PREFIX = b"\xed\x01"


def canonical(document: dict[str, Any], standards: Standards) -> str:
    # Safe mode: a term the contexts do not define is dropped from the canonical form, so the
    # proof would not cover it while the bank might still read it (e.g. achievement.ECTS).
    dropped: list[str | None] = []
    try:
        result = jsonld.JsonLdProcessor(on_property_dropped=dropped.append).normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": standards.document_loader,
            },
        )
    except jsonld.JsonLdError as exc:
        raise InvalidCredential(f"the credential is not valid JSON-LD: {_reason(exc)}") from None
    except (ValueError, TypeError, RecursionError):  # pyld raises these for some bad input too
        raise InvalidCredential("the credential is not valid JSON-LD") from None
    if dropped:
        raise InvalidCredential(
            "the credential uses terms its JSON-LD contexts have not defined: "
            + ", ".join(sorted({str(term) for term in dropped}))[:200]
        )
    return str(result)


def _reason(error: jsonld.JsonLdError) -> str:
    """The innermost cause pyld names (e.g. "protected term redefinition"), not its wrapper."""
    reason = str(error.type)
    cause: object = error
    while isinstance(cause, jsonld.JsonLdError):
        reason = str(cause.code or cause.type)
        cause = cause.__cause__ or cause.__context__
    return reason


def hash_data(document: dict[str, Any], options: dict[str, Any], standards: Standards) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof_config = {k: v for k, v in options.items() if k != "proofValue"}
    proof_config["@context"] = unsecured.get("@context")
    proof_hash = hashlib.sha256(canonical(proof_config, standards).encode()).digest()
    document_hash = hashlib.sha256(canonical(unsecured, standards).encode()).digest()
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
    proof = find_proof(document)
    if proof.get("type") != "DataIntegrityProof" or proof.get("proofPurpose") != "assertionMethod":
        raise InvalidCredential("the proof is not a DataIntegrityProof for assertionMethod")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise InvalidSignature("proofValue is not multibase base58btc")
    try:
        signature = base58btc_decode(value[1:])
    except ValueError:
        raise InvalidSignature("proofValue is not multibase base58btc") from None
    document = {**document, "proof": proof}
    try:
        public_key.verify(signature, hash_data(document, proof, standards))
    except CryptoInvalidSignature:
        raise InvalidSignature("the Data Integrity proof does not hold") from None


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
