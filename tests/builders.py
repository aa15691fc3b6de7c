"""Builders shared by the tests that run the application (service, integration, trust,
projections, API): issuers with real key pairs, learners, outcomes and signed credentials,
settings for child processes, and raw access to the stores (as an attacker would have).

Nothing here is mocked: keys are generated with ``cryptography`` and credentials signed with the
issuer tooling (application/issuing.py) exactly as an issuer signs them. A plain module (not a
conftest) so that child processes started with the "spawn" context can import it. The domain's
unit tests keep their own no-I/O builders (tests/unit/support.py).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from eventsourcing.domain import Aggregate

from application import issuing
from application.bank import CreditBank
from application.issuing import Achievement, IssuerKey, sign_data_integrity, sign_vc_jwt
from application.settings import Settings
from application.signing import b64url
from application.standards import Standards
from domain.errors import DomainError
from domain.records import DepositedOutcome
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, InstitutionKind, OutcomeKind, RuleModel

KEYS_VALID_FROM = datetime(2015, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # the clock fixture's moment

# Rules reach back only as far as their terms say (a rule without validFrom governs the learning
# completed from the day it is created); tests that decide years-old learning say so with this.
SINCE = date(2000, 1, 1)


@lru_cache(maxsize=1)
def standards() -> Standards:
    """The official material shipped in the package (never fetched)."""
    return Standards()


STANDARDS = standards().directory


@dataclass
class Issuer:
    """A registered institution and its key pair (the private key signs its credentials)."""

    id: UUID
    uri: str
    keys: IssuerKey
    name: str

    @property
    def kid(self) -> str:
        return self.keys.kid


@dataclass
class Learner:
    id: UUID
    document_number: str


@dataclass
class World:
    """A bank with issuers and learners, and the helpers that build real credentials for it."""

    bank: CreditBank
    clock: Any
    settings: Settings
    serial: list[int] = field(default_factory=lambda: [0])

    # -- parties --------------------------------------------------------------------------------
    def issuer(
        self,
        name: str = "Fudan University",
        keys: IssuerKey | None = None,
        kind: InstitutionKind = InstitutionKind.UNIVERSITY,
        uri: str | None = None,
        hours_per_credit: str | None = None,
    ) -> Issuer:
        keys = keys or IssuerKey.ed25519()
        uri = uri or f"https://{uuid.uuid4().hex[:10]}.example.edu/issuer"
        institution_id = self.bank.register_institution(
            name,
            kind,
            keys.jwk,
            issuer_uri=uri,
            key_valid_from=KEYS_VALID_FROM,
            hours_per_credit=None if hours_per_credit is None else Decimal(hours_per_credit),
        )
        return Issuer(institution_id, uri, keys, name)

    def learner(self, verified: bool = True, number: str | None = None) -> Learner:
        self.serial[0] += 1
        number = number or f"11010519900307{self.serial[0]:03d}{uuid.uuid4().int % 10}"
        learner_id = self.bank.register_learner(
            f"Learner {self.serial[0]}", "RESIDENT_ID", number, date(1990, 3, 7)
        )
        if verified:
            self.bank.verify_learner_identity(
                learner_id, IdentityVerification.ELECTRONIC_ID, "officer-1"
            )
        return Learner(learner_id, number)

    def course_rule(self, issuer: Issuer, name: str = "PKU courses") -> UUID:
        """A framework rule: the issuer's academic courses, recognised as major credits at
        level 6 (what exports need: recognised outcomes)."""
        return self.bank.create_recognition_rule(
            name,
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                valid_from=SINCE,
                criteria=OutcomeCriteria(
                    institution_id=issuer.id, kind=OutcomeKind.ACADEMIC_COURSE
                ),
                level=6,
                category="major",
            ),
        )

    def transfer(self, source: Issuer, target: Issuer) -> UUID:
        """An agreement: the source's recognised outcomes convert 1:1 into the target's T-1."""
        return agreed(
            self.bank,
            self.bank.create_conversion_rule(
                "transfer",
                RuleModel.AGREEMENT,
                ConversionTerms(
                    criteria=OutcomeCriteria(institution_id=source.id),
                    target_institution_id=target.id,
                    target_code="T-1",
                    target_category="major",
                    ratio=Decimal(1),
                ),
            ),
        )

    # -- credentials ------------------------------------------------------------------------------
    def credential(self, issuer: Issuer, learner: Learner, **spec: Any) -> dict[str, Any]:
        spec.setdefault("valid_from", self.clock.now - timedelta(days=30))
        return achievement_credential(
            CredentialSpec(issuer_uri=issuer.uri, document_number=learner.document_number, **spec)
        )

    def token(self, issuer: Issuer, learner: Learner, **spec: Any) -> str:
        return sign_vc_jwt(self.credential(issuer, learner, **spec), issuer.keys)

    def data_integrity(
        self, issuer: Issuer, learner: Learner, keys: IssuerKey | None = None, **spec: Any
    ) -> dict[str, Any]:
        """The credential with an eddsa-rdfc-2022 proof by ``keys`` (default: the issuer's),
        its verificationMethod the issuer URI with the key's Multikey as fragment."""
        return sign_data_integrity(
            self.credential(issuer, learner, **spec),
            keys or issuer.keys,
            standards(),
            datetime(2026, 1, 15, 10, tzinfo=UTC),
        )

    # -- what is stored ---------------------------------------------------------------------------
    def stored(self, *learners: Learner) -> tuple[int, dict[UUID, dict[str, Any]]]:
        """The log position and every named account's outcomes: what a refusal must not change."""
        return (
            int(self.bank.recorder.max_notification_id() or 0),
            {lr.id: dict(self.bank.account(lr.id).outcomes) for lr in learners},
        )

    def refused(
        self,
        code: str,
        learner: Learner,
        credential: str,
        by_institution: UUID | None = None,
        others: tuple[Learner, ...] = (),
    ) -> DomainError:
        """Deposits ``credential``; asserts the error code and that nothing was stored."""
        before = self.stored(learner, *others)
        with pytest.raises(DomainError) as err:
            self.bank.deposit_credential(learner.id, credential, by_institution=by_institution)
        assert err.value.code == code, f"{err.value.code}: {err.value.message}"
        assert self.stored(learner, *others) == before
        return err.value


def segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def sign_jws(header: dict[str, Any], payload: dict[str, Any], keys: IssuerKey) -> str:
    """A compact JWS with exactly this header (PyJWT insists on a string kid)."""
    signing_input = f"{segment(header)}.{segment(payload)}".encode()
    if keys.algorithm == "EdDSA":
        signature = keys.private.sign(signing_input)
    else:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = keys.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{b64url(signature)}"


def jwt_payload(credential: dict[str, Any]) -> dict[str, Any]:
    """The OB 3.0 VC-JWT payload of a credential: the credential plus iss/jti/nbf/sub(/exp)."""
    import jwt

    token = sign_vc_jwt(credential, IssuerKey.ed25519())
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


def outcome_for(issuer: Issuer, credential_id: str, credits: str = "3") -> DepositedOutcome:
    """An outcome as a verified credential states it (for bulk world building)."""
    return DepositedOutcome(
        issuer_id=issuer.id,
        credential_id=credential_id,
        kind=OutcomeKind.ACADEMIC_COURSE,
        title=f"Course {credential_id}",
        credits=Decimal(credits),
        completed_on=date(2025, 6, 30),
        evidence_digest="",
        level=6,
        key_id=issuer.keys.kid,
    )


# -- raw store access ------------------------------------------------------------------------------
class RawStore:
    """Edits the event store directly, as an attacker with database access would: SQLite through
    the file, PostgreSQL through psycopg in the test's schema. ``?`` placeholders on both."""

    def __init__(self, bank: CreditBank, settings: Settings) -> None:
        self.kind = bank.database.kind
        self.table = events_table(bank)
        self.settings = settings
        self.conninfo = getattr(bank.database.dialect, "conninfo", None)
        self.nid = "rowid" if self.kind == "sqlite" else "notification_id"

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.settings.sqlite_path, timeout=30)
            try:
                cur = conn.cursor()
                yield _Sqlite(cur)
                conn.commit()
            finally:
                conn.close()
            return
        import psycopg

        assert self.conninfo is not None
        with psycopg.connect(self.conninfo) as conn, conn.cursor() as cur:
            yield _Pg(cur)

    def key(self, originator_id: UUID | str) -> Any:
        return UUID(str(originator_id)).hex if self.kind == "sqlite" else UUID(str(originator_id))

    def rows(self, account_id: UUID) -> list[tuple[int, int, str, bytes]]:
        """(notification id, version, topic, state) of an account's events, by version."""
        with self.cursor() as cur:
            cur.execute(
                f"SELECT {self.nid}, originator_version, topic, state FROM {self.table} "
                "WHERE originator_id = ? ORDER BY originator_version",
                [self.key(account_id)],
            )
            return [(int(n), int(v), t, bytes(s)) for n, v, t, s in cur.fetchall()]

    def set_state(self, account_id: UUID, version: int, state: bytes) -> None:
        with self.cursor() as cur:
            cur.execute(
                f"UPDATE {self.table} SET state = ? WHERE originator_id = ? "
                "AND originator_version = ?",
                [state, self.key(account_id), version],
            )
            assert cur.rowcount == 1

    def set_version(self, account_id: UUID, version: int, new_version: int) -> None:
        with self.cursor() as cur:
            cur.execute(
                f"UPDATE {self.table} SET originator_version = ? WHERE originator_id = ? "
                "AND originator_version = ?",
                [new_version, self.key(account_id), version],
            )
            assert cur.rowcount == 1

    def delete(self, account_id: UUID, version: int) -> None:
        with self.cursor() as cur:
            cur.execute(
                f"DELETE FROM {self.table} WHERE originator_id = ? AND originator_version = ?",
                [self.key(account_id), version],
            )
            assert cur.rowcount == 1

    def insert(
        self,
        account_id: UUID,
        version: int,
        topic: str,
        state: bytes,
        notification_id: int | None = None,
    ) -> None:
        """A new row; with ``notification_id``, at that log position (else the next one)."""
        columns = "originator_id, originator_version, topic, state"
        values: list[Any] = [self.key(account_id), version, topic, state]
        if notification_id is not None:
            columns += f", {self.nid}"
            values.append(notification_id)
        with self.cursor() as cur:
            cur.execute(
                f"INSERT INTO {self.table} ({columns}) VALUES ({', '.join('?' * len(values))})",
                values,
            )

    def checkpoint(self) -> tuple[str, str, str]:
        """(checkpoint_id, heads JSON, signature) of the newest checkpoint."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT checkpoint_id, heads, signature FROM audit_checkpoints "
                "ORDER BY position DESC, created_at DESC LIMIT 1"
            )
            row = cur.fetchone()
            return str(row[0]), str(row[1]), str(row[2])

    def update_checkpoint(self, checkpoint_id: str, column: str, value: str) -> None:
        assert column in ("heads", "signature")
        with self.cursor() as cur:
            cur.execute(
                f"UPDATE audit_checkpoints SET {column} = ? WHERE checkpoint_id = ?",
                [value, checkpoint_id],
            )
            assert cur.rowcount == 1


class _Sqlite:
    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> Any:
        return self._cur.execute(sql, tuple(params))

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()


class _Pg:
    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> Any:
        return self._cur.execute(sql.replace("?", "%s"), tuple(params))

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())


def edit_json(state: bytes, change: Any) -> bytes:
    """Decodes a stored state, lets ``change`` edit the dict, re-encodes it compactly."""
    value = json.loads(state)
    change(value)
    return json.dumps(value, separators=(",", ":")).encode()


# -- institutions, outcomes and stores without signatures ------------------------------------
def ed25519_jwk(kid: str) -> dict[str, Any]:
    """A real Ed25519 public JWK (OKP, crv Ed25519, x = raw public key, base64url, no padding)."""
    return IssuerKey.ed25519(kid).jwk


def ed25519_private_jwk(kid: str) -> dict[str, str]:
    """The same shape with the private scalar ``d``: must never be accepted as a signing key."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(public), "d": b64url(private), "kid": kid}


def register_issuer(
    bank: CreditBank,
    name: str,
    kind: InstitutionKind = InstitutionKind.UNIVERSITY,
    kid: str | None = None,
    issuer_uri: str | None = None,
) -> Issuer:
    keys = IssuerKey.ed25519(kid or f"{name.lower().replace(' ', '-')}-key-1")
    institution_id = bank.register_institution(
        name, kind, keys.jwk, issuer_uri=issuer_uri, key_valid_from=KEYS_VALID_FROM
    )
    return Issuer(institution_id, issuer_uri or f"urn:uuid:{institution_id}", keys, name)


def stranger(issuer_id: Any) -> Issuer:
    """An issuer the bank never registered (``issuer_id`` may even be malformed)."""
    return Issuer(issuer_id, "https://stranger.example/issuer", IssuerKey.ed25519("k"), "x")


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
    return len(bank.vault.keys)


def learner_key_exists(bank: CreditBank, learner_id: UUID) -> bool:
    return bank.vault.keys.get(learner_id) is not None


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


# -- credentials with the tests' defaults -------------------------------------------------------
@dataclass
class CredentialSpec:
    issuer_uri: str
    document_number: str
    title: str = "Computer Networks"
    credits: str | float | None = 3
    achievement_type: str = "Course"
    human_code: str | None = None
    eqf_level: int | None = 6
    hours: str | int | None = None
    result: str | None = None
    result_status: str | None = None
    completed_on: date | None = None
    term: str | None = None
    credential_id: str = field(default_factory=lambda: f"urn:uuid:{uuid.uuid4()}")
    valid_from: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    )
    valid_until: datetime | None = None
    subject_id: str = "did:example:learner"


def achievement_credential(spec: CredentialSpec) -> dict[str, Any]:
    return issuing.achievement_credential(
        Achievement(
            issuer_uri=spec.issuer_uri,
            issuer_name="Test Issuer",
            document_number=spec.document_number,
            title=spec.title,
            credits=spec.credits,
            achievement_type=spec.achievement_type,
            human_code=spec.human_code,
            eqf_level=spec.eqf_level,
            hours=spec.hours,
            result=spec.result,
            result_status=spec.result_status,
            completed_on=spec.completed_on,
            term=spec.term,
            credential_id=spec.credential_id,
            valid_from=spec.valid_from,
            valid_until=spec.valid_until,
            subject_id=spec.subject_id,
            salt="s4lt",
        )
    )


def agreed(bank: Any, rule_id: UUID) -> UUID:
    """A conversion rule put in force: every institution it binds accepts it and, if it creates
    credit, a second officer approves it."""
    for party in bank.conversion_rule(rule_id).awaiting_parties:
        bank.accept_conversion_rule(rule_id, party, f"registrar:{party}")
    if bank.conversion_rule(rule_id).needs_approval:
        bank.approve_conversion_rule(rule_id, "officer-2")
    return rule_id


# -- signed xAPI statements (application/xapi.py, docs/xapi.md) --------------------------------
def xapi_actor(document_number: str, salt: str = "s4lt") -> dict[str, Any]:
    """An actor naming a bank learner: an account on the bank's identity home page, named by
    the salted SHA-256 of the national identity number."""
    import hashlib

    from application.xapi import IDENTITY_HOMEPAGE

    digest = hashlib.sha256((document_number + salt).encode()).hexdigest()
    return {
        "objectType": "Agent",
        "account": {"homePage": IDENTITY_HOMEPAGE, "name": f"sha256${digest}${salt}"},
    }


def xapi_statement(
    platform_uri: str,
    actor: dict[str, Any],
    *,
    verb: str = "http://adlnet.gov/expapi/verbs/completed",
    activity_id: str = "https://lms.example.org/courses/data-literacy",
    name: str = "Data Literacy",
    duration: str | None = "PT45H",
    scaled: float | None = 0.92,
    success: bool | None = True,
    timestamp: str = "2026-01-20T10:00:00Z",
) -> dict[str, Any]:
    """An unsigned statement as a learning platform records it."""
    result: dict[str, Any] = {"completion": True}
    if success is not None:
        result["success"] = success
    if duration is not None:
        result["duration"] = duration
    if scaled is not None:
        result["score"] = {"scaled": scaled}
    return {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {
            "objectType": "Activity",
            "id": activity_id,
            "definition": {"name": {"en-US": name}},
        },
        "result": result,
        "context": {"platform": platform_uri},
        "timestamp": timestamp,
        "version": "2.0.0",
    }


def sign_statement(
    statement: dict[str, Any], keys: IssuerKey, alg: str | None = None
) -> dict[str, Any]:
    """``{"statement", "signature"}``: the JWS over the statement as it stands (xAPI: the
    complete statement before the signature was added), and the statement with the signature
    attachment describing it."""
    import hashlib

    import jwt

    from application.xapi import SIGNATURE_CONTENT_TYPE, SIGNATURE_USAGE

    algorithm = alg or keys.algorithm
    token = jwt.api_jws.PyJWS().encode(
        json.dumps(statement, separators=(",", ":")).encode(),
        keys.private,
        algorithm=algorithm,
        headers={"kid": keys.kid},
    )
    attachment = {
        "usageType": SIGNATURE_USAGE,
        "display": {"en-US": "Signature"},
        "contentType": SIGNATURE_CONTENT_TYPE,
        "length": len(token.encode()),
        "sha2": hashlib.sha256(token.encode()).hexdigest(),
    }
    signed = {**statement, "attachments": [*statement.get("attachments", []), attachment]}
    return {"statement": signed, "signature": token}
