"""Profiling with cProfile: of one thread (``profile``), or of every thread of a process
(``ThreadProfiles``), and figures per operation from the profile (``Profile``, ``where``)."""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import re
import sysconfig
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.timing import Op

ProfileSource = Any  # a cProfile.Profile, a file of stats, a ProfileSnapshot


@dataclass
class Profile:
    """Profile data over ``ops`` operations: one profiler, or several merged (threads, a server
    process's stats file)."""

    profiler: ProfileSource | Sequence[ProfileSource]
    ops: int

    def _stats(self, stream: Any = None) -> pstats.Stats:
        sources = (
            [self.profiler]
            if isinstance(self.profiler, (cProfile.Profile, str, ProfileSnapshot))
            else list(self.profiler)
        )
        return _stats_of(sources, stream)

    def top(self, n: int = 15, sort: str = "cumulative") -> str:
        out = io.StringIO()
        stats = self._stats(out)
        stats.sort_stats(sort).print_stats(n)
        lines = out.getvalue().splitlines()
        # Drop pstats' preamble down to the column header; keep the table.
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        text = "\n".join(line for line in lines[start:] if line.strip())
        return _short_paths(text)

    def _raw(self) -> dict[tuple[str, int, str], tuple[Any, ...]]:
        return _stats_dict(self._stats())

    def calls_per_op(self, predicate: Callable[[str, str], bool], primitive: bool = False) -> float:
        """Calls per operation of the functions whose (file, name) satisfy ``predicate``
        (``primitive``: not counting recursive calls)."""
        total = 0
        for (filename, _line, name), (cc, ncalls, *_rest) in self._raw().items():
            if predicate(filename, name):
                total += cc if primitive else ncalls
        return total / self.ops if self.ops else 0.0

    def seconds_per_op(self, predicate: Callable[[str, str], bool]) -> float:
        """Cumulative seconds per operation of the matching functions (not nested in each other)."""
        total = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in self._raw().items():
            if predicate(filename, name):
                total += cumulative
        return total / self.ops if self.ops else 0.0

    def own_seconds_per_op(self, predicate: Callable[[str, str], bool]) -> float:
        """Seconds per operation spent in the matching functions themselves (tottime)."""
        total = 0.0
        for (filename, _line, name), (_cc, _nc, own, _cum, _callers) in self._raw().items():
            if predicate(filename, name):
                total += own
        return total / self.ops if self.ops else 0.0

    def total_seconds_per_op(self) -> float:
        """All profiled time (every thread) per operation."""
        return sum(v[2] for v in self._raw().values()) / self.ops if self.ops else 0.0


def _short_paths(text: str) -> str:
    """File names relative to site-packages, the standard library or the project."""
    paths = sysconfig.get_paths()
    for prefix in sorted(
        {paths["purelib"], paths["platlib"], paths["stdlib"], os.getcwd()}, key=len, reverse=True
    ):
        text = text.replace(prefix.rstrip("/") + "/", "")
    return text


def where(file_part: str, *names: str) -> Callable[[str, str], bool]:
    """Matches profile entries of functions named ``names`` in files whose path has
    ``file_part`` (builtins have the file ``~``)."""
    return lambda filename, name: file_part in filename and (not names or name in names)


def profile(op: Op, ops: int) -> Profile:
    """cProfile over ``ops`` calls of ``op`` (pyinstrument is not a dependency)."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        for _ in range(ops):
            op()
    finally:
        profiler.disable()
    return Profile(profiler, ops)


def _stats_of(sources: Sequence[Any], stream: Any = None) -> pstats.Stats:
    """pstats over profilers, stats files and snapshots, merged."""
    return pstats.Stats(*sources, stream=stream)


def _stats_dict(stats: pstats.Stats) -> dict[tuple[str, int, str], tuple[Any, ...]]:
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    return raw


class ProfileSnapshot:
    """A profiler's figures as they stand now, read without ``disable()``: disabling from another
    thread would close the calls still open in the profiled thread with this thread's clock."""

    def __init__(self, profiler: cProfile.Profile) -> None:
        profiler.snapshot_stats()
        self._taken: dict[Any, Any] = dict(profiler.stats)
        self.stats: dict[Any, Any] = {}

    @property
    def recorded(self) -> bool:
        return bool(self._taken)

    def create_stats(self) -> None:  # what pstats.Stats calls (and then empties ``stats``)
        self.stats = dict(self._taken)


class ThreadProfiles:
    """cProfile in the current thread and in every thread started while this is active (one
    cProfile profiler sees only the thread that enabled it): for a process whose work is spread
    over threads (the server's event loop, its threadpool, the projection runner).

    ``timer=time.thread_time`` profiles CPU instead of wall time, so that threads blocked on a
    lock, a queue or the database add nothing. Only calls that have returned are counted: a
    thread's long-running loop is not, the work it called is. ``clear()`` forgets everything so
    far (start-up, warm-up) in every thread.
    """

    def __init__(self, timer: Callable[[], float] | None = None) -> None:
        self._timer = timer
        self._lock = threading.Lock()
        self.profilers: list[tuple[str, cProfile.Profile]] = []

    def _new(self) -> cProfile.Profile:
        profiler = cProfile.Profile(self._timer) if self._timer else cProfile.Profile()
        with self._lock:
            self.profilers.append((threading.current_thread().name, profiler))
        return profiler

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        # The first profile event of a new thread: replace this hook by a profiler of its own.
        self._new().enable()

    def __enter__(self) -> ThreadProfiles:
        threading.setprofile(self._hook)
        self._main = self._new()
        self._main.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        self._main.disable()
        threading.setprofile(None)

    def clear(self) -> None:
        with self._lock:
            for _, profiler in self.profilers:
                profiler.clear()

    def sources(self, threads: Sequence[str] = ()) -> list[ProfileSnapshot]:
        """Every thread's profile, or those of the threads whose names start with ``threads``."""
        with self._lock:
            snapshots = [
                ProfileSnapshot(profiler)
                for name, profiler in self.profilers
                if not threads or name.startswith(tuple(threads))
            ]
        # A thread idle since clear() has nothing, and pstats refuses an empty source.
        return [snapshot for snapshot in snapshots if snapshot.recorded]

    def profile(self, ops: int, threads: Sequence[str] = ()) -> Profile:
        return Profile(self.sources(threads), ops)

    def thread_seconds(self) -> dict[str, float]:
        """Profiled seconds by thread name (numbers in names folded: one entry per kind)."""
        totals: dict[str, float] = {}
        with self._lock:
            named = list(self.profilers)
        for name, profiler in named:
            snapshot = ProfileSnapshot(profiler)
            if not snapshot.recorded:
                continue
            stats = _stats_dict(_stats_of([snapshot]))
            kind = re.sub(r"[-_ ]?\d+", "", name) or name
            totals[kind] = totals.get(kind, 0.0) + sum(v[2] for v in stats.values())
        return totals

    def dump(self, path: str) -> None:
        """The merged stats to ``path``, seconds by thread to ``path + ".threads.json"``."""
        _stats_of(self.sources()).dump_stats(path)
        Path(path + ".threads.json").write_text(json.dumps(self.thread_seconds(), indent=1))
