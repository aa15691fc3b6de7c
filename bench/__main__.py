"""``uv run python -m bench [--quick] [--profile] [--json FILE] [--check] [NAME...]``."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import BENCHMARKS, Benchmark
from bench.report import Context, Report, dump_json, machine
from bench.world import close_shared, release_shared


def parse_args(argv: list[str]) -> argparse.Namespace:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Credit Bank benchmarks: ratios against raw database baselines.",
        epilog="benchmarks:\n" + "\n".join(f"  {b.name:<18} {b.summary}" for b in BENCHMARKS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default all)")
    parser.add_argument("--quick", action="store_true", help="small and short: a CI smoke test")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write all figures to FILE")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each benchmark, print the top entries"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a goal is missed (errors always do)"
    )
    parser.add_argument(
        "--es-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="experiment: extra eventsourcing environment for every bank, e.g. "
        "POSTGRES_ENABLE_DB_FUNCTIONS=y (repeatable)",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    for item in args.es_env:
        if "=" not in item:
            parser.error(f"--es-env wants KEY=VALUE, got {item!r}")
    return args


def run_one(benchmark: Benchmark, args: argparse.Namespace, es_env: dict[str, str]) -> Report:
    report = Report(benchmark.name)
    ctx = Context(report=report, quick=args.quick, profile=args.profile, es_env=es_env)
    print(f"# {benchmark.name}: {benchmark.summary}", flush=True)
    started = time.perf_counter()
    try:
        run = getattr(importlib.import_module(benchmark.module), benchmark.function)
        run(ctx)
    except Exception:
        report.error = traceback.format_exc()
        print(f"error {benchmark.name}\n{report.error}", file=sys.stderr, flush=True)
    report.seconds = time.perf_counter() - started
    print(f"# {benchmark.name} took {report.seconds:.1f} s", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    es_env = dict(item.split("=", 1) for item in args.es_env)
    selected = [b for b in BENCHMARKS if not args.names or b.name in args.names]
    info = machine()
    mode = "quick" if args.quick else "full"
    print(
        f"# mode {mode}; nproc {info['nproc']}; mem {info.get('mem_gib', '?')} GiB; "
        f"python {info['python']} -O{info['optimize']}; {info['postgres']}",
        flush=True,
    )
    if es_env:
        print(f"# eventsourcing env overrides: {es_env}", flush=True)
    started = time.perf_counter()
    reports = []
    try:
        for i, benchmark in enumerate(selected):
            reports.append(run_one(benchmark, args, es_env))
            if benchmark.shares and all(b.shares != benchmark.shares for b in selected[i + 1 :]):
                release_shared(benchmark.shares)  # its servers stop before the next benchmark
    finally:
        close_shared()
    wall = time.perf_counter() - started
    ratios = [r for report in reports for r in report.ratios]
    missed = [r.name for r in ratios if not r.met]
    errors = [report.benchmark for report in reports if report.error]
    print(
        f"# {len(ratios) - len(missed)}/{len(ratios)} goals met"
        + (f"; missed: {' '.join(missed)}" if missed else "")
        + (f"; errors: {' '.join(errors)}" if errors else "")
        + f"; wall {wall:.1f} s",
        flush=True,
    )
    if args.json:
        payload: dict[str, Any] = {
            "mode": mode,
            "command": " ".join(["python", "-m", "bench", *sys.argv[1:]]),
            "machine": info,
            "es_env": es_env,
            "wall_seconds": round(wall, 2),
            "ratios": {
                r.name: {"value": r.value, "op": r.op, "target": r.target, "met": r.met}
                for r in ratios
            },
            "benchmarks": [report.as_dict() for report in reports],
        }
        dump_json(args.json, payload)
    if errors:
        return 2
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
