"""Read-your-writes: a mutation answers only once the views include what it saved.

The waiter is woken by the projection runner's own commits (no polling loop on the event loop):
the runner tells us each new position from its thread, and we resolve the asyncio futures that
wait for it.
"""

from __future__ import annotations

import asyncio
import threading

from projections.runner import ProjectionRunner


class Freshness:
    def __init__(self, runner: ProjectionRunner, loop: asyncio.AbstractEventLoop) -> None:
        self._runner = runner
        self._loop = loop
        self._lock = threading.Lock()
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        runner.listeners.append(self._on_progress)

    async def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        if position <= 0 or self._runner.position >= position:
            return True
        future: asyncio.Future[None] = self._loop.create_future()
        with self._lock:
            self._waiters.append((position, future))
        if self._runner.position >= position:  # it moved while we registered
            self._on_progress(self._runner.position)
        self._runner.wake()
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return False
        return True

    def _on_progress(self, position: int) -> None:
        with self._lock:
            ready = [f for p, f in self._waiters if p <= position]
            self._waiters = [(p, f) for p, f in self._waiters if p > position]
        for future in ready:
            self._loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
