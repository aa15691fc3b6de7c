"""The raw baselines: one-row INSERT + COMMIT into a table shaped like the library's events table,
on PostgreSQL or SQLite — the cheapest durable write the database can do."""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import ExitStack

from bench.timing import Op

RAW_TABLE = "bench_raw_inserts"
RAW_STATE = os.urandom(400)  # about the size of a stored OutcomeDeposited event


def create_raw_table(target: str) -> None:
    """The baseline's table, shaped like the library's events table. ``target``: a PostgreSQL
    URL or a SQLite file path."""
    if target.startswith("postgres"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, topic text, state bytea, "
                "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
            )
        return
    lite = sqlite3.connect(target)
    try:
        lite.execute(
            f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, topic TEXT, state BLOB, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        lite.commit()
    finally:
        lite.close()


def raw_inserter(target: str, stack: ExitStack) -> Op:
    """One row per transaction: INSERT, then COMMIT, on one connection kept open."""
    if target.startswith("postgres"):
        import psycopg

        pg = stack.enter_context(psycopg.connect(target))
        pg_sql = (
            f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)"
        )

        def pg_insert() -> None:
            pg.execute(pg_sql, (uuid.uuid4(), 1, "bench:Inserted", RAW_STATE), prepare=True)
            pg.commit()

        return pg_insert

    # Like the library's SQLite recorder: autocommit mode, explicit BEGIN, WAL (set on the file
    # by the library), default synchronous setting.
    lite = sqlite3.connect(target, isolation_level=None, timeout=30)
    stack.callback(lite.close)
    lite_sql = (
        f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?)"
    )

    def sqlite_insert() -> None:
        lite.execute("BEGIN")
        lite.execute(lite_sql, (uuid.uuid4().hex, 1, "bench:Inserted", RAW_STATE))
        lite.execute("COMMIT")

    return sqlite_insert
