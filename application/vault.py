"""Personal data at rest: keyed identity hashes and per-learner envelope encryption.

Each learner's personal data is sealed with the learner's own AES-256-GCM key; that key is stored
wrapped by the bank's master key in ``learner_keys``, outside the event store. Erasure deletes
the key (crypto-shredding): the sealed data in the events can then never be read again. The same
is done for the link from an identity document to its account (keyed by the claim's id).

A deleted row is not gone from a database's files by itself: SQLite keeps earlier page images in
its write-ahead log, PostgreSQL keeps a dead tuple in its page. ``shred`` therefore also purges
the table (``Database.purge``: secure_delete and a truncating WAL checkpoint on SQLite, VACUUM
FULL on PostgreSQL), so that the master secret and a copy of the live database files together
can no longer unwrap the key. Backups, WAL archives and replicas made before are out of its reach
(docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.database import Database
from application.dialects import in_lists


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


# The document types of generation 1, whose identity keys included the type.
LEGACY_DOCUMENT_TYPES = frozenset({"RESIDENT_ID", "PASSPORT", "RESIDENCE_PERMIT", "NATIONAL_ID"})


def normalize_document_number(number: str) -> str:
    """Identity documents are compared without spaces, dashes or case (full-width folded too)."""
    folded = unicodedata.normalize("NFKC", number)
    return "".join(c for c in folded if c.isalnum()).upper()


_log = logging.getLogger("creditbank.vault")


class KeyStore(Protocol):
    """Where the wrapped learner keys live, outside the event store."""

    def put(self, learner_id: UUID, wrapped: bytes, created_at: datetime) -> None: ...
    def get(self, learner_id: UUID) -> bytes | None: ...
    def get_many(self, learner_ids: list[UUID]) -> dict[UUID, bytes]: ...
    def delete(self, learner_id: UUID) -> None: ...
    def purge(self) -> bool: ...
    def __len__(self) -> int: ...


class SqlKeyStore:
    """The ``learner_keys`` table, in the bank's database."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def put(self, learner_id: UUID, wrapped: bytes, created_at: datetime) -> None:
        with self._db.transaction() as cur:
            cur.execute(
                "INSERT INTO learner_keys (learner_id, wrapped_key, created_at) VALUES (?, ?, ?)",
                (self._id(learner_id), wrapped, created_at.isoformat()),
            )

    def get(self, learner_id: UUID) -> bytes | None:
        with self._db.transaction() as cur:
            cur.execute(
                "SELECT wrapped_key FROM learner_keys WHERE learner_id = ?",
                (self._id(learner_id),),
            )
            row = cur.fetchone()
        return None if row is None else bytes(row[0])

    def get_many(self, learner_ids: list[UUID]) -> dict[UUID, bytes]:
        """The keys of many learners in one read (a batch of deposits opens each learner's
        personal data)."""
        found: dict[UUID, bytes] = {}
        with self._db.transaction(readonly=True) as cur:
            for marks, part in in_lists(learner_ids):
                cur.execute(
                    "SELECT learner_id, wrapped_key FROM learner_keys"  # noqa: S608
                    f" WHERE learner_id IN ({marks})",
                    [self._id(i) for i in part],
                )
                found.update((UUID(str(lid)), bytes(wrapped)) for lid, wrapped in cur.fetchall())
        return found

    def delete(self, learner_id: UUID) -> None:
        with self._db.transaction() as cur:
            cur.execute("DELETE FROM learner_keys WHERE learner_id = ?", (self._id(learner_id),))

    def purge(self) -> bool:
        """Deleted keys gone from the database's files too (False: not finished in time)."""
        return self._db.purge("learner_keys")

    def __len__(self) -> int:
        with self._db.transaction(readonly=True) as cur:
            cur.execute("SELECT COUNT(*) FROM learner_keys")
            return int(cur.fetchone()[0])

    def _id(self, learner_id: UUID) -> Any:
        return self._db.dialect.key(learner_id)


class MemoryKeyStore:
    """The in-memory bank's (tests of the application's behaviour): a dict."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes] = {}

    def put(self, learner_id: UUID, wrapped: bytes, created_at: datetime) -> None:
        self._keys[learner_id] = wrapped

    def get(self, learner_id: UUID) -> bytes | None:
        return self._keys.get(learner_id)

    def get_many(self, learner_ids: list[UUID]) -> dict[UUID, bytes]:
        return {i: self._keys[i] for i in learner_ids if i in self._keys}

    def delete(self, learner_id: UUID) -> None:
        self._keys.pop(learner_id, None)

    def purge(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self._keys)


class PersonalDataVault:
    def __init__(
        self, keys: KeyStore, master_secret: bytes, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.keys = keys
        self._clock = clock or (lambda: datetime.now(UTC))
        self._hash_key = _derive(master_secret, b"creditbank identity-document hash")
        self._wrap = AESGCM(_derive(master_secret, b"creditbank learner-key wrapping"))

    def identity_hash(self, country: str, document_number: str) -> str:
        """A person's identity key: the document's issuing country and normalised number."""
        return self._hash(f"identity:{country}:{normalize_document_number(document_number)}")

    def legacy_hashes(self, document_number: str) -> list[str]:
        """The keys generation 1 used (document type and number, no country), one per type the
        bank accepted then: a learner registered then is found by any of them."""
        number = normalize_document_number(document_number)
        return [self._hash(f"{kind}:{number}") for kind in sorted(LEGACY_DOCUMENT_TYPES)]

    def _hash(self, message: str) -> str:
        return hmac.new(self._hash_key, message.encode(), hashlib.sha256).hexdigest()

    def seal(self, learner_id: UUID, data: dict[str, Any]) -> str:
        """Creates the learner's key and returns the data sealed with it."""
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        self.keys.put(
            learner_id, nonce + self._wrap.encrypt(nonce, key, learner_id.bytes), self._clock()
        )
        nonce = os.urandom(12)
        plaintext = json.dumps(data, sort_keys=True, default=str).encode()
        sealed = nonce + AESGCM(key).encrypt(nonce, plaintext, learner_id.bytes)
        return base64.b64encode(sealed).decode()

    def open(self, learner_id: UUID, sealed: str | None) -> dict[str, Any] | None:
        """The learner's personal data, or None once erased."""
        if sealed is None:
            return None
        key = self._key(learner_id)
        return None if key is None else self._decrypt(learner_id, key, sealed)

    @staticmethod
    def _decrypt(learner_id: UUID, key: bytes, sealed: str) -> dict[str, Any]:
        raw = base64.b64decode(sealed)
        data = AESGCM(key).decrypt(raw[:12], raw[12:], learner_id.bytes)
        result: dict[str, Any] = json.loads(data)
        return result

    def open_many(self, sealed: dict[UUID, str | None]) -> dict[UUID, dict[str, Any] | None]:
        """Many learners' personal data, their keys read at once."""
        wrapped = self.keys.get_many([i for i, s in sealed.items() if s is not None])
        opened: dict[UUID, dict[str, Any] | None] = {}
        for learner_id, s in sealed.items():
            key = (
                None if learner_id not in wrapped else self._unwrap(learner_id, wrapped[learner_id])
            )
            opened[learner_id] = (
                None if s is None or key is None else self._decrypt(learner_id, key, s)
            )
        return opened

    def shred(self, *learner_ids: UUID) -> None:
        """Erases the keys for good: deleted, then purged from the database's files."""
        self.discard(*learner_ids)
        if not self.keys.purge():
            # The keys are deleted (the data is unreadable through the bank); their bytes may
            # linger in the files until the next erasure's purge succeeds.
            _log.warning(
                "erasure of %d key(s) not yet final in the database files (readers or locks "
                "held past the purge window); the next erasure completes it",
                len(learner_ids),
            )

    def discard(self, *learner_ids: UUID) -> None:
        """Deletes keys that never sealed stored data (a refused registration): no purge, so a
        stream of refused registrations costs no table rewrites."""
        for learner_id in learner_ids:
            self.keys.delete(learner_id)

    def _key(self, learner_id: UUID) -> bytes | None:
        wrapped = self.keys.get(learner_id)
        return None if wrapped is None else self._unwrap(learner_id, wrapped)

    def _unwrap(self, learner_id: UUID, wrapped: bytes) -> bytes:
        return self._wrap.decrypt(wrapped[:12], wrapped[12:], learner_id.bytes)
