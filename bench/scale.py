"""scale: balance and transcript query latency with 1,000,000 learners ÷ with 10,000 learners.

What is measured is the read path of the API's ``balance`` and ``transcript`` fields: the
projections' own read functions on a cursor of ``Database.transaction(readonly=True)``, one
transaction per query as ``Context.read`` does — ``balances.read_balances(cur, [learner])``, and
``transcript.read_page(cur, learner, after_seq=0, limit=51)`` with ``transcript.count`` (a first
page of 50 and its total, as the ``transcript(first: 50)`` resolver asks).

The views are populated directly, in bulk (COPY), after the migrations created them — building a
million accounts through the bank would take hours, and it is the query path that is measured.
The shapes are realistic: learners with 1 to 1,000 outcomes (a power law, P(n >= k) = k^-1.3:
59 % have one, 0.6 % fifty or more, about one in 8,000 a thousand), one to three balance
breakdown rows per dimension, outcomes from 200 institutions (catalogue entries), each learner a
catalogue entry too. Both databases are vacuumed and analysed before measuring (as autovacuum
would have done on a live one, and so that it does not start in the middle).

Each query is of a different learner, drawn at random from the whole population (so the large
database is read where its pages are, not from a warm corner), alternating between the small and
the large database, with this process and both databases' backends on one CPU (``one_cpu``: on
this VM the scheduler's placement alone moved the p50 of two equal databases by up to 2x).
The ratio is the larger of the two p50 ratios (balance, transcript); quick mode compares
100,000 with 10,000 learners (``large_learners`` says which).
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager

from application.database import Database
from bench.report import Context, Report
from bench.scale_population import Population, populate
from bench.timing import percentile
from bench.world import fresh_postgres
from projections import balances, transcript

GOAL = 1.2
SMALL = 10_000


def read_balance(database: Database, learner: str) -> None:
    with database.transaction(readonly=True) as cur:
        found = balances.read_balances(cur, [learner])
    if learner not in found:
        raise RuntimeError(f"no balance for learner {learner}")


def read_transcript(database: Database, learner: str) -> None:
    with database.transaction(readonly=True) as cur:
        rows = transcript.read_page(cur, learner, after_seq=0, limit=51)
        total = transcript.count(cur, learner)
    if not rows or total < len(rows):
        raise RuntimeError(f"no transcript for learner {learner}")


def measure(
    populations: dict[str, Population], samples: int, heavy_only: bool, seed: int
) -> dict[tuple[str, str], list[float]]:
    """Latencies by (population, query): every query of another random learner, alternating."""
    rng = random.Random(seed)
    picks = {
        name: rng.sample(
            sorted(p.outcomes) if heavy_only else p.learners,
            k=min(samples, len(p.outcomes) if heavy_only else len(p.learners)),
        )
        for name, p in populations.items()
    }
    times: dict[tuple[str, str], list[float]] = {}
    names = list(populations)
    rounds = min(len(v) for v in picks.values())
    for i in range(rounds):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            database = populations[name].database
            learner = picks[name][i]
            for query, fn in (("balance", read_balance), ("transcript", read_transcript)):
                started = time.perf_counter()
                fn(database, learner)
                times.setdefault((name, query), []).append(time.perf_counter() - started)
    return times


def open_populations(ctx: Context, stack: ExitStack) -> dict[str, Population]:
    large = ctx.pick(20_000, 1_000_000)
    populations = {}
    for name, n, seed in (("small", SMALL, 1), ("large", large, 2)):
        url = stack.enter_context(fresh_postgres())
        population = populate(url, n, seed)
        stack.callback(population.database.close)
        populations[name] = population
    return populations


def run(ctx: Context) -> None:
    with ExitStack() as stack:
        measure_populations(ctx, open_populations(ctx, stack))


def measure_populations(ctx: Context, populations: dict[str, Population]) -> None:
    report = ctx.report
    for name, p in populations.items():
        report.raw(f"{name}_learners", len(p.learners), "learners")
        for table, count in p.rows.items():
            report.raw(f"{name}_{table}_rows", count, "rows")
        report.raw(f"{name}_heavy_learners", len(p.outcomes), "learners with >= 50 outcomes")
        report.raw(f"{name}_populate", p.seconds, "s (COPY, VACUUM ANALYZE)")
        report.raw(f"{name}_database_size", database_size(p.url), "MB")
    for p in populations.values():  # warm-up: connections, plans
        for learner in p.learners[:20]:
            read_balance(p.database, learner)
            read_transcript(p.database, learner)
    with one_cpu([p.url for p in populations.values()]) as cpu:
        report.raw(
            "cpu", cpu if cpu is not None else "not pinned", "this process and both backends"
        )
        times = measure(populations, ctx.pick(150, 2000), heavy_only=False, seed=3)
        heavy = measure(populations, ctx.pick(50, 400), heavy_only=True, seed=4)
    ratios = {}
    for query in ("balance", "transcript"):
        for name in populations:
            report.latencies(f"{name}_{query}", times[(name, query)])
        small = percentile(times[("small", query)], 50)
        ratios[query] = percentile(times[("large", query)], 50) / small if small else 0.0
        report.raw(f"{query}_ratio", ratios[query], "large p50 ÷ small p50")
    report.raw(
        "queries",
        len(times[("small", "balance")]),
        "per population and query, each a different learner",
    )
    for name in populations:
        report.latencies(f"{name}_transcript_heavy", heavy[(name, "transcript")])
    report.raw("heavy_queries", len(heavy[("small", "transcript")]), "learners with >= 50 outcomes")
    report.ratio("scale", max(ratios.values()), "<=", GOAL)
    if ctx.profile:
        explain(report, populations["large"])


@contextmanager
def one_cpu(urls: Iterable[str]) -> Iterator[int | None]:
    """This process and the databases' backends on one CPU while measuring.

    A query here is a few round trips to the backend (pool check, BEGIN, SELECTs, COMMIT), and a
    round trip costs 23 µs when client and backend share a CPU but 57-66 µs when they do not (a
    wake-up across vCPUs of this VM; measured with SELECT 1). Where the scheduler puts each
    backend sticks for seconds and differs between the two databases, which made the p50 of
    equal databases differ by up to 2x. Pinned, both are measured on the same (fast) path, so
    the ratio shows what the size of the database costs. Linux only; elsewhere nothing is pinned.
    """
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    original = os.sched_getaffinity(0)
    cpu = min(original)
    pids = [pid for url in urls for pid in _backends(url)]
    os.sched_setaffinity(0, {cpu})
    for pid in pids:
        os.sched_setaffinity(pid, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, original)
        for pid in pids:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, original)


def _backends(url: str) -> list[int]:
    """The server processes of the other connections to this database (the pool's one)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(row[0]) for row in rows]


def explain(report: Report, population: Population) -> None:
    """The plans of the large database's queries, for a learner with many outcomes."""
    learner = max(population.outcomes, key=lambda k: population.outcomes[k])
    import psycopg

    with psycopg.connect(population.url) as conn:
        for title, sql, params in (
            ("balance", "SELECT * FROM account_balances WHERE learner_id = %s", (learner,)),
            (
                "breakdown",
                "SELECT learner_id, dimension, bucket, credits_cc FROM balance_breakdown "
                "WHERE learner_id = %s ORDER BY learner_id, dimension, bucket",
                (learner,),
            ),
            (
                "transcript page",
                "SELECT * FROM transcript_entries WHERE learner_id = %s AND seq > 0 "
                "ORDER BY seq LIMIT 51",
                (learner,),
            ),
            (
                "transcript count",
                "SELECT count(*) FROM transcript_entries WHERE learner_id = %s",
                (learner,),
            ),
        ):
            plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()
            report.profile(
                f"plan: {title} (learner with {population.outcomes[learner]} outcomes)",
                "\n".join(row[0] for row in plan),
            )


def database_size(url: str) -> float:
    """The database's size in MB."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return round(int(row[0]) / 2**20, 1) if row else 0.0
