"""A new user's path: ``creditbank serve`` on a fresh data dir answers GraphQL over real HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.support import cli, sqlite_env
from tests.e2e.support import served as serving

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = sqlite_env(tmp_path / "data")
    with serving(env) as base:
        yield base, env


def test_fresh_serve_answers_graphql_and_accepts_its_own_tokens(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    public = httpx.post(
        base + "/graphql", json={"query": "{ framework { name levels { level name } } }"}
    ).json()
    assert public["data"]["framework"]["levels"][5]["level"] == 6
    assert "errors" not in public

    token = subprocess.run(
        cli("token", "--role", "ADMIN", "--subject", "root"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    viewer = httpx.post(
        base + "/graphql",
        json={"query": "{ viewer { role subject } }"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert viewer["data"]["viewer"] == {"role": "ADMIN", "subject": "root"}

    forged = httpx.post(
        base + "/graphql",
        json={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {token[:-4]}AAAA"},
    )
    assert forged.status_code == 401
    assert forged.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Traceback" not in forged.text
