"""Deposits refused because the credential does not name the learner: limited and recorded.

A wrong identity is exactly what an institution probing for a learner's document number sees
(security finding 1). The deposit checks identity last, so every other refusal answers the same
whatever the number; what remains is a fully valid credential naming the wrong person. After
``per_hour`` of those, every deposit the institution attempts is refused with RATE_LIMITED until
the window moves on (its answers then say nothing about identity), and each failure is recorded
for officers and auditors (``identityFailures``).

An institution that deposits in volume (a semester's upload) may err in proportion: its hourly
allowance is the larger of ``per_hour`` and one failure for every ``DEPOSITS_PER_FAILURE``
deposits it made in the hour (a registrar's 1 % typing errors must not pause a term's intake).
That buys a prober nothing it could use: each extra guess costs fifty real credentials deposited
in real learners' accounts under its own key, and one learner's number still meets the per-learner
limit of a few a day.

The limiter is the ``limits`` library's moving window (in this process's memory: with several
API processes each keeps its own count, so the bound is per process; the record is shared).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from limits import RateLimitItemPerDay, RateLimitItemPerHour
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from application.database import Database
from domain.errors import RateLimited

DEFAULT_FAILURES_PER_HOUR = 20
DEFAULT_FAILURES_PER_LEARNER = 5  # a day: an honest registrar rarely errs more often
DEPOSITS_PER_FAILURE = 50  # deposits an institution makes in an hour for each extra failure
GUESS_MEMORY = 24 * 3600.0  # seconds a repeated guess is known as a repeat (the longest window)
MAX_GUESSES_KEPT = 100_000


@dataclass(frozen=True)
class IdentityFailure:
    at: datetime
    institution_id: UUID  # whose credential it was (the issuer)
    learner_id: UUID  # the account it was pushed into
    actor: str | None  # who pushed it (an institution's token, an officer...)


class FailureLog(Protocol):
    def add(self, failure: IdentityFailure) -> None: ...
    def recent(self, institution_id: UUID | None, limit: int) -> list[IdentityFailure]: ...


class SqlFailureLog:
    """The ``identity_failures`` table (migration 0012)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, failure: IdentityFailure) -> None:
        key = self._db.dialect.key
        with self._db.transaction() as cur:
            cur.execute(
                "INSERT INTO identity_failures (at, institution_id, learner_id, actor)"
                " VALUES (?, ?, ?, ?)",
                (
                    failure.at.isoformat(),
                    key(failure.institution_id),
                    key(failure.learner_id),
                    failure.actor,
                ),
            )

    def recent(self, institution_id: UUID | None, limit: int) -> list[IdentityFailure]:
        query = "SELECT at, institution_id, learner_id, actor FROM identity_failures"
        args: list[object] = []
        if institution_id is not None:
            query += " WHERE institution_id = ?"
            args.append(self._db.dialect.key(institution_id))
        with self._db.transaction(readonly=True) as cur:
            cur.execute(query + " ORDER BY at DESC, seq DESC LIMIT ?", (*args, limit))
            rows = cur.fetchall()
        return [
            IdentityFailure(datetime.fromisoformat(str(at)), UUID(str(i)), UUID(str(lid)), actor)
            for at, i, lid, actor in rows
        ]


class MemoryFailureLog:
    """The in-memory bank's: a list."""

    def __init__(self) -> None:
        self._failures: list[IdentityFailure] = []

    def add(self, failure: IdentityFailure) -> None:
        self._failures.append(failure)

    def recent(self, institution_id: UUID | None, limit: int) -> list[IdentityFailure]:
        chosen = [f for f in self._failures if institution_id in (None, f.institution_id)]
        return list(reversed(chosen))[:limit]


class HourlyCount:
    """How many in the last hour: per-second buckets, summed as they come and go (a semester's
    upload counts tens of thousands of deposits; a moving window of one entry each would be
    read in full at every check)."""

    def __init__(self, window: float = 3600.0) -> None:
        self.window = window
        self._buckets: deque[list[float]] = deque()  # [second, count]
        self._total = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if self._buckets and self._buckets[-1][0] == int(now):
                self._buckets[-1][1] += count
            else:
                self._buckets.append([int(now), count])
            self._total += count

    def total(self) -> int:
        with self._lock:
            self._expire(time.monotonic())
            return self._total

    def _expire(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - self.window:
            self._total -= int(self._buckets.popleft()[1])


class IdentityGuard:
    """Failed identity checks, limited per institution (``per_hour``) and per institution and
    learner (``per_learner_per_day``: one learner's number is what a probe searches)."""

    def __init__(
        self,
        log: FailureLog | None = None,
        per_hour: int = DEFAULT_FAILURES_PER_HOUR,
        per_learner_per_day: int = DEFAULT_FAILURES_PER_LEARNER,
    ) -> None:
        self.log: FailureLog = log or MemoryFailureLog()
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_hour = max(per_hour, 1)
        # Counters (the limit itself is decided in check): failures and deposits in the hour.
        self._hourly = RateLimitItemPerHour(1_000_000_000)
        self._deposits: defaultdict[str, HourlyCount] = defaultdict(HourlyCount)
        self._per_learner = RateLimitItemPerDay(max(per_learner_per_day, 1))
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_lock = threading.Lock()
        self._guesses: dict[tuple[UUID, UUID, str], float] = {}

    def _windows(self, institution_id: UUID, learner_id: UUID) -> list[tuple[Any, str]]:
        return [
            (self._hourly, f"failed/{institution_id}"),
            (self._per_learner, f"{institution_id}/{learner_id}"),
        ]

    def _count(self, key: str) -> int:
        return self._hourly.amount - self._limiter.get_window_stats(self._hourly, key).remaining

    def allowance(self, institution_id: UUID) -> int:
        """The identity failures the institution may have in the hour now."""
        deposits = self._deposits[str(institution_id)].total()
        return max(self._per_hour, deposits // DEPOSITS_PER_FAILURE)

    def check(self, institution_id: UUID, learner_id: UUID) -> None:
        """Refuses every deposit of an institution that has used up its identity failures (into
        any account, or into this learner's)."""
        key = f"failed/{institution_id}"
        spent = self._count(key) >= self.allowance(institution_id)
        stats = self._limiter.get_window_stats(self._hourly, key) if spent else None
        if stats is None and not self._limiter.test(
            self._per_learner, f"{institution_id}/{learner_id}"
        ):
            stats = self._limiter.get_window_stats(
                self._per_learner, f"{institution_id}/{learner_id}"
            )
        if stats is not None:
            raise RateLimited(
                "too many deposits from this institution named the wrong learner; "
                "its deposits are paused, try again later",
                retry_after=max(1, int(stats.reset_time - time.time())),
            )

    def deposited(self, institution_id: UUID, count: int = 1) -> None:
        """Counts an institution's accepted deposits (its allowance grows with them)."""
        if count > 0:
            self._deposits[str(institution_id)].add(count)

    @contextmanager
    def guarding(self, institution_id: UUID, learner_id: UUID) -> Iterator[None]:
        """Check, decide and record as one step per institution (in this process): deposits
        sent at once cannot all pass the check before their failures are counted."""
        with self._locks_lock:
            lock = self._locks[str(institution_id)]
        with lock:
            self.check(institution_id, learner_id)
            yield

    def failed(self, failure: IdentityFailure, guess: str | None = None) -> None:
        """Counts and records a failure. ``guess``: what was tried (the credential's digest); the
        same guess into the same account again within a day tells nothing new, so it is recorded
        but not counted (re-sending a semester's upload must not pause the institution)."""
        if guess is None or self._first_time(failure, guess):
            for item, key in self._windows(failure.institution_id, failure.learner_id):
                self._limiter.hit(item, key)
        self.log.add(failure)

    def _first_time(self, failure: IdentityFailure, guess: str) -> bool:
        now = time.monotonic()
        key = (failure.institution_id, failure.learner_id, guess)
        with self._locks_lock:
            if len(self._guesses) >= MAX_GUESSES_KEPT:  # forget the expired, else the oldest
                live = {k: t for k, t in self._guesses.items() if now - t < GUESS_MEMORY}
                self._guesses = live if len(live) < MAX_GUESSES_KEPT else {}
            seen = self._guesses.get(key)
            if seen is not None and now - seen < GUESS_MEMORY:
                return False
            self._guesses[key] = now
            return True
