"""Integration fixtures on top of tests/conftest.py (``bank``, ``settings``, ``clock``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from application.bank import CreditBank
from application.bootstrap import build_bank
from application.settings import Settings


@pytest.fixture
def reopen(settings: Settings) -> Iterator[Callable[[], CreditBank]]:
    """Builds a NEW CreditBank from the same settings: whatever it shows comes from the store."""
    opened: list[CreditBank] = []

    def _open() -> CreditBank:
        fresh = build_bank(settings)
        opened.append(fresh)
        return fresh

    try:
        yield _open
    finally:
        for app in opened:
            app.close()
