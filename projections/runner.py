"""Following the event log into the views, exactly once.

``ProjectionRunner.run_once`` reads the next notifications after the lowest view position,
applies them as one batch to every view at that position and moves their tracking rows, all in one
transaction (the tracking rows are locked first, so two runners never apply the same batch). A
crash anywhere leaves the views at a committed position; the next run continues from there.

Following: on PostgreSQL the runner sleeps on LISTEN (the event store NOTIFYs on every insert); on
SQLite it polls. In the serving process the bank also wakes it directly after each save. After
each commit it announces the new position (in-process condition, and NOTIFY on PostgreSQL), which
is what read-your-writes waits on.

Isolation: an event the views cannot take (it cannot be decoded, say its class was renamed in a
release, or a view fails on it) must not stop every account. When a batch fails again and again
for a reason other than the database being away, the runner takes it one event at a time and
parks each event that fails (``parked_events``, with the error); later events of the same
aggregate are parked behind it, so its views stay at a consistent, older state, marked stale.
Every other aggregate keeps moving. ``replay_parked`` applies them, in log order, after a fix.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.errors import Unavailable
from projections.balances import BalancesView
from projections.base import (
    Batch,
    Cursor,
    Transactions,
    View,
    Writes,
    in_reading_order,
    same_table,
)
from projections.catalogue import CatalogueView
from projections.enterprise import EnterpriseTrainingView
from projections.institution_ledger import InstitutionLedgerView
from projections.progress import ProgressView
from projections.status_watch import StatusWatchView
from projections.time_index import TimeIndexView
from projections.transcript import TranscriptView

log = logging.getLogger("creditbank.projections")

PROGRESS_CHANNEL = "creditbank_projected"
ISOLATE_AFTER = 3  # failures of one batch (0.2 s, 0.4 s apart...) before it is taken apart
SYSTEMIC = 10  # parked in one isolated batch, more than half of it: the fault is not an event's
MAX_ERROR = 2000  # characters of a parked event's error kept


@dataclass(frozen=True)
class Poisoned:
    """A stored event that could not be decoded (an unknown topic, a corrupted body...)."""

    originator_id: UUID
    originator_version: int
    topic: str
    error: str


@dataclass(frozen=True)
class Parked:
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    error: str
    parked_at: str


def parked_events(cur: Cursor, limit: int = 100) -> list[Parked]:
    """The parked events, oldest first (officers and auditors see these; /readyz counts them)."""
    cur.execute(
        "SELECT notification_id, originator_id, originator_version, topic, error, parked_at "
        "FROM parked_events ORDER BY notification_id LIMIT ?",
        [limit],
    )
    return [
        Parked(int(n), str(o), int(v), str(t), str(e), str(at))
        for n, o, v, t, e, at in cur.fetchall()
    ]


def parked_count(cur: Cursor) -> int:
    cur.execute("SELECT count(*) FROM parked_events")
    return int(cur.fetchone()[0])


def stale(cur: Cursor, aggregate_ids: Sequence[str]) -> bool:
    """Whether any of these aggregates has parked events (its views lag behind it)."""
    if not aggregate_ids:
        return False
    marks = ", ".join("?" for _ in aggregate_ids)
    cur.execute(
        f"SELECT 1 FROM parked_events WHERE originator_id IN ({marks}) LIMIT 1",  # noqa: S608
        list(aggregate_ids),
    )
    return cur.fetchone() is not None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_ERROR]


class UndecodableEvent(Exception):
    """A batch holds an event that cannot be decoded (parked only when taken apart)."""


def _transient(error: BaseException) -> bool:
    """A failure of the moment, not of the event (locks, deadlocks, timeouts, a full disk, a
    busy SQLite file): retried, never parked."""
    import sqlite3

    import psycopg

    return isinstance(error, Unavailable | sqlite3.OperationalError | psycopg.OperationalError)


def all_views() -> list[View]:
    return in_reading_order(
        [
            BalancesView(),
            TranscriptView(),
            ProgressView(),
            CatalogueView(),
            EnterpriseTrainingView(),
            InstitutionLedgerView(),
            TimeIndexView(),
            StatusWatchView(),
        ]
    )


def configured(views: list[View], source: Any) -> list[View]:
    """The views, told what they take from the application (the progress view: the bank's
    calendar and level share)."""
    for view in views:
        configure = getattr(view, "configure", None)
        if configure is not None:
            configure(source)
    return views


def views_named(names: Sequence[str]) -> list[View]:
    known = {v.name: v for v in all_views()}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown view(s) {', '.join(unknown)}; views: {', '.join(known)}")
    return [known[n] for n in names] if names else list(known.values())


class EventSource:
    """What a runner needs of the application: its recorder, mapper and repository."""

    def __init__(self, app: Any) -> None:
        self.recorder = app.recorder
        self.mapper = app.mapper
        self.repository = app.repository
        # What assessments count in (the progress view): the bank's calendar and level share.
        self.calendar = getattr(app, "calendar", None)
        self.level_share = getattr(app, "level_share", None)

    def head(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def read(self, after: int, limit: int) -> list[tuple[int, Any]]:
        """The next notifications, decoded; one that cannot be decoded comes as ``Poisoned``."""
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        return [(n.id, self._decode(n)) for n in notifications]

    def _decode(self, n: Any) -> Any:
        try:
            return self.mapper.to_domain_event(n)
        except Exception as exc:  # noqa: BLE001 - any failure to decode is this event's alone
            return Poisoned(n.originator_id, n.originator_version, n.topic, _describe(exc))


class StateCache:
    """Aggregates as of a version, fast-forwarded with the batch's own events when possible."""

    def __init__(self, source: EventSource, maxsize: int = 2000) -> None:
        self._source = source
        self._cache: OrderedDict[UUID, Any] = OrderedDict()
        self._maxsize = maxsize
        self._pending: dict[UUID, list[Any]] = {}

    def prepare(self, events: list[tuple[int, Any]]) -> None:
        self._pending = {}
        for _, e in events:
            self._pending.setdefault(e.originator_id, []).append(e)

    def load(self, aggregate_id: UUID, version: int | None) -> Any:
        if version is None:
            return self._source.repository.get(aggregate_id)
        cached = self._cache.get(aggregate_id)
        if cached is not None and cached.version < version:
            for e in self._pending.get(aggregate_id, ()):
                if e.originator_version == cached.version + 1 and e.originator_version <= version:
                    cached = e.mutate(cached)
            if cached is not None and cached.version != version:
                cached = None
        elif cached is not None and cached.version != version:
            cached = None
        if cached is None:
            cached = self._born_in_batch(aggregate_id, version)
        if cached is None:
            cached = self._source.repository.get(aggregate_id, version=version)
        self._cache[aggregate_id] = cached
        self._cache.move_to_end(aggregate_id)
        while len(self._cache) > self._maxsize:
            self._cache.popitem(last=False)
        return cached

    def _born_in_batch(self, aggregate_id: UUID, version: int) -> Any:
        """An aggregate created within the batch is the fold of the batch's own events: no read
        (during a catch-up most aggregates are)."""
        events = self._pending.get(aggregate_id, ())
        if not events or events[0].originator_version != 1:
            return None
        aggregate = None
        for e in events:
            if e.originator_version > version:
                break
            aggregate = e.mutate(aggregate)
        return aggregate if aggregate is not None and aggregate.version == version else None


class ProjectionRunner:
    def __init__(
        self,
        source: EventSource,
        database: Transactions,
        views: Sequence[View] | None = None,
        batch_size: int = 500,
    ) -> None:
        self.source = source
        self.database = database
        self.views = configured(
            in_reading_order(views if views is not None else all_views()), source
        )
        self.batch_size = batch_size
        self.states = StateCache(source)
        self._progress = threading.Condition()
        self._position = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self._known: dict[str, int] | None = None  # positions as this runner last wrote them
        self.halted = False  # isolation stopped: most events failed, the fault is elsewhere
        self._tracked: set[str] = set()  # views whose tracking row is known to exist
        self.listeners: list[Callable[[int], None]] = []  # told each new position

    # -- positions ----------------------------------------------------------------------------
    def positions(self, cur: Cursor | None = None) -> dict[str, int]:
        if cur is None:
            # A snapshot read: on SQLite a writer's lock would queue behind every batch (the
            # claim re-checks positions under lock anyway).
            with self.database.transaction(readonly=True) as c:
                return self.positions(c)
        cur.execute("SELECT view_name, position FROM projection_tracking")
        found = {str(name): int(pos) for name, pos in cur.fetchall()}
        return {v.name: found.get(v.name, 0) for v in self.views}

    @property
    def position(self) -> int:
        """The position every view of this runner has reached."""
        return self._position

    def lag(self) -> int:
        return max(0, self.source.head() - self._read_position())

    def parked(self) -> int:
        """How many events are parked (their aggregates' views are stale)."""
        with self.database.transaction(readonly=True) as cur:
            return parked_count(cur)

    def _read_position(self) -> int:
        self._position = min(self.positions().values(), default=0)
        return self._position

    # -- one step ------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Applies the next batch; returns how many notifications it applied (0: up to date)."""
        while True:
            applied = self._run_once()
            if applied is not None:
                return applied
            # Another runner applied this batch first: not up to date yet, read on from there.

    def _run_once(self, single: bool = False) -> int | None:
        """One batch (its size), 0 when up to date, None when another runner claimed it.
        ``single``: one event only, parked if the views cannot take it."""
        # The positions this runner last wrote (the claim below checks them under lock), else
        # read: one transaction less per batch, which read-your-writes waits on.
        positions, self._known = self._known or self.positions(), None
        low = min(positions.values(), default=0)
        events = self.source.read(low, 1 if single else self.batch_size)
        if not events:
            self._known = positions
            self._announce(low)
            return 0
        group = [v for v in self.views if positions[v.name] == low]
        names = [v.name for v in group]
        try:
            with self.database.transaction(pipeline=True) as cur:
                if not self._claim(cur, group, low):
                    return None  # another runner applied this batch first
                self._apply(cur, group, events, single)
        except Exception as exc:
            if not single or _transient(exc):
                raise
            self.states = StateCache(self.source)  # it may hold a half-applied state
            log.error("parking event %d: the views cannot take it", events[0][0], exc_info=True)
            with self.database.transaction(pipeline=True) as cur:
                if not self._claim(cur, group, low):
                    return None
                self._park(cur, events[0], _describe(exc))
                self._advance(cur, names, events[-1][0])
        positions.update(dict.fromkeys(names, events[-1][0]))
        self._known = positions
        self._announce(min(positions.values()))
        return len(events)

    def _apply(
        self, cur: Cursor, group: list[View], events: list[tuple[int, Any]], single: bool
    ) -> None:
        """The batch into the group's views, less what is parked: every event of an aggregate
        that has one parked (its views keep a consistent older state until the parked ones are
        replayed, in order), and, when the batch is taken apart (``single``), an event that
        cannot be decoded."""
        held = self._held(cur, {str(e.originator_id) for _, e in events})
        applied: list[tuple[int, Any]] = []
        for nid, event in events:
            if isinstance(event, Poisoned):
                if not single:  # retried first: a runner of an older release, a bad setting...
                    raise UndecodableEvent(f"event {nid} cannot be decoded: {event.error}")
                self._park(cur, (nid, event), f"cannot be decoded: {event.error}")
                held.add(str(event.originator_id))
            elif str(event.originator_id) in held:
                self._park(cur, (nid, event), "an earlier event of this aggregate is parked")
            else:
                applied.append((nid, event))
        if applied:
            self.states.prepare(applied)
            batch = Batch(applied, self.states.load, end=events[-1][0])
            buffered = Writes(cur, self.database.dialect)
            for view in group:
                view.apply(batch, buffered, same_table)
            buffered.flush()
        self._advance(cur, [v.name for v in group], events[-1][0])

    @staticmethod
    def _held(cur: Cursor, originators: set[str]) -> set[str]:
        """Which of these aggregates have parked events (index-backed; nothing when none)."""
        held: set[str] = set()
        ids = sorted(originators)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            cur.execute(
                "SELECT DISTINCT originator_id FROM parked_events "  # noqa: S608
                f"WHERE originator_id IN ({', '.join('?' for _ in chunk)})",
                chunk,
            )
            held.update(str(r[0]) for r in cur.fetchall())
        return held

    def _advance(self, cur: Cursor, names: list[str], position: int) -> None:
        cur.execute(
            "UPDATE projection_tracking SET position = ? "  # noqa: S608
            f"WHERE view_name IN ({', '.join('?' for _ in names)})",
            [position, *names],
        )
        self.database.dialect.notify(cur, PROGRESS_CHANNEL)

    @staticmethod
    def _park(cur: Cursor, notification: tuple[int, Any], error: str) -> None:
        nid, event = notification
        topic = event.topic if isinstance(event, Poisoned) else type(event).__qualname__
        cur.execute(
            "INSERT INTO parked_events (notification_id, originator_id, originator_version, "
            "topic, error, parked_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (notification_id) DO NOTHING",
            [
                nid,
                str(event.originator_id),
                int(event.originator_version),
                topic,
                error[:MAX_ERROR],
                datetime.now(UTC).isoformat(),
            ],
        )

    def run_isolated(self) -> int:
        """The next batch one event at a time, each parked if the views cannot take it. When
        most of it fails the fault is not an event's (a setting, a database problem): it stops
        parking and raises, and the runner retries as for an outage."""
        total = 0
        before = self.parked()
        while total < self.batch_size:
            n = self._run_once(single=True)
            if n is None:
                continue
            if n == 0:
                break
            total += n
            parked = self.parked() - before
            if parked >= SYSTEMIC and parked * 2 > total:
                self.halted = True
                raise RuntimeError(
                    f"{parked} of {total} events failed: not a fault of single events; "
                    "parking stopped (fix the cause, then `creditbank projections replay-parked`)"
                )
        return total

    def replay_parked(self) -> tuple[int, int]:
        """Applies the parked events again, oldest first, each in its own transaction with the
        removal of its row (after a fix: an upcaster, a topic registered again, a view
        repaired); returns (replayed, still parked). An aggregate's later events wait behind
        its first one that still fails."""
        replayed = left = 0
        while True:  # again while it helps: the live runner may have parked more behind them
            done, left = self._replay_round()
            replayed += done
            if done == 0 or left == 0:
                return replayed, left

    def _replay_round(self) -> tuple[int, int]:
        with self.database.transaction() as cur:
            parked = parked_events(cur, limit=1_000_000)
        failed: set[str] = set()
        replayed = 0
        for p in parked:
            if p.originator_id in failed:
                continue
            found = self.source.read(p.notification_id - 1, 1)
            event = found[0][1] if found and found[0][0] == p.notification_id else None
            try:
                if event is None or isinstance(event, Poisoned):
                    raise ValueError(event.error if event is not None else "not in the log")
                self.states = StateCache(self.source)
                self.states.prepare([(p.notification_id, event)])
                batch = Batch([(p.notification_id, event)], self.states.load)
                with self.database.transaction(pipeline=True) as cur:
                    buffered = Writes(cur, self.database.dialect)
                    for view in self.views:
                        view.apply(batch, buffered, same_table)
                    buffered.flush()
                    cur.execute(
                        "DELETE FROM parked_events WHERE notification_id = ?", [p.notification_id]
                    )
                replayed += 1
            except Unavailable:
                raise
            except Exception as exc:  # noqa: BLE001 - it stays parked, with the new error
                failed.add(p.originator_id)
                log.warning("parked event %d still fails: %s", p.notification_id, exc)
                with self.database.transaction() as cur:
                    cur.execute(
                        "UPDATE parked_events SET error = ? WHERE notification_id = ?",
                        [_describe(exc), p.notification_id],
                    )
        self.states = StateCache(self.source)
        return replayed, len(parked) - replayed

    def _claim(self, cur: Cursor, group: list[View], low: int) -> bool:
        """Locks the group's tracking rows and checks nobody moved them since we read them."""
        for view in group:
            if view.name in self._tracked:
                continue  # its row exists (rows are never deleted)
            cur.execute(
                "INSERT INTO projection_tracking (view_name, position) VALUES (?, 0) "
                "ON CONFLICT (view_name) DO NOTHING",
                [view.name],
            )
        lock = self.database.dialect.lock_rows
        names = [v.name for v in group]
        cur.execute(
            "SELECT position FROM projection_tracking WHERE view_name IN "  # noqa: S608
            f"({', '.join('?' for _ in names)}){lock}",
            names,
        )
        rows = cur.fetchall()
        if len(rows) != len(names):  # a row we took for granted is missing: insert it again
            self._tracked.difference_update(names)
            return False
        self._tracked.update(names)
        return all(int(row[0]) == low for row in rows)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        total = 0
        while True:
            n = self.run_once()
            if n == 0:
                return total
            total += n
            if progress:
                progress(n)

    # -- following ----------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def start(self, poll_interval: float = 0.5) -> None:
        self._stop.clear()
        availability = getattr(self.database, "availability", None)
        if availability is not None and self.wake not in availability.on_recovered:
            availability.on_recovered.append(self.wake)  # catch up the moment it is back
        self._thread = threading.Thread(
            target=self._follow, args=(poll_interval,), name="projection-runner", daemon=True
        )
        self._thread.start()
        threading.Thread(target=self._listen, name="projection-listen", daemon=True).start()

    def start_watching(self, interval: float = 0.05) -> None:
        """For an API process whose views are written by another process (``projections run``):
        follow the tracking positions, to wake read-your-writes waiters. On PostgreSQL the
        other process's NOTIFY after each batch wakes it at once (without it, a mutation waited
        for the next poll: 14.6 mutations/s from one client); elsewhere it polls."""
        self._stop.clear()

        def watch() -> None:
            while not self._stop.is_set():
                self._wake.clear()  # before reading: a wake during the read is not lost
                try:
                    self._announce(self._read_position())
                except Exception:  # keep watching through outages
                    log.warning("cannot read projection positions", exc_info=True)
                self._wake.wait(interval)

        self._thread = threading.Thread(target=watch, name="projection-watch", daemon=True)
        self._thread.start()
        threading.Thread(
            target=self.database.dialect.listen,
            args=(PROGRESS_CHANNEL, self._wake, self._stop),
            name="projection-watch-listen",
            daemon=True,
        ).start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _follow(self, poll_interval: float) -> None:
        failures = poisoned = 0
        while not self._stop.is_set():
            try:
                self._wake.clear()
                # A batch that failed for a reason of its own: one event at a time, parking
                # what the views cannot take (the other aggregates keep moving).
                if poisoned >= ISOLATE_AFTER and not self.halted:
                    self.run_isolated()
                    failures = poisoned = 0
                    continue
                if self.run_once():
                    failures = poisoned = 0
                    continue  # more may be waiting: read again at once
                failures = poisoned = 0
                self.error = None
            except Exception as exc:  # the follower must survive outages
                failures += 1
                self.error = exc
                if isinstance(exc, Unavailable):
                    log.warning("projection batch: database unavailable (attempt %d)", failures)
                elif _transient(exc):
                    log.warning("projection batch: %s (attempt %d); retrying", exc, failures)
                else:
                    poisoned += 1
                    log.exception("projection batch failed (attempt %d); retrying", failures)
                # Woken early by stop(), or by the database coming back (see start()).
                self._wake.wait(min(5.0, 0.1 * 2**failures))
                continue
            self._wake.wait(poll_interval)

    def _listen(self) -> None:
        """Woken by the event store's own NOTIFY on every insert, where the engine has it."""
        channel = getattr(self.source.recorder, "channel_name", "stored_events")
        self.database.dialect.listen(channel, self._wake, self._stop)

    # -- read-your-writes ---------------------------------------------------------------------
    def _announce(self, position: int) -> None:
        with self._progress:
            if position > self._position:
                self._position = position
            self._progress.notify_all()
        for listener in self.listeners:
            listener(position)

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Blocks until every view has applied ``position`` (woken by the runner's own commits)."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._position < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.set()
                self._progress.wait(remaining)
        return True
