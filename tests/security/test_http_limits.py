"""Finding 10, slow clients: ``creditbank serve`` (a real subprocess) closes connections that do
not finish their request head in time, or whose head is too large, and keeps answering others.

uvicorn alone times out idle keep-alive connections only; these sockets were held indefinitely.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from api.server import GuardedHttpTools
from tests.e2e.support import served, sqlite_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

HEADER_TIMEOUT = 2.0  # seconds, set for the test's server
SLACK = 4.0  # a loaded machine's scheduling, on top


def closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """True when the server closes ``sock`` (EOF or reset) before ``deadline``."""
    try:
        while True:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_half_open_connections_are_closed_while_others_are_served(tmp_path: Path) -> None:
    env = {**sqlite_env(tmp_path / "data"), "CREDITBANK_HTTP_HEADER_TIMEOUT": str(HEADER_TIMEOUT)}
    with served(env) as base:
        port = urlsplit(base).port
        assert port is not None
        started = time.monotonic()
        sockets = []
        for n in range(50):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            # half a request line, a partial header, or nothing at all
            sock.sendall([b"GET /heal", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ", b""][n % 3])
            sockets.append(sock)
        try:
            # a normal request is answered meanwhile, at once
            before = time.monotonic()
            assert httpx.get(base + "/healthz", timeout=5).status_code == 200
            assert time.monotonic() - before < 2
            deadline = started + HEADER_TIMEOUT + SLACK
            still_open = [s for s in sockets if not closed_by_server(s, deadline)]
            assert not still_open, f"{len(still_open)} of 50 half-open connections held"
            assert time.monotonic() - started >= HEADER_TIMEOUT * 0.9  # not refused at once
            assert httpx.get(base + "/healthz", timeout=5).status_code == 200
        finally:
            for sock in sockets:
                sock.close()


def test_a_trickled_head_is_cut_off_at_the_deadline(tmp_path: Path) -> None:
    """Slowloris: a byte every 0.2 s keeps the connection busy but never finishes the head."""
    env = {**sqlite_env(tmp_path / "data"), "CREDITBANK_HTTP_HEADER_TIMEOUT": str(HEADER_TIMEOUT)}
    with served(env) as base:
        port = urlsplit(base).port
        assert port is not None
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < HEADER_TIMEOUT + SLACK:
                try:
                    sock.sendall(
                        b"X-Slow-" + str(int(time.monotonic() * 1000)).encode() + b": 1\r\n"
                    )
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                if closed_by_server(sock, time.monotonic() + 0.2):
                    closed = True
                    break
            assert closed, "a trickling client kept its connection past the header deadline"


def test_an_oversized_head_is_refused(tmp_path: Path) -> None:
    with served(sqlite_env(tmp_path / "data")) as base:
        port = urlsplit(base).port
        assert port is not None
        headers = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(100))  # ~100 KB
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        # a head under the limit is served
        small = httpx.get(base + "/healthz", headers={"X-Pad": "a" * 8000}, timeout=5)
        assert small.status_code == 200


def test_an_endless_header_line_is_cut_off_at_the_byte_cap() -> None:
    """One header that never ends (``X-Big: aaaa…`` and no CRLF): httptools buffers it itself and
    calls back only when it ends, so the cap on finished headers never saw it; 67 MB went in, in
    6 s, the event loop busy copying. The raw bytes of an unfinished head are counted now.

    uvicorn in a thread with the guarded protocol and a 30 s header deadline (so a close within
    seconds is the byte cap's doing); the protocol subclass only records what the server read.
    """
    received = [0]

    class Recording(GuardedHttpTools):
        header_timeout = 30.0

        def data_received(self, data: bytes) -> None:
            received[0] += len(data)
            super().data_received(data)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, http=Recording, log_level="critical", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
            started = time.monotonic()
            try:
                for _ in range(16):  # 1 MiB, in 64 KiB pieces, never a CRLF
                    sock.sendall(b"a" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass  # closed while we were still sending: the point
            answer = b""
            try:
                sock.settimeout(5)
                while chunk := sock.recv(4096):
                    answer += chunk
            except (ConnectionResetError, TimeoutError):
                pass
            elapsed = time.monotonic() - started
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert elapsed < 3, f"the connection was held {elapsed:.1f} s"
        # the server read little more than the cap (asyncio reads up to 256 KiB at a time)
        assert received[0] <= GuardedHttpTools.max_header_bytes + 256 * 1024, received[0]
        assert httpx.get(base + "/", timeout=5).status_code == 200  # others still served
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
