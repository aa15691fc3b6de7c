"""The plumbing every command shares: one eventsourcing Application, one log, transactions.

Every command runs in ``_transact``: it loads what it needs, lets the aggregates decide, and saves
all new events (including uniqueness-index aggregates and listing logs) in one transaction. A
concurrent writer makes the save fail on the aggregate's version; the command is then decided again
on fresh state (safe, because deciding has no side effects), and after a few tries the caller gets
a CONFLICT error instead of a lost update.

Commands return plain values (ids, versions). A caller that must wait for the read models to
include what was saved (read-your-writes) asks for the position by scope: ``with bank.tracking()
as saved: ...; saved.position``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application, EventSourcedLog
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Recording,
)

from application.chain import ChainingMapper
from application.database import Database
from application.dialects import in_lists
from application.identity_attempts import IdentityGuard
from application.standards import Standards
from application.status_lists import StatusLists
from application.transcodings import register_all
from application.vault import PersonalDataVault
from application.verification import DepositVerifier, RegisteredIssuerVerifier
from domain.assessment import Calendar
from domain.credit_account import CreditAccount
from domain.errors import Conflict, NotFound
from domain.framework import Framework
from domain.institution import Institution
from domain.learner import Learner
from domain.values import utc

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
Pending = Sequence[Aggregate | DomainEvent | None]
Clock = Callable[[], datetime]

LOGS = (
    "institutions",
    "learners",
    "recognition-rules",
    "conversion-rules",
    "qualifications",
    "standards",
)


DEFAULT_FOUR_EYES_CREDITS = Decimal(20)  # a third of a year's full-time study
# Half of a qualification's credits at its level - 1 or above: below what any practice awards
# (England's FHEQ puts at least 90 of an honours bachelor's 360 credits at level 6 itself and
# programmes place 240 at levels 5-6), so it refuses a level-2 bachelor without refusing a
# real programme (docs/domain.md, awards).
DEFAULT_LEVEL_SHARE = Decimal("0.5")


class Listed(DomainEvent):
    """An entry of a listing log: how the bank finds every aggregate of one type."""

    aggregate_id: UUID


def _log_id(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"creditbank:/logs/{name}")


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Saved:
    """The highest notification id saved within a ``tracking()`` scope (0: nothing saved)."""

    position: int = 0


_saves: ContextVar[Saved | None] = ContextVar("creditbank_saves", default=None)
# Aggregates already read in a ``_read_once()`` scope, by id (their latest version).
_read: ContextVar[dict[object, Any] | None] = ContextVar("creditbank_read", default=None)
_ABSENT = object()  # in _read: an aggregate with no events (yet)


class BankBase(Application[UUID]):
    name = "CreditBank"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        CreditAccount: 100,
        Learner: 100,
        Institution: 100,
    }
    max_attempts = 16  # a starved writer gets many tries, within about two seconds of backoff

    def __init__(
        self,
        database: Database,
        framework: Framework,
        vault: PersonalDataVault,
        verifier: DepositVerifier | None = None,
        clock: Clock | None = None,
        snapshot_interval: int = 100,
        aggregate_cache_size: int = 0,
        standards: Standards | None = None,
        country: str = "CN",
        four_eyes_credits: Decimal | None = DEFAULT_FOUR_EYES_CREDITS,
        calendar: Calendar | None = None,
        level_share: Decimal = DEFAULT_LEVEL_SHARE,
        identity_guard: IdentityGuard | None = None,
        status_lists: StatusLists | None = None,
    ) -> None:
        self.database = database
        # Deposits that name the wrong person: limited per institution and recorded.
        self.identity_guard = identity_guard or IdentityGuard()
        # Incoming credentials' status, read from their issuers' lists (fetched, cached).
        self.status_lists = status_lists or StatusLists(now=lambda: self.now())
        self.calendar = calendar or framework.calendar  # caps count in its years and terms
        self.level_share = level_share  # of a qualification's credits at its level - 1 or above
        # An officer's recognition above this many credits needs a second officer too.
        self.four_eyes_credits = four_eyes_credits
        self.country = country  # the default issuing country of identity documents
        # Not ``self.standards``: that name is the catalogue query ``standards()``.
        self.standards_material = standards or Standards()
        self.framework = framework
        self.vault = vault
        self.verifier = verifier or RegisteredIssuerVerifier()
        self.clock: Clock = clock or system_clock
        intervals = {agg: snapshot_interval for agg in self.snapshotting_intervals}
        self.snapshotting_intervals = intervals  # type: ignore[misc]  # set per bank, from settings
        self.on_saved: list[Callable[[int], None]] = []
        env = database.eventsourcing_env()
        if aggregate_cache_size:
            # The library's cache fast-forwards from the store on every load (so other processes'
            # writes are seen) and hands out deep copies (so a refused command changes nothing).
            env["AGGREGATE_CACHE_MAXSIZE"] = str(aggregate_cache_size)
        with database.setup_lock():  # the event store creates its tables here
            super().__init__(env=env)
        self._logs = {name: EventSourcedLog(self.events, _log_id(name), Listed) for name in LOGS}

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=ChainingMapper
        )

    def construct_recorder(self) -> ApplicationRecorder:
        recorder = super().construct_recorder()
        cast(ChainingMapper, self.mapper).recorder = recorder  # to fetch a chain's last link
        self.database.guard(getattr(self.factory, "datastore", None))
        return recorder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)

    def close(self) -> None:
        """Closes the event store and the database connections this bank opened."""
        super().close()
        self.database.close()

    def now(self) -> datetime:
        return utc(self.clock())

    # -- transactions ---------------------------------------------------------------------------
    def _transact(self, decide: Callable[[], tuple[T, Pending]]) -> tuple[T, int]:
        """Decides and saves atomically, again on fresh state after a lost race; returns the
        decision's result and the notification position its events were saved at."""
        for attempt in range(self.max_attempts):
            result, pending = decide()
            cast(ChainingMapper, self.mapper).begin()
            try:
                recordings = self.save(*self._stamped(pending))
            except IntegrityError:
                # Someone saved first. Deciding again on fresh state is safe: nothing was stored.
                backoff = min(0.005 * 2**attempt, 0.2)
                time.sleep(random.uniform(0, backoff))  # noqa: S311 - jitter only
                continue
            return result, max((r.notification.id for r in recordings), default=0)
        raise Conflict("the account changed concurrently too often; send the command again")

    def _command(self, decide: Callable[[], tuple[T, Pending]]) -> T:
        """A command's result; its position goes to the caller's ``tracking()`` scope."""
        result, position = self._transact(decide)
        saved = _saves.get()
        if saved is not None:
            saved.position = max(saved.position, position)
        return result

    def _update(self, cls: type[A], aggregate_id: UUID, what: str, change: Callable[[A], T]) -> T:
        """The common command: load one aggregate, let it decide, save it."""

        def decide() -> tuple[T, Pending]:
            aggregate = self._get(cls, aggregate_id, what)
            return change(aggregate), (aggregate,)

        return self._command(decide)

    @contextmanager
    def tracking(self) -> Iterator[Saved]:
        """The positions the commands inside this scope saved at (read-your-writes)."""
        saved = Saved()
        token = _saves.set(saved)
        try:
            yield saved
        finally:
            _saves.reset(token)

    def _stamped(self, pending: Pending) -> Pending:
        """Dates new events by the bank's clock (the library would use the wall clock), so an
        event's timestamp agrees with the times the bank records and decides by."""
        now = self.now()
        stamped: list[Aggregate | DomainEvent | None] = []
        for item in pending:
            if isinstance(item, Aggregate):
                events: list[Any] = item.pending_events
                events[:] = [replace(e, timestamp=now) for e in events]
            elif isinstance(item, DomainEvent):
                item = replace(item, timestamp=now)
            stamped.append(item)
        return stamped

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """After a save: confirm the hash chain's links and wake whoever follows the log."""
        if not recordings:
            return
        position = max(r.notification.id for r in recordings)
        mapper = cast(ChainingMapper, self.mapper)
        for r in recordings:
            mapper.committed(r.domain_event.originator_id, r.domain_event.originator_version)
        for listener in self.on_saved:
            listener(position)

    # -- loading --------------------------------------------------------------------------------
    @contextmanager
    def _read_once(self) -> Iterator[None]:
        """Inside, each aggregate is loaded once and the same object handed out again, instead
        of a fresh copy each time: for one decision over many items (a batch of deposits reads
        its issuer and learner a dozen times a line). Only where every change made to what is
        read is meant to be saved together (one ``decide``), or nothing is changed."""
        token = _read.set({})
        try:
            yield
        finally:
            _read.reset(token)

    def _read_once_value(self, key: object, read: Callable[[], T]) -> T:
        """``read()``, once per ``_read_once()`` scope (every time outside one)."""
        seen = _read.get()
        if seen is None:
            return read()
        if key not in seen:
            seen[key] = read()
        return cast(T, seen[key])

    def _note_absent(self, ids: Iterable[UUID]) -> None:
        """In a ``_read_once()`` scope: which of ``ids`` have no events at all, found with one
        query a thousand, so that reading them (a batch's new credential indexes) costs no
        round trip each. A race that creates one meanwhile fails the save, and the command
        decides again (a new scope, asked afresh)."""
        seen = _read.get()
        if seen is None:
            return
        wanted = list(dict.fromkeys(ids))
        table = self.recorder.events_table_name  # type: ignore[attr-defined]
        key = self.database.dialect.event_key
        found: set[UUID] = set()
        with self.database.transaction(readonly=True) as cur:
            for marks, part in in_lists(wanted):
                cur.execute(
                    f"SELECT DISTINCT originator_id FROM {table}"  # noqa: S608 - the library's
                    f" WHERE originator_id IN ({marks})",
                    [key(i) for i in part],
                )
                found.update(UUID(str(row[0])) for row in cur.fetchall())
        for aggregate_id in wanted:
            if aggregate_id not in found:
                seen.setdefault(aggregate_id, _ABSENT)

    def _load(self, aggregate_id: UUID, version: int | None) -> object:
        seen = _read.get() if version is None else None
        if seen is None:
            return self.repository.get(aggregate_id, version=version)
        if seen.get(aggregate_id) is _ABSENT:
            raise AggregateNotFoundError(aggregate_id)
        if aggregate_id not in seen:
            seen[aggregate_id] = self.repository.get(aggregate_id)
        return seen[aggregate_id]

    def _get(self, cls: type[A], aggregate_id: UUID, what: str, version: int | None = None) -> A:
        if not isinstance(aggregate_id, UUID):  # PostgreSQL would fail on the uuid column
            raise NotFound(f"no {what} {aggregate_id!r}")
        try:
            aggregate = self._load(aggregate_id, version)
        except AggregateNotFoundError:
            raise NotFound(f"no {what} {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no {what} {aggregate_id}")
        return aggregate

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """An aggregate by a derived id (an index), or None."""
        try:
            aggregate = self._load(aggregate_id, None)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _exists(self, aggregate_id: UUID) -> bool:
        return isinstance(aggregate_id, UUID) and aggregate_id in self.repository

    def _list(self, log: str, cls: type[A]) -> list[A]:
        return [self._get(cls, aggregate_id, log) for aggregate_id in self._log_ids(log)]

    def _listed(self, log: str, aggregate_id: UUID) -> Listed:
        return self._logs[log].trigger_event(aggregate_id=aggregate_id)

    def _log_ids(self, log: str) -> list[UUID]:
        return self._read_once_value(
            ("log", log), lambda: [entry.aggregate_id for entry in self._logs[log].get()]
        )
