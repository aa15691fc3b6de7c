"""Timing of the benchmarks' operations: percentiles, repeated calls, runs of an operation back
to back in a time window (``Run``), and how busy the machine was meanwhile."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

Op = Callable[[], object]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def time_calls(fn: Op, repeat: int) -> list[float]:
    """Durations in seconds of ``repeat`` calls of ``fn``."""
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - start)
    return durations


@dataclass(frozen=True)
class Run:
    """Operations done in a time window by one or more workers."""

    ops: int
    started: float  # time.monotonic(), comparable across processes on one machine
    ended: float
    latencies: tuple[float, ...]
    cpu: float = 0.0  # CPU seconds the worker process(es) used, user + system
    machine_busy: float | None = None  # share of all cores busy during the window (Linux)

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    @staticmethod
    def combine(runs: Sequence[Run]) -> Run:
        """Concurrent runs as one: all operations over the whole window."""
        return Run(
            ops=sum(r.ops for r in runs),
            started=min(r.started for r in runs),
            ended=max(r.ended for r in runs),
            latencies=tuple(lat for r in runs for lat in r.latencies),
            cpu=sum(r.cpu for r in runs),
        )

    @property
    def cpu_per_op(self) -> float:
        return self.cpu / self.ops if self.ops else 0.0


def run_for(op: Op, seconds: float) -> Run:
    """Calls ``op`` back to back for ``seconds``, timing each call."""
    latencies: list[float] = []
    cpu = time.process_time()
    started = time.monotonic()
    deadline = started + seconds
    now = started
    while now < deadline:
        op()
        end = time.monotonic()
        latencies.append(end - now)
        now = end
    return Run(len(latencies), started, now, tuple(latencies), time.process_time() - cpu)


def cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat; None elsewhere."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def median_run(runs: Sequence[Run]) -> tuple[float, list[float]]:
    """The median throughput of repeated rounds, and all their latencies."""
    return statistics.median(r.per_second for r in runs), [x for r in runs for x in r.latencies]
