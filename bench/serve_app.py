"""``creditbank serve`` for the API benchmarks when the plain command is not enough.

``python -m bench.serve_app [--profile FILE] serve --port P`` runs the same CLI as
``python -c "from api.cli import main; main()" serve --port P``, plus:

- the ``--es-env`` overrides of the run (JSON in ``BENCH_ES_ENV``), applied to the server's bank
  the way ``bench.world.open_bank`` applies them to the benchmarks' own banks;
- ``BENCH_GC_LOG=FILE`` (levers): every garbage collection, its generation and pause; then
  SIGUSR2 calls ``gc.freeze()``;
- ``BENCH_GEN0_THRESHOLD=N`` (a lever): the young-generation threshold ``api.app.settle_heap``
  sets once the server is ready, instead of ``api.app.GEN0_THRESHOLD``;
- ``--profile FILE``: cProfile in every thread of the server (event loop, threadpool, projection
  runner), CPU time (``time.thread_time``), merged and dumped to FILE when the server stops;
  SIGUSR1 clears what was profiled so far (start-up, warm-up) and then touches ``FILE.mark``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.profiling import ThreadProfiles
from bench.world import _eventsourcing_env


def main() -> None:
    from api.cli import main as cli_main

    args = sys.argv[1:]
    out = None
    if args[:1] == ["--profile"]:
        out, args = args[1], args[2:]
    es_env = json.loads(os.environ.get("BENCH_ES_ENV") or "{}")
    sys.argv = ["creditbank", *args]
    gc_log = os.environ.get("BENCH_GC_LOG")
    if gc_log:
        _log_collections(gc_log)
    threshold = os.environ.get("BENCH_GEN0_THRESHOLD")
    if threshold:
        import api.app

        api.app.GEN0_THRESHOLD = int(threshold)
    with _eventsourcing_env(es_env):
        if out is None:
            _run(cli_main)
            return
        with ThreadProfiles(time.thread_time) as profiles:
            signal.signal(signal.SIGUSR1, lambda *_: _mark(profiles, out))
            # uvicorn raises again the SIGINT it shut down on
            with contextlib.suppress(KeyboardInterrupt):
                _run(cli_main)
        # That re-raised SIGINT can also land during the dump (seen: no profile written).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        profiles.dump(out)


def _log_collections(path: str) -> None:
    """Every garbage collection (start time.monotonic(), generation, seconds, and with
    BENCH_GC_LOG_OBJECTS=1 the objects in the oldest generation after a full collection)
    appended to ``path`` as it ends: to match slow requests with collector pauses. SIGUSR2 then
    calls ``gc.freeze()`` and touches ``path + ".frozen"``."""
    import gc

    started: list[float] = [0.0]
    log = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    def callback(phase: str, info: dict[str, int]) -> None:
        now = time.monotonic()
        if phase == "start":
            started[0] = now
        else:
            generation = info["generation"]
            survivors = len(gc.get_objects(2)) if count_objects and generation == 2 else 0
            log.write(f"{started[0]:.6f} {generation} {now - started[0]:.6f} {survivors}\n")

    def freeze() -> None:
        gc.freeze()
        Path(path + ".frozen").touch()

    count_objects = bool(os.environ.get("BENCH_GC_LOG_OBJECTS"))
    gc.callbacks.append(callback)
    # SIGUSR2: gc.freeze() (everything alive now is left out of later collections)
    signal.signal(signal.SIGUSR2, lambda *_: freeze())


def _mark(profiles: ThreadProfiles, out: str) -> None:
    """SIGUSR1: forget start-up and warm-up; the file ``out + ".mark"`` says it is done."""
    profiles.clear()
    Path(out + ".mark").touch()


def _run(cli_main: Callable[[], None]) -> None:
    try:
        cli_main()
    except SystemExit as exc:  # typer ends with sys.exit
        if exc.code not in (0, None):
            raise


if __name__ == "__main__":
    main()
