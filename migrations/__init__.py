"""Versioned SQL for the bank's own tables (key vault, read models), applied with yoyo-migrations.

One folder per engine (``sqlite/``, ``postgresql/``) because DDL types differ; file names carry
the version. The event store's tables belong to the eventsourcing library, not to these files.
"""

from __future__ import annotations

from pathlib import Path
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
    migrations = read_migrations(str(HERE / ("sqlite" if kind == "sqlite" else "postgresql")))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def pending(kind: str, uri: str) -> list[str]:
    backend = get_backend(uri)
    migrations = read_migrations(str(HERE / ("sqlite" if kind == "sqlite" else "postgresql")))
    return [m.id for m in backend.to_apply(migrations)]
