"""The composition root: settings in, a ready CreditBank out (database, migrations, vault)."""

from __future__ import annotations

from application.bank import CreditBank
from application.database import Database
from application.preflight import check_database, check_secret, check_settings
from application.settings import Settings
from application.standards import Standards
from application.vault import PersonalDataVault
from application.verification import DepositVerifier
from domain.framework import preset
from migrations import apply as apply_migrations
from migrations import backend_uri


def database_for(settings: Settings) -> Database:
    if settings.database_url:
        return Database(settings.database_url, pool_size=settings.postgres_pool_size)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database.for_sqlite(str(settings.sqlite_path))


def migration_uri(database: Database) -> str:
    if database.kind == "sqlite":
        return backend_uri("sqlite", path=database.path)
    return backend_uri("postgres", pg=database.pg)


def migrate(database: Database) -> list[str]:
    return apply_migrations(database.kind, migration_uri(database))


def build_bank(settings: Settings, verifier: DepositVerifier | None = None) -> CreditBank:
    """Checks what the bank depends on (``StartupError``: one line for the operator), then
    builds it: database, migrations, the master secret every process shares, the bank."""
    check_settings(settings)
    database = database_for(settings)
    check_database(database, settings.database_url)
    migrate(database)
    secret = settings.master_secret()
    check_secret(database, secret, explicit=settings.secret_key is not None)
    return CreditBank(
        database=database,
        framework=preset(settings.framework),
        vault=PersonalDataVault(database, secret),
        verifier=verifier,
        snapshot_interval=settings.snapshot_interval,
        aggregate_cache_size=settings.aggregate_cache_size,
        standards=Standards(settings.standards_dir),
    )
