"""Entry points for child processes (multiprocessing "spawn"): each builds its own CreditBank on
the parent's database from the parent's settings and reports the outcome through a queue."""

from __future__ import annotations

from typing import Any

from application.bootstrap import build_bank
from application.settings import Settings
from domain.errors import DomainError


def deposit_once(
    settings: dict[str, Any], learner_id: str, token: str, barrier: Any, results: Any
) -> None:
    from uuid import UUID

    bank = build_bank(Settings(**settings))
    try:
        barrier.wait(timeout=60)
        try:
            outcome_id = bank.deposit_credential(UUID(learner_id), token)
        except DomainError as exc:
            results.put(("refused", exc.code))
        else:
            results.put(("accepted", str(outcome_id)))
    except BaseException as exc:  # report, never hang the parent
        results.put(("crashed", repr(exc)))
    finally:
        bank.close()
