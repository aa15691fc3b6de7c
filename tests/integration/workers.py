"""Entry points for child processes (multiprocessing "spawn"): each builds its own CreditBank on
the shared database from the parent's settings and reports what happened through a queue."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.bank import CreditBank
from application.bootstrap import build_bank
from application.settings import Settings
from domain.errors import DomainError
from tests.builders import Issuer, deposit, outcome


def _open(settings: dict[str, Any]) -> tuple[CreditBank, list[int]]:
    """A bank that counts the version conflicts its commands ran into (and retried)."""
    bank = build_bank(Settings(**settings))
    conflicts = [0]
    save = bank.save

    def counting_save(*objs: Any, **kwargs: Any) -> Any:
        try:
            return save(*objs, **kwargs)
        except IntegrityError:
            conflicts[0] += 1
            raise

    bank.save = counting_save  # type: ignore[method-assign]
    return bank, conflicts


def _close(bank: CreditBank) -> None:
    bank.close()


def deposit_many(
    settings: dict[str, Any],
    worker: int,
    learner_id: UUID,
    issuer: Issuer,
    credits: list[str],
    start: Any,
    results: Any,
) -> None:
    """Deposits one credential per amount into one account; reports (worker, outcomes, errors,
    conflicts)."""
    outcomes: list[tuple[str, str]] = []
    errors: list[str] = []
    conflicts = [0]
    try:
        bank, conflicts = _open(settings)
        try:
            start.wait(timeout=60)
            for i, amount in enumerate(credits):
                credential = f"worker-{worker}-course-{i}"
                try:
                    deposit(bank, learner_id, outcome(issuer, credential, credits=amount))
                    outcomes.append((credential, amount))
                except DomainError as exc:
                    errors.append(f"{credential}: {exc.code} {exc}")
        finally:
            _close(bank)
    except Exception as exc:  # report, never hang the parent
        errors.append(f"{type(exc).__name__}: {exc}")
    results.put((worker, outcomes, errors, conflicts[0]))


def race_same_credential(
    settings: dict[str, Any],
    worker: int,
    learner_id: UUID,
    issuer: Issuer,
    rounds: int,
    barrier: Any,
    results: Any,
) -> None:
    """Each round, every worker pushes the same credential into its own learner's account at
    the same moment; reports (worker, [(round, "ACCEPTED" | error code)], conflicts)."""
    seen: list[tuple[int, str]] = []
    conflicts = [0]
    try:
        bank, conflicts = _open(settings)
        try:
            for r in range(rounds):
                barrier.wait(timeout=60)
                try:
                    deposit(bank, learner_id, outcome(issuer, f"race-{r}", credits="3"))
                    seen.append((r, "ACCEPTED"))
                except DomainError as exc:
                    seen.append((r, exc.code))
        finally:
            _close(bank)
    except Exception as exc:  # report, never hang the parent
        seen.append((-1, f"{type(exc).__name__}: {exc}"))
    results.put((worker, seen, conflicts[0]))


def build_at_once(settings: dict[str, Any], start: Any, results: Any) -> None:
    """Builds a bank (schema set-up included) at the same moment as the other workers; reports
    "ok" or the error."""
    try:
        start.wait(timeout=60)
        _close(build_bank(Settings(**settings)))
        results.put("ok")
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(f"{type(exc).__name__}: {exc}")


def migrate_and_hang(settings: dict[str, Any], ready: Any) -> None:
    """Starts migrating and stops in the middle, holding every lock a starter takes, until the
    parent kills this process."""
    import time

    from yoyo.backends.base import DatabaseBackend

    from application.bootstrap import database_for, migrate

    def hang(self: Any, migrations: Any, force: bool = False) -> None:
        ready.set()
        time.sleep(600)

    DatabaseBackend.apply_migrations = hang  # type: ignore[method-assign]
    migrate(database_for(Settings(**settings)))
