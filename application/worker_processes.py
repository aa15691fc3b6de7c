"""What every worker process the bank spawns (canonicalisation, intake verification) does first:
end itself when the process that started it is gone.

A worker blocked on its task queue never sees the queue close (it holds the pipe's other end
itself), and one busy on a task reads nothing until done: after a SIGKILL or an OOM kill of the
server, each was left an orphan of init, ~120 MB apiece (four were found after each run of the
test suite before the intake pool had this).
"""

from __future__ import annotations

import os
import threading
import time

INTERVAL = 0.5  # seconds between looks at the parent


def exit_with(parent: int) -> None:
    """From now on this process exits once ``parent`` is no longer its parent."""
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    # A thread of its own: pure-Python work (pyld, the schema checks) yields the GIL every few
    # milliseconds, so this runs even while the worker is busy.
    while True:
        time.sleep(INTERVAL)
        if os.getppid() != parent:
            os._exit(1)
