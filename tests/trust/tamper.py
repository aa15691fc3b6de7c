"""A world with several accounts and many events, and a signed checkpoint over it: what the tamper
tests edit behind the bank's back."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from application.audit import AuditReport, sign_checkpoint, verify
from application.signing import BankKeys
from tests.builders import Learner, World, outcome_for


@dataclass
class Ledger:
    world: World
    keys: BankKeys
    learners: list[Learner]

    def account_id(self, learner: Learner) -> UUID:
        return self.world.bank.account_id(learner.id)

    def checkpoint(self) -> str:
        bank = self.world.bank
        return sign_checkpoint(bank.recorder, bank.database, self.keys, bank.now())

    def audit(self) -> AuditReport:
        bank = self.world.bank
        return verify(bank.recorder, bank.database, self.keys)


def build_ledger(world: World, accounts: int = 4, deposits: int = 6) -> Ledger:
    """``accounts`` learners, each with Opened, ``deposits`` deposits and every other one
    recognised by an officer: 1 + deposits + (deposits + 1) // 2 events an account."""
    uni = world.issuer("Zhejiang University")
    learners = [world.learner(verified=True) for _ in range(accounts)]
    for n, learner in enumerate(learners):
        for i in range(deposits):
            outcome_id = world.bank.deposit(
                learner.id,
                outcome_for(uni, f"zju-{n}-{i}", credits=str(2 + i % 3)),
                f"credential zju-{n}-{i}".encode(),
            )
            if i % 2 == 0:
                world.bank.recognize_outcome(
                    learner.id,
                    outcome_id,
                    "officer-1",
                    credits=Decimal(2 + i % 3),
                    level=6,
                    category="major",
                )
    keys = BankKeys.load_or_create(world.settings.data_dir)
    return Ledger(world, keys, learners)
