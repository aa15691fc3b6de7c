"""The populations of the scale benchmark (``bench/scale.py``): learners with power-law outcome
counts, their balances and transcripts, generated in a worker process and copied in bulk (COPY)
into the views of a freshly migrated database."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from application.bootstrap import migrate
from application.database import Database
from projections import transcript

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
                        credits,  # framework credits: the claim (no scheme declared)
                        "2024-07-01T09:00:00+00:00",  # issued
                        None,  # never expires
                        1,  # passed
                        None,  # recognised against no standard (an issuer's course rule)
                        None,
                        None,  # never superseded
                        credits,  # available: nothing converted
                        None,  # no justification (a rule decided)
                        None,  # no second officer
                        None,  # no appeal
                        None,  # no portfolio
                        None,  # not under review
                        None,  # its status known (or stated none)
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
