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
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from application.bootstrap import migrate
from application.database import Database
from bench.common import Context, Report, fresh_postgres, percentile
from projections import balances, transcript

GOAL = 1.2
SMALL = 10_000
ALPHA = 1.3  # outcomes per learner: P(n >= k) = k^-ALPHA, at most MAX_OUTCOMES
MAX_OUTCOMES = 1000
INSTITUTIONS = 200
CHUNK = 20_000  # learners generated and copied at a time

TRANSCRIPT_COLUMNS = tuple(c.strip() for c in transcript.COLUMNS.split(","))
CATALOGUE_COLUMNS = (
    "entry_id",
    "entry_type",
    "ordinal",
    "name",
    "kind",
    "version",
    "active",
    "detail",
)
BALANCE_COLUMNS = (
    "learner_id",
    "account_version",
    "total_cc",
    "available_cc",
    "redeemed_cc",
    "updated_at",
)
BREAKDOWN_COLUMNS = ("learner_id", "dimension", "bucket", "credits_cc")
LEVELS = ("4", "5", "6", "7")
KINDS = ("ACADEMIC_COURSE", "VOCATIONAL_CERTIFICATE", "MOOC", "ENTERPRISE_TRAINING")
CATEGORIES = ("major", "general", "elective")
LEARNER_DETAIL = '{"erased": false, "verification": "ELECTRONIC_ID", "verifiedBy": "officer:bench"}'
RULE_ID = "00000000-0000-4000-8000-000000000001"


@dataclass
class Population:
    url: str
    database: Database
    learners: list[str]  # every learner id, in creation order
    outcomes: dict[str, int]  # outcomes of the learners with fifty or more
    rows: dict[str, int]  # rows per table
    seconds: float


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def outcome_count(rng: random.Random) -> int:
    return min(MAX_OUTCOMES, int((1.0 - rng.random()) ** (-1.0 / ALPHA)))


def _line(values: tuple[Any, ...]) -> str:
    """One row in COPY text format (no tabs, newlines or backslashes in our values)."""
    return "\t".join("\\N" if v is None else str(v) for v in values) + "\n"


@dataclass(frozen=True)
class Chunk:
    """Learners ``first_ordinal + 1 ...`` of one population, generated from their own seed."""

    seed: int
    size: int
    first_ordinal: int
    institutions: tuple[str, ...]


def generate(chunk: Chunk) -> tuple[list[str], dict[str, str], dict[str, int]]:
    """(learner ids, COPY text by table, outcomes of the learners with fifty or more)."""
    rng = random.Random(chunk.seed)
    ids: list[str] = []
    lines: dict[str, list[str]] = {table: [] for table in COLUMNS}
    heavy: dict[str, int] = {}
    for ordinal in range(chunk.first_ordinal + 1, chunk.first_ordinal + chunk.size + 1):
        learner = _uuid(rng)
        ids.append(learner)
        n = outcome_count(rng)
        if n >= 50:
            heavy[learner] = n
        lines["catalogue_entries"].append(
            _line((learner, "learner", ordinal, "", "ELECTRONIC_ID", 2, 1, LEARNER_DETAIL))
        )
        issuers = rng.sample(chunk.institutions, k=rng.randint(1, 4))
        total = 0
        for i in range(n):
            credits = rng.choice((100, 200, 250, 300, 400, 500))
            total += credits
            day = 1 + (i % 28)
            lines["transcript_entries"].append(
                _line(
                    (
                        _uuid(rng),
                        learner,
                        2 + 2 * i,  # account version of the deposit (then its recognition)
                        f"urn:uuid:{_uuid(rng)}",
                        f"Course {i} 课程",
                        "ACADEMIC_COURSE",
                        issuers[i % len(issuers)],
                        None,
                        6,
                        credits,
                        credits,
                        6,
                        "major",
                        "RECOGNIZED",
                        8000,
                        f"2024-06-{day:02d}",
                        f"2024-07-{day:02d}T09:00:00+00:00",
                        RULE_ID,
                        1,
                        "rule",
                        None,
                        None,
                        None,
                    )
                )
            )
        lines["account_balances"].append(
            _line((learner, 1 + 2 * n, total, total, 0, "2024-07-28T09:00:00+00:00"))
        )
        buckets = (
            [("level", b) for b in rng.sample(LEVELS, rng.randint(1, 2))]
            + [("kind", b) for b in rng.sample(KINDS, rng.randint(1, 2))]
            + [("category", b) for b in rng.sample(CATEGORIES, rng.randint(1, 3))]
        )
        for dimension, bucket in buckets:
            lines["balance_breakdown"].append(_line((learner, dimension, bucket, total)))
    return ids, {table: "".join(text) for table, text in lines.items()}, heavy


COLUMNS = {
    "catalogue_entries": CATALOGUE_COLUMNS,
    "account_balances": BALANCE_COLUMNS,
    "balance_breakdown": BREAKDOWN_COLUMNS,
    "transcript_entries": TRANSCRIPT_COLUMNS,
}


def chunks(n_learners: int, seed: int, institutions: list[str]) -> list[Chunk]:
    return [
        Chunk(
            seed * 1_000_003 + i,
            min(CHUNK, n_learners - start),
            INSTITUTIONS + start,
            tuple(institutions),
        )
        for i, start in enumerate(range(0, n_learners, CHUNK))
    ]


def populate(url: str, n_learners: int, seed: int) -> Population:
    """The migrated views of a fresh database filled with ``n_learners`` learners: generated in a
    worker process while this one copies the previous chunk; the secondary indexes are dropped
    for the load and created again after it (same definitions), then VACUUM (ANALYZE)."""
    import multiprocessing

    import psycopg

    started = time.perf_counter()
    database = Database(url, pool_size=1)  # one backend per database: see one_cpu()
    migrate(database)
    rng = random.Random(seed ^ 0x5EED)
    institutions = [_uuid(rng) for _ in range(INSTITUTIONS)]
    learners: list[str] = []
    heavy: dict[str, int] = {}
    rows = dict.fromkeys(COLUMNS, 0)
    with psycopg.connect(url) as conn:
        indexes = secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        with conn.cursor() as cur:
            with cur.copy(
                f"COPY catalogue_entries ({', '.join(CATALOGUE_COLUMNS)}) FROM STDIN"
            ) as copy:
                for i, institution in enumerate(institutions):
                    copy.write(
                        _line(
                            (
                                institution,
                                "institution",
                                i + 1,
                                f"Institution {i} 学院",
                                "UNIVERSITY",
                                1,
                                1,
                                '{"issuerUri": "https://example.edu/issuer"}',
                            )
                        )
                    )
            rows["catalogue_entries"] += len(institutions)
            # fork: the worker only generates (no connection of ours is used in it).
            with multiprocessing.get_context("fork").Pool(1) as pool:
                for ids, texts, chunk_heavy in pool.imap(
                    generate, chunks(n_learners, seed, institutions)
                ):
                    learners += ids
                    heavy.update(chunk_heavy)
                    for table, text in texts.items():
                        sql = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN"
                        with cur.copy(sql) as copy:
                            copy.write(text)
                        rows[table] += text.count("\n")
        for _, definition in indexes:
            conn.execute(definition)  # from pg_indexes
        conn.commit()
        conn.autocommit = True
        for table in COLUMNS:
            conn.execute(f"VACUUM (ANALYZE) {table}")
    return Population(url, database, learners, heavy, rows, time.perf_counter() - started)


def secondary_indexes(conn: Any) -> list[tuple[str, str]]:
    """(name, definition) of the views' indexes that back no constraint."""
    return [
        (str(name), str(definition))
        for name, definition in conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) "
            "ORDER BY i.indexname",
            (list(COLUMNS),),
        ).fetchall()
    ]


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
        report.raw(f"{name}_database_size", _size(p.url), "MB")
    for p in populations.values():  # warm-up: connections, plans
        for learner in p.learners[:20]:
            read_balance(p.database, learner)
            read_transcript(p.database, learner)
    with one_cpu(populations) as cpu:
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
def one_cpu(populations: dict[str, Population]) -> Iterator[int | None]:
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
    pids = [pid for p in populations.values() for pid in _backends(p.url)]
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


def _size(url: str) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return round(int(row[0]) / 2**20, 1) if row else 0.0
