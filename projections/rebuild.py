"""Rebuilding a view from the events into fresh tables, then swapping them in.

Readers never see a half-built view: the new rows go into shadow tables (``<table>__rebuild``)
while the live tables keep serving; the last stretch of events and the swap (drop live, rename
shadow, set the view's tracking position) happen in one transaction that holds the view's
tracking row, so a live runner neither applies events twice nor skips any.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from projections.base import Batch, Cursor, Transactions, View
from projections.runner import EventSource, StateCache

SUFFIX = "__rebuild"


def _shadow(name: str) -> str:
    return name + SUFFIX


def _clone_statements(cur: Cursor, kind: str, table: str) -> list[str]:
    shadow = _shadow(table)
    if kind == "postgres":
        return [
            f"DROP TABLE IF EXISTS {shadow}",
            f"CREATE TABLE {shadow} (LIKE {table} INCLUDING ALL)",
        ]
    cur.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
                [table])  # fmt: skip
    statements = [f"DROP TABLE IF EXISTS {shadow}"]
    for kind_, name, sql in cur.fetchall():
        if kind_ == "table":
            # After a rename SQLite quotes the name in its stored DDL: match either form.
            statements.append(re.sub(rf'^CREATE TABLE "?{table}"?', f"CREATE TABLE {shadow}", sql))
        else:
            statements.append(
                re.sub(
                    rf'INDEX "?{name}"? ON "?{table}"?', f"INDEX {_shadow(name)} ON {shadow}", sql
                )
            )
    return statements


def _swap_statements(cur: Cursor, kind: str, table: str) -> list[str]:
    shadow = _shadow(table)
    if kind == "postgres":
        return [f"DROP TABLE {table}", f"ALTER TABLE {shadow} RENAME TO {table}"]
    # SQLite cannot rename an index: recreate the live table's indexes under their own names.
    cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL", [table],
    )  # fmt: skip
    indexes = cur.fetchall()
    statements = [f"DROP TABLE {table}", f"ALTER TABLE {shadow} RENAME TO {table}"]
    for name, sql in indexes:
        statements += [f"DROP INDEX IF EXISTS {_shadow(name)}", sql]
    return statements


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

    def t(name: str) -> str:
        return _shadow(name)

    with database.transaction() as cur:
        for table in view.tables:
            for statement in _clone_statements(cur, database.kind, table):
                cur.execute(statement)
    states = StateCache(source)
    position, applied = 0, 0
    head = source.head()
    while position < head:
        events = source.read(position, batch_size)
        if not events:
            break
        with database.transaction() as cur:
            _apply(view, states, events, cur, t)
        position = events[-1][0]
        applied += len(events)
        if progress:
            progress(applied, head)

    lock = " FOR UPDATE" if database.kind == "postgres" else ""
    with database.transaction() as cur:
        cur.execute(
            "INSERT INTO projection_tracking (view_name, position) VALUES (?, 0) "
            "ON CONFLICT (view_name) DO NOTHING",
            [view.name],
        )
        cur.execute(f"SELECT position FROM projection_tracking WHERE view_name = ?{lock}",
                    [view.name])  # fmt: skip
        live_position = int(cur.fetchone()[0])
        # Catch up inside the swap transaction, to at least where the live view had got.
        target = max(live_position, source.head())
        while position < target:
            events = source.read(position, batch_size)
            if not events:
                break
            _apply(view, states, events, cur, t)
            position = events[-1][0]
        swaps = [s for table in view.tables for s in _swap_statements(cur, database.kind, table)]
        for statement in swaps:
            cur.execute(statement)
        cur.execute("UPDATE projection_tracking SET position = ? WHERE view_name = ?",
                    [position, view.name])  # fmt: skip
    return position


def _apply(
    view: View, states: StateCache, events: list[tuple[int, object]], cur: Cursor,
    t: Callable[[str], str],
) -> None:  # fmt: skip
    states.prepare(events)
    view.apply(Batch(events, states.load), cur, t)
