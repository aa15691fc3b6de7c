"""The bare HTTP baseline of the API benchmarks: a tiny FastAPI app on the bank's server stack.

Same stack as ``creditbank serve``: one uvicorn process (``uvicorn.run(app, log_config=None)``
after ``api.observability.configure_logging()``, so uvicorn's access log goes through the same
JSON handler), FastAPI, synchronous work in the threadpool, a psycopg pool of the same size on the
same database. Each request does the least it can:

- ``POST /insert`` (JSON ``{"credential": ...}``): one INSERT + COMMIT of the posted bytes into
  the raw table (``bench.raw.RAW_TABLE``) — what ``depositCredential`` is compared with;
- ``GET /transcript/{learner_id}``: the 50 rows of a transcript page and their issuer's name from
  one SELECT (``transcript_entries`` joined with ``catalogue_entries``), answered as JSON in the
  same shape as the GraphQL response — what the transcript query is compared with.

``python -m bench.bare_app --port P`` with ``BENCH_BARE_DATABASE_URL`` (a PostgreSQL URL).
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool

# Not imported from bench.raw: that would load the whole bank into the baseline's process.
RAW_TABLE = "bench_raw_inserts"
INSERT_SQL = (
    f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
    "VALUES (%s, %s, %s, %s)"
)
PAGE = 50
TRANSCRIPT_SQL = (
    "SELECT t.title, t.credits_cc, c.name FROM transcript_entries t "
    "JOIN catalogue_entries c ON c.entry_id = t.issuer_id "
    "WHERE t.learner_id = %s ORDER BY t.seq LIMIT %s"
)
POOL_SIZE = 5  # the bank's default postgres_pool_size


def transcript_json(rows: list[tuple[str, int, str]]) -> dict[str, Any]:
    """The rows in the shape of the GraphQL answer (credits as a decimal string)."""
    edges = [
        {"node": {"title": title, "credits": str(Decimal(cc).scaleb(-2)), "issuer": {"name": name}}}
        for title, cc, name in rows
    ]
    return {"data": {"learner": {"account": {"transcript": {"edges": edges}}}}}


def create_app(database_url: str, pool_size: int = POOL_SIZE) -> FastAPI:
    pool = ConnectionPool(database_url, min_size=1, max_size=pool_size, open=False)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool.open(wait=True)
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(title="bench bare baseline", lifespan=lifespan)

    @app.post("/insert")
    async def insert(request: Request) -> JSONResponse:
        body = await request.json()
        state = str(body.get("credential", "")).encode()
        await _in_thread(_insert, pool, state)
        return JSONResponse({"ok": True})

    @app.get("/transcript/{learner_id}")
    async def transcript(learner_id: str) -> JSONResponse:
        rows = await _in_thread(_select, pool, learner_id)
        return JSONResponse(transcript_json(rows))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _in_thread(fn: Any, *args: Any) -> Any:
    # Like the bank's GraphQL context: synchronous database work in the threadpool.
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _insert(pool: ConnectionPool, state: bytes) -> None:
    with pool.connection() as conn:  # commits when the block ends
        conn.execute(INSERT_SQL, (uuid.uuid4(), 1, "bench:Inserted", state), prepare=True)


def _select(pool: ConnectionPool, learner_id: str) -> list[tuple[str, int, str]]:
    with pool.connection() as conn:
        return list(conn.execute(TRANSCRIPT_SQL, (learner_id, PAGE), prepare=True).fetchall())


def main() -> None:
    import uvicorn

    from api.observability import configure_logging

    parser = argparse.ArgumentParser(prog="python -m bench.bare_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    configure_logging()
    app = create_app(os.environ["BENCH_BARE_DATABASE_URL"])
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
