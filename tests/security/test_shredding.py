"""Crypto-shredding (issue 14, finding 3): after ``eraseLearner`` the wrapped key was still in the
SQLite write-ahead log (on PostgreSQL in the dead tuple) and, with ``secret.key`` from the same data
directory, unwrapped the learner's name and document number.

Now an erasure purges the keys' table from the database's files (SQLite: secure_delete and a
truncating WAL checkpoint; PostgreSQL: VACUUM FULL once no older snapshot can see the row), and the
master secret comes from outside the data directory in production and on PostgreSQL. These tests
read the raw files: every wrapped key the erasure shredded (the learner's and the identity claim's,
captured through the key store before) must be in none of them.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
import pytest

from api.auth import Role
from application.bank import CreditBank
from application.preflight import check_settings
from application.settings import Settings, StartupError
from domain.indexes import IdentityIndex
from tests.api.conftest import GraphQL, Served
from tests.e2e.support import run_cli, sqlite_env

NAME = "Zebulon Quixote-Marchetti"


def register(gql: GraphQL, officer: str, name: str, number: str) -> uuid.UUID:
    payload = gql.mutate(
        "registerLearner",
        {
            "name": name,
            "identityDocumentType": "NATIONAL_ID",
            "identityDocumentNumber": number,
            "birthDate": "1991-04-12",
        },
        officer,
        "learner { id }",
    )
    assert payload["errors"] == [], payload
    return uuid.UUID(payload["learner"]["id"])


def erase(gql: GraphQL, officer: str, learner_id: uuid.UUID) -> None:
    payload = gql.mutate("eraseLearner", {"learnerId": str(learner_id)}, officer)
    assert payload["errors"] == [], payload


def wrapped_keys(bank: CreditBank, learner_id: uuid.UUID, number: str) -> list[bytes]:
    """The stored wrapped keys erasure must destroy: the learner's, and the identity claim's (it
    seals the link from the document to the account)."""
    index = bank._find(
        IdentityIndex, IdentityIndex.create_id(bank.vault.identity_hash(bank.country, number))
    )
    assert index is not None
    assert index.claim_id is not None
    keys = [bank.vault.keys.get(learner_id), bank.vault.keys.get(index.claim_id)]
    assert all(key is not None and len(key) == 60 for key in keys)
    return [key for key in keys if key is not None]


# -- the raw files -----------------------------------------------------------------------------
def sqlite_files(served: Served, copies: Path) -> dict[str, bytes]:
    """The database file and its -wal and -shm, copied by another process: this process serves
    the bank, and closing any descriptor of the file here would drop its connections' locks."""
    source = served.settings.sqlite_path
    copies.mkdir(exist_ok=True)
    for old in copies.iterdir():
        old.unlink()
    cp = shutil.which("cp")
    assert cp is not None
    names = [p.name for p in source.parent.iterdir() if p.name.startswith(source.name)]
    subprocess.run([cp, *(str(source.parent / n) for n in names), str(copies)], check=True)
    return {name: (copies / name).read_bytes() for name in names}


def pg_location(served: Served) -> tuple[str, str]:
    url = served.settings.database_url
    assert url is not None
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="")), parse_qs(parts.query)["schema"][0]


def pg_files(served: Served, extra: dict[str, str] | None = None) -> dict[str, bytes]:
    """Every relation file of the bank's schema (tables, indexes, TOAST), read by the server
    after a CHECKPOINT has written its buffers out (pg_read_binary_file: the test connects as a
    superuser, whoever owns the data directory). ``extra``: more files by name, missing ones
    read as empty."""
    base, schema = pg_location(served)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        rows = conn.execute(
            """
            SELECT c.oid::regclass::text, pg_relation_filepath(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind IN ('r', 'i', 'm')
            UNION ALL
            SELECT t.oid::regclass::text, pg_relation_filepath(t.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_class t ON t.oid = c.reltoastrelid
            WHERE n.nspname = %s
            """,
            (schema, schema),
        ).fetchall()
        paths = {name: path for name, path in rows if path} | (extra or {})
        files = {}
        for name, path in paths.items():
            exists = conn.execute("SELECT pg_stat_file(%s, true)", (path,)).fetchone()[0]
            files[name] = (
                b""
                if exists is None
                else bytes(conn.execute("SELECT pg_read_binary_file(%s)", (path,)).fetchone()[0])
            )
        return files


def learner_keys_file(served: Served) -> str:
    base, schema = pg_location(served)
    with psycopg.connect(base, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_relation_filepath(%s::regclass)", (f"{schema}.learner_keys",)
        ).fetchone()
    return str(row[0])


def raw_files(served: Served, tmp: Path, extra: dict[str, str] | None = None) -> dict[str, bytes]:
    if served.engine == "sqlite":
        return sqlite_files(served, tmp / "copies")
    return pg_files(served, extra)


def found(files: dict[str, bytes], needles: list[bytes]) -> list[tuple[str, int]]:
    """Where any needle occurs: (file, which needle)."""
    return [(name, i) for name, blob in files.items() for i, n in enumerate(needles) if n in blob]


# -- an older snapshot held by another session -------------------------------------------------
@contextmanager
def older_snapshot(served: Served, seconds: float) -> Iterator[None]:
    """Another session keeps a snapshot taken before the erasure for ``seconds``: every row it
    could see must stay readable to it, so neither engine may drop them meanwhile. (On
    PostgreSQL it reads another table: it holds no lock on the keys' table that would hold
    VACUUM FULL back anyway, only the snapshot.)"""
    release = threading.Event()
    ready = threading.Event()

    def hold() -> None:
        if served.engine == "sqlite":
            import sqlite3

            conn = sqlite3.connect(served.settings.sqlite_path, isolation_level=None)
            conn.execute("BEGIN")
            conn.execute("SELECT COUNT(*) FROM learner_keys").fetchone()
            ready.set()
            release.wait(seconds)
            conn.execute("COMMIT")
            conn.close()
        else:
            base, schema = pg_location(served)
            with psycopg.connect(base) as conn:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                conn.execute(f"SELECT COUNT(*) FROM {schema}.bank_identity").fetchone()
                ready.set()
                release.wait(seconds)
                conn.rollback()

    thread = threading.Thread(target=hold, name="older-snapshot")
    thread.start()
    assert ready.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


# -- the tests ---------------------------------------------------------------------------------
def _erasure(served: Served, gql: GraphQL, tmp_path: Path, *, reader: bool = False) -> None:
    bank = served.app.state.running.bank
    officer = served.token(Role.OFFICER)
    stem = uuid.uuid4().hex[:10].upper()
    neighbours = [register(gql, officer, f"Neighbour {i}", f"NB{stem}{i}") for i in range(3)]
    # Registered last: the newest row of a page is the one a plain VACUUM leaves in place.
    number = f"ZQ{stem}77"
    target = register(gql, officer, NAME, number)
    assert bank.personal_data(target)["name"] == NAME
    keys = wrapped_keys(bank, target, number)
    old_file = (
        {"learner_keys before": learner_keys_file(served)} if served.engine != "sqlite" else {}
    )

    before = raw_files(served, tmp_path)
    assert {i for _, i in found(before, keys)} == {0, 1}  # the probe sees the stored keys

    with older_snapshot(served, 2.5) if reader else nullcontext():
        erase(gql, officer, target)

    after = raw_files(served, tmp_path, old_file)
    assert found(after, keys) == []
    plain = [NAME.encode(), number.encode(), NAME.encode("utf-16-le")]
    assert found(after, plain) == []
    assert bank.personal_data(target) is None
    assert all(bank.personal_data(n) is not None for n in neighbours)  # live keys kept


def test_an_erased_learners_keys_are_in_no_database_file(
    served: Served, gql: GraphQL, tmp_path: Path
) -> None:
    _erasure(served, gql, tmp_path)


def test_a_reader_on_an_older_snapshot_delays_the_purge_but_does_not_defeat_it(
    served: Served, gql: GraphQL, tmp_path: Path
) -> None:
    """SQLite cannot truncate its log under a reader of older pages, and PostgreSQL's VACUUM
    FULL would copy a row an older snapshot still sees: the purge waits for them (2.5 s here,
    PURGE_WINDOW at most)."""
    _erasure(served, gql, tmp_path, reader=True)


def test_a_purge_held_up_past_its_window_is_finished_by_the_next_erasure(
    served: Served,
    gql: GraphQL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What is guaranteed when a reader outlasts the window: the erasure still answers (the
    data is unreadable through the bank at once), says so in the log, and the next erasure's
    purge removes both keys."""
    monkeypatch.setattr("application.dialects.sqlite.PURGE_WINDOW", 0.3)
    monkeypatch.setattr("application.dialects.postgres.PURGE_WINDOW", 0.3)
    bank = served.app.state.running.bank
    officer = served.token(Role.OFFICER)
    stem = uuid.uuid4().hex[:10].upper()
    first, second = (register(gql, officer, f"{NAME} {i}", f"HU{stem}{i}") for i in (1, 2))
    first_keys = wrapped_keys(bank, first, f"HU{stem}1")
    second_keys = wrapped_keys(bank, second, f"HU{stem}2")
    with caplog.at_level("WARNING", logger="creditbank.vault"), older_snapshot(served, 2.0):
        erase(gql, officer, first)
        assert bank.personal_data(first) is None
        held = raw_files(served, tmp_path)
    assert "not yet final" in caplog.text
    assert found(held, first_keys) != []  # honest: the bytes were still there
    erase(gql, officer, second)
    assert found(raw_files(served, tmp_path), first_keys + second_keys) == []


# -- where the master secret comes from --------------------------------------------------------
SECRET = "0123456789abcdef" * 4


def refusal(settings: Settings) -> str:
    with pytest.raises(StartupError) as caught:
        check_settings(settings)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_postgresql_without_a_master_secret_refuses_to_start(tmp_path: Path) -> None:
    """Refused before any connection (nothing listens on port 1), and no secret.key is made."""
    data = tmp_path / "data"
    message = refusal(Settings(data_dir=data, database_url="postgresql://bank@127.0.0.1:1/bank"))
    assert "CREDITBANK_SECRET_KEY" in message
    assert "CREDITBANK_SECRET_KEY_FILE" in message
    assert not (data / "secret.key").exists()


@pytest.mark.slow
def test_the_command_line_says_what_to_set(tmp_path: Path) -> None:
    env = {
        **sqlite_env(tmp_path / "data"),
        "CREDITBANK_DATABASE_URL": "postgresql://bank@127.0.0.1:1/bank",
    }
    result = run_cli(env, "serve", "--port", "1")
    stderr = result.stderr.strip()
    assert result.returncode == 2, stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    assert "PostgreSQL needs the master secret" in stderr
    assert "CREDITBANK_SECRET_KEY_FILE" in stderr


def test_production_never_generates_the_secret_into_the_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    message = refusal(Settings(data_dir=data, env="production"))
    assert "production" in message
    assert "CREDITBANK_SECRET_KEY" in message
    assert not (data / "secret.key").exists()


def test_production_refuses_a_key_file_inside_the_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    inside = data / "keys" / "master"
    inside.parent.mkdir()
    inside.write_text(SECRET)
    assert "inside the data directory" in refusal(
        Settings(data_dir=data, env="production", secret_key_file=inside)
    )
    outside = tmp_path / "secrets" / "master"
    outside.parent.mkdir()
    outside.write_text(SECRET + "\n")
    settings = Settings(data_dir=data, env="production", secret_key_file=outside)
    check_settings(settings)
    assert settings.master_secret() == SECRET.encode()
    assert settings.secret_is_explicit
    assert not (data / "secret.key").exists()


def test_a_key_file_must_hold_a_secret(tmp_path: Path) -> None:
    data = tmp_path / "data"
    missing = tmp_path / "nowhere"
    assert "cannot read" in refusal(Settings(data_dir=data, secret_key_file=missing))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert "is empty" in refusal(Settings(data_dir=data, secret_key_file=empty))
    assert "not both" in refusal(Settings(data_dir=data, secret_key=SECRET, secret_key_file=empty))


def test_production_wants_a_long_secret(tmp_path: Path) -> None:
    assert "shorter than 32" in refusal(
        Settings(data_dir=tmp_path / "data", env="production", secret_key="hunter2")
    )


def test_development_on_sqlite_still_generates_its_secret(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    check_settings(settings)
    assert (data / "secret.key").read_bytes().strip() == settings.master_secret()
    assert not settings.secret_is_explicit
