"""`creditbank serve`'s projection runner in a process of its own (``projections = process``).

The views' work (decoding events, folding accounts, writing rows) took about as much CPU as the
commands themselves, and in the serving process it shared their GIL: one core served both. In
its own process it uses the other core. Nothing about correctness moves: the runner applies each
batch exactly once under its tracking rows' locks wherever it runs, and read-your-writes holds
because the API waits for the tracking position, woken by the runner's NOTIFY after each batch
(``ProjectionRunner.start_watching``).

The child is ``creditbank projections run --parent <pid>`` with the server's own environment
(so the same settings, data directory and secret). It is restarted if it dies (with a growing
pause, logged), stopped with the server, and stops itself if the server is killed outright.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

log = logging.getLogger("creditbank.projections")

COMMAND = ("-c", "from api.cli import main; main()", "projections", "run")
STOP_TIMEOUT = 10.0  # seconds for the runner to finish its batch after SIGTERM
MAX_PAUSE = 30.0  # seconds between restarts of a runner that keeps dying
HEALTHY = 60.0  # seconds: a runner that lived this long starts again after the shortest pause


class ProjectionProcess:
    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        process = self._process
        return None if process is None else process.pid

    def start(self) -> None:
        self._stopping.clear()
        self._spawn()
        self._thread = threading.Thread(target=self._supervise, name="projection-process")
        self._thread.daemon = True
        self._thread.start()

    def _spawn(self) -> None:
        env = {**os.environ, "CREDITBANK_PROJECTIONS": "external"}
        argv = [sys.executable, *COMMAND, "--parent", str(os.getpid())]
        with self._lock:
            if not self._stopping.is_set():
                self._process = subprocess.Popen(argv, env=env)  # noqa: S603 - our own CLI

    def _supervise(self) -> None:
        pause = 0.5
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > HEALTHY:
                pause = 0.5
            self.restarts += 1
            log.error(
                "the projection runner process exited (%s); starting it again in %.1f s",
                code,
                pause,
            )
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, MAX_PAUSE)
            self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)
