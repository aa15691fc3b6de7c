"""Reliability fixtures: fresh PostgreSQL schemas, a restartable PostgreSQL server, and the run's
numbers in the terminal summary.

Bounded by default (CI: the whole folder in about three minutes on two cores); the full form runs
with CREDITBANK_RELIABILITY_FULL=1 (more processes, iterations, inputs and faults).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ADMIN_URL
from tests.reliability import support


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh schema in the run's throw-away PostgreSQL database."""
    import psycopg

    schema = f"rel_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{postgres_url}?schema={schema}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="module")
def restartable_pg(postgres_url: str) -> Iterator[Any]:
    """A PostgreSQL server the test may stop and restart (private when possible); it is running
    again when the test ends, whatever happened."""
    server = support.restartable_postgres(ADMIN_URL)
    try:
        yield server
    finally:
        server.ensure_running()
        server.destroy()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if support.REPORT:
        terminalreporter.section("reliability numbers")
        for line in support.REPORT:
            terminalreporter.write_line(line)
