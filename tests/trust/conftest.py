"""Trust fixtures on top of tests/conftest.py (``bank``, ``settings``, ``clock``, both engines).

``world`` wraps the bank with real issuer keys, learners and signed credentials
(tests/trust/support.py); ``raw`` edits the event store directly, as an attacker would.
"""

from __future__ import annotations

from typing import Any

import pytest

from application.bank import CreditBank
from application.settings import Settings
from tests.builders import NOW, RawStore, World


@pytest.fixture
def world(bank: CreditBank, clock: Any, settings: Settings) -> World:
    clock.now = NOW
    return World(bank, clock, settings)


@pytest.fixture
def raw(bank: CreditBank, settings: Settings) -> RawStore:
    return RawStore(bank, settings)
