"""A new user's path: ``creditbank serve`` on a fresh data dir answers GraphQL over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from api.cli import main; main()", *args]


@pytest.fixture
def served(tmp_path: Path) -> object:
    port = _free_port()
    env = {**os.environ, "CREDITBANK_DATA_DIR": str(tmp_path / "data")}
    env.pop("CREDITBANK_DATABASE_URL", None)
    proc = subprocess.Popen(
        _cli("serve", "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + "/readyz", proc)
        yield base, env
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_fresh_serve_answers_graphql_and_accepts_its_own_tokens(served: object) -> None:
    base, env = served  # type: ignore[misc]
    public = httpx.post(
        base + "/graphql", json={"query": "{ framework { name levels { level name } } }"}
    ).json()
    assert public["data"]["framework"]["levels"][5]["level"] == 6
    assert "errors" not in public

    token = subprocess.run(
        _cli("token", "--role", "ADMIN", "--subject", "root"),
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
