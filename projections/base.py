"""What every view shares: the batch of events it applies, the state it reads, and SQL helpers.

A view applies a *batch* of notifications in one transaction together with its tracking
position. Rows are written from the aggregates' state at the end of the batch (the domain's own
fold, never re-implemented in SQL) with idempotent upserts, so replaying a batch after a crash
yields the same rows.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol
from uuid import UUID

from domain.credit_account import SPLIT_INTO, CreditAccount


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Dialect(Protocol):
    """What views, the runner and rebuilds need of an engine (application.dialects)."""

    lock_rows: str  # appended to a SELECT that must hold its rows until commit

    def insert_rows(
        self, cur: Cursor, table: str, columns: Sequence[str], rows: list[list[Any]], suffix: str
    ) -> None: ...
    def delete_any(self, cur: Cursor, table: str, column: str, keys: list[Any]) -> None: ...
    def notify(self, cur: Cursor, channel: str) -> None: ...
    def listen(self, channel: str, wake: threading.Event, stop: threading.Event) -> None: ...
    def clone_table(self, cur: Cursor, table: str, clone: str) -> list[str]: ...
    def replace_table(self, cur: Cursor, table: str, replacement: str) -> list[str]: ...
    def lock_tables(self, cur: Cursor, tables: Sequence[str], timeout_ms: int) -> None: ...


class Transactions(Protocol):
    """The database the views live in (application.database.Database)."""

    @property
    def dialect(self) -> Dialect: ...

    def transaction(
        self, readonly: bool = False, *, pipeline: bool = False
    ) -> AbstractContextManager[Cursor]: ...


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
    end: int | None = None  # the last notification read (the events may skip parked ones)
    _last_versions: dict[UUID, int] = field(default_factory=dict)
    _states: dict[UUID, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for _, e in self.events:
            self._last_versions[e.originator_id] = e.originator_version

    @property
    def position(self) -> int:
        return self.end if self.end is not None else self.events[-1][0]

    def state(self, aggregate_id: UUID) -> Any:
        """The aggregate as it stands after this batch (not after later events)."""
        if aggregate_id not in self._states:
            self._states[aggregate_id] = self.load(aggregate_id, self._last_versions[aggregate_id])
        return self._states[aggregate_id]

    def of(self, aggregate_type: type[Any]) -> Iterator[tuple[int, Any]]:
        """Events raised by aggregates of one type (by the event class's enclosing class; an
        account's also by the classes its behaviour is split into)."""
        owners = SPLIT_INTO if aggregate_type is CreditAccount else (aggregate_type,)
        prefixes = tuple(owner.__qualname__ + "." for owner in owners)
        for nid, e in self.events:
            if type(e).__qualname__.startswith(prefixes):
                yield nid, e

    def accounts(self) -> dict[UUID, CreditAccount]:
        """Touched accounts, keyed by learner id, at their state after the batch."""
        ids = dict.fromkeys(e.originator_id for _, e in self.of(CreditAccount))
        accounts = [self.state(i) for i in ids]
        # Accounts that took over a merged account's records come last: a batch may hold the
        # merged account before its hand-over, still showing the records it gave away.
        accounts.sort(key=lambda a: bool(a.absorbed_from))
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


def credits(value: int | None) -> Decimal:
    """Hundredths read back as credits (none: 0.00)."""
    return from_cc(value) or Decimal("0.00")


def iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class _Upserts:
    key: tuple[str, ...]
    columns: tuple[str, ...]
    keep: tuple[str, ...]
    rows: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)


@dataclass
class _Replacement:
    column: str
    owners: list[Any] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    rows: list[list[Any]] = field(default_factory=list)


class Writes:
    """The cursor a view writes a batch through. Upserts and row replacements are buffered per
    table and written as a few multi-row statements (one round trip per table, not one per
    row: the projection runner's cost was its 4 statements per event). Any other statement
    first writes everything buffered, so a read sees every write before it, as it would
    unbuffered; a table's own operations keep their order."""

    def __init__(self, cur: Cursor, dialect: Dialect) -> None:
        self._cur = cur
        self._dialect = dialect
        self._tables: dict[str, _Upserts | _Replacement] = {}

    # -- the Cursor protocol: anything else runs after the buffered writes ---------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.flush()
        return self._cur.execute(sql, params)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    # -- buffered writes ----------------------------------------------------------------------
    def upsert(
        self, table: str, key: Sequence[str], row: dict[str, Any], keep: Sequence[str] = ()
    ) -> None:
        """Insert the row, or update it where ``key`` matches (all columns but ``keep``)."""
        columns = tuple(row)
        pending = self._tables.get(table)
        if not (
            isinstance(pending, _Upserts)
            and pending.key == tuple(key)
            and pending.columns == columns
            and pending.keep == tuple(keep)
        ):
            self._flush_table(table)
            pending = self._tables[table] = _Upserts(tuple(key), columns, tuple(keep))
        values = [_sql_value(v) for v in row.values()]
        identity = tuple(values[columns.index(k)] for k in key)
        earlier = pending.rows.pop(identity, None)  # the last write of a key wins...
        if earlier is not None:
            for c in pending.keep:  # ...but for the columns the first write keeps
                values[columns.index(c)] = earlier[columns.index(c)]
        pending.rows[identity] = values

    def replace(self, table: str, column: str, owner: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Make ``rows`` the table's only rows whose ``column`` is ``owner``."""
        owner = _sql_value(owner)
        pending = self._tables.get(table)
        if not (
            isinstance(pending, _Replacement)
            and pending.column == column
            and owner not in pending.owners
            and (not rows or not pending.rows or tuple(rows[0]) == pending.columns)
        ):
            self._flush_table(table)
            pending = self._tables[table] = _Replacement(column)
        pending.owners.append(owner)
        for row in rows:
            pending.columns = tuple(row)
            pending.rows.append([_sql_value(v) for v in row.values()])

    def flush(self) -> None:
        for table in list(self._tables):
            self._flush_table(table)

    def _flush_table(self, table: str) -> None:
        pending = self._tables.pop(table, None)
        if isinstance(pending, _Upserts) and pending.rows:
            updates = [c for c in pending.columns if c not in pending.key + pending.keep]
            action = (
                "UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates)
                if updates
                else "NOTHING"
            )
            suffix = f" ON CONFLICT ({', '.join(pending.key)}) DO {action}"
            self._insert(table, pending.columns, list(pending.rows.values()), suffix)
        elif isinstance(pending, _Replacement):
            self._dialect.delete_any(self._cur, table, pending.column, pending.owners)
            self._insert(table, pending.columns, pending.rows, "")

    def _insert(
        self, table: str, columns: tuple[str, ...], rows: list[list[Any]], suffix: str
    ) -> None:
        if rows:
            self._dialect.insert_rows(self._cur, table, columns, rows, suffix)


def _sql_value(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


class View(Protocol):
    """A read model: its name, its tables, the views whose tables it reads while it applies a
    batch (they are applied before it, in the same transaction), and how it applies a batch."""

    @property
    def name(self) -> str: ...
    @property
    def tables(self) -> tuple[str, ...]: ...
    @property
    def reads(self) -> tuple[str, ...]: ...

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None: ...


def in_reading_order(views: Sequence[View]) -> list[View]:
    """The views, each after those it reads (stable otherwise); a cycle is a programming error."""
    placed: list[View] = []
    names: set[str] = set()
    waiting = list(views)
    present = {v.name for v in views}  # a view read but not run here is someone else's
    while waiting:
        ready = [v for v in waiting if (set(v.reads) & present) - {v.name} <= names]
        if not ready:
            raise ValueError(f"views read each other in a cycle: {[v.name for v in waiting]}")
        for view in ready:
            placed.append(view)
            names.add(view.name)
            waiting.remove(view)
    return placed
