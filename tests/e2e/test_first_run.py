"""A new user's first run, through the real command line: what is missing is said in one line
with exit code 2 (never a traceback), the data directory is one place wherever the command runs,
tokens name their subject, the demo can run twice, and an issuer's tools sign and verify."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest

from application.settings import CHECKOUT
from tests.e2e.support import run_cli, served, sqlite_env

pytestmark = pytest.mark.slow


def _one_line_exit_2(result: object, *needles: str) -> str:
    stderr = result.stderr.strip()  # type: ignore[attr-defined]
    assert result.returncode == 2, (result.returncode, stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr
    for needle in needles:
        assert needle in stderr, stderr
    return stderr


@pytest.mark.parametrize("command", [("serve", "--port", "1"), ("demo",)])
def test_a_missing_dependency_is_one_line_and_exit_2(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    env = sqlite_env(tmp_path / "data")
    cases = [
        ({"CREDITBANK_FRAMEWORK": "isced"}, ("unknown framework 'isced'", "CREDITBANK_FRAMEWORK")),
        ({"CREDITBANK_DATA_DIR": "/etc/hostname/data"}, ("not writable", "CREDITBANK_DATA_DIR")),
        ({"CREDITBANK_STANDARDS_DIR": str(tmp_path)}, ("standards", "manifest.json")),
    ]
    broken = tmp_path / "standards"
    (broken / "contexts").mkdir(parents=True)
    (broken / "manifest.json").write_text(
        json.dumps({"files": {"contexts/x.json": {"sha256": "00"}}})
    )
    cases.append(({"CREDITBANK_STANDARDS_DIR": str(broken)}, ("contexts/x.json is missing",)))
    for overrides, needles in cases:
        _one_line_exit_2(run_cli({**env, **overrides}, *command), *needles)


@pytest.mark.postgres
def test_postgresql_problems_are_one_line_and_never_show_the_password(
    tmp_path: Path, postgres_url: str
) -> None:
    # PostgreSQL takes its master secret from outside (without one it refuses before connecting)
    env = {**sqlite_env(tmp_path / "data"), "CREDITBANK_SECRET_KEY": "s" * 32}
    server = urlsplit(postgres_url)  # trust authentication: the password is never checked
    netloc = f"{server.username}:hunter2@{server.hostname}:{server.port}"
    missing = urlunsplit(server._replace(netloc=netloc, path=f"/none_{uuid.uuid4().hex[:6]}"))
    line = _one_line_exit_2(
        run_cli({**env, "CREDITBANK_DATABASE_URL": missing}, "demo"), "no database", "createdb"
    )
    assert "hunter2" not in line
    assert "***" in line
    refused = "postgresql://postgres:hunter2@127.0.0.1:1/x"
    line = _one_line_exit_2(
        run_cli({**env, "CREDITBANK_DATABASE_URL": refused}, "serve"), "cannot connect"
    )
    assert "hunter2" not in line


@pytest.mark.postgres
def test_a_second_process_with_another_secret_refuses_to_start(
    tmp_path: Path, postgres_url: str
) -> None:
    schema = f"secret_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        url = f"{postgres_url}?schema={schema}"
        first = {**sqlite_env(tmp_path / "a"), "CREDITBANK_DATABASE_URL": url}
        first["CREDITBANK_SECRET_KEY"] = shared = uuid.uuid4().hex
        assert run_cli(first, "migrate").returncode == 0
        assert run_cli(first, "audit", "verify").returncode == 0  # records its secret
        second = {**sqlite_env(tmp_path / "b"), "CREDITBANK_DATABASE_URL": url}
        second["CREDITBANK_SECRET_KEY"] = uuid.uuid4().hex
        _one_line_exit_2(run_cli(second, "audit", "verify"), "master secret differs")
        assert (
            run_cli({**second, "CREDITBANK_SECRET_KEY": shared}, "audit", "verify").returncode == 0
        )
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_the_banner_names_the_data_directory_and_hides_the_password(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with served(sqlite_env(tmp_path / "data"), log=log) as base:
        assert httpx.get(base + "/readyz").json()["status"] == "ready"
    banner = log.read_text()
    assert f"data directory {(tmp_path / 'data').resolve()}" in banner


@pytest.mark.parametrize("role", ["LEARNER", "INSTITUTION", "ENTERPRISE"])
def test_tokens_for_a_party_name_the_party(tmp_path: Path, role: str) -> None:
    result = run_cli(sqlite_env(tmp_path / "data"), "token", "--role", role)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--subject" in result.stderr


def test_the_data_directory_is_one_place_wherever_the_command_runs(tmp_path: Path) -> None:
    """Before: ``cd docs && creditbank token`` made a new key in docs/var, and the server then
    answered 401. Now the default is the checkout's var/, printed; a relative setting is made
    absolute once."""
    env = sqlite_env(tmp_path)
    env.pop("CREDITBANK_DATA_DIR")
    elsewhere = tmp_path / "docs"
    elsewhere.mkdir()
    result = run_cli(env, "token", "--role", "OFFICER", "--subject", "zhao", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert str(CHECKOUT / "var") in result.stderr
    assert not (elsewhere / "var").exists()
    relative = run_cli(
        {**env, "CREDITBANK_DATA_DIR": "data"},
        "token",
        "--role",
        "AUDITOR",
        "--subject",
        "qian",
        cwd=elsewhere,
    )
    assert str(elsewhere / "data") in relative.stderr


@pytest.fixture
def demo(tmp_path: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    env = sqlite_env(tmp_path / "data")
    first = run_cli(env, "demo")
    assert first.returncode == 0, first.stderr
    return env, json.loads(first.stdout)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_demo_runs_twice_and_changes_nothing(
    demo: tuple[dict[str, str], dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    env, ids = demo
    keys = Path(ids["signingKeys"])
    before = _digests(keys)
    database = tmp_path / "data" / "creditbank.sqlite3"
    events = _event_count(database)
    again = run_cli(env, "demo")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == ids
    assert _digests(keys) == before
    assert _event_count(database) == events
    assert set(ids["outcomes"]) >= {
        "Chen Jing 陈静: Linear Algebra 线性代数",
        "Chen Jing 陈静: Cloud Operations (level 3) 云计算运维",
    }


def _event_count(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])


def test_an_issuer_signs_with_the_cli_and_the_bank_accepts_and_verifies_it(
    demo: tuple[dict[str, str], dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    """The whole issuer path with the network off: a key pair from ``issuer keygen`` is what
    ``registerInstitution`` takes; ``credential sign`` makes a VC-JWT and an eddsa-rdfc-2022
    credential; ``credential verify`` checks them offline; the served bank deposits the JWT
    and ``verifyCredential`` says it is valid."""
    env, ids = demo
    keys = tmp_path / "keys"
    made = run_cli(env, "issuer", "keygen", "--out", str(keys), "--name", "open-u", "--kid", "ou-1")
    assert made.returncode == 0, made.stderr
    jwk = json.loads(made.stdout)
    assert jwk == json.loads((keys / "open-u.jwk.json").read_text())
    assert "d" not in jwk
    again = run_cli(env, "issuer", "keygen", "--out", str(keys), "--name", "open-u")
    assert again.returncode == 1
    assert "never overwritten" in again.stderr

    description = tmp_path / "course.json"
    description.write_text(
        json.dumps(
            {
                "recipient": {"identityNumber": "E12345678"},  # Chen Jing's passport
                "achievement": {"name": "Statistics 统计学", "credits": 2.5, "eqfLevel": 6},
                "result": "B+",
            }
        )
    )
    uri = "https://open-u.example.edu/issuer"
    signed = {}
    for form in ("jwt", "data-integrity"):
        result = run_cli(
            env,
            "credential",
            "sign",
            str(description),
            "--key",
            str(keys / "open-u.pem"),
            "--issuer",
            uri,
            "--format",
            form,
        )
        assert result.returncode == 0, result.stderr
        path = tmp_path / f"statistics.{form}"
        path.write_text(result.stdout)
        signed[form] = path
        ok = run_cli(env, "credential", "verify", str(path), "--jwk", str(keys / "open-u.jwk.json"))
        assert ok.returncode == 0, ok.stderr
        assert "valid: Statistics 统计学" in ok.stdout
    tampered = tmp_path / "tampered.json"
    tampered.write_text(signed["data-integrity"].read_text().replace("Statistics", "Statistic"))
    bad = run_cli(env, "credential", "verify", str(tampered))
    assert bad.returncode == 1
    assert "INVALID_SIGNATURE" in bad.stderr
    other = run_cli(
        env,
        "credential",
        "verify",
        str(signed["jwt"]),
        "--jwk",
        str(Path(ids["signingKeys"]) / "pudong-college.jwk.json"),
    )
    assert other.returncode == 1

    with served(env) as base:
        admin = _token(env, "ADMIN", "root")
        registered = _graphql(
            base,
            admin,
            "mutation($i: RegisterInstitutionInput!) { registerInstitution(input: $i) "
            "{ institution { id } errors { code message } } }",
            {
                "i": {
                    "name": "Open University",
                    "kind": "OPEN_UNIVERSITY",
                    "publicKeyJwk": jwk,
                    "issuerUri": uri,
                    "keyValidFrom": "2020-01-01T00:00:00Z",
                }
            },
        )["registerInstitution"]
        assert registered["errors"] == []
        institution = registered["institution"]["id"]
        chen = ids["learners"]["Chen Jing 陈静"]
        deposited = _graphql(
            base,
            _token(env, "INSTITUTION", institution),
            "mutation($i: DepositCredentialInput!) { depositCredential(input: $i) "
            "{ outcome { title credits level } errors { code message } } }",
            {"i": {"learnerId": chen, "credential": signed["jwt"].read_text().strip()}},
        )["depositCredential"]
        assert deposited == {
            "outcome": {"title": "Statistics 统计学", "credits": "2.50", "level": 6},
            "errors": [],
        }
        for form in ("jwt", "data-integrity"):
            verified = _graphql(
                base,
                None,
                "query($c: String!) { verifyCredential(credential: $c) { valid errors { code } } }",
                {"c": signed[form].read_text().strip()},
            )["verifyCredential"]
            assert verified == {"valid": True, "errors": []}, form


def _token(env: dict[str, str], role: str, subject: str) -> str:
    result = run_cli(env, "token", "--role", role, "--subject", subject)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _graphql(base: str, token: str | None, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(
        base + "/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    ).json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def test_database_urls_are_shown_without_their_password() -> None:
    from application.settings import Settings, redact

    assert redact("postgresql://bank:s3cr%40t@db.example:5433/bank?schema=x") == (
        "postgresql://bank:***@db.example:5433/bank?schema=x"
    )
    assert redact("postgresql://bank@db.example/bank") == "postgresql://bank@db.example/bank"
    shown = Settings(database_url="postgresql://bank:s3cret@db.example/bank").database
    assert "s3cret" not in shown


@pytest.mark.parametrize(
    "sample",
    ["computer-networks.jwt", "computer-networks.signed.json", "enterprise-training.jwt"],
)
def test_the_shipped_sample_credentials_verify_offline(sample: str) -> None:
    from datetime import UTC, datetime

    from application.offline import verify_offline
    from application.standards import Standards

    folder = CHECKOUT / "examples"
    jwk = json.loads((folder / "example-issuer.jwk.json").read_text())
    verified = verify_offline((folder / sample).read_text(), jwk, datetime.now(UTC), Standards())
    assert verified.issuer.issuer_uri == "https://example-issuer.example.edu/issuer"
    assert verified.credential["credentialSubject"]["identifier"][0]["hashed"] is True
    assert "E12345678" not in (folder / sample).read_text()
