"""Versioned SQL for the bank's own tables (key vault, read models), applied with yoyo-migrations.

``common/`` holds SQL both engines run as written (the read models); ``sqlite/`` and
``postgresql/`` what differs by engine. File names carry the version, unique across the folders.
The event store's tables belong to the eventsourcing library, not to these files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yoyo import get_backend, read_migrations

HERE = Path(__file__).parent


def apply(engine: str, uri: str) -> list[str]:
    """Applies pending migrations (``engine``: the folder beside common/); returns the ids
    applied now (concurrent starters take turns)."""
    backend = get_backend(uri)
    migrations = _migrations(engine)
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def pending(engine: str, uri: str) -> list[str]:
    return [m.id for m in get_backend(uri).to_apply(_migrations(engine))]


def _migrations(engine: str) -> Any:
    return read_migrations(str(HERE / engine), str(HERE / "common"))
