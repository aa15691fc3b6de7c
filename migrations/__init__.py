"""Versioned SQL for the bank's own tables (key vault, read models), applied with yoyo-migrations.

``common/`` holds SQL both engines run as written (the read models); ``sqlite/`` and
``postgresql/`` what differs by engine. File names carry the version, unique across the folders.
The event store's tables belong to the eventsourcing library, not to these files.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from yoyo import get_backend, read_migrations

HERE = Path(__file__).parent


def apply(engine: str, uri: str, lock: AbstractContextManager[Any] | None = None) -> list[str]:
    """Applies pending migrations (``engine``: the folder beside common/); returns the ids
    applied now.

    Concurrent starters take turns on ``lock``, one the engine releases when its holder dies (a
    PostgreSQL advisory lock, a file lock for SQLite). yoyo's own lock is a row that outlives a
    SIGKILL: a starter killed while holding it left every later start failing until someone ran
    ``yoyo break-lock``. Under ``lock`` no other starter can be holding that row, so one found
    there is stale and is cleared."""
    backend = get_backend(uri)
    migrations = _migrations(engine)
    with lock or nullcontext():
        backend.break_lock()
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    return [m.id for m in pending]


def pending(engine: str, uri: str) -> list[str]:
    return [m.id for m in get_backend(uri).to_apply(_migrations(engine))]


def _migrations(engine: str) -> Any:
    return read_migrations(str(HERE / engine), str(HERE / "common"))
