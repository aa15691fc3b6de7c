"""SQLite, the embedded default (a file; one writer at a time; followers poll), and the
in-memory bank of the service tests (the library's POPO recorders, no tables at all)."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from uuid import UUID

from application.availability import Availability
from application.dialects import MAX_PARAMETERS, PURGE_WINDOW, Cursor, chunks
from application.private_files import private_file


class SqliteDialect:
    """The embedded file: no server, so no outage, no locks to take, nothing to notify."""

    name = "sqlite"
    lock_rows = ""  # BEGIN IMMEDIATE already holds the only write lock
    migrations = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self.availability = Availability()

    def eventsourcing_env(self, pool_size: int) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": self.path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }

    @contextmanager
    def transaction(self, readonly: bool, pipeline: bool) -> Iterator[Cursor]:
        """A writer takes the write lock up front (BEGIN IMMEDIATE) so it cannot fail half-way
        on a lock upgrade; readers use a plain snapshot."""
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            # Deleted rows are overwritten with zeros, not left in free space (crypto-shredding
            # of learner_keys): a per-connection setting, whatever the build's default.
            conn.execute("PRAGMA secure_delete = ON")
            cur = conn.cursor()
            cur.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
            try:
                yield _SqliteCursor(cur)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            conn.close()

    @contextmanager
    def setup_lock(self) -> Iterator[None]:
        """Starters take turns on set-up (the migrations): an exclusive ``flock`` on a file
        beside the database, which the kernel releases when its holder dies, even by SIGKILL."""
        import fcntl

        with private_file(Path(self.path + ".setup-lock")).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def guard(self, datastore: Any) -> None:
        """Nothing to guard: an embedded file has no outage."""

    def problem(self) -> str | None:
        # Owner-only before SQLite first opens it (its -wal and -shm files take the same mode).
        private_file(Path(self.path))
        return None

    def migration_uri(self) -> str:
        return f"sqlite:///{self.path}"

    def key(self, value: UUID) -> Any:
        return str(value)

    def event_key(self, value: UUID) -> Any:
        """An originator id as the library's SQLite recorder stores it (32 hex digits)."""
        return value.hex

    def insert_rows(
        self, cur: Cursor, table: str, columns: Sequence[str], rows: list[list[Any]], suffix: str
    ) -> None:
        names = ", ".join(columns)
        row_marks = "(" + ", ".join("?" for _ in columns) + ")"
        for chunk in chunks(rows, max(1, MAX_PARAMETERS // max(1, len(columns)))):
            cur.execute(
                f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
                + ", ".join(row_marks for _ in chunk)
                + suffix,
                [v for row in chunk for v in row],
            )

    def delete_any(self, cur: Cursor, table: str, column: str, keys: list[Any]) -> None:
        for chunk in chunks(keys, MAX_PARAMETERS):
            cur.execute(
                f"DELETE FROM {table} WHERE {column} IN "  # noqa: S608
                f"({', '.join('?' for _ in chunk)})",
                chunk,
            )

    def notify(self, cur: Cursor, channel: str) -> None:
        """Followers poll a file."""

    def listen(self, channel: str, wake: threading.Event, stop: threading.Event) -> None:
        """Nothing to listen to: followers poll."""

    def clone_table(self, cur: Cursor, table: str, clone: str) -> list[str]:
        cur.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
            [table],
        )
        statements = [f"DROP TABLE IF EXISTS {clone}"]
        suffix = clone[len(table) :]
        for kind, name, sql in cur.fetchall():
            if kind == "table":
                # After a rename SQLite quotes the name in its stored DDL: match either form.
                statements.append(
                    re.sub(rf'^CREATE TABLE "?{table}"?', f"CREATE TABLE {clone}", sql)
                )
            else:
                index = f"INDEX {name}{suffix} ON {clone}"
                statements.append(re.sub(rf'INDEX "?{name}"? ON "?{table}"?', index, sql))
        return statements

    def replace_table(self, cur: Cursor, table: str, replacement: str) -> list[str]:
        # SQLite cannot rename an index: recreate the live table's indexes under their own names.
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            [table],
        )
        indexes = cur.fetchall()
        statements = [f"DROP TABLE {table}", f"ALTER TABLE {replacement} RENAME TO {table}"]
        suffix = replacement[len(table) :]
        for name, sql in indexes:
            statements += [f"DROP INDEX IF EXISTS {name}{suffix}", sql]
        return statements

    def lock_tables(self, cur: Cursor, tables: Sequence[str], timeout_ms: int) -> None:
        """The transaction's write lock already excludes every other writer."""

    def purge(self, table: str) -> bool:
        """secure_delete zeroes a deleted row in the page it rewrites, but the page's earlier
        images stay in the write-ahead log until a checkpoint copies the pages into the database
        and the log is truncated to nothing. A TRUNCATE checkpoint waits for readers still on an
        older snapshot: retried until PURGE_WINDOW. (A connection of its own, like every
        transaction here: SQLite keeps this process's locks when one of its connections closes.)"""
        deadline = time.monotonic() + PURGE_WINDOW
        while True:
            conn = sqlite3.connect(self.path, timeout=PURGE_WINDOW, isolation_level=None)
            try:
                conn.execute("PRAGMA busy_timeout = 1000")
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.OperationalError:  # locked beyond the busy timeout
                busy = 1
            finally:
                conn.close()
            if not busy:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def close(self) -> None:
        """Connections are per transaction."""


class MemoryDialect(SqliteDialect):
    """The event store in the library's in-memory (POPO) recorders, and no database at all:
    the service tests' bank (application/bootstrap.in_memory). It keeps no read models."""

    name = "memory"

    def __init__(self) -> None:
        super().__init__(":memory:")

    def eventsourcing_env(self, pool_size: int) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}

    def transaction(self, readonly: bool, pipeline: bool) -> Any:
        raise NotImplementedError("the in-memory bank keeps no tables (no read models)")

    def setup_lock(self) -> Any:
        return nullcontext()  # one process, nothing shared

    def purge(self, table: str) -> bool:
        return True  # no files


class _SqliteCursor:
    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(sql, tuple(params))

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()
