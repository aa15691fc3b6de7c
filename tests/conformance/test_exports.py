"""What the bank issues, checked the way outside verifiers check it (issue 15, item 5 and 9).

Each test names its rule: OB 3.0 section 8 (VC-JWT and Data Integrity proofs), the did:web
method, JSON-LD safe mode, and the probes of 1EdTech's digital-credentials-public-validator
(``inspector-vc``) that apply to an issuer's exports: ExternalProofProbe (VC-JWT: alg RS256 or
ES256, the key from ``kid`` or ``jwk``), EmbeddedProofProbe (eddsa-rdfc-2022, proofPurpose
assertionMethod, a key controlled by ``issuer.id``), ContextPropertyProbe, CredentialTypeProbe,
IssuanceProbe, ExpirationProbe and CredentialSubjectProbe. Keys are resolved only from what the
bank publishes: its did:web document and JWK set.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from typer.testing import CliRunner

from api.app import create_app
from api.cli import cli
from application import data_integrity
from application.bank import CreditBank
from application.export import Exporter
from application.settings import Settings
from application.signing import BankKeys, did_document_path, did_web
from application.standards import Standards
from domain.errors import DomainError, InvalidCredential
from tests.api.conftest import ThreadedServer
from tests.builders import NOW, World

PUBLIC_URL = "https://bank.example"
DID = "did:web:bank.example"
VC2 = "https://www.w3.org/ns/credentials/v2"
JWT_CLAIMS = ("iss", "jti", "nbf", "sub", "exp", "iat", "aud")


@pytest.fixture
def world(bank: CreditBank, clock: Any, settings: Settings) -> World:
    clock.now = NOW
    return World(bank, clock, settings)


def recognised(world: World, n: int = 2) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A learner with ``n`` recognised outcomes."""
    uni, kim = world.issuer("Peking University"), world.learner(verified=True)
    world.course_rule(uni)
    outcomes = [
        world.bank.deposit_credential(kim.id, world.token(uni, kim, title=f"Course {i}"))
        for i in range(n)
    ]
    return kim.id, outcomes


def exporter(world: World, algorithm: Any = "EdDSA") -> Exporter:
    keys = BankKeys.load_or_create(world.settings.data_dir, algorithm)
    return Exporter(world.bank, keys, PUBLIC_URL)


# -- an outside verifier, from the published documents only ---------------------------------------
def did_url_location(did: str) -> str:
    """did:web read (resolve): ':' to '/', a percent-encoded port decoded, https, then
    /.well-known/did.json for a bare host or <path>/did.json."""
    host, *path = did.removeprefix("did:web:").split(":")
    base = "https://" + unquote(host) + "".join("/" + unquote(p) for p in path)
    return base + ("/did.json" if path else "/.well-known/did.json")


def resolve(kid: str, document: dict[str, Any]) -> Any:
    """The public key a DID URL names in its DID document: it must be a verification method
    and an assertionMethod of that document (what the 1EdTech probes check)."""
    did, _, _ = kid.partition("#")
    assert document["id"] == did
    assert kid in document["assertionMethod"]
    (method,) = [m for m in document["verificationMethod"] if m["id"] == kid]
    assert method["controller"] == did
    if method["type"] == "Multikey":
        return data_integrity.public_key_from_multikey(method["publicKeyMultibase"])
    assert method["type"] == "JsonWebKey"
    assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & method["publicKeyJwk"].keys()
    return jwt.PyJWK(method["publicKeyJwk"]).key


def verify_jws(token: str, document: dict[str, Any], jwks: dict[str, Any]) -> dict[str, Any]:
    """Through the DID document and, separately, the JWK set: both must give the key."""
    header = jwt.get_unverified_header(token)
    kid, alg = header["kid"], header["alg"]
    assert kid.startswith(document["id"] + "#")  # OB 3.0 8.2.3: a URI dereferencing to the key
    options = {"verify_aud": False}
    payload: dict[str, Any] = jwt.decode(
        token, resolve(kid, document), algorithms=[alg], options=options
    )
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    assert jwk["alg"] == alg
    assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[alg], options=options) == payload
    return payload


def credential_of(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}


def reference_rules(credential: dict[str, Any], *, kind: str, at: datetime) -> list[str]:
    """The 1EdTech validator's structural probes, ported: the failures, by probe name."""
    failures = []
    contexts = credential.get("@context", [])
    if not contexts or contexts[0] != VC2:
        failures.append("ContextPropertyProbe: the first @context is the VC 2.0 context")
    wanted = {
        "AchievementCredential": "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.",
        "ClrCredential": "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.",
    }[kind]
    if not any(str(c).startswith(wanted) for c in contexts):
        failures.append(f"ContextPropertyProbe: an {kind} context")
    types = credential.get("type", [])
    if "VerifiableCredential" not in types or kind not in types:
        failures.append(f"CredentialTypeProbe: VerifiableCredential and {kind}")
    valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    if valid_from > at:
        failures.append("IssuanceProbe: validFrom is not in the future")
    if "validUntil" in credential:
        until = datetime.fromisoformat(credential["validUntil"].replace("Z", "+00:00"))
        if until <= at:
            failures.append("ExpirationProbe: validUntil is not past")
    subject = credential.get("credentialSubject", {})
    if not (subject.get("id") or subject.get("identifier")):
        failures.append("CredentialSubjectProbe: the subject has an id or an identifier")
    return failures


def embedded_proof_failures(credential: dict[str, Any], standards: Standards) -> list[str]:
    """EmbeddedProofProbe, ported: a DataIntegrityProof for assertionMethod with an allowed
    cryptosuite, its key a ``controller#publicKeyMultibase`` Ed25519 Multikey, the controller
    the credential's issuer, and the proof holding."""
    proofs = credential.get("proof")
    candidates = proofs if isinstance(proofs, list) else [proofs] if proofs else []
    chosen = [
        p
        for p in candidates
        if p.get("proofPurpose") == "assertionMethod"
        and p.get("type") == "DataIntegrityProof"
        and p.get("cryptosuite") in ("eddsa-2022", "eddsa-rdfc-2022")
    ]
    if not chosen:
        return ["EmbeddedProofProbe: no eddsa DataIntegrityProof for assertionMethod"]
    method = chosen[0]["verificationMethod"]
    controller, _, fragment = method.partition("#")
    issuer = credential["issuer"]
    if controller != (issuer["id"] if isinstance(issuer, dict) else issuer):
        return ["EmbeddedProofProbe: Key controller does not match issuer"]
    try:
        data_integrity.verify(
            credential, data_integrity.public_key_from_multikey(fragment), standards
        )
    except DomainError as exc:
        return [f"EmbeddedProofProbe: {exc.message}"]
    return []


# -- did:web -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("public_url", "did", "path"),
    [
        ("https://bank.example", "did:web:bank.example", "/.well-known/did.json"),
        ("https://Bank.Example/", "did:web:bank.example", "/.well-known/did.json"),
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000", "/.well-known/did.json"),
        (
            "https://example.org/credit/bank",
            "did:web:example.org:credit:bank",
            "/credit/bank/did.json",
        ),
    ],
)
def test_did_web_of_the_public_url(public_url: str, did: str, path: str) -> None:
    """did:web method (create): the host, a port percent-encoded as %3A, path segments after
    ':'; its document where did:web resolution looks for it."""
    assert did_web(public_url) == did
    assert did_url_location(did).endswith(path)
    assert did_document_path(public_url) == path


@pytest.fixture
def http_bank(tmp_path: Path) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path / "data",
        secret_key="exports-" + uuid.uuid4().hex,
        checkpoint_interval=0,
        public_url=PUBLIC_URL,
        export_algorithm="ES256",
    )
    server = ThreadedServer(create_app(settings))
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()


def test_served_exports_verify_from_the_did_document_alone(http_bank: str) -> None:
    """OB 3.0 8.2.3 and ExternalProofProbe: the ``kid`` of a served export (the status list
    credential) is a DID URL; resolving it as did:web does (its document over HTTP) gives the
    key it verifies with; the JWK set serves it under the same kid. Item 9: that credential
    canonicalises in JSON-LD safe mode."""
    token = httpx.get(http_bank + "/status/1").text
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"  # CREDITBANK_EXPORT_ALGORITHM, one the probe accepts
    location = did_url_location(header["kid"].partition("#")[0])
    assert location == PUBLIC_URL + "/.well-known/did.json"
    document = httpx.get(http_bank + location.removeprefix(PUBLIC_URL)).json()
    jwks = httpx.get(http_bank + "/.well-known/jwks.json").json()
    credential = credential_of(verify_jws(token, document, jwks))
    assert credential["issuer"] == PUBLIC_URL + "/issuer"
    assert PUBLIC_URL + "/issuer" in document["alsoKnownAs"]
    data_integrity.canonical(credential, Standards())  # safe mode: nothing undefined


# -- algorithms ----------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256"])
def test_export_algorithm_is_configurable(world: World, algorithm: str) -> None:
    """ExternalProofProbe accepts RS256 and ES256 only; OB 3.0 allows EdDSA too: each is a
    setting, and each export verifies from the published documents."""
    learner_id, outcomes = recognised(world, 1)
    bank_exporter = exporter(world, algorithm)
    token = bank_exporter.export_outcome(learner_id, outcomes[0])
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    payload = verify_jws(token, bank_exporter.did_document(), bank_exporter.jwks())
    credential = credential_of(payload)
    assert reference_rules(credential, kind="AchievementCredential", at=world.bank.now()) == []
    assert bank_exporter.verify(token) == (PUBLIC_URL + "/issuer", False)


def test_a_key_file_of_the_wrong_type_is_refused(world: World) -> None:
    keys = BankKeys.load_or_create(world.settings.data_dir, "ES256")
    (path,) = (world.settings.data_dir / "bank-keys").glob("*-ES256.pem")
    (path.parent / path.name.replace("ES256", "RS256").replace("0001", "0002")).write_bytes(
        path.read_bytes()
    )
    with pytest.raises(ValueError, match="not an RS256 key"):
        keys.keys()


# -- rotation ------------------------------------------------------------------------------------
def test_rotation_keeps_earlier_exports_verifying(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``creditbank keys rotate`` (another process, the same data dir): the running exporter
    signs with the new key at once; the old key stays in the JWK set and the DID document, so
    the export it signed still verifies, outside and at the bank."""
    learner_id, outcomes = recognised(world, 1)
    bank_exporter = exporter(world, "ES256")
    before = bank_exporter.export_outcome(learner_id, outcomes[0])
    old_kid = jwt.get_unverified_header(before)["kid"]

    monkeypatch.setenv("CREDITBANK_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("CREDITBANK_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("CREDITBANK_EXPORT_ALGORITHM", "ES256")
    result = CliRunner().invoke(cli, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    new_kid = result.stdout.strip()
    assert new_kid.startswith(DID + "#")
    assert new_kid != old_kid

    after = bank_exporter.export_outcome(learner_id, outcomes[0])
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    document, jwks = bank_exporter.did_document(), bank_exporter.jwks()
    assert {old_kid, new_kid} <= set(document["assertionMethod"])
    assert {old_kid, new_kid} <= {k["kid"] for k in jwks["keys"]}
    for token in (before, after):
        verify_jws(token, document, jwks)
        assert bank_exporter.verify(token) == (PUBLIC_URL + "/issuer", False)
    # A restarted bank (keys read afresh) still publishes both, signs with the new one.
    restarted = exporter(world, "ES256")
    assert restarted.keys.current().key_id == new_kid.partition("#")[2]
    verify_jws(before, restarted.did_document(), restarted.jwks())


def test_an_export_before_did_urls_still_verifies(world: World) -> None:
    """Exports made before DID URLs named the first key by its bare id: the JWK set keeps that
    kid, and the bank still verifies them."""
    learner_id, outcomes = recognised(world, 1)
    bank_exporter = exporter(world)
    payload = jwt.decode(
        bank_exporter.export_outcome(learner_id, outcomes[0]),
        options={"verify_signature": False},
    )
    keys = bank_exporter.keys
    old = jwt.encode(payload, keys.private, algorithm="EdDSA", headers={"kid": keys.kid})
    (jwk,) = [k for k in bank_exporter.jwks()["keys"] if k["kid"] == keys.kid]
    jwt.decode(old, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], options={"verify_aud": False})
    assert bank_exporter.verify(old) == (PUBLIC_URL + "/issuer", False)


def test_a_did_url_of_another_did_is_not_the_banks_key(world: World) -> None:
    learner_id, outcomes = recognised(world, 1)
    bank_exporter = exporter(world)
    token = bank_exporter.export_outcome(learner_id, outcomes[0])
    payload = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"].replace(DID, "did:web:attacker.example")
    forged = jwt.encode(
        payload, bank_exporter.keys.private, algorithm="EdDSA", headers={"kid": kid}
    )
    with pytest.raises(DomainError) as err:
        bank_exporter.verify(forged)
    assert err.value.code == "INVALID_SIGNATURE"


# -- the CLR's embedded credentials --------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
def test_each_embedded_credential_is_signed(world: World, algorithm: str) -> None:
    """CLR 2.0: verifiableCredential items are JSON credentials (the schema takes objects
    only), each checked by the validator as an OB 3.0 credential: EmbeddedProofProbe passes on
    each, whatever algorithm signs the CLR, and an edit inside one breaks its proof."""
    learner_id, _ = recognised(world, 2)
    bank_exporter = exporter(world, algorithm)
    token = bank_exporter.export_transcript(learner_id)
    clr = credential_of(verify_jws(token, bank_exporter.did_document(), bank_exporter.jwks()))
    now = world.bank.now()
    assert reference_rules(clr, kind="ClrCredential", at=now) == []
    standards = world.bank.standards_material
    inner = clr["credentialSubject"]["verifiableCredential"]
    assert len(inner) == 2
    for credential in inner:
        assert reference_rules(credential, kind="AchievementCredential", at=now) == []
        assert embedded_proof_failures(credential, standards) == []
        edited = copy.deepcopy(credential)
        edited["credentialSubject"]["creditsEarned"] = 40.0
        assert embedded_proof_failures(edited, standards) == [
            "EmbeddedProofProbe: the Data Integrity proof does not hold"
        ]


# -- item 9: the status list credential in safe mode ----------------------------------------------
def test_status_list_credential_is_valid_in_safe_mode(world: World) -> None:
    """JSON-LD safe mode (VC 2.0 section 4.1, Bitstring Status List): every term of the status
    list credential is defined by its contexts, so a conforming processor canonicalises it;
    the issuer as an OB Profile under the VC 2.0 context alone was refused."""
    bank_exporter = exporter(world)
    token = bank_exporter.status_list_credential(1)
    credential = credential_of(
        verify_jws(token, bank_exporter.did_document(), bank_exporter.jwks())
    )
    assert credential["@context"] == [VC2]
    standards = world.bank.standards_material
    nquads = data_integrity.canonical(credential, standards)
    assert f"<{PUBLIC_URL}/issuer>" in nquads
    assert "https://www.w3.org/ns/credentials/status#encodedList" in nquads
    before = {**credential, "issuer": bank_exporter.profile()}  # the form it had
    with pytest.raises(InvalidCredential, match="not defined"):
        data_integrity.canonical(before, standards)


def test_inner_key_is_published(world: World) -> None:
    """The Ed25519 key of the embedded proofs is in the did:web document too (as a Multikey)."""
    bank_exporter = exporter(world, "ES256")
    ed = bank_exporter.keys.current("EdDSA")
    methods = {m["id"]: m for m in bank_exporter.did_document()["verificationMethod"]}
    method = methods[f"{DID}#{ed.key_id}"]
    assert method["publicKeyMultibase"] == ed.multikey
    assert isinstance(data_integrity.public_key_from_multikey(ed.multikey or ""), Ed25519PublicKey)
    assert methods[f"{DID}#{bank_exporter.keys.current().key_id}"]["type"] == "JsonWebKey"
