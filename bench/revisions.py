"""Server CPU per request of several revisions of the bank, served in turn on one world.

``uv run python -m bench.revisions [--rounds 3] [--reads 300] [--deposits 40] REV [REV ...]``

Each REV (a commit, or ``WORKTREE`` for this tree) is exported with ``git archive`` and served
from there (the world, the clients and this code come from the working tree); each round
restarts the served bank once per revision, in a rotating order, and one client in this process
does the reads (the ``read_transcript`` page) and then the deposits. What is compared is the CPU
the served process used (utime + stime from /proc, the projection runner included) per
request: on a shared 2-core machine whose load moves throughput and tails between runs by more
than most levers, the CPU per request moves far less. The one-client p50 is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from statistics import median

from bench.api_clients import Client
from bench.api_world import ApiWorld, single_spec, world_for
from bench.report import Context, Report
from bench.served import ROOT
from bench.timing import percentile
from bench.world import close_shared

WORKTREE = "WORKTREE"
TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the process ``pid`` used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def export(revision: str, into: Path) -> Path:
    """The tree of ``revision`` in a new folder under ``into``."""
    if revision == WORKTREE:
        return ROOT
    target = into / revision
    target.mkdir()
    archive = into / f"{revision}.tar"
    subprocess.run(["git", "archive", "--output", str(archive), revision], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def per_request(world: ApiWorld, op: Callable[[], None], n: int) -> tuple[float, float]:
    """(server CPU ms per call, p50 ms) over ``n`` calls of ``op``."""
    pid = world.app.process.pid
    latencies = []
    before = process_cpu(pid)
    for _ in range(n):
        started = time.perf_counter()
        op()
        latencies.append(time.perf_counter() - started)
    time.sleep(0.2)  # the runner's share of the last deposits
    return 1000 * (process_cpu(pid) - before) / n, 1000 * percentile(latencies, 50)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.revisions", description=__doc__)
    parser.add_argument("revisions", nargs="+", metavar="REV")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--deposits", type=int, default=40)
    parser.add_argument("--json", type=Path, metavar="FILE")
    args = parser.parse_args()
    names: list[str] = args.revisions
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    ctx = Context(report=Report("revisions"))
    with tempfile.TemporaryDirectory(prefix="bench-revisions-") as tmp:
        trees = {name: export(name, Path(tmp)) for name in names}
        try:
            world = world_for(ctx)
            for round_ in range(args.rounds):
                start = round_ % len(names)
                order = names[start:] + names[:start]
                for name in order if round_ % 2 == 0 else order[::-1]:
                    world.restart_app(code=trees[name])
                    with ExitStack() as stack:
                        client = Client(single_spec(world.specs[0], world), stack)
                        for _ in range(30):  # warm-up: connections, caches, lazy imports
                            client.read()
                        for _ in range(5):
                            client.deposit()
                        read_cpu, read_p50 = per_request(world, client.read, args.reads)
                        deposit_cpu, deposit_p50 = per_request(world, client.deposit, args.deposits)
                    row = {
                        "read_cpu_ms": read_cpu,
                        "read_p50_ms": read_p50,
                        "deposit_cpu_ms": deposit_cpu,
                        "deposit_p50_ms": deposit_p50,
                    }
                    figures[name].append(row)
                    shown = " ".join(f"{k} {v:.2f}" for k, v in row.items())
                    print(f"round {round_} {name}: {shown}", flush=True)
        finally:
            close_shared()
    medians = {
        name: {key: round(median(r[key] for r in rows), 3) for key in rows[0]}
        for name, rows in figures.items()
        if rows
    }
    for name, row in medians.items():
        print(f"median {name}: " + " ".join(f"{k} {v}" for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps({"rounds": figures, "medians": medians}, indent=1))


if __name__ == "__main__":
    main()
