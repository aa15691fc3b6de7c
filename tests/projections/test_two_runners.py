"""Two runners on one database (each with its own bank, as two processes would have) while
commands keep arriving: every batch is applied by exactly one of them."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

from application.bank import CreditBank
from application.bootstrap import build_bank
from application.settings import Settings
from projections.rebuild import rebuild
from projections.runner import EventSource, ProjectionRunner, all_views
from tests.projections.support import (
    Clock,
    Workload,
    applied_log,
    build_world,
    check_views,
    create_applied_log,
    diff,
    dump,
    notification_ids,
    views_with_log,
)

WRITE_SECONDS = 3.0


def test_two_runners_never_apply_a_batch_twice(bank: CreditBank, settings: Settings) -> None:
    bank.clock = Clock()
    create_applied_log(bank.database)
    world = build_world(bank)
    workload = Workload(bank, world, tag="tw", clock=bank.clock)
    for i in range(6):
        workload.run("register", i, i, i)
    other = build_bank(settings)  # the second runner's own bank, pool and connections
    runners = [
        ProjectionRunner(
            EventSource(bank), bank.database, views=views_with_log("r1"), batch_size=3
        ),
        ProjectionRunner(
            EventSource(other), other.database, views=views_with_log("r2"), batch_size=4
        ),
    ]
    lost = [0, 0]  # batches one runner claimed while the other was applying them
    for i, r in enumerate(runners):
        claim = r._claim

        def counting(cur: Any, group: Any, low: int, i: int = i, claim: Any = claim) -> bool:
            won = bool(claim(cur, group, low))
            lost[i] += not won
            return won

        r._claim = counting  # type: ignore[method-assign]
    writing = threading.Event()
    writing.set()
    errors: list[BaseException] = []
    applied = [0, 0]
    lag_after = [-1, -1]

    def run(i: int) -> None:
        try:
            while writing.is_set():
                applied[i] += runners[i].catch_up()
                time.sleep(0.001)
            # Writers have stopped: catch_up returns only once this runner is up to date, even
            # when the other one applied the last batches.
            applied[i] += runners[i].catch_up()
            lag_after[i] = runners[i].lag()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(2)]
    try:
        for t in threads:
            t.start()
        rng = random.Random(3)
        deadline = time.monotonic() + WRITE_SECONDS
        while time.monotonic() < deadline and not errors:
            workload.run_random(rng, 3)
        writing.clear()
        for t in threads:
            t.join(120)
    finally:
        other.close()
    assert not errors, errors
    assert lag_after == [0, 0], f"catch_up returned before it was up to date: lag {lag_after}"

    ids = [nid for nid, _, _ in notification_ids(bank)]
    counts = Counter(applied_log(bank.database))
    assert not [n for n, c in counts.items() if c > 1], "a batch was applied twice"
    assert sorted(counts) == ids, "a notification was skipped"
    assert sum(applied) == len(ids)
    with bank.database.transaction() as cur:
        cur.execute("SELECT runner, count(*) FROM applied_log GROUP BY runner")
        by_runner = dict(cur.fetchall())
    live = check_views(bank)
    for view in all_views():
        rebuild(EventSource(bank), bank.database, view)
    problems = diff(live, dump(bank.database))
    assert not problems, f"the views differ from a clean rebuild:\n{problems}"
    print(
        f"\n[{bank.database.kind}] two runners applied {len(ids)} events: {by_runner}; "
        f"claims lost to the other runner: {lost}"
    )
