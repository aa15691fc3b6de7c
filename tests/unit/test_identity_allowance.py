"""The identity-failure allowance: 20 an hour for an institution, or one for every 50 deposits it
made in the hour when that is more (a semester's upload with a registrar's typing errors); the
per-learner limit stays whatever the volume."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.identity_attempts import (
    DEPOSITS_PER_FAILURE,
    HourlyCount,
    IdentityFailure,
    IdentityGuard,
)
from domain.errors import RateLimited


def _fail(guard: IdentityGuard, institution: object, learner: object, guess: str) -> None:
    guard.failed(IdentityFailure(datetime.now(UTC), institution, learner, None), guess)  # type: ignore[arg-type]


def test_without_deposits_an_institution_is_paused_after_its_twentieth_failure() -> None:
    guard, institution = IdentityGuard(), uuid4()
    for n in range(20):
        guard.check(institution, uuid4())
        _fail(guard, institution, uuid4(), f"guess-{n}")
    with pytest.raises(RateLimited):
        guard.check(institution, uuid4())


@given(st.integers(min_value=0, max_value=20_000))
def test_the_allowance_grows_with_the_deposits_of_the_hour(deposits: int) -> None:
    guard, institution = IdentityGuard(), uuid4()
    guard.deposited(institution, deposits)
    assert guard.allowance(institution) == max(20, deposits // DEPOSITS_PER_FAILURE)
    assert guard.allowance(uuid4()) == 20  # another institution's volume is not its own


def test_volume_never_lifts_the_per_learner_limit() -> None:
    guard, institution, learner = IdentityGuard(), uuid4(), uuid4()
    guard.deposited(institution, 100_000)
    for n in range(5):
        guard.check(institution, learner)
        _fail(guard, institution, learner, f"guess-{n}")
    with pytest.raises(RateLimited):
        guard.check(institution, learner)
    guard.check(institution, uuid4())  # other learners still take its deposits


def test_a_repeated_guess_is_recorded_but_not_counted_again() -> None:
    guard, institution, learner = IdentityGuard(), uuid4(), uuid4()
    for _ in range(10):
        _fail(guard, institution, learner, "the same credential")
    guard.check(institution, learner)
    assert len(guard.log.recent(institution, 100)) == 10


def test_the_hourly_count_forgets_what_is_older_than_its_window() -> None:
    count = HourlyCount(window=0.0)
    count.add(5)
    assert count.total() == 0
    lasting = HourlyCount()
    lasting.add(3)
    lasting.add(4)
    assert lasting.total() == 7
