"""Catch-up throughput over a few thousand events, per engine and batch size (printed, not
asserted: the numbers go in the report)."""

from __future__ import annotations

import time

from projections.runner import EventSource, ProjectionRunner
from tests.projections.conftest import Populated
from tests.projections.support import check_views, reset_views

BATCH_SIZES = (10, 100, 500)


def test_catch_up_throughput(populated: Populated) -> None:
    bank = populated.bank
    lines = []
    for batch_size in BATCH_SIZES:
        reset_views(bank.database)
        runner = ProjectionRunner(EventSource(bank), bank.database, batch_size=batch_size)
        started = time.perf_counter()
        applied = runner.catch_up()
        elapsed = time.perf_counter() - started
        assert applied == populated.events
        lines.append(
            f"batch {batch_size:>4}: {applied} events in {elapsed:5.2f}s = "
            f"{applied / elapsed:7.0f} events/s"
        )
    check_views(bank)
    print(f"\n[{populated.engine}] catch-up throughput (all 7 views):\n  " + "\n  ".join(lines))
