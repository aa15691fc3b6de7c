"""A million learners in the event store, written as the bank writes them, in bulk.

``scale_write`` needs the bank's own store at a million learners: the events table and its
indexes at that size are what a deposit's reads and inserts meet. Registering that many through
``register_learner`` and ``verify_learner_identity`` takes one transaction each (hours), so this
loader makes each learner's aggregates with the domain's own constructors and commands, in the
order the bank's registration and verification make them (``LearnerCommands.register_learner``:
the learner, its account, the identity index's claim, the ``learners`` log entry; then the
identity verified), seals the personal data with the bank's vault, encodes every event with the
bank's mapper (the account's hash chain included) and COPYs a chunk of learners at a time into
the events table and ``learner_keys``. ``tests/integration/test_event_population.py`` checks that
a learner loaded this way is one the bank finds, loads, audits and deposits into like one it
registered itself, with the same aggregates, event topics and versions.

The views are not written (nothing a deposit decides reads them; the ``scale`` benchmark
populates views). PostgreSQL only: COPY. Work is shared by processes (spawned), each with its
own bank on the database and its own range of learners and of the log's versions.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg

from application.bank import CreditBank
from bench.world import bank_settings, open_bank
from domain.credit_account import CreditAccount
from domain.indexes import IdentityIndex
from domain.learner import Learner
from domain.values import IdentityVerification

CHUNK = 5_000  # learners encoded and copied per transaction
BIRTH_DATE = date(1995, 5, 17)
OFFICER = "officer:bench"


@dataclass(frozen=True)
class Share:
    """One process's part: learners ``first`` to ``first + count - 1`` of the population, their
    log entries at versions ``log_base + first + 1`` onward."""

    data_dir: str
    database_url: str
    first: int
    count: int
    log_base: int
    tag: str  # keeps document numbers unique across populations of one database


class KeyCollector:
    """Stands in for the vault's key table while a chunk is made: the wrapped keys are COPYed
    with the chunk's events, in the same transaction."""

    def __init__(self) -> None:
        self.rows: list[tuple[UUID, bytes, str]] = []

    def put(self, learner_id: UUID, wrapped: bytes, created_at: datetime) -> None:
        self.rows.append((learner_id, wrapped, created_at.isoformat()))


def document_number(tag: str, n: int) -> str:
    """A resident-ID-shaped number, unique per (tag, n)."""
    return f"{tag}{n:012d}X"


def learner_events(bank: CreditBank, number: str, log_version: int) -> tuple[UUID, list[Any]]:
    """One learner's events, as registration then identity verification make them."""
    country = bank.country
    now = bank.now()
    index_id = IdentityIndex.create_id(bank.vault.identity_hash(country, number))
    learner_id, claim_id = uuid4(), uuid4()
    sealed = bank.vault.seal(
        learner_id,
        {
            "name": "Bench Learner 测试学员",
            "identityDocumentType": "RESIDENT_ID",
            "identityDocumentNumber": number,
            "identityDocumentCountry": country,
            "birthDate": BIRTH_DATE.isoformat(),
        },
    )
    holder = bank.vault.seal(claim_id, {"learnerId": str(learner_id)})
    learner = Learner.register(id=learner_id, document_hash="", sealed_personal_data=sealed, at=now)
    account = CreditAccount(learner_id=learner_id)
    index = IdentityIndex.claim(id=index_id, claim_id=claim_id, sealed_holder=holder)
    listed = bank._logs["learners"].trigger_event(
        next_originator_version=log_version, aggregate_id=learner_id
    )
    events: list[Any] = [*learner.collect_events(), *account.collect_events()]
    events += [*index.collect_events(), listed]
    learner.verify_identity(IdentityVerification.ELECTRONIC_ID, OFFICER, now)
    events += learner.collect_events()
    return learner_id, events


def load_share(share: Share) -> list[str]:
    """In a worker process: the share's learners, a chunk per transaction; their ids."""
    ids: list[str] = []
    with ExitStack() as stack:
        bank = stack.enter_context(
            open_bank(bank_settings(Path(share.data_dir), share.database_url))
        )
        keys = KeyCollector()
        bank.vault.keys = keys  # type: ignore[assignment]  # only put() is used here
        table = bank.recorder.events_table_name  # type: ignore[attr-defined]
        conn = stack.enter_context(psycopg.connect(share.database_url, autocommit=True))
        for lo in range(share.first, share.first + share.count, CHUNK):
            hi = min(lo + CHUNK, share.first + share.count)
            rows: list[tuple[UUID, int, str, bytes]] = []
            for n in range(lo, hi):
                learner_id, events = learner_events(
                    bank, document_number(share.tag, n), share.log_base + n + 1
                )
                ids.append(str(learner_id))
                for event in events:
                    s = bank.mapper.to_stored_event(event)
                    rows.append((s.originator_id, s.originator_version, s.topic, s.state))
            bank.mapper.begin()  # the chunk's chain links are committed below, not by a save
            _copy(conn, table, rows, keys.rows)
            keys.rows = []
    return ids


def _copy(
    conn: Any,
    table: str,
    events: Sequence[tuple[UUID, int, str, bytes]],
    keys: Sequence[tuple[UUID, bytes, str]],
) -> None:
    with conn.transaction(), conn.cursor() as cur:
        columns = "originator_id, originator_version, topic, state"
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in events:
                copy.write_row(row)
        with cur.copy("COPY learner_keys (learner_id, wrapped_key, created_at) FROM STDIN") as copy:
            for key_row in keys:
                copy.write_row(key_row)


@dataclass(frozen=True)
class Loaded:
    learners: list[str]
    seconds: float
    events: int


def populate(
    data_dir: Path, database_url: str, learners: int, processes: int = 2, tag: str = "9"
) -> Loaded:
    """``learners`` registered, verified learners in the bank at ``database_url`` (migrated,
    any other set-up done), loaded by ``processes`` spawned workers; then VACUUM ANALYZE."""
    started = time.perf_counter()
    with open_bank(bank_settings(data_dir, database_url)) as bank:
        last = bank._logs["learners"].get_last()
        log_base = 0 if last is None else last.originator_version
        table = bank.recorder.events_table_name  # type: ignore[attr-defined]
    per = -(-learners // processes)
    shares = [
        Share(str(data_dir), database_url, i * per, min(per, learners - i * per), log_base, tag)
        for i in range(processes)
        if learners - i * per > 0
    ]
    with multiprocessing.get_context("spawn").Pool(len(shares)) as pool:
        parts = pool.map(load_share, shares)
    ids = [learner for part in parts for learner in part]
    _vacuum(database_url, table)
    return Loaded(ids, time.perf_counter() - started, _count(database_url, table))


def _vacuum(database_url: str, table: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {table}")
        conn.execute("VACUUM ANALYZE learner_keys")


def _count(database_url: str, table: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
