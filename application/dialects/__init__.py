"""The two engines, each behind one Dialect: how to connect and transact, set up the event
store, lock, write rows in bulk, delete by a set of keys, notify, and rebuild tables.

``dialect_for(url)`` is the only place that tells the engines apart; everything else asks the
dialect. SQLite is the embedded default (a file, one writer at a time, nothing to notify);
PostgreSQL is the server (a pool, row locks, LISTEN/NOTIFY, JSON recordsets for bulk writes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit
from uuid import UUID

from application.availability import Availability
from projections.base import Cursor
from projections.base import Dialect as ViewDialect

__all__ = ["Cursor", "Dialect", "dialect_for"]

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
# Seconds an erasure may spend making its deletion final in the files (application/vault.py):
# waiting for readers on an older snapshot, or for a lock on the keys' table.
PURGE_WINDOW = 5.0


class Dialect(ViewDialect, Protocol):
    """All the bank asks of an engine: what the views ask (projections.base.Dialect), and how to
    connect, set up the event store, lock and migrate."""

    name: str
    migrations: str  # the engine's folder of migrations/
    availability: Availability

    def eventsourcing_env(self, pool_size: int) -> dict[str, str]: ...
    def transaction(self, readonly: bool, pipeline: bool) -> Any: ...
    def setup_lock(self) -> Any: ...
    def guard(self, datastore: Any) -> None: ...
    def problem(self) -> str | None: ...
    def migration_uri(self) -> str: ...
    def key(self, value: UUID) -> Any: ...
    def event_key(self, value: UUID) -> Any: ...
    def purge(self, table: str) -> bool: ...
    def close(self) -> None: ...


MEMORY_URL = "memory:"


def dialect_for(url: str, pool_size: int = 5) -> Dialect:
    """The one place that tells the engines apart: by the URL's scheme."""
    from application.dialects.postgres import PostgresDialect
    from application.dialects.sqlite import MemoryDialect, SqliteDialect

    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        return PostgresDialect(url, pool_size)
    if url == MEMORY_URL:
        return MemoryDialect()
    path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if parts.netloc:  # sqlite://relative/path style
        path = parts.netloc + "/" + path
    return SqliteDialect(path)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def in_lists(values: list[Any], size: int = 1000) -> Iterator[tuple[str, list[Any]]]:
    """``values`` a bounded part at a time, each with its ``?`` marks for ``IN (...)``: both
    engines bound a statement's parameters."""
    for part in chunks(values, size):
        yield ", ".join("?" for _ in part), part
