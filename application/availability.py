"""Whether the database answers: a circuit breaker in front of every connection the bank takes.

Without it a PostgreSQL outage makes requests hang, not fail: the pools wait for a connection
(the library then retries ten times), and after a long outage they come back slowly because
psycopg_pool reconnects with a doubling back-off. With it:

- a probe (one dedicated connection, ``SELECT 1``) decides whether the database is up; it runs
  all the time in a serving process (``watch``), and on demand elsewhere (``suspect``);
- while it is down, every database call refuses at once with ``Unavailable`` (a typed,
  retryable error: ``UNAVAILABLE``), before touching a pool;
- when it is back, the ``on_recovered`` callbacks run at once (the projection runner is woken).

SQLite is embedded: it has no outage, so its availability is always up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from domain.errors import Unavailable

log = logging.getLogger("creditbank.database")


def is_connection_failure(exc: BaseException) -> bool:
    """An error meaning "could not talk to the database" (after the library's own retries):
    retryable, unlike a bug. The library wraps the driver's errors, so look at the cause."""
    import sqlite3

    import psycopg
    from psycopg_pool import PoolTimeout

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, Unavailable | PoolTimeout | psycopg.InterfaceError):
            return True
        if isinstance(cause, psycopg.OperationalError):
            return True  # connection lost or refused, lock or statement timeout: retryable
        if isinstance(cause, sqlite3.OperationalError):
            return "locked" in str(cause) or "busy" in str(cause)
        cause = cause.__cause__
    return False


def lost_connection(exc: BaseException) -> bool:
    """Narrower: the connection could not be had or was lost (refused, closed, pool timeout),
    rather than a statement the database answered with an error (a lock timeout is a driver
    OperationalError too)."""
    import psycopg
    from psycopg_pool import PoolTimeout

    if isinstance(exc, PoolTimeout | psycopg.InterfaceError):
        return True
    state = getattr(exc, "sqlstate", None)
    return state is None or str(state).startswith(("08", "57P"))


Probe = Callable[[], None]  # raises when the database does not answer


class Availability:
    def __init__(self, probe: Probe | None = None, interval: float = 0.5) -> None:
        self._probe = probe
        self._interval = interval
        self._up = threading.Event()
        self._up.set()
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watching = False
        self._lock = threading.Lock()
        self.on_recovered: list[Callable[[], None]] = []

    @property
    def up(self) -> bool:
        return self._up.is_set()

    def check(self) -> None:
        """Refuses at once while the database is known to be down."""
        if not self._up.is_set():
            raise Unavailable("the database is unavailable; send the request again shortly")

    def suspect(self) -> None:
        """A call failed on its connection: probe now (starting a prober if none runs)."""
        if self._probe is None:
            return
        self._kick.set()
        self._ensure_thread()

    def watch(self) -> None:
        """Probe continuously (a serving process: readiness must see an outage at once)."""
        self._watching = True
        self._ensure_thread()

    def close(self) -> None:
        self._stop.set()
        self._kick.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # -- the prober --------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._probe is None or self._stop.is_set():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="database-availability", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        assert self._probe is not None
        while not self._stop.is_set():
            self._kick.clear()
            try:
                self._probe()
            except Exception as exc:  # noqa: BLE001 - any failure to answer is an outage
                if self._up.is_set():
                    log.warning("database unavailable: %s", str(exc).strip()[:200])
                self._up.clear()
            else:
                if not self._up.is_set():
                    log.warning("database available again")
                    self._up.set()
                    for callback in self.on_recovered:
                        try:
                            callback()
                        except Exception:
                            log.exception("recovery callback failed")
                if not self._watching:
                    with self._lock:  # on demand only: stop once it answers
                        if not self._kick.is_set():
                            self._thread = None
                            return
                    continue
            self._kick.wait(self._interval)
