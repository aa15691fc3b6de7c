"""Helpers for the integration tests: real Ed25519 keys, deposits, raw store access.

Kept in a plain module (not conftest) so that child processes started with the "spawn" context
can import what they need.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from eventsourcing.domain import Aggregate

from application.bank import CreditBank
from application.settings import Settings
from domain.records import DepositedOutcome
from domain.values import InstitutionKind, OutcomeKind

KEYS_VALID_FROM = datetime(2015, 1, 1, tzinfo=UTC)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def ed25519_jwk(kid: str) -> dict[str, str]:
    """A real Ed25519 public JWK (OKP, crv Ed25519, x = raw public key, base64url, no padding)."""
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid}


def ed25519_private_jwk(kid: str) -> dict[str, str]:
    """The same shape with the private scalar ``d``: must never be accepted as a signing key."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(public), "d": b64url(private), "kid": kid}


@dataclass(frozen=True)
class Issuer:
    id: UUID
    kid: str


def register_issuer(
    bank: CreditBank,
    name: str,
    kind: InstitutionKind = InstitutionKind.UNIVERSITY,
    kid: str | None = None,
    issuer_uri: str | None = None,
) -> Issuer:
    kid = kid or f"{name.lower().replace(' ', '-')}-key-1"
    institution_id = bank.register_institution(
        name, kind, ed25519_jwk(kid), issuer_uri=issuer_uri, key_valid_from=KEYS_VALID_FROM
    )
    return Issuer(institution_id, kid)


def outcome(
    issuer: Issuer,
    credential_id: str,
    *,
    credits: str | Decimal = "3",
    kind: OutcomeKind = OutcomeKind.ACADEMIC_COURSE,
    title: str | None = None,
    completed_on: date = date(2025, 6, 30),
    standard_code: str | None = None,
    level: int | None = None,
    hours: str | None = None,
    result: str | None = None,
) -> DepositedOutcome:
    return DepositedOutcome(
        issuer_id=issuer.id,
        credential_id=credential_id,
        kind=kind,
        title=title or f"Course {credential_id}",
        credits=Decimal(credits),
        completed_on=completed_on,
        evidence_digest="",
        standard_code=standard_code,
        level=level,
        hours=None if hours is None else Decimal(hours),
        result=result,
        key_id=issuer.kid,
    )


def evidence(deposited: DepositedOutcome) -> bytes:
    """Stand-in credential bytes (the default verifier checks issuer and key, not signatures)."""
    return json.dumps(
        {"issuer": str(deposited.issuer_id), "id": deposited.credential_id}, sort_keys=True
    ).encode()


def deposit(
    bank: CreditBank, learner_id: UUID, deposited: DepositedOutcome, actor: str | None = None
) -> UUID:
    return bank.deposit(learner_id, deposited, evidence(deposited), actor=actor)


def settings_kwargs(settings: Settings) -> dict[str, Any]:
    """What a child process needs to build a bank on the same database."""
    return {
        "data_dir": str(settings.data_dir),
        "database_url": settings.database_url,
        "secret_key": settings.secret_key,
        "snapshot_interval": settings.snapshot_interval,
    }


# -- raw store access ---------------------------------------------------------------------------
def learner_key_count(bank: CreditBank) -> int:
    with bank.database.transaction() as cur:
        cur.execute("SELECT COUNT(*) FROM learner_keys")
        return int(cur.fetchone()[0])


def learner_key_exists(bank: CreditBank, learner_id: UUID) -> bool:
    value: Any = bank.database.dialect.key(learner_id)
    with bank.database.transaction() as cur:
        cur.execute("SELECT COUNT(*) FROM learner_keys WHERE learner_id = ?", (value,))
        return int(cur.fetchone()[0]) == 1


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def all_stored_bytes(bank: CreditBank, settings: Settings) -> dict[str, list[bytes]]:
    """Every cell of every table of the bank's database (SQLite file or PostgreSQL schema)."""
    tables: dict[str, list[bytes]] = {}
    if bank.database.kind == "sqlite":
        conn = sqlite3.connect(settings.sqlite_path)
        try:
            names = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for name in names:
                rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
                tables[name] = [_as_bytes(cell) for row in rows for cell in row]
        finally:
            conn.close()
        return tables
    import psycopg

    schema = bank.database.dialect.pg["schema"]
    with psycopg.connect(bank.database.dialect.conninfo) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            ).fetchall()
        ]
        for name in names:
            rows = conn.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall()
            tables[name] = [_as_bytes(cell) for row in rows for cell in row]
    return tables


def events_table(bank: CreditBank) -> str:
    """The library's events table: ``stored_events`` on SQLite, ``<app>_events`` on PostgreSQL."""
    return "stored_events" if bank.database.kind == "sqlite" else f"{bank.name.lower()}_events"


def snapshots_table(bank: CreditBank) -> str:
    if bank.database.kind == "sqlite":
        return "stored_snapshots"
    return f"{bank.name.lower()}_snapshots"


# -- replays ------------------------------------------------------------------------------------
def replay(bank: CreditBank, aggregate_id: UUID, version: int | None = None) -> Any:
    """The aggregate folded from its stored events alone: no snapshot, no cache."""
    aggregate: Any = None
    for event in bank.events.get(aggregate_id, lte=version):
        aggregate = event.mutate(aggregate)
    return aggregate


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}
