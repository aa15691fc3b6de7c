"""Benchmarks that print ratios against raw baselines: ``uv run python -m bench [--quick] ...``.

Every benchmark prints exactly one ``ratio <name> <value> goal <op> <target>`` line per figure it
owns, plus ``raw <benchmark> <key> <value> <unit>`` lines with what it measured.

Adding a benchmark: write ``bench/<module>.py`` with a function ``run(ctx: Context) -> None`` that
reports through ``ctx.report`` (see ``bench/history.py`` for a small one), then add a
``Benchmark`` entry to ``BENCHMARKS`` below. The shared pieces: ``bench/report.py`` (the report
and the context a benchmark gets), ``bench/timing.py``, ``bench/world.py`` (fresh databases, a
bank on them, set-ups shared by several benchmarks of a run: ``shared``), ``bench/synthetic.py``
(issuers, learners and deposits), ``bench/raw.py`` (raw INSERT+COMMIT baselines),
``bench/workers.py`` (a multi-process worker pool) and ``bench/profiling.py`` (one thread, or
every thread of a process: ``ThreadProfiles``). ``bench/served.py`` serves the bank
(``creditbank serve``) and the bare baseline app (``bench/bare_app.py``) in subprocesses;
``bench/serve_app.py`` is the launcher used when the served bank is profiled or has a lever
moved. ``bench/api.py`` and ``bench/scale.py`` keep their helpers in ``bench/api_*.py`` and
``bench/scale_population.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str  # bench.<module> with ``run(ctx)``; imported only when selected
    function: str
    summary: str
    shares: str = ""  # key of a bench.world.shared set-up it uses with others


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
    Benchmark(
        "write_api",
        "bench.api",
        "run_write",
        "depositCredential mutations/s over HTTP, 4 clients, ÷ a bare FastAPI INSERT+COMMIT/s",
        shares="api",
    ),
    Benchmark(
        "read_transcript",
        "bench.api",
        "run_read",
        "p50 of a 50-row GraphQL transcript page over HTTP ÷ p50 of a bare one-SELECT endpoint",
        shares="api",
    ),
    Benchmark(
        "read_tail",
        "bench.api",
        "run_tail",
        "p99 ÷ p50 of the transcript page over HTTP with 4 clients",
        shares="api",
    ),
    Benchmark(
        "catchup",
        "bench.catchup",
        "run",
        "projection catch-up events/s ÷ raw decoded read of the notifications (PostgreSQL, SQLite)",
    ),
    Benchmark(
        "freshness",
        "bench.freshness",
        "run",
        "read-your-writes wait after a deposit ÷ the deposit's own latency, p50 (PostgreSQL)",
    ),
    Benchmark(
        "assess_300",
        "bench.assess",
        "run",
        "ms per exact assessment of a 300-outcome account against the ACBS bachelor (p50)",
    ),
    Benchmark(
        "intake",
        "bench.intake",
        "run",
        "credentials/s through POST /intake to the views ÷ a bare verify+COPY pipeline, and ÷ one "
        "depositCredential per credential",
    ),
    Benchmark(
        "scale",
        "bench.scale",
        "run",
        "balance and transcript query p50 with 1,000,000 learners ÷ with 10,000 (quick: 100,000)",
    ),
    Benchmark(
        "scale_write",
        "bench.scale_write",
        "run",
        "deposits/s with 1,000,000 learners in the event store ÷ with 10,000 (quick: 20,000 ÷ "
        "2,000)",
    ),
)
