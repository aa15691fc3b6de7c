"""A projection runner in a process of its own, for the crash tests:

    python -m tests.projections.runner_process BATCH_SIZE TAG

Builds the bank from the CREDITBANK_* environment, prints ``ready`` and then catches up in small
batches forever (the test SIGKILLs it at random moments). The views include the applied log, so
the parent can tell whether any notification was applied twice or never.

``child`` does the same in a process forked by multiprocessing's fork server, which has these
modules preloaded: a restart then takes milliseconds instead of a second of imports.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

from application.bootstrap import build_bank
from application.settings import Settings
from projections.runner import EventSource, ProjectionRunner
from tests.projections.support import views_with_log


def run(batch_size: int, tag: str, ready: Callable[[], None]) -> None:
    bank = build_bank(Settings())
    runner = ProjectionRunner(
        EventSource(bank), bank.database, views=views_with_log(tag), batch_size=batch_size
    )
    ready()
    while True:
        if runner.catch_up() == 0:
            time.sleep(0.005)


def child(env: dict[str, str], batch_size: int, tag: str, ready: Any) -> None:
    import faulthandler

    os.environ.update(env)
    faulthandler.dump_traceback_later(20, exit=True)  # a start that hangs says where

    def started() -> None:
        faulthandler.cancel_dump_traceback_later()
        ready.set()

    run(batch_size, tag, started)


def main() -> None:
    run(int(sys.argv[1]), sys.argv[2], lambda: print("ready", flush=True))


if __name__ == "__main__":
    main()
