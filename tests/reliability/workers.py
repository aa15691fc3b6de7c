"""Child-process entry points (multiprocessing "spawn"): each builds its own CreditBank with
application.bootstrap.build_bank on the shared database and secret, runs a shuffled plan of
overlapping commands on shared accounts, and reports what was acknowledged."""

from __future__ import annotations

import json
import random
import traceback
from collections import Counter
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.bank import CreditBank
from application.bootstrap import build_bank
from application.settings import Settings
from domain.errors import DomainError
from domain.values import OutcomeStatus
from tests.reliability.bankworld import direct_outcome


def _open(settings: dict[str, Any]) -> tuple[CreditBank, list[int]]:
    """A bank that counts the version conflicts its commands ran into (and decided again)."""
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


class Stress:
    def __init__(self, bank: CreditBank, world: dict[str, Any], worker: int, rng: random.Random):
        self.bank, self.world, self.worker, self.rng = bank, world, worker, rng
        self.learners = [UUID(lid) for lid, _ in world["learners"]]
        self.results: Counter[str] = Counter()
        self.acks: dict[str, list[Any]] = {
            "deposit": [],
            "recognize": [],
            "reject": [],
            "convert": [],
            "revoke": [],
            "redeem": [],
        }
        self.unexpected: list[str] = []

    def outcomes(self, learner: UUID, *statuses: OutcomeStatus, issuer: str | None = None) -> Any:
        account = self.bank.account(learner)
        return [
            o
            for o in account.outcomes.values()
            if (not statuses or o.status in statuses)
            and (issuer is None or str(o.issuer_id) == self.world["issuers"][issuer])
        ]

    def run(self, op: str, arg: Any) -> None:
        try:
            what = getattr(self, "op_" + op)(arg)
            self.results[f"{op}:{'OK' if what is not None else 'SKIP'}"] += 1
        except DomainError as exc:
            self.results[f"{op}:{exc.code}"] += 1
        except Exception as exc:
            self.results[f"{op}:UNEXPECTED"] += 1
            self.unexpected.append(f"{op}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")

    # Each op returns what it did (None: nothing to do) and records acknowledged commands.
    def op_deposit(self, arg: Any) -> Any:
        learner, jwt, credential_id = arg
        outcome_id = self.bank.deposit_credential(UUID(learner), jwt, actor=f"w{self.worker}")
        self.acks["deposit"].append((learner, str(outcome_id), credential_id))
        return outcome_id

    op_duplicate = op_deposit  # the same signed credential, pushed by every worker

    def op_cross(self, credential_id: str) -> Any:
        learner = self.rng.choice(self.learners)
        outcome = direct_outcome(self.world, "university", credential_id)
        outcome_id = self.bank.deposit(learner, outcome, credential_id.encode(), actor="cross")
        self.acks["deposit"].append((str(learner), str(outcome_id), credential_id))
        return outcome_id

    def op_recognize(self, _: Any) -> Any:
        learner = self.rng.choice(self.learners)
        candidates = self.outcomes(learner, OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED)
        if not candidates:
            candidates = self.outcomes(learner)  # refused: not recognisable
        if not candidates:
            return None
        o = self.rng.choice(candidates)
        self.bank.recognize_outcome(
            learner,
            o.id,
            f"officer:w{self.worker}",
            credits=Decimal(self.rng.choice(["0.5", "1.25", "2", "3.33"])),
            level=self.rng.choice([4, 5, 6]),
            category=self.rng.choice(["general", "major", "elective"]),
        )
        self.acks["recognize"].append((str(learner), str(o.id)))
        return o.id

    def op_reject(self, _: Any) -> Any:
        learner = self.rng.choice(self.learners)
        candidates = self.outcomes(learner, OutcomeStatus.DEPOSITED)
        if not candidates:
            return None
        o = self.rng.choice(candidates)
        self.bank.reject_outcome(learner, o.id, "not enough evidence", f"officer:w{self.worker}")
        self.acks["reject"].append((str(learner), str(o.id)))
        return o.id

    def op_convert(self, _: Any) -> Any:
        learner = self.rng.choice(self.learners)
        candidates = self.outcomes(learner, OutcomeStatus.RECOGNIZED, issuer="college")
        if not candidates:
            return None
        chosen = self.rng.sample(candidates, min(len(candidates), self.rng.choice([1, 2])))
        conversion = self.bank.convert_credits(
            learner, [o.id for o in chosen], UUID(self.world["conversion_rule"]), actor="learner"
        )
        self.acks["convert"].append((str(learner), str(conversion)))
        return conversion

    def op_revoke(self, _: Any) -> Any:
        learner = self.rng.choice(self.learners)
        candidates = self.outcomes(learner)
        if not candidates:
            return None
        o = self.rng.choice(candidates)
        self.bank.revoke_outcome(learner, o.id, "issued in error", f"officer:w{self.worker}")
        self.acks["revoke"].append((str(learner), str(o.id)))
        return o.id

    def op_redeem(self, _: Any) -> Any:
        learner = self.rng.choice(self.learners)
        redemption = self.bank.redeem_qualification(
            learner, UUID(self.world["qualification"]), actor="learner"
        )
        self.acks["redeem"].append((str(learner), str(redemption)))
        return redemption


def stress(
    settings: dict[str, Any],
    world: dict[str, Any],
    worker: int,
    plan: list[tuple[str, Any]],
    seed: int,
    start: Any,
    results: Any,
) -> None:
    """Runs ``plan`` (shuffled by ``seed``) after every worker is ready; reports a JSON dict."""
    report: dict[str, Any] = {"worker": worker}
    try:
        bank, conflicts = _open(settings)
        rng = random.Random(seed)
        s = Stress(bank, world, worker, rng)
        try:
            start.wait(timeout=120)
            for op, arg in plan:
                s.run(op, arg)
        finally:
            bank.close()
        report.update(
            results=dict(s.results), acks=s.acks, unexpected=s.unexpected, conflicts=conflicts[0]
        )
    except Exception as exc:  # report, never hang the parent
        report["crashed"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    results.put(json.dumps(report, default=str))
