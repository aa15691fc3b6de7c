"""The composition root: settings in, the bank's services out, each built once and wired here.

The app (api/app.py), the command line (api/cli) and the tests all start from ``bootstrap``. It
checks what the bank depends on first (``StartupError``: one line for the operator), then
builds the database (its Dialect), runs migrations, claims the master secret, and builds the
bank, its signing keys, its exporter and the projection runner, all on one clock. It is the one
module that wires adapters (the engines, migrations/, projections/) to the application.
"""

from __future__ import annotations

from dataclasses import dataclass

from application import canonicalisation
from application.bank import CreditBank
from application.base import Clock, system_clock
from application.countries import parse_country
from application.database import Database
from application.dialects import MEMORY_URL
from application.export import Exporter
from application.identity_attempts import IdentityGuard, SqlFailureLog
from application.preflight import check_database, check_secret, check_settings
from application.settings import Settings
from application.signing import BankKeys
from application.standards import Standards
from application.vault import MemoryKeyStore, PersonalDataVault, SqlKeyStore
from application.verification import DepositVerifier
from domain.assessment import Calendar
from domain.framework import preset
from migrations import apply as apply_migrations
from projections.runner import EventSource, ProjectionRunner


@dataclass
class Services:
    settings: Settings
    bank: CreditBank
    keys: BankKeys
    exporter: Exporter
    runner: ProjectionRunner

    def close(self) -> None:
        """Stops what runs and closes what was opened (the bank closes its database)."""
        self.runner.stop()
        self.bank.close()
        canonicalisation.shutdown()  # the workers canonicalising credentials (started lazily)


def database_for(settings: Settings) -> Database:
    if settings.database_url:
        return Database(settings.database_url, pool_size=settings.postgres_pool_size)
    return Database.for_sqlite(str(settings.sqlite_path))


def migrate(database: Database) -> list[str]:
    dialect = database.dialect
    return apply_migrations(dialect.migrations, dialect.migration_uri(), dialect.setup_lock())


def bootstrap(
    settings: Settings, *, verifier: DepositVerifier | None = None, clock: Clock | None = None
) -> Services:
    check_settings(settings)
    canonicalisation.configure(settings.canonicalisation_timeout)
    database = database_for(settings)
    check_database(database, settings.database_url)
    migrate(database)
    secret = settings.master_secret()
    check_secret(database, secret, explicit=settings.secret_is_explicit)
    clock = clock or system_clock
    bank = CreditBank(
        database=database,
        framework=preset(settings.framework),
        vault=PersonalDataVault(SqlKeyStore(database), secret, clock),
        verifier=verifier,
        clock=clock,
        snapshot_interval=settings.snapshot_interval,
        aggregate_cache_size=settings.aggregate_cache_size,
        standards=Standards(settings.standards_dir),
        country=parse_country(settings.country, "country"),
        four_eyes_credits=settings.four_eyes_credits,
        calendar=Calendar.parse(settings.term_starts) if settings.term_starts else None,
        level_share=settings.level_share,
        identity_guard=IdentityGuard(
            SqlFailureLog(database),
            settings.identity_failures_per_hour,
            settings.identity_failures_per_learner,
        ),
    )
    keys = BankKeys.load_or_create(settings.data_dir, settings.export_algorithm)
    return Services(
        settings=settings,
        bank=bank,
        keys=keys,
        exporter=Exporter(bank, keys, settings.base_url),
        runner=ProjectionRunner(EventSource(bank), database),
    )


def build_bank(settings: Settings, verifier: DepositVerifier | None = None) -> CreditBank:
    """The bank alone, from the same root (tools and tests that need nothing else)."""
    return bootstrap(settings, verifier=verifier).bank


def in_memory(
    framework: str = "eqf", clock: Clock | None = None, secret: bytes = b"in-memory bank"
) -> CreditBank:
    """The bank on the library's in-memory (POPO) recorders, its learners' keys in a dict: the
    application's behaviour in milliseconds, for the service tests. No read models: what only
    the views answer (GraphQL reads) is tested on the engines."""
    database = Database(MEMORY_URL)
    clock = clock or system_clock
    return CreditBank(
        database=database,
        framework=preset(framework),
        vault=PersonalDataVault(MemoryKeyStore(), secret, clock),
        clock=clock,
        snapshot_interval=5,
    )
