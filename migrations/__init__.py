"""Versioned SQL for the bank's own tables (key vault, read models), applied with yoyo-migrations.

``common/`` holds SQL both engines run as written (the read models); ``sqlite/`` and
``postgresql/`` what differs by engine. File names carry the version, unique across the folders.
The event store's tables belong to the eventsourcing library, not to these files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from yoyo import get_backend, read_migrations

HERE = Path(__file__).parent


def backend_uri(kind: str, *, path: str = "", pg: dict[str, str] | None = None) -> str:
    if kind == "sqlite":
        return f"sqlite:///{path}"
    assert pg is not None
    auth = quote(pg["user"], safe="")
    if pg.get("password"):
        auth += ":" + quote(pg["password"], safe="")
    uri = f"postgresql+psycopg://{auth}@{pg['host']}:{pg['port']}/{pg['dbname']}"
    if pg.get("schema"):
        uri += f"?schema={pg['schema']}"
    return uri


def apply(kind: str, uri: str) -> list[str]:
    """Applies pending migrations; returns the ids applied now (concurrent starters take turns)."""
    backend = get_backend(uri)
    migrations = _migrations(kind)
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def pending(kind: str, uri: str) -> list[str]:
    return [m.id for m in get_backend(uri).to_apply(_migrations(kind))]


def _migrations(kind: str) -> Any:
    engine = HERE / ("sqlite" if kind == "sqlite" else "postgresql")
    return read_migrations(str(engine), str(HERE / "common"))
