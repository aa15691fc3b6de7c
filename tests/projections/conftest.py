"""Fixtures for the projection tests (on top of tests/conftest.py: ``database_url``, ``settings``,
``clock``, ``bank``): fresh banks on demand, a runner, and the settings a child process needs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from application.bank import CreditBank
from application.bootstrap import build_bank
from application.settings import Settings
from projections.runner import EventSource, ProjectionRunner
from tests.projections.support import Clock, populate

FreshBank = Callable[[], AbstractContextManager[tuple[CreditBank, Settings]]]


def _pg_schema_url(database_url: str) -> tuple[str, str]:
    base = database_url.split("?", 1)[0]
    return base, f"p_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def fresh_bank(database_url: str | None, tmp_path: Path) -> FreshBank:
    """Each call opens a bank on a database of its own (a new SQLite file or PostgreSQL schema)
    and removes it afterwards: for hypothesis examples, which cannot use function fixtures."""

    @contextmanager
    def open_bank() -> Iterator[tuple[CreditBank, Settings]]:
        schema = None
        if database_url is None:
            url = None
            data_dir = tmp_path / f"db-{uuid.uuid4().hex[:8]}"
        else:
            import psycopg

            base, schema = _pg_schema_url(database_url)
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            url = f"{base}?schema={schema}"
            data_dir = tmp_path / schema
        settings = Settings(
            data_dir=data_dir,
            database_url=url,
            secret_key="test-secret-" + uuid.uuid4().hex,
            snapshot_interval=5,
        )
        bank = build_bank(settings)
        bank.clock = Clock()
        try:
            yield bank, settings
        finally:
            bank.close()
            if schema is not None:
                import psycopg

                with psycopg.connect(base, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")

    return open_bank


@dataclass
class Populated:
    bank: CreditBank
    settings: Settings
    engine: str
    events: int


@pytest.fixture(
    scope="package",
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)],
)
def populated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Populated]:
    """A bank with a few thousand events, shared by the read-only tests of one engine (they may
    reset and rebuild the views, never add events)."""
    engine = request.param
    data_dir = tmp_path_factory.mktemp(f"populated-{engine}")
    url, base, schema = None, "", ""
    if engine == "postgres":
        import psycopg

        base, schema = _pg_schema_url(request.getfixturevalue("postgres_url"))
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = f"{base}?schema={schema}"
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key="test-secret-" + uuid.uuid4().hex,
        snapshot_interval=5,
    )
    bank = build_bank(settings)
    bank.clock = Clock()
    try:
        populate(bank, learners=120, deposits=800)
        events = EventSource(bank).head()
        yield Populated(bank, settings, engine, events)
    finally:
        bank.close()
        if schema:
            import psycopg

            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def runner(bank: CreditBank) -> Iterator[ProjectionRunner]:
    r = ProjectionRunner(EventSource(bank), bank.database)
    try:
        yield r
    finally:
        r.stop()


def child_env(settings: Settings) -> dict[str, str]:
    """CREDITBANK_* variables that make a child process open the same bank."""
    env = {
        "CREDITBANK_DATA_DIR": str(settings.data_dir),
        "CREDITBANK_SECRET_KEY": settings.secret_key or "",
        "CREDITBANK_SNAPSHOT_INTERVAL": str(settings.snapshot_interval),
    }
    if settings.database_url:
        env["CREDITBANK_DATABASE_URL"] = settings.database_url
    return env
