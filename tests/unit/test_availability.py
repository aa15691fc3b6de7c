"""The database circuit breaker (application.availability), with a probe the test controls."""

from __future__ import annotations

import sqlite3
import threading
import time

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from application.availability import Availability, is_connection_failure
from domain.errors import InvalidInput, Unavailable


class Probe:
    def __init__(self) -> None:
        self.up = True
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if not self.up:
            raise OSError("connection refused")


def _until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_without_a_probe_it_is_always_up() -> None:
    availability = Availability()
    availability.suspect()
    availability.check()
    assert availability.up


def test_a_failed_probe_refuses_at_once_and_recovery_runs_the_callbacks() -> None:
    probe = Probe()
    recovered = threading.Event()
    availability = Availability(probe, interval=0.01)
    availability.on_recovered.append(recovered.set)
    try:
        probe.up = False
        availability.suspect()
        _until(lambda: not availability.up)
        with pytest.raises(Unavailable) as refused:
            availability.check()
        assert refused.value.code == "UNAVAILABLE"
        probe.up = True
        assert recovered.wait(5)
        availability.check()
    finally:
        availability.close()


def test_on_demand_probing_stops_once_the_database_answers() -> None:
    probe = Probe()
    availability = Availability(probe, interval=0.01)
    availability.suspect()  # an error that was not an outage (e.g. a lock timeout)
    _until(lambda: probe.calls >= 1)
    time.sleep(0.1)
    calls = probe.calls
    time.sleep(0.1)
    assert probe.calls == calls, "the prober kept running although the database answered"
    assert availability.up
    availability.close()


def test_watching_probes_continuously() -> None:
    probe = Probe()
    availability = Availability(probe, interval=0.01)
    availability.watch()
    try:
        _until(lambda: probe.calls >= 5)
        probe.up = False
        _until(lambda: not availability.up)  # noticed without any request suspecting it
    finally:
        availability.close()


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (Unavailable("down"), True),
        (psycopg.OperationalError("connection refused"), True),
        (psycopg.InterfaceError("connection closed"), True),
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("no such table: x"), False),
        (InvalidInput("bad"), False),
        (ValueError("bug"), False),
    ],
)
def test_which_errors_are_outages(error: Exception, retryable: bool) -> None:
    assert is_connection_failure(error) is retryable


def test_a_wrapped_driver_error_is_recognised_by_its_cause() -> None:
    def fail() -> None:
        try:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        except psycopg.OperationalError as driver:
            raise OperationalError(str(driver)) from driver

    with pytest.raises(OperationalError) as wrapped:
        fail()
    assert is_connection_failure(wrapped.value)
