"""A pool of worker processes (spawn) that run named phases together: the benchmarks' concurrent
clients."""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from bench.timing import Op, Run, busy_share, cpu_jiffies, run_for

# A setup function runs in each worker (it must be importable: a module-level function) with that
# worker's spec and an ExitStack for cleanup, and returns the worker's operations by phase name.
Setup = Callable[[Any, ExitStack], Mapping[str, Op]]


def _worker(
    setup: Setup,
    spec: Any,
    barrier: Any,
    commands: Any,
    results: Any,
    index: int,
) -> None:
    try:
        with ExitStack() as stack:
            phases = setup(spec, stack)
            results.put(("ready", index, None))
            while (command := commands.get()) is not None:
                phase, seconds = command
                barrier.wait(timeout=120)
                results.put(("done", index, run_for(phases[phase], seconds)))
    except BaseException:
        results.put(("error", index, traceback.format_exc()))


class WorkerPool:
    """Worker processes (spawn) that run a phase together, started at the same moment.

    ``pool.run("app", 5.0)`` makes every worker call its ``"app"`` operation back to back for five
    seconds and returns their runs combined.
    """

    def __init__(self, setup: Setup, specs: Sequence[Any], timeout: float = 300) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._n = len(specs)
        self._timeout = timeout
        self._barrier = self._ctx.Barrier(self._n)
        self._results = self._ctx.Queue()
        self._commands = [self._ctx.Queue() for _ in specs]
        self._processes = [
            self._ctx.Process(
                target=_worker,
                args=(setup, spec, self._barrier, commands, self._results, i),
                name=f"bench-worker-{i}",
                daemon=True,
            )
            for i, (spec, commands) in enumerate(zip(specs, self._commands, strict=True))
        ]

    def __enter__(self) -> WorkerPool:
        for process in self._processes:
            process.start()
        try:
            self._collect("ready")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, phase: str, seconds: float) -> Run:
        before = cpu_jiffies()
        for commands in self._commands:
            commands.put((phase, seconds))
        runs: list[Run] = self._collect("done")
        return replace(Run.combine(runs), machine_busy=busy_share(before, cpu_jiffies()))

    def _collect(self, kind: str) -> list[Any]:
        got: dict[int, Any] = {}
        deadline = time.monotonic() + self._timeout
        while len(got) < self._n:
            try:
                status, index, value = self._results.get(timeout=1.0)
            except queue.Empty:
                dead = [p.name for p in self._processes if not p.is_alive()]
                if dead:
                    raise RuntimeError(f"worker(s) died: {', '.join(dead)}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"workers did not report {kind!r} in time") from None
                continue
            if status == "error":
                raise RuntimeError(f"worker {index} failed:\n{value}")
            got[index] = value
        return [got[i] for i in range(self._n)]

    def close(self) -> None:
        for commands in self._commands:
            with contextlib.suppress(Exception):
                commands.put(None)
        for process in self._processes:
            process.join(timeout=30)
        for process in self._processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
