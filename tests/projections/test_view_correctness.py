"""Every view equals what the aggregates say, after any sequence of commands, however the runner
was stepped; catching up in small batches, in one batch and rebuilding give the same tables."""

from __future__ import annotations

import random
import time

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from application.bank import CreditBank
from projections.rebuild import rebuild
from projections.runner import EventSource, ProjectionRunner, all_views
from tests.projections.conftest import FreshBank
from tests.projections.support import (
    OPS,
    Clock,
    Rows,
    Workload,
    build_world,
    check_views,
    diff,
    dump,
    reset_views,
)

STEP_SIZES = (1, 2, 7, 50)
Op = tuple[str, int, int, int]
operations = st.lists(
    st.tuples(
        st.sampled_from((*OPS, "project", "project")),
        st.integers(0, 999),
        st.integers(0, 999),
        st.integers(0, 999),
    ),
    min_size=30,
    max_size=70,
)

# Every example starts from two learners (the first verified: rules recognise its deposits) and
# a few outcomes, one conversion and one redemption.
PRELUDE: list[Op] = [
    ("register", 0, 0, 0),
    ("register", 1, 1, 1),
    ("deposit", 0, 0, 0),
    ("deposit", 0, 1, 1),
    ("deposit", 0, 2, 2),
    ("deposit", 1, 0, 1),
    ("deposit", 0, 0, 5),
    ("deposit", 0, 1, 4),
    ("deposit", 3, 1, 3),
    ("convert", 0, 1, 0),
    ("redeem", 0, 1, 0),
]

# A learner with no credits registered before a qualification appears: the qualification's
# progress rows must include that learner (they used to be missing, then stale).
NO_HOLDINGS_THEN_QUALIFICATION: list[Op] = [
    ("register", 1, 1, 1),
    ("project", 0, 0, 0),
    ("qual_create", 3, 1, 0),
    ("project", 0, 0, 0),
    ("qual_amend", 2, 1, 1),
    ("register", 3, 0, 0),
    ("project", 1, 0, 0),
]
# Deposits, recognition, conversion, redemption, revocation and consents in one short story.
FULL_STORY: list[Op] = [
    ("register", 0, 0, 0),
    ("deposit", 0, 1, 0),
    ("deposit", 0, 1, 1),
    ("deposit", 0, 0, 2),
    ("project", 0, 0, 0),
    ("recognize_officer", 0, 2, 2),
    ("convert", 0, 0, 0),
    ("grant", 0, 0, 1),
    ("deposit", 0, 3, 0),
    ("project", 1, 0, 0),
    ("redeem", 0, 1, 0),
    ("revoke", 0, 0, 0),
    ("revoke_consent", 0, 0, 0),
    ("grant", 0, 1, 3),
    ("erase", 0, 0, 0),
]


def _catch_up(bank: CreditBank, batch_size: int) -> Rows:
    reset_views(bank.database)
    ProjectionRunner(EventSource(bank), bank.database, batch_size=batch_size).catch_up()
    return dump(bank.database)


def test_views_equal_the_aggregates_whatever_the_batching(
    fresh_bank: FreshBank, database_url: str | None
) -> None:
    examples = 12 if database_url is None else 8
    started = time.monotonic()
    seen: dict[str, int] = {}

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(ops=operations, rebuild_batch=st.sampled_from((3, 1000)))
    @example(ops=NO_HOLDINGS_THEN_QUALIFICATION, rebuild_batch=3)
    @example(ops=FULL_STORY, rebuild_batch=1000)
    def check(ops: list[Op], rebuild_batch: int) -> None:
        with fresh_bank() as (bank, _):
            world = build_world(bank)
            workload = Workload(bank, world, clock=bank.clock)
            for op in PRELUDE:
                workload.run(*op)
            source = EventSource(bank)
            runner = ProjectionRunner(source, bank.database)
            for op, a, b, c in ops:
                if op == "project":  # the runner steps along with the writes
                    runner.batch_size = STEP_SIZES[a % len(STEP_SIZES)]
                    for _ in range(1 + b % 3):
                        runner.run_once()
                else:
                    workload.run(op, a, b, c)
            runner.catch_up()
            stepped = check_views(bank)
            for op in workload.done:
                seen[op] = seen.get(op, 0) + workload.done[op]

            for batch_size in (1, 7, 100_000):
                problems = diff(stepped, _catch_up(bank, batch_size))
                assert not problems, f"batch size {batch_size} differs:\n{problems}"

            for view in all_views():
                rebuild(source, bank.database, view, batch_size=rebuild_batch)
            problems = diff(stepped, dump(bank.database))
            assert not problems, f"the rebuild differs:\n{problems}"
            # The rebuilt tables (renamed shadows) keep working for the runner and a 2nd rebuild.
            workload.run_random(random.Random(len(ops)), 15)
            runner.catch_up()
            for view in all_views():
                rebuild(source, bank.database, view, batch_size=rebuild_batch)
            check_views(bank)

    check()
    engine = "sqlite" if database_url is None else "postgres"
    print(
        f"\n[{engine}] view correctness: {examples}+2 examples in "
        f"{time.monotonic() - started:.1f}s; commands done {seen}"
    )


def test_rebuilding_one_view_while_the_others_lag(bank: CreditBank) -> None:
    """`projections rebuild VIEW` while the runner is behind. Progress reads qualifications and
    learners from the catalogue, which is then at an older position: progress rows used to stay
    stale for good (the runner skips progress, already ahead, while the others catch up)."""
    bank.clock = Clock()
    world = build_world(bank)
    workload = Workload(bank, world, clock=bank.clock)
    for i in range(4):
        workload.run("register", 0, i, i)
    source = EventSource(bank)
    lagging_at = source.head()
    workload.run("qual_create", 1, 0, 0)
    for i in range(8):
        workload.run("deposit", i, 0, i)
    workload.run("qual_amend", 2, 0, 1)
    workload.run("register", 3, 0, 0)
    assert workload.refused == {}, workload.refused
    for view in all_views():
        reset_views(bank.database)
        runner = ProjectionRunner(source, bank.database, batch_size=lagging_at)
        runner.run_once()
        assert runner.position == lagging_at
        rebuild(source, bank.database, view, batch_size=2)
        assert min(runner.positions().values()) == lagging_at  # the others still lag
        runner.catch_up()
        check_views(bank)
