"""Read-your-writes with the runner following and woken by each save: wait_for(position) returns
True every time and the view then holds the write. Latencies are printed, not asserted."""

from __future__ import annotations

import random
import time
from uuid import UUID

from application.bank import CreditBank
from projections import balances, transcript
from projections.runner import EventSource, ProjectionRunner
from tests.projections.support import Clock, Workload, build_world, percentile

COMMANDS = 200


def test_read_your_writes_without_polling_delay(bank: CreditBank) -> None:
    bank.clock = Clock()
    world = build_world(bank)
    workload = Workload(bank, world, tag="ryw", clock=bank.clock)
    runner = ProjectionRunner(EventSource(bank), bank.database)
    runner.catch_up()
    # A poll interval far above the latencies measured: only the wake-ups can explain them.
    runner.start(poll_interval=5.0)
    bank.on_saved.append(lambda _position: runner.wake())
    command_s: list[float] = []
    added_s: list[float] = []
    rng = random.Random(5)
    try:
        for i in range(COMMANDS):
            t0 = time.perf_counter()
            with bank.tracking() as saved:
                if i % 10 == 0:
                    workload.run("register", i, i, i)
                    learner = world.learners[-1]
                    outcome: UUID | None = None
                else:
                    learner = world.learners[-1]
                    before = len(world.outcomes[learner])
                    workload.run("deposit", len(world.learners) - 1, rng.randrange(1000), i)
                    assert len(world.outcomes[learner]) == before + 1, workload.refused
                    outcome = world.outcomes[learner][-1]
            t1 = time.perf_counter()
            assert runner.wait_for(saved.position, timeout=5.0), f"command {i} not seen"
            t2 = time.perf_counter()
            command_s.append(t1 - t0)
            added_s.append(t2 - t1)
            with bank.database.transaction(readonly=True) as cur:  # the write is visible now
                assert balances.read_balances(cur, [str(learner)])
                if outcome is not None:
                    assert str(outcome) in transcript.read_outcomes(cur, [str(outcome)])
    finally:
        runner.stop()
    assert runner.error is None

    def ms(values: list[float], p: float) -> str:
        return f"{percentile(values, p) * 1000:6.2f} ms"

    print(
        f"\n[{bank.database.kind}] read-your-writes over {COMMANDS} commands: "
        f"command p50 {ms(command_s, 50)} p99 {ms(command_s, 99)}; "
        f"added wait p50 {ms(added_s, 50)} p99 {ms(added_s, 99)}"
    )
