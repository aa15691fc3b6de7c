"""scale_write: deposits per second with 1,000,000 learners in the event store ÷ with 10,000.

Two fresh PostgreSQL databases, each with the bench issuer and its recognition rule, are filled
with registered, identity-verified learners by ``bench/event_population.py`` (the bank's own
domain objects, vault and mapper, COPYed in bulk): 10,000 in one and 1,000,000 in the other
(quick mode: 2,000 and 20,000), five events each, then VACUUM ANALYZE as autovacuum would. The
large store's events table and its index are then many times the server's ``shared_buffers``.

A deposit is ``CreditBank.deposit`` as in ``write_app`` (the issuer and rule checks, the
credential index, the learner and account loads, recognition, one atomic save), each into a
different learner drawn at random from the whole population, so that the large store is read
and written where its pages are, not in a warm corner. Both banks are open in this process;
rounds alternate between the databases, with this process and both databases' backends on one
CPU (``bench.scale.one_cpu``, for the reason given there). The ratio is the large store's
deposits per second ÷ the small store's, each the median of its rounds.
"""

from __future__ import annotations

import random
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from uuid import UUID

from application.bank import CreditBank
from bench.event_population import Loaded, populate
from bench.report import Context
from bench.scale import database_size, one_cpu
from bench.synthetic import OutcomeFactory, create_issuer
from bench.timing import percentile
from bench.world import bank_settings, fresh_postgres, open_bank, temp_dir
from domain.values import OutcomeStatus

GOAL = 0.9
SMALL = 10_000


@dataclass
class Store:
    url: str
    loaded: Loaded
    bank: CreditBank
    factory: OutcomeFactory


def open_store(ctx: Context, stack: ExitStack, learners: int) -> Store:
    url = stack.enter_context(fresh_postgres())
    data_dir: Path = stack.enter_context(temp_dir())
    with open_bank(bank_settings(data_dir, url)) as bank:
        issuer = create_issuer(bank)
    loaded = populate(data_dir, url, learners)
    bank = stack.enter_context(open_bank(bank_settings(data_dir, url), ctx.es_env))
    return Store(url, loaded, bank, OutcomeFactory(issuer))


def deposit_round(store: Store, learners: list[str]) -> list[float]:
    times = []
    for learner in learners:
        started = time.perf_counter()
        store.factory.deposit(store.bank, UUID(learner))
        times.append(time.perf_counter() - started)
    return times


def run(ctx: Context) -> None:
    report = ctx.report
    with ExitStack() as stack:
        stores = {
            "small": open_store(ctx, stack, ctx.pick(2_000, SMALL)),
            "large": open_store(ctx, stack, ctx.pick(20_000, 1_000_000)),
        }
        for name, store in stores.items():
            report.raw(f"{name}_learners", len(store.loaded.learners), "learners")
            report.raw(f"{name}_events", store.loaded.events, "stored events")
            report.raw(f"{name}_populate", store.loaded.seconds, "s (bulk load, VACUUM ANALYZE)")
            report.raw(f"{name}_database_size", database_size(store.url), "MB")
        rng = random.Random(5)
        per_round = ctx.pick(40, 300)
        rounds = ctx.pick(2, 5)
        picks = {
            name: rng.sample(store.loaded.learners, per_round * (rounds + 1))
            for name, store in stores.items()
        }
        for name, store in stores.items():  # warm-up: connections, plans, the issuer's cache
            warm = picks[name][:per_round]
            deposit_round(store, warm)
            last = store.bank.account(UUID(warm[-1]))
            if all(o.status is not OutcomeStatus.RECOGNIZED for o in last.outcomes.values()):
                raise RuntimeError(f"a bench deposit into the {name} store was not recognised")
        times: dict[str, list[list[float]]] = {name: [] for name in stores}
        with one_cpu([s.url for s in stores.values()]) as cpu:
            report.raw(
                "cpu", cpu if cpu is not None else "not pinned", "this process and the backends"
            )
            for i in range(1, rounds + 1):
                order = list(stores) if i % 2 else list(stores)[::-1]
                for name in order:
                    share = picks[name][i * per_round : (i + 1) * per_round]
                    times[name].append(deposit_round(stores[name], share))
        rates = {}
        for name, runs in times.items():
            rates[name] = median(len(r) / sum(r) for r in runs)
            report.raw(f"{name}_deposits_per_s", rates[name], "deposits/s (median of rounds)")
            report.raw(
                f"{name}_rounds", " ".join(f"{len(r) / sum(r):.1f}" for r in runs), "deposits/s"
            )
            report.latencies(f"{name}_deposit", [t for r in runs for t in r])
        report.raw("deposits", per_round * rounds, "per store, each into another learner")
        report.raw(
            "p50_ratio",
            percentile([t for r in times["small"] for t in r], 50)
            / percentile([t for r in times["large"] for t in r], 50),
            "small p50 ÷ large p50",
        )
        report.ratio("scale_write", rates["large"] / rates["small"], ">=", GOAL)
