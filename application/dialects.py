"""The two engines, each behind one Dialect: how to connect and transact, set up the event
store, lock, write rows in bulk, delete by a set of keys, notify, and rebuild tables.

``dialect_for(url)`` is the only place that tells the engines apart; everything else asks the
dialect. SQLite is the embedded default (a file, one writer at a time, nothing to notify);
PostgreSQL is the server (a pool, row locks, LISTEN/NOTIFY, JSON recordsets for bulk writes).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from application.availability import Availability, lost_connection
from domain.errors import Unavailable

# Seconds a call waits for a pooled connection, and for a new connection to open. Short, so a
# request fails within seconds of an outage beginning instead of hanging (the availability probe
# refuses the next ones at once).
CONNECT_TIMEOUT = 3
# Seconds a pool keeps retrying a lost connection before it gives up (and grows afresh on the next
# demand): psycopg_pool's back-off doubles from 1 s, which after a 40 s outage left the bank
# waiting ~25 s more for its next attempt.
RECONNECT_WINDOW = 2.0
# pg_advisory_lock key for schema set-up: a constant every process of the bank agrees on.
SETUP_LOCK = 0x43726564697442  # "CreditB"
# Rows per multi-row statement: under both engines' bound-parameter limits (SQLite 32766,
# PostgreSQL 65535) for the widest view row.
MAX_PARAMETERS = 16000


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Dialect(Protocol):
    name: str
    lock_rows: str  # appended to a SELECT that must hold its rows until commit
    migrations: str  # the engine's folder of migrations/
    availability: Availability

    def eventsourcing_env(self, pool_size: int) -> dict[str, str]: ...
    def transaction(self, readonly: bool, pipeline: bool) -> Any: ...
    def setup_lock(self) -> Any: ...
    def guard(self, datastore: Any) -> None: ...
    def problem(self) -> str | None: ...
    def migration_uri(self) -> str: ...
    def key(self, value: UUID) -> Any: ...
    def insert_rows(
        self, cur: Cursor, table: str, columns: Sequence[str], rows: list[list[Any]], suffix: str
    ) -> None: ...
    def delete_any(self, cur: Cursor, table: str, column: str, keys: list[Any]) -> None: ...
    def notify(self, cur: Cursor, channel: str) -> None: ...
    def listen(self, channel: str, wake: threading.Event, stop: threading.Event) -> None: ...
    def clone_table(self, cur: Cursor, table: str, clone: str) -> list[str]: ...
    def replace_table(self, cur: Cursor, table: str, replacement: str) -> list[str]: ...
    def lock_tables(self, cur: Cursor, tables: Sequence[str], timeout_ms: int) -> None: ...
    def close(self) -> None: ...


def dialect_for(url: str, pool_size: int = 5) -> Dialect:
    """The one place that tells the engines apart: by the URL's scheme."""
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        return PostgresDialect(url, pool_size)
    path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if parts.netloc:  # sqlite://relative/path style
        path = parts.netloc + "/" + path
    return SqliteDialect(path)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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

    def setup_lock(self) -> Any:
        return nullcontext()  # SQLite serialises its own DDL

    def guard(self, datastore: Any) -> None:
        """Nothing to guard: an embedded file has no outage."""

    def problem(self) -> str | None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return None

    def migration_uri(self) -> str:
        return f"sqlite:///{self.path}"

    def key(self, value: UUID) -> Any:
        return str(value)

    def insert_rows(
        self, cur: Cursor, table: str, columns: Sequence[str], rows: list[list[Any]], suffix: str
    ) -> None:
        names = ", ".join(columns)
        row_marks = "(" + ", ".join("?" for _ in columns) + ")"
        for chunk in _chunks(rows, max(1, MAX_PARAMETERS // max(1, len(columns)))):
            cur.execute(
                f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
                + ", ".join(row_marks for _ in chunk)
                + suffix,
                [v for row in chunk for v in row],
            )

    def delete_any(self, cur: Cursor, table: str, column: str, keys: list[Any]) -> None:
        for chunk in _chunks(keys, MAX_PARAMETERS):
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

    def close(self) -> None:
        """Connections are per transaction."""


class PostgresDialect:
    """The server: a connection pool behind an availability probe, row locks, LISTEN/NOTIFY."""

    name = "postgres"
    lock_rows = " FOR UPDATE"
    migrations = "postgresql"

    def __init__(self, url: str, pool_size: int) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.pg = {
            "host": parts.hostname or "127.0.0.1",
            "port": str(parts.port or 5432),
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password or ""),
            "dbname": unquote(parts.path.lstrip("/") or "postgres"),
            "schema": query.get("schema", [""])[0],
        }
        self._pool: Any = None
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self._probe_conn: Any = None  # the availability probe's own connection
        self.availability = Availability(self._probe)

    @property
    def conninfo(self) -> str:
        from psycopg.conninfo import make_conninfo

        p = self.pg
        options = f"-c search_path={p['schema']}" if p["schema"] else None
        return make_conninfo(
            host=p["host"],
            port=p["port"],
            user=p["user"],
            password=p["password"] or None,
            dbname=p["dbname"],
            options=options,
        )

    def eventsourcing_env(self, pool_size: int) -> dict[str, str]:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.pg["dbname"],
            "POSTGRES_HOST": self.pg["host"],
            "POSTGRES_PORT": self.pg["port"],
            "POSTGRES_USER": self.pg["user"],
            "POSTGRES_PASSWORD": self.pg["password"],
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(pool_size),
            # No pre-ping: it costs a round trip per checkout; the library retries operations
            # that fail on a broken connection instead.
            "POSTGRES_PRE_PING": "n",
            "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
            "POSTGRES_LOCK_TIMEOUT": "10",
        }
        if self.pg["schema"]:
            env["POSTGRES_SCHEMA"] = self.pg["schema"]
        return env

    @contextmanager
    def transaction(self, readonly: bool, pipeline: bool) -> Iterator[Cursor]:
        """``pipeline``: statements are sent without waiting for each result, until a result is
        fetched or the transaction ends: a batch of writes costs one round trip, not one each."""
        import psycopg

        self.availability.check()
        try:
            with (
                self._pg_pool().connection() as conn,
                conn.pipeline() if pipeline else nullcontext(),
                conn.transaction(),
                conn.cursor() as cur,
            ):
                yield _PgCursor(cur)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self.availability.suspect()
            if lost_connection(exc):
                raise Unavailable("the database connection failed; send it again") from exc
            raise

    @contextmanager
    def setup_lock(self) -> Iterator[None]:
        """The event store's set-up (CREATE TABLE / CREATE OR REPLACE FUNCTION) run by two
        processes at once fails with "tuple concurrently updated": starters take turns."""
        import psycopg

        with psycopg.connect(
            self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT
        ) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))

    def guard(self, datastore: Any) -> None:
        """Puts the availability check in front of the event store's connections (the library's
        PostgresDatastore), and bounds its pool's reconnection back-off."""
        from eventsourcing.persistence import InterfaceError, OperationalError

        datastore.pool.reconnect_timeout = RECONNECT_WINDOW
        connect = datastore.get_connection
        availability = self.availability

        @contextmanager
        def get_connection() -> Iterator[Any]:
            availability.check()  # not an OperationalError: the library does not retry it
            try:
                with connect() as conn:
                    yield conn
            except (OperationalError, InterfaceError):
                availability.suspect()
                raise

        datastore.get_connection = get_connection

    def problem(self) -> str | None:
        """Why the bank cannot use this server, in one phrase (None: it can)."""
        import psycopg

        pg = self.pg
        try:
            psycopg.connect(self.conninfo, connect_timeout=CONNECT_TIMEOUT).close()
        except psycopg.OperationalError as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            # 'connection failed: connection to server at "h", port p failed: <the reason>'
            reason = lines[0].rsplit("failed: ", 1)[-1] if lines else type(exc).__name__
            where = f"{pg['host']}:{pg['port']}"
            if "does not exist" in reason and "database" in reason:
                return (
                    f"PostgreSQL on {where} has no database {pg['dbname']!r}: create it "
                    f"(createdb -h {pg['host']} -p {pg['port']} {pg['dbname']})"
                )
            return f"cannot connect to PostgreSQL at {where}: {reason}"
        return None

    def migration_uri(self) -> str:
        from urllib.parse import quote

        pg = self.pg
        auth = quote(pg["user"], safe="")
        if pg["password"]:
            auth += ":" + quote(pg["password"], safe="")
        uri = f"postgresql+psycopg://{auth}@{pg['host']}:{pg['port']}/{pg['dbname']}"
        return uri + (f"?schema={pg['schema']}" if pg["schema"] else "")

    def key(self, value: UUID) -> Any:
        return value

    def insert_rows(
        self, cur: Cursor, table: str, columns: Sequence[str], rows: list[list[Any]], suffix: str
    ) -> None:
        # One JSON parameter, typed by the table itself: psycopg parses a statement with
        # thousands of placeholders slowly (its query splitter was 25 % of a catch-up).
        names = ", ".join(columns)
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        cur.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} "  # noqa: S608
            f"FROM json_populate_recordset(NULL::{table}, ?)" + suffix,
            [json.dumps(records, separators=(",", ":"))],
        )

    def delete_any(self, cur: Cursor, table: str, column: str, keys: list[Any]) -> None:
        cur.execute(f"DELETE FROM {table} WHERE {column} = ANY(?)", [keys])  # noqa: S608

    def notify(self, cur: Cursor, channel: str) -> None:
        cur.execute(f"NOTIFY {channel}")

    def listen(self, channel: str, wake: threading.Event, stop: threading.Event) -> None:
        """Sets ``wake`` on every notification of ``channel`` until ``stop``; reconnects."""
        import logging

        import psycopg

        while not stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f'LISTEN "{channel}"')
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            wake.set()
            except Exception:  # followers still poll; reconnect shortly
                logging.getLogger("creditbank.projections").warning(
                    "LISTEN connection lost; reconnecting", exc_info=True
                )
                stop.wait(1.0)

    def clone_table(self, cur: Cursor, table: str, clone: str) -> list[str]:
        return [
            f"DROP TABLE IF EXISTS {clone}",
            f"CREATE TABLE {clone} (LIKE {table} INCLUDING ALL)",
        ]

    def replace_table(self, cur: Cursor, table: str, replacement: str) -> list[str]:
        return [f"DROP TABLE {table}", f"ALTER TABLE {replacement} RENAME TO {table}"]

    def lock_tables(self, cur: Cursor, tables: Sequence[str], timeout_ms: int) -> None:
        """All at once, or give way (lock_timeout below deadlock_timeout): readers queue behind
        the lock and then read the swapped-in tables."""
        cur.execute(f"SET LOCAL lock_timeout = '{timeout_ms}ms'")
        cur.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")

    def _probe(self) -> None:
        import psycopg

        conn = self._probe_conn
        if conn is None or conn.closed:
            conn = self._probe_conn = psycopg.connect(
                self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            )
        try:
            conn.execute("SELECT 1")
        except Exception:
            conn.close()
            raise

    def _pg_pool(self) -> Any:
        with self._lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self.conninfo,
                    min_size=1,
                    max_size=self._pool_size,
                    open=True,
                    check=ConnectionPool.check_connection,
                    timeout=CONNECT_TIMEOUT,
                    reconnect_timeout=RECONNECT_WINDOW,
                    kwargs={"connect_timeout": CONNECT_TIMEOUT},
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            if self._probe_conn is not None:
                self._probe_conn.close()


class _SqliteCursor:
    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(sql, tuple(params))

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()


class _PgCursor:
    """Statements are written with ``?`` placeholders; psycopg wants ``%s``."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(sql.replace("?", "%s"), tuple(params))

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())
