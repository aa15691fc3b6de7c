"""Rebuilding a view from the events into fresh tables, then swapping them in.

Readers never see a half-built view: the new rows go into shadow tables (``<table>__rebuild``)
while the live tables keep serving; the last stretch of events and the swap (drop live, rename
shadow, set the view's tracking position) happen in one transaction that holds the view's
tracking row, so a live runner neither applies events twice nor skips any.

A view that reads another view's tables as the runner applies them (progress reads the
catalogue, applied first in the same transaction) is rebuilt together with a private copy of
those (``<table>__for_<view>``), built in step and dropped afterwards: the live tables may be at
any position.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from projections.base import Batch, Transactions, View, Writes
from projections.runner import (
    EventSource,
    Poisoned,
    StateCache,
    UndecodableEvent,
    configured,
    views_named,
)

SUFFIX = "__rebuild"
SWAP_ATTEMPTS = 40
LOCK_TIMEOUT_MS = 200  # below PostgreSQL's deadlock_timeout (1 s by default)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired


def _shadow(name: str, suffix: str = SUFFIX) -> str:
    return name + suffix


def rebuild(
    source: EventSource,
    database: Transactions,
    view: View,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 1000,
) -> int:
    """Rebuilds ``view`` from the first event; returns the position it was swapped in at.

    ``progress(applied, head)`` is called after each batch.
    """

    helpers = views_named(view.reads) if view.reads else []
    helper_suffix = f"__for_{view.name}"

    def t(name: str) -> str:
        return _shadow(name) if name in view.tables else _shadow(name, helper_suffix)

    dialect = database.dialect
    with database.transaction() as cur:
        for table in view.tables:
            for statement in dialect.clone_table(cur, table, _shadow(table)):
                cur.execute(statement)
        for table in (table for helper in helpers for table in helper.tables):
            for statement in dialect.clone_table(cur, table, _shadow(table, helper_suffix)):
                cur.execute(statement)
    building = configured([*helpers, view], source)
    states = StateCache(source)
    position, applied = 0, 0
    head = source.head()
    while position < head:
        events = source.read(position, batch_size)
        if not events:
            break
        with database.transaction() as cur:
            _apply(building, states, events, Writes(cur, dialect), t)
        position = events[-1][0]
        applied += len(events)
        if progress:
            progress(applied, head)

    # The swap, retried if (PostgreSQL) the live tables cannot be locked at once: a reader that
    # holds one of them while waiting for another must not deadlock with the swap.
    for attempt in range(SWAP_ATTEMPTS):
        try:
            return _swap_in(source, database, building, states, position, batch_size, t)
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != LOCK_NOT_AVAILABLE or attempt == SWAP_ATTEMPTS - 1:
                raise
            time.sleep(min(0.5, 0.005 * 2**attempt))
    raise AssertionError("unreachable")


def _swap_in(
    source: EventSource,
    database: Transactions,
    building: list[View],
    states: StateCache,
    position: int,
    batch_size: int,
    t: Callable[[str], str],
) -> int:
    """One transaction: hold the view's tracking row and live tables, catch the shadow up to at
    least the live position, swap the tables, set the position (and drop the helpers' copies)."""
    *helpers, view = building
    dialect = database.dialect
    with database.transaction() as cur:
        cur.execute(
            "INSERT INTO projection_tracking (view_name, position) VALUES (?, 0) "
            "ON CONFLICT (view_name) DO NOTHING",
            [view.name],
        )
        cur.execute(
            f"SELECT position FROM projection_tracking WHERE view_name = ?{dialect.lock_rows}",  # noqa: S608
            [view.name],
        )
        live_position = int(cur.fetchone()[0])
        # Catch up inside the swap transaction, to at least where the live view had got.
        target = max(live_position, source.head())
        while position < target:
            events = source.read(position, batch_size)
            if not events:
                break
            _apply(building, states, events, Writes(cur, dialect), t)
            position = events[-1][0]
        dialect.lock_tables(cur, view.tables, LOCK_TIMEOUT_MS)
        swaps = [s for table in view.tables for s in dialect.replace_table(cur, table, t(table))]
        for statement in swaps:
            cur.execute(statement)
        for table in (table for helper in helpers for table in helper.tables):
            cur.execute(f"DROP TABLE {t(table)}")
        cur.execute(
            "UPDATE projection_tracking SET position = ? WHERE view_name = ?", [position, view.name]
        )
    return position


def _apply(
    views: list[View],
    states: StateCache,
    events: list[tuple[int, object]],
    buffered: Writes,
    t: Callable[[str], str],
) -> None:
    for nid, event in events:
        # A rebuild takes every event or none: one the views parked must be fixed first.
        if isinstance(event, Poisoned):
            raise UndecodableEvent(f"event {nid} cannot be decoded: {event.error}")
    states.prepare(events)
    batch = Batch(events, states.load)
    for view in views:
        view.apply(batch, buffered, t)
    buffered.flush()
