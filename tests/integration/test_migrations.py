"""A starter killed in the middle of migrating never keeps the next one from starting.

yoyo's lock is a row: a process SIGKILLed while holding it left every later start failing with
``LockTimeout`` ("run yoyo break-lock") — seen in the crash suite, which kills the API and the
worker at random moments, start-up included. Starters now take turns on a lock the engine drops
with its holder (an advisory lock, a file lock), and clear yoyo's row under it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from typing import Any

import pytest

from application.bootstrap import database_for, migrate
from application.settings import Settings
from migrations import _migrations
from tests.builders import settings_kwargs
from tests.integration import workers

pytestmark = pytest.mark.slow

SPAWN = multiprocessing.get_context("spawn")


def test_a_starter_killed_mid_migration_leaves_nothing_locked(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    ready = SPAWN.Event()
    child = SPAWN.Process(
        target=workers.migrate_and_hang, args=(settings_kwargs(settings), ready), daemon=True
    )
    child.start()
    try:
        deadline = time.monotonic() + 60
        while not ready.wait(timeout=0.2) and child.is_alive() and time.monotonic() < deadline:
            pass
        assert ready.is_set(), f"the child never reached its migrations ({child.exitcode})"
    finally:
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join(timeout=10)
    assert child.exitcode == -signal.SIGKILL

    applied: list[Any] = []
    started = time.monotonic()
    # In a thread: a lock that outlived its holder would block here for good.
    thread = threading.Thread(
        target=lambda: applied.append(migrate(database_for(settings))), daemon=True
    )
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the next start waited on the dead starter's lock"
    elapsed = time.monotonic() - started

    engine = database_for(settings).dialect.migrations
    assert applied == [[m.id for m in _migrations(engine)]]  # all of them, nothing half-done
    assert elapsed < 8, f"{elapsed:.1f} s: the next start waited for a lock to time out"
    assert migrate(database_for(settings)) == []  # and then nothing is pending
