"""Fixtures of the conformance suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.publisher import Publisher


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    """The issuer's web server, on a free loopback port, for one test."""
    p = Publisher()
    yield p
    p.server.shutdown()
