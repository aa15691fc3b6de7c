"""The standards material shipped in the package: complete, intact, offline, and a missing or
altered file is reported as the server's problem, never blamed on a credential."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from application import data_integrity
from application.credentials import verify
from application.issuing import sign_data_integrity, sign_vc_jwt
from application.standards import PACKAGE_DIR, Standards, StandardsUnavailable
from domain.errors import DomainError, InvalidCredential
from tests.builders import NOW, World

CONTEXTS = {
    "https://www.w3.org/ns/credentials/v2",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
}


def test_every_file_is_listed_with_its_provenance_and_intact() -> None:
    standards = Standards()
    assert standards.directory == PACKAGE_DIR
    assert standards.problems() == []
    listed = set(standards.manifest)
    shipped = {
        str(p.relative_to(PACKAGE_DIR))
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and p.suffix in (".json", ".jsonld", ".txt")
    } - {"manifest.json"}
    assert shipped == listed
    provenance = (PACKAGE_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    for relative, entry in standards.manifest.items():
        assert {"sha256", "source", "licence", "what"} <= entry.keys(), relative
        assert f"`{relative}`" in provenance
        assert entry["sha256"] in provenance


def test_every_required_context_is_served_offline() -> None:
    standards = Standards()
    for url in CONTEXTS:
        loaded = standards.document_loader(url)
        assert loaded["documentUrl"] == url
        assert "@context" in loaded["document"]


@pytest.mark.parametrize(
    "version", ["context.json", "context-3.0.1.json", "context-3.0.2.json", "context-3.0.3.json"]
)
def test_every_ob_context_version_verifies_offline(world: World, version: str) -> None:
    """Credentials written against any OB 3.0.x context verify as VC-JWTs; as Data Integrity
    credentials from 3.0.2 on. The 3.0.0 and 3.0.1 contexts redefine terms that the VC 2.0
    context protects (they predate it), so no conforming JSON-LD processor can canonicalise them
    beside it: such a proof is refused, naming that cause."""
    issuer, learner = world.issuer(), world.learner()
    contexts = [
        "https://www.w3.org/ns/credentials/v2",
        f"https://purl.imsglobal.org/spec/ob/v3p0/{version}",
    ]
    credential = {**world.credential(issuer, learner), "@context": contexts}
    token = sign_vc_jwt(credential, issuer.keys)
    assert world.bank.verify_credential(token).issuer.id == issuer.id
    if version in ("context.json", "context-3.0.1.json"):
        with pytest.raises(InvalidCredential, match="protected term redefinition"):
            data_integrity.canonical(credential, Standards())
        return
    signed = sign_data_integrity(credential, issuer.keys, Standards(), NOW)
    assert world.bank.verify_credential(json.dumps(signed)).issuer.id == issuer.id


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "standards"
    shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_a_missing_or_altered_file_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "schemas/ob3/ob_v3p0_achievementcredential_schema.json").unlink()
    context = folder / "contexts/credentials-v2.jsonld"
    context.write_bytes(context.read_bytes().replace(b"VerifiableCredential", b"Verifiable"))
    problems = Standards(folder).problems()
    assert "schemas/ob3/ob_v3p0_achievementcredential_schema.json is missing" in problems
    assert "contexts/credentials-v2.jsonld does not match its sha256" in problems
    assert Standards(tmp_path / "nowhere").problems() == [
        f"no readable manifest.json in {(tmp_path / 'nowhere').resolve()}"
    ]


def test_an_override_folder_with_its_own_manifest_is_used(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    assert Standards(folder).problems() == []
    Standards(folder).check()


@pytest.mark.parametrize("form", ["jwt", "data-integrity"])
def test_without_its_material_the_bank_blames_itself_not_the_credential(
    world: World, tmp_path: Path, form: str
) -> None:
    """Before: every deposit answered INVALID_CREDENTIAL ("the OB 3.0 JSON Schema is not
    available"), or a JSON-LD NormalizeError for Data Integrity. Now: UNAVAILABLE, naming the
    folder, for both forms, before the credential is looked at."""
    issuer, learner = world.issuer(), world.learner()
    text = (
        world.token(issuer, learner)
        if form == "jwt"
        else json.dumps(world.data_integrity(issuer, learner))
    )
    broken = _copy(tmp_path)
    shutil.rmtree(broken / "contexts")
    with pytest.raises(StandardsUnavailable) as err:
        verify(text, world.bank.institution_by_issuer, NOW, Standards(broken))
    assert err.value.code == "UNAVAILABLE"
    assert "contexts/" in err.value.message
    assert str(broken) in err.value.message
    assert isinstance(err.value, DomainError)


def test_the_check_runs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    standards = Standards(_copy(tmp_path))
    calls: list[Any] = []
    original = standards.problems
    monkeypatch.setattr(standards, "problems", lambda: calls.append(1) or original())
    for _ in range(3):
        standards.check()
    assert calls == [1]


def test_the_sha256_in_the_manifest_is_the_files() -> None:
    standards = Standards()
    for relative, entry in standards.manifest.items():
        digest = hashlib.sha256((PACKAGE_DIR / relative).read_bytes()).hexdigest()
        assert digest == entry["sha256"], relative
    # and a canonicalisation over the shipped contexts still needs no network
    vector = standards.load("vectors/ob3-eddsa-rdfc-2022.json")
    canon = data_integrity.canonical(copy.deepcopy(vector["document"]), standards)
    assert canon.encode() == standards.path("vectors/obv3p0/document-canon.txt").read_bytes()
