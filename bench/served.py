"""Servers in subprocesses for the API benchmarks: the bank's real app (``creditbank serve``) and
the bare baseline app (``bench.bare_app``), each its own uvicorn process on a free port, with its
output in a log file (shown when it fails to start)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.world import SECRET_KEY

ROOT = Path(__file__).resolve().parents[1]
APP_COMMAND = ("-c", "from api.cli import main; main()")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def python() -> list[str]:
    """This interpreter, with ``-O`` when the run has it."""
    return [sys.executable, *(["-O"] if sys.flags.optimize else [])]


class ServerProcess:
    def __init__(
        self, name: str, argv: list[str], env: Mapping[str, str], log: Path, cwd: Path = ROOT
    ) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,  # the code it imports: this tree, or another revision's (bench.revisions)
            env=dict(env),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, url: str, timeout: float = 90) -> None:
        """Until ``url`` answers 200 (the bank's /readyz: the views have caught up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited during start-up:\n{self.tail()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} was not ready in {timeout:.0f} s:\n{self.tail()}")

    def mark_profile(self, out: Path, timeout: float = 10) -> None:
        """A server under ``bench.serve_app --profile out``: clears its profiles (SIGUSR1) and
        waits until it says so."""
        mark = Path(str(out) + ".mark")
        mark.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while not mark.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not clear its profiles")
            time.sleep(0.01)

    def freeze_gc(self, gc_log: Path, timeout: float = 10) -> None:
        """A server under ``bench.serve_app`` with BENCH_GC_LOG=gc_log: ``gc.freeze()`` now."""
        frozen = Path(str(gc_log) + ".frozen")
        self.process.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + timeout
        while not frozen.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not freeze its heap")
            time.sleep(0.01)

    def tail(self, lines: int = 30) -> str:
        if not self._log_file.closed:  # also after stop()
            self._log_file.flush()
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 30) -> None:
        """SIGINT (uvicorn shuts down cleanly: lifespan end, profile dump), then SIGKILL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log_file.close()


@contextmanager
def server(
    name: str, argv: list[str], env: Mapping[str, str], log: Path, cwd: Path = ROOT
) -> Iterator[ServerProcess]:
    process = ServerProcess(name, argv, env, log, cwd)
    try:
        yield process
    finally:
        process.stop()


def app_env(
    data_dir: Path, database_url: str, es_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of ``creditbank serve``: ours, without any CREDITBANK_* of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBANK_")}
    env.update(
        CREDITBANK_DATA_DIR=str(data_dir),
        CREDITBANK_DATABASE_URL=database_url,
        CREDITBANK_SECRET_KEY=SECRET_KEY,
        CREDITBANK_CHECKPOINT_INTERVAL="0",  # no audit checkpoint in the middle of a round
        CREDITBANK_HOST="127.0.0.1",
    )
    if es_env:
        env["BENCH_ES_ENV"] = json.dumps(dict(es_env))
    return env


def app_argv(
    port: int,
    es_env: Mapping[str, str] | None = None,
    profile: Path | None = None,
    launcher: bool = False,
) -> list[str]:
    """The plain command, or ``bench.serve_app`` when overrides, a profile or the launcher's
    other hooks (``launcher``: BENCH_GC_LOG) are wanted."""
    if not es_env and profile is None and not launcher:
        return [*python(), *APP_COMMAND, "serve", "--port", str(port)]
    extra = ["--profile", str(profile)] if profile is not None else []
    return [*python(), "-m", "bench.serve_app", *extra, "serve", "--port", str(port)]


def bare_argv(port: int) -> list[str]:
    return [*python(), "-m", "bench.bare_app", "--port", str(port)]


def bare_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBANK_")}
    env["BENCH_BARE_DATABASE_URL"] = database_url
    return env
