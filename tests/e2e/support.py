"""The real service and CLI in subprocesses, as a user runs them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> list[str]:
    """``creditbank ARGS`` with this interpreter (the installed entry point's own code)."""
    return [sys.executable, "-c", "from api.cli import main; main()", *args]


def run_cli(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli(*args), env=env, capture_output=True, text=True, timeout=120, cwd=cwd)


def sqlite_env(data_dir: Path) -> dict[str, str]:
    """The environment of a user on the embedded default, with their own data directory."""
    env = {**os.environ, "CREDITBANK_DATA_DIR": str(data_dir)}
    for name in ("CREDITBANK_DATABASE_URL", "CREDITBANK_SECRET_KEY", "CREDITBANK_STANDARDS_DIR"):
        env.pop(name, None)
    return env


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
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


@contextmanager
def served(env: dict[str, str], *args: str, log: Path | None = None) -> Iterator[str]:
    """``creditbank serve ARGS`` on a free port until the block ends; yields its base URL. Its
    output goes to ``log`` (default: nowhere)."""
    port = free_port()
    out = log.open("wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        cli("serve", "--port", str(port), *args), env=env, stdout=out, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + "/readyz", proc, timeout=120)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if log:
            out.close()  # type: ignore[union-attr]
