"""One database, two engines: the embedded SQLite file or PostgreSQL, chosen by a URL.

The event store is the eventsourcing library's; this module gives it its environment and gives
the rest of the bank (key vault, read models, migrations) plain transactions on the same database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

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


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Database:
    """Connection details plus short transactions for the bank's own tables."""

    def __init__(self, url: str, pool_size: int = 5) -> None:
        self.url = url
        parts = urlsplit(url)
        self.kind = "postgres" if parts.scheme.startswith("postgres") else "sqlite"
        self._pool: Any = None
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self.availability = Availability()
        self._probe_conn: Any = None  # PostgreSQL: the availability probe's own connection
        if self.kind == "sqlite":
            self.path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
            if parts.netloc:  # sqlite://relative/path style
                self.path = parts.netloc + "/" + self.path
        else:
            query = parse_qs(parts.query)
            self.pg = {
                "host": parts.hostname or "127.0.0.1",
                "port": str(parts.port or 5432),
                "user": unquote(parts.username or "postgres"),
                "password": unquote(parts.password or ""),
                "dbname": unquote(parts.path.lstrip("/") or "postgres"),
                "schema": query.get("schema", [""])[0],
            }
            self.availability = Availability(self._probe)

    @classmethod
    def for_sqlite(cls, path: str) -> Database:
        return cls(f"sqlite:///{path}")

    # -- for the eventsourcing library ----------------------------------------------------------
    def eventsourcing_env(self) -> dict[str, str]:
        if self.kind == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": self.path,
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.pg["dbname"],
            "POSTGRES_HOST": self.pg["host"],
            "POSTGRES_PORT": self.pg["port"],
            "POSTGRES_USER": self.pg["user"],
            "POSTGRES_PASSWORD": self.pg["password"],
            "POSTGRES_POOL_SIZE": str(self._pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self._pool_size),
            # No pre-ping: it costs a round trip per checkout; the library retries operations
            # that fail on a broken connection instead.
            "POSTGRES_PRE_PING": "n",
            "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
            "POSTGRES_LOCK_TIMEOUT": "10",
        }
        if self.pg["schema"]:
            env["POSTGRES_SCHEMA"] = self.pg["schema"]
        return env

    def guard(self, datastore: Any) -> None:
        """Puts the availability check in front of the event store's connections (the library's
        PostgresDatastore), and bounds its pool's reconnection back-off."""
        if self.kind != "postgres":
            return
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

    @contextmanager
    def setup_lock(self) -> Iterator[None]:
        """Serialises schema set-up across processes. On PostgreSQL the event store's set-up
        (CREATE TABLE / CREATE OR REPLACE FUNCTION) run by two processes at once fails with
        "tuple concurrently updated"; a session advisory lock makes starters take turns. SQLite
        serialises its own DDL."""
        if self.kind != "postgres":
            yield
            return
        import psycopg

        with psycopg.connect(
            self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT
        ) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))

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

    # -- plain transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self, readonly: bool = False, *, pipeline: bool = False) -> Iterator[Cursor]:
        """A short transaction. On SQLite a writer takes the write lock up front (BEGIN
        IMMEDIATE) so it cannot fail half-way on a lock upgrade; readers use a plain snapshot.

        ``pipeline`` (PostgreSQL): statements are sent without waiting for each result, until a
        result is fetched or the transaction ends: a batch of writes costs one round trip, not
        one each (the projection runner's batches)."""
        if self.kind == "sqlite":
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
        else:
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
        self.availability.close()
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
