"""One database, two engines: the embedded SQLite file or PostgreSQL, chosen by a URL.

The event store is the eventsourcing library's; this gives it its environment and gives the rest
of the bank (key vault, read models, migrations) plain short transactions on the same database.
Everything that differs by engine is its Dialect (application/dialects.py).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from application.availability import Availability
from application.dialects import CONNECT_TIMEOUT, Cursor, Dialect, dialect_for

__all__ = ["CONNECT_TIMEOUT", "Cursor", "Database"]


class Database:
    """Connection details plus short transactions for the bank's own tables."""

    def __init__(self, url: str, pool_size: int = 5) -> None:
        self.url = url
        self.dialect: Dialect = dialect_for(url, pool_size)
        self._pool_size = pool_size

    @classmethod
    def for_sqlite(cls, path: str) -> Database:
        return cls(f"sqlite:///{path}")

    @property
    def kind(self) -> str:
        """The engine's name, for messages and logs (ask the dialect, never branch on this)."""
        return self.dialect.name

    @property
    def availability(self) -> Availability:
        return self.dialect.availability

    def eventsourcing_env(self) -> dict[str, str]:
        return self.dialect.eventsourcing_env(self._pool_size)

    def guard(self, datastore: Any) -> None:
        self.dialect.guard(datastore)

    def setup_lock(self) -> AbstractContextManager[None]:
        return self.dialect.setup_lock()  # type: ignore[no-any-return]

    def transaction(
        self, readonly: bool = False, *, pipeline: bool = False
    ) -> AbstractContextManager[Cursor]:
        """A short transaction (``pipeline``: statements sent without waiting for each result,
        on engines that can)."""
        return self.dialect.transaction(readonly, pipeline)  # type: ignore[no-any-return]

    def purge(self, table: str) -> bool:
        """Makes the rows already deleted from ``table`` unrecoverable from the database's own
        files (crypto-shredding); False if that could not be finished within PURGE_WINDOW."""
        return self.dialect.purge(table)

    def close(self) -> None:
        self.availability.close()
        self.dialect.close()
