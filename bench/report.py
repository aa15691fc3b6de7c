"""What a benchmark reports (``Report``: ratios against goals, raw figures, notes, profiles), the
``Context`` it runs in, and the run's header and ``--json`` output (``machine``, ``dump_json``)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from bench.timing import percentile
from bench.world import ADMIN_URL, connect_admin

T = TypeVar("T")


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    op: Literal[">=", "<="]
    target: float

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.op == ">=" else self.value <= self.target

    def line(self) -> str:
        return f"ratio {self.name} {self.value:.3f} goal {self.op} {self.target:g}"


@dataclass(frozen=True)
class Raw:
    benchmark: str
    key: str
    value: float | int | str
    unit: str

    def line(self) -> str:
        value = f"{self.value:.4g}" if isinstance(self.value, float) else str(self.value)
        return f"raw {self.benchmark} {self.key} {value} {self.unit}".rstrip()


@dataclass
class Report:
    """What one benchmark measured, printed as it comes and kept for ``--json``."""

    benchmark: str
    ratios: list[Ratio] = field(default_factory=list)
    raws: list[Raw] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    def ratio(self, name: str, value: float, op: Literal[">=", "<="], target: float) -> Ratio:
        ratio = Ratio(name, value, op, target)
        self.ratios.append(ratio)
        print(ratio.line(), flush=True)
        return ratio

    def raw(self, key: str, value: float | int | str, unit: str = "") -> None:
        raw = Raw(self.benchmark, key, value, unit)
        self.raws.append(raw)
        print(raw.line(), flush=True)

    def latencies(self, prefix: str, seconds: Sequence[float]) -> None:
        """p50/p99 in milliseconds of a list of durations in seconds."""
        self.raw(f"{prefix}_p50", 1000 * percentile(seconds, 50), "ms")
        self.raw(f"{prefix}_p99", 1000 * percentile(seconds, 99), "ms")

    def note(self, text: str) -> None:
        self.notes.append(text)
        for line in text.splitlines():
            print(f"# {line}", flush=True)

    def profile(self, title: str, text: str) -> None:
        self.profiles[title] = text
        print(f"# profile: {title}", flush=True)
        print(text.rstrip(), flush=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "seconds": round(self.seconds, 2),
            "error": self.error,
            "ratios": [
                {"name": r.name, "value": r.value, "op": r.op, "target": r.target, "met": r.met}
                for r in self.ratios
            ],
            "raw": [{"key": r.key, "value": r.value, "unit": r.unit} for r in self.raws],
            "notes": self.notes,
            "profiles": self.profiles,
        }


@dataclass
class Context:
    """What a benchmark's ``run`` gets: the mode, where to report, and the env overrides."""

    report: Report
    quick: bool = False
    profile: bool = False
    es_env: dict[str, str] = field(default_factory=dict)

    def pick(self, quick: T, full: T) -> T:
        return quick if self.quick else full


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "optimize": _optimize_flag(),
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError, ValueError, IndexError):
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        info["mem_gib"] = round(int(meminfo[0].split()[1]) / 1024**2, 1)
    try:
        with connect_admin() as admin:
            info["postgres"] = admin.execute("select version()").fetchone()[0]
    except Exception as exc:
        info["postgres"] = f"unreachable at {ADMIN_URL}: {exc}"
    return info


def _optimize_flag() -> int:
    return sys.flags.optimize


def dump_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
