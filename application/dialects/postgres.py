"""PostgreSQL, the server: a connection pool behind an availability probe, row locks,
LISTEN/NOTIFY, JSON recordsets for bulk writes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit
from uuid import UUID

from application.availability import Availability, lost_connection
from application.dialects import (
    CONNECT_TIMEOUT,
    PURGE_WINDOW,
    RECONNECT_WINDOW,
    SETUP_LOCK,
    Cursor,
)
from domain.errors import Unavailable


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
        pg = self.pg
        auth = quote(pg["user"], safe="")
        if pg["password"]:
            auth += ":" + quote(pg["password"], safe="")
        uri = f"postgresql+psycopg://{auth}@{pg['host']}:{pg['port']}/{pg['dbname']}"
        return uri + (f"?schema={pg['schema']}" if pg["schema"] else "")

    def key(self, value: UUID) -> Any:
        return value

    def event_key(self, value: UUID) -> Any:
        return value

    def purge(self, table: str) -> bool:
        """A deleted row stays in its page as a dead tuple, and a plain VACUUM only marks its
        space free (measured: the bytes of the newest row of a page survive it). VACUUM FULL
        writes the live rows into a new file and truncates the old one, so it is run on this
        small table, once no other transaction can still see the row (a snapshot older than the
        delete would make VACUUM FULL copy it), under a lock timeout: requests for the keys wait
        at most a second behind it while it queues for its lock."""
        import psycopg

        deadline = time.monotonic() + PURGE_WINDOW
        try:
            with psycopg.connect(
                self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            ) as conn:
                deleted = conn.execute("SELECT statement_timestamp()").fetchone()
                while (older := conn.execute(_OLDER_SNAPSHOTS, deleted).fetchone()) is not None:
                    if time.monotonic() >= deadline:
                        break  # still purged as far as possible: the next erasure finishes it
                    time.sleep(0.05)
                conn.execute(f"SET lock_timeout = '{int(PURGE_WINDOW * 200)}ms'")
                while True:
                    try:
                        conn.execute(f"VACUUM FULL {table}")
                        return older is None
                    except psycopg.errors.LockNotAvailable:
                        if time.monotonic() >= deadline:
                            return False
        except psycopg.Error as exc:  # the erasure itself is committed: the caller reports this
            if isinstance(exc, psycopg.OperationalError):
                self.availability.suspect()
            return False

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


# Another session of this database whose transaction began before the delete committed and
# holds a snapshot (backend_xmin): VACUUM may have to keep the deleted row for it.
_OLDER_SNAPSHOTS = """
    SELECT 1 FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND backend_xmin IS NOT NULL AND xact_start < %s
    LIMIT 1
"""


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
