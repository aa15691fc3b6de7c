"""Benchmarks that print ratios against raw baselines: ``uv run python -m bench [--quick] ...``.

Every benchmark prints exactly one ``ratio <name> <value> goal <op> <target>`` line per figure it
owns, plus ``raw <benchmark> <key> <value> <unit>`` lines with what it measured.

Adding a benchmark: write ``bench/<module>.py`` with a function ``run(ctx: Context) -> None`` that
reports through ``ctx.report`` (see ``bench/history.py`` for a small one), then add a
``Benchmark`` entry to ``BENCHMARKS`` below. ``bench/common.py`` has the shared pieces: fresh
databases, a bank on them, synthetic learners and deposits, raw INSERT+COMMIT baselines, timing,
a multi-process worker pool and profiling.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str  # bench.<module> with ``run(ctx)``; imported only when selected
    function: str
    summary: str


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "write_app",
        "bench.write_app",
        "run_postgres",
        "deposits/s through CreditBank, 4 and 1 processes, ÷ raw psycopg INSERT+COMMIT/s",
    ),
    Benchmark(
        "write_app_sqlite",
        "bench.write_app",
        "run_sqlite",
        "deposits/s through CreditBank on SQLite, 1 process, ÷ raw sqlite3 INSERT+COMMIT/s",
    ),
    Benchmark(
        "history",
        "bench.history",
        "run",
        "load of a 10,000-event account (and as of version 5,000) ÷ load of a 10-event account",
    ),
)
