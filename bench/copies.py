"""``uv run python -m bench.copies``: CPU per deposit with the records' own deep copies (the
aggregate cache hands every command a copy of each aggregate it loads) against the generic deep
copy, in alternating rounds in one process (SQLite), into accounts that grow from 100 outcomes.

An A/B of one lever, not a benchmark with a goal: the records' ``__deepcopy__`` methods are
removed for the generic rounds and put back for the others."""

from __future__ import annotations

import itertools
import time
from typing import Any

from bench.synthetic import OutcomeFactory, create_issuer, register_learners
from bench.world import bank_settings, open_bank, temp_dir
from domain import credit_account, records

COPIERS: dict[type[Any], Any] = {
    cls: cls.__dict__["__deepcopy__"]
    for cls in (
        credit_account.CreditAccount,
        records.Outcome,
        records.Conversion,
        records.Redemption,
    )
}


def use_own_copies(on: bool) -> None:
    for cls, copier in COPIERS.items():
        if on:
            cls.__deepcopy__ = copier  # type: ignore[attr-defined]
        elif "__deepcopy__" in cls.__dict__:
            delattr(cls, "__deepcopy__")


def main(learners: int = 20, outcomes: int = 100, rounds: int = 6, per_round: int = 200) -> None:
    with temp_dir() as data_dir, open_bank(bank_settings(data_dir, None)) as bank:
        factory = OutcomeFactory(create_issuer(bank))
        ids = register_learners(bank, learners)
        for learner in ids:
            for _ in range(outcomes):
                factory.deposit(bank, learner)
        cycle = itertools.cycle(ids)
        try:
            for n in range(rounds):
                own = n % 2 == 0
                use_own_copies(own)
                for _ in range(20):  # the cache refilled with this round's copies
                    factory.deposit(bank, next(cycle))
                started = time.process_time()
                for _ in range(per_round):
                    factory.deposit(bank, next(cycle))
                cpu = (time.process_time() - started) / per_round * 1000
                print(f"{'own copies' if own else 'generic':<10} {cpu:6.2f} ms CPU a deposit")
        finally:
            use_own_copies(True)


if __name__ == "__main__":
    main()
