"""What every view shares: the batch of events it applies, the state it reads, and SQL helpers.

A view applies a *batch* of notifications in one transaction together with its tracking
position. Rows are written from the aggregates' state at the end of the batch (the domain's own
fold, never re-implemented in SQL) with idempotent upserts, so replaying a batch after a crash
yields the same rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol
from uuid import UUID

from domain.credit_account import CreditAccount


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Transactions(Protocol):
    """The database the views live in (application.database.Database)."""

    kind: str

    def transaction(self) -> AbstractContextManager[Cursor]: ...


class StateLoader(Protocol):
    def __call__(self, aggregate_id: UUID, version: int | None) -> Any:
        """The aggregate at ``version`` (None: its latest version)."""


Tables = Callable[[str], str]  # table name -> name to write (a shadow table during a rebuild)


def same_table(name: str) -> str:
    return name


@dataclass
class Batch:
    """Notifications (id, event) in log order, and each touched aggregate's state after them."""

    events: list[tuple[int, Any]]
    load: StateLoader
    _last_versions: dict[UUID, int] = field(default_factory=dict)
    _states: dict[UUID, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for _, e in self.events:
            self._last_versions[e.originator_id] = e.originator_version

    @property
    def position(self) -> int:
        return self.events[-1][0]

    def state(self, aggregate_id: UUID) -> Any:
        """The aggregate as it stands after this batch (not after later events)."""
        if aggregate_id not in self._states:
            self._states[aggregate_id] = self.load(aggregate_id, self._last_versions[aggregate_id])
        return self._states[aggregate_id]

    def of(self, aggregate_type: type[Any]) -> Iterator[tuple[int, Any]]:
        """Events raised by aggregates of one type (by the event class's enclosing class)."""
        prefix = aggregate_type.__qualname__ + "."
        for nid, e in self.events:
            if type(e).__qualname__.startswith(prefix):
                yield nid, e

    def accounts(self) -> dict[UUID, CreditAccount]:
        """Touched accounts, keyed by learner id, at their state after the batch."""
        ids = dict.fromkeys(e.originator_id for _, e in self.of(CreditAccount))
        accounts = (self.state(i) for i in ids)
        return {a.learner_id: a for a in accounts}


def plain(value: Any) -> Any:
    """Domain values as JSON-ready data (for detail columns and the API's JSON fields)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value


def cc(amount: Decimal | None) -> int | None:
    """Credits as integer hundredths: exact and summable in SQL on both engines."""
    return None if amount is None else int((amount * 100).to_integral_value())


def from_cc(value: int | None) -> Decimal | None:
    return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


def iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def upsert(cur: Cursor, table: str, key: Sequence[str], row: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE: the same statement on SQLite (3.24+) and PostgreSQL."""
    columns = list(row)
    updates = [c for c in columns if c not in key]
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(key)}) DO "
        + (
            "UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates)
            if updates
            else "NOTHING"
        )
    )
    cur.execute(sql, [_sql_value(v) for v in row.values()])


def _sql_value(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


class View(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def tables(self) -> tuple[str, ...]: ...

    def apply(self, batch: Batch, cur: Cursor, t: Tables) -> None: ...
