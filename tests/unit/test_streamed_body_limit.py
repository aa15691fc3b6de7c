"""Uploads stream past the 1 MiB request limit, up to their own: a Content-Length over it is
refused at once, a chunked body is cut off inside the handler reading it."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from api.middleware import BodyLimit, BodyTooLarge


def app() -> FastAPI:
    served = FastAPI()

    @served.post("/up")
    async def up(request: Request) -> JSONResponse:
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
        except BodyTooLarge as exc:
            return JSONResponse({"cut": str(exc)}, status_code=413)
        return JSONResponse({"size": size})

    @served.post("/other")
    async def other(request: Request) -> JSONResponse:
        return JSONResponse({"size": len(await request.body())})

    served.add_middleware(BodyLimit, limit=10, streamed={"/up": 100})
    return served


def chunks(n: int, size: int) -> Iterator[bytes]:
    for _ in range(n):
        yield b"x" * size


def test_a_streamed_path_takes_more_than_the_request_limit_up_to_its_own() -> None:
    client = TestClient(app())
    assert client.post("/up", content=b"x" * 100).json() == {"size": 100}
    assert client.post("/up", content=b"x" * 101).status_code == 413  # by Content-Length
    assert client.post("/up", content=chunks(5, 20)).json() == {"size": 100}
    cut = client.post("/up", content=chunks(6, 20))  # chunked: no length to refuse it by
    assert cut.status_code == 413
    assert "at most 100 bytes" in cut.json()["cut"]
    assert client.post("/other", content=b"x" * 11).status_code == 413
    assert client.post("/other", content=b"x" * 10).json() == {"size": 10}
