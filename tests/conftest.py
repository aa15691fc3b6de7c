"""Shared fixtures: a fresh bank on SQLite or PostgreSQL.

PostgreSQL is found through CREDITBANK_TEST_POSTGRES_URL (default: the local server's
``postgres`` database, used only to create and drop a throw-away database for this run). Without a
server the PostgreSQL tests skip with the reason, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from application.bank import CreditBank
from application.bootstrap import build_bank
from application.settings import Settings
from tests.builders import NOW, World

ADMIN_URL = os.environ.get(
    "CREDITBANK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _admin_connect() -> object:
    import psycopg

    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test run, dropped afterwards."""
    try:
        admin = _admin_connect()
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {ADMIN_URL}: {exc}")
        pytest.skip(
            f"PostgreSQL unreachable at {ADMIN_URL} ({exc}); set CREDITBANK_TEST_POSTGRES_URL"
        )
    name = f"creditbank_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin:  # type: ignore[attr-defined]
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _admin_connect() as admin:  # type: ignore[attr-defined]
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None for SQLite (the embedded default), else a PostgreSQL URL with a fresh schema."""
    if request.param == "sqlite":
        yield None
        return
    url = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}?schema={schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test that asks for a database runs on both engines.
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize(
            "database_url",
            [
                pytest.param("sqlite", id="sqlite"),
                pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
            ],
            indirect=True,
        )


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-" + uuid.uuid4().hex,
        snapshot_interval=5,
    )


class Clock:
    """A settable clock for validity windows."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bank(settings: Settings, clock: Clock) -> Iterator[CreditBank]:
    app = build_bank(settings)
    app.clock = clock
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def trust(bank: CreditBank, clock: Clock, settings: Settings) -> World:
    """The bank of ``bank`` (both engines) with real issuer keys and signed credentials
    (tests/builders.World), at the clock's fixed moment: for suites whose ``world`` fixture is
    another (the served API's)."""
    clock.now = NOW
    return World(bank, clock, settings)
