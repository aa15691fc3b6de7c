"""The service layer: the application's behaviour (commands, refusals, verification, event-computed
reads) on the in-memory bank (application.bootstrap.in_memory: the library's POPO recorders, the
learners' keys in a dict), in milliseconds, once. What depends on an engine (persistence across
processes, concurrency, raw stores, the views) is tested on SQLite and PostgreSQL elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from application.bank import CreditBank
from application.bootstrap import in_memory
from application.settings import Settings
from tests.builders import NOW, World


@pytest.fixture
def bank(clock: Any) -> Iterator[CreditBank]:
    memory = in_memory(clock=clock)
    try:
        yield memory
    finally:
        memory.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Only the data directory (for keys) matters: the bank is in memory."""
    return Settings(data_dir=tmp_path / "data", secret_key="service-tests")


@pytest.fixture
def world(bank: CreditBank, clock: Any, settings: Settings) -> World:
    clock.now = NOW
    return World(bank, clock, settings)
