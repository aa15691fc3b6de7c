"""How ``creditbank serve`` runs uvicorn: its timeouts and limits, and a guard uvicorn lacks.

uvicorn (0.54) times out idle keep-alive connections only: a connection that sends part of a
request line, or trickles headers, is held for ever (slowloris; 500 such sockets were held for
30 s+ and counting). ``GuardedHttpTools`` is uvicorn's own httptools protocol with two bounds on
reading a request's head: a deadline from the connection's start (or the next request's first
byte) to the end of its headers, and a cap on the bytes of the request line and headers (h11 has
``h11_max_incomplete_event_size``; httptools has nothing). Past either, the connection closes.
The byte cap counts both what the parser hands over (request line pieces, finished headers) and
the raw bytes received while the head is unfinished: httptools keeps a header that has not ended
(no CRLF yet) in its own buffer and calls back only at its end, so a single endless
``X-Big: aaaa…`` line would otherwise grow without bound (67 MB in 6 s was accepted, with the
event loop busy copying it).

What it does not bound: a slow body once the headers are in (the app's body limit caps its size,
not its pace), nor many fast clients; ``limit_concurrency`` answers 503 past a number of
connections or requests in flight, and a reverse proxy in front remains the place for per-client
connection limits.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from application.settings import Settings


class HeadTooLarge(Exception):
    """Raised from a parser callback: httptools stops, uvicorn answers 400 and closes."""


class GuardedHttpTools(HttpToolsProtocol):
    header_timeout: float = 10.0
    max_header_bytes: int = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # request line and finished headers, as the parser reports them
        self._head_raw = 0  # bytes received while the head was unfinished, chunk by chunk
        self._reading_head = True  # until the headers complete; again after each message

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is half-open too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        continuing = self._reading_head
        super().data_received(data)
        # A chunk that began and ended inside an unfinished head is all head: counted whole.
        # A chunk where a head began or ended holds other bytes too (a body, a previous
        # request): not counted, so a legitimate request is never refused for its body; the
        # parser's own callbacks (``_count``) still see its finished headers.
        if continuing and self._reading_head and not self.transport.is_closing():
            self._head_raw += len(data)
            if self._head_raw > self.max_header_bytes:
                self._disarm()
                self.send_400_response("Request header fields too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = self._head_raw = 0
        self._reading_head = True
        self._arm()  # the next request on a kept-alive connection (no-op for the first)

    def on_message_complete(self) -> None:
        self._reading_head = True  # what comes next is the next request's head
        super().on_message_complete()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_header_bytes:
            raise HeadTooLarge

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._reading_head = False
        super().on_headers_complete()


def guarded_protocol(settings: Settings) -> type[GuardedHttpTools]:
    """The protocol class with this deployment's bounds (uvicorn builds one per connection)."""
    return type(
        "GuardedHttpTools",
        (GuardedHttpTools,),
        {
            "header_timeout": settings.http_header_timeout,
            "max_header_bytes": settings.http_max_header_bytes,
        },
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """``uvicorn.run``'s keyword arguments for serve."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "http": guarded_protocol(settings),
        "timeout_keep_alive": settings.http_keep_alive_timeout,
        "limit_concurrency": settings.http_limit_concurrency,
        "timeout_graceful_shutdown": settings.http_graceful_shutdown,
        # Only if h11 were chosen instead: its own cap on a request's head.
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
    }
