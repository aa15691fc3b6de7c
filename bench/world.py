"""Where the benchmarks run: fresh PostgreSQL databases, temporary data directories, a bank on
them (``open_bank``, with the run's ``--es-env`` overrides), and set-ups shared by several
benchmarks of one run (``shared``)."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from application.bank import CreditBank
from application.bootstrap import build_bank
from application.database import Database
from application.settings import Settings

T = TypeVar("T")

ADMIN_URL = os.environ.get(
    "CREDITBANK_BENCH_POSTGRES_URL",
    os.environ.get("CREDITBANK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


# -- set-ups shared by several benchmarks of one run ----------------------------------------------
_shared: dict[str, tuple[Any, ExitStack]] = {}


def shared(key: str, setup: Callable[[ExitStack], T]) -> T:
    """What ``setup`` builds (servers, a populated database), built once per run and reused by
    every benchmark that asks for ``key``; ``setup`` registers its cleanup on the stack it is
    given. ``python -m bench`` releases it after the last benchmark that shares it (``Benchmark.
    shares``), and everything at the end of the run, also on failure."""
    if key not in _shared:
        stack = ExitStack()
        try:
            _shared[key] = (setup(stack), stack)
        except BaseException:
            stack.close()
            raise
    value: T = _shared[key][0]
    return value


def release_shared(key: str) -> None:
    entry = _shared.pop(key, None)
    if entry is not None:
        entry[1].close()


def close_shared() -> None:
    for key in reversed(list(_shared)):
        release_shared(key)


# -- databases -----------------------------------------------------------------------------------
def connect_admin() -> Any:
    import psycopg

    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new database ``bench_<random>`` on the server of ``ADMIN_URL``, dropped at the end."""
    name = f"bench_{secrets.token_hex(6)}"
    with connect_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with connect_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def temp_dir(prefix: str = "bench-") -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as path:
        yield Path(path)


# -- a bank on a database ------------------------------------------------------------------------
SECRET_KEY = "bench-secret-" + "0" * 32  # every process of one run must share it


def bank_settings(data_dir: Path, database_url: str | None, **overrides: Any) -> Settings:
    return Settings(
        data_dir=data_dir, database_url=database_url, secret_key=SECRET_KEY, **overrides
    )


@contextmanager
def open_bank(settings: Settings, es_env: Mapping[str, str] | None = None) -> Iterator[CreditBank]:
    """``build_bank(settings)``, closed at the end. ``es_env`` (experiments, ``--es-env``) adds to
    or replaces what the bank gives the eventsourcing library, e.g. POSTGRES_PRE_PING=n."""
    with _eventsourcing_env(es_env or {}), _one_builder_at_a_time(settings.data_dir):
        bank = build_bank(settings)
    try:
        yield bank
    finally:
        bank.close()


@contextmanager
def _one_builder_at_a_time(data_dir: Path) -> Iterator[None]:
    """Processes sharing a data dir (the write_app workers) build their banks one at a time: the
    library's PostgreSQL recorder runs CREATE OR REPLACE FUNCTION when it is constructed, and
    processes doing that at the same moment fail with "tuple concurrently updated" (seen in
    about one quick run in three)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: nothing to serialise with
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / ".bench-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _eventsourcing_env(overrides: Mapping[str, str]) -> Iterator[None]:
    # The bank reads Database.eventsourcing_env() once, while it is constructed.
    if not overrides:
        yield
        return
    original = Database.eventsourcing_env

    def eventsourcing_env(self: Database) -> dict[str, str]:
        return {**original(self), **overrides}

    Database.eventsourcing_env = eventsourcing_env  # type: ignore[method-assign]
    try:
        yield
    finally:
        Database.eventsourcing_env = original  # type: ignore[method-assign]


def check_no_aggregate_cache(bank: CreditBank) -> None:
    """Loads must go to the database: the history benchmark turns the aggregate cache off."""
    if bank.repository.cache is not None:
        raise RuntimeError(
            "the repository has an aggregate cache (AGGREGATE_CACHE_MAXSIZE is set): "
            "unset it, loads would be served from memory"
        )
