"""Start-up checks: what the bank depends on, each refused with one line an operator can act on.

The composition root runs them before it builds anything, so a missing dependency stops the
process with exit code 2 (the CLI's ``StartupError`` handler) instead of a traceback, or a server
that says it is ready and then blames every credential for the operator's problem.
"""

from __future__ import annotations

import hashlib
import hmac
import tempfile

from application.countries import parse_country
from application.database import Database
from application.settings import Settings, StartupError, redact
from application.standards import Standards
from domain.errors import DomainError
from domain.framework import preset

FINGERPRINT = "secret-fingerprint"
__all__ = ["StartupError", "check_database", "check_secret", "check_settings", "fingerprint"]


def check_settings(settings: Settings) -> None:
    """What needs no database: the framework preset, the data directory, the master secret,
    the standards."""
    try:
        preset(settings.framework)
    except DomainError as exc:
        raise StartupError(f"{exc.message} (CREDITBANK_FRAMEWORK)") from None
    try:
        parse_country(settings.country, "country")
    except DomainError as exc:
        raise StartupError(f"{exc.message} (CREDITBANK_COUNTRY)") from None
    _check_writable(settings)
    settings.master_secret()  # given where it must be (production, PostgreSQL), and readable
    try:
        Standards(settings.standards_dir).check()
    except DomainError as exc:
        raise StartupError(f"{exc.message} (CREDITBANK_STANDARDS_DIR)") from None


def _check_writable(settings: Settings) -> None:
    directory = settings.data_dir
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StartupError(
            f"the data directory {directory} is not writable: {reason} (CREDITBANK_DATA_DIR)"
        ) from None


def check_database(database: Database, url: str | None) -> None:
    """The database can be used (PostgreSQL answers and the database exists; a SQLite file's
    folder is made)."""
    problem = database.dialect.problem()
    if problem is not None:
        raise StartupError(f"{problem} (CREDITBANK_DATABASE_URL {redact(url)})")


def fingerprint(secret: bytes) -> str:
    """Names a master secret without revealing it (an HMAC of a fixed label)."""
    return hmac.new(secret, b"creditbank master-secret fingerprint", hashlib.sha256).hexdigest()


def check_secret(database: Database, secret: bytes, explicit: bool) -> None:
    """Every process on one database must hold the same master secret: a second one would hash
    identity documents and wrap learners' keys differently (duplicate accounts, unreadable
    personal data). The first process records the secret's fingerprint; others must match it."""
    mine = fingerprint(secret)
    with database.transaction() as cur:  # the first of several starting together wins
        cur.execute(
            "INSERT INTO bank_identity (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (FINGERPRINT, mine),
        )
        cur.execute("SELECT value FROM bank_identity WHERE name = ?", (FINGERPRINT,))
        recorded = str(cur.fetchone()[0])
    if not hmac.compare_digest(recorded, mine):
        hint = (
            "give every process the same CREDITBANK_SECRET_KEY (or CREDITBANK_SECRET_KEY_FILE)"
            if explicit
            else "this process generated its own secret.key; set CREDITBANK_SECRET_KEY to the "
            "secret the other processes use"
        )
        raise StartupError(
            f"the master secret differs from the one this database was set up with: {hint}"
        )
