"""No N+1: a transcript page with its issuers costs the same number of SQL statements for 5 rows
as for 50; and what a 50-row transcript page costs in time (p50/p99, printed with ``-s``).

Statements are counted by wrapping the read-model cursors (``_SqliteCursor`` and ``_PgCursor`` of
application/dialects) in the served process, counting only the request threads (the projection
runner's own polling and writing runs in threads named ``projection-*``).
"""

from __future__ import annotations

import gc
import statistics
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import GEN0_THRESHOLD, create_app
from application import canonicalisation
from application.dialects import postgres, sqlite
from tests.api.conftest import GraphQL, LearnerRef, Served, World
from tests.security.test_canonicalisation import pebble_workers

ROWS = 50
TRANSCRIPT = """query($id: ID!, $first: Int!) { learner(id: $id) { account {
  transcript(first: $first) { totalCount
    edges { cursor node { id title credits status issuer { id name kind issuerUri } } }
    pageInfo { hasNextPage endCursor } } } } }"""


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []
        self._lock = threading.Lock()
        self.enabled = False

    def record(self, sql: str) -> None:
        name = threading.current_thread().name
        if not self.enabled or name.startswith(("projection", "audit", "intake")):
            return
        with self._lock:
            self.count += 1
            self.statements.append(sql.split()[0] + " " + " ".join(sql.split()[1:6]))

    def measure(self, run: Any) -> int:
        self.count, self.statements, self.enabled = 0, [], True
        try:
            run()
        finally:
            self.enabled = False
        return self.count


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> StatementCounter:
    counting = StatementCounter()
    for cls in (sqlite._SqliteCursor, postgres._PgCursor):
        original = cls.execute

        def execute(self: Any, sql: str, params: Any = (), _original: Any = original) -> Any:
            counting.record(sql)
            return _original(self, sql, params)

        monkeypatch.setattr(cls, "execute", execute)
    return counting


@pytest.fixture(scope="module")
def busy(world: World) -> LearnerRef:
    """A learner with 50 outcomes from three issuers."""
    learner = world.learner()
    issuers = (world.university, world.college, world.mooc)
    for i in range(ROWS):
        world.deposit(learner, issuers[i % 3], title=f"Course {i:02d}", credits=1 + i % 4)
    return learner


def test_transcript_page_statements_do_not_grow_with_the_page(
    gql: GraphQL, busy: LearnerRef, counter: StatementCounter, served: Any
) -> None:
    def page(first: int) -> Any:
        return gql(TRANSCRIPT, {"id": busy.id, "first": first}, busy.token).ok()

    page(5)  # warm up connections and pools
    small = counter.measure(lambda: page(5))
    small_statements = list(counter.statements)
    large = counter.measure(lambda: page(ROWS))
    result = page(ROWS)["learner"]["account"]["transcript"]
    assert result["totalCount"] == ROWS
    assert len(result["edges"]) == ROWS
    assert len({e["node"]["issuer"]["id"] for e in result["edges"]}) == 3
    print(
        f"\n[{served.engine}] SQL statements for a transcript page with issuers: "
        f"{small} for 5 rows, {large} for {ROWS} rows: {small_statements}"
    )
    assert large == small, (small_statements, counter.statements)
    assert 0 < small <= 6, small_statements


def test_transcript_page_latency(gql: GraphQL, busy: LearnerRef, served: Any) -> None:
    timings = []
    for _ in range(5):
        gql(TRANSCRIPT, {"id": busy.id, "first": ROWS}, busy.token).ok()
    for _ in range(200):
        start = time.perf_counter()
        gql(TRANSCRIPT, {"id": busy.id, "first": ROWS}, busy.token).ok()
        timings.append(time.perf_counter() - start)
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p99 = timings[int(len(timings) * 0.99) - 1] * 1000
    print(
        f"\n[{served.engine}] transcript(first: {ROWS}) with issuers over HTTP: "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(timings)} requests)"
    )
    assert p99 < 1000, f"p99 {p99:.0f} ms"


ISSUER_SELECTIONS = {
    "plain": ("edges { node { title issuer { id name } } }", ""),
    "fragment": ("edges { node { title ...I } }", "fragment I on Outcome { issuer { id name } }"),
    "inline, aliased": (
        "edges { ... on OutcomeEdge { node { title by: issuer { id name } } } }",
        "",
    ),
    "skipped": ("edges { node { title issuer @include(if: false) { id name } } }", ""),
}


@pytest.mark.parametrize("form", ISSUER_SELECTIONS)
def test_each_row_has_its_own_issuer_however_it_is_asked(
    gql: GraphQL, world: World, busy: LearnerRef, form: str
) -> None:
    """The page reads its issuers with its rows (CreditAccount.transcript) when the selection
    reaches them, else each row loads its own: either way, each row's own issuer."""
    selection, fragment = ISSUER_SELECTIONS[form]
    query = (
        "query($id: ID!) { learner(id: $id) { account { transcript(first: 50) { "
        f"{selection} }} }} }} }} {fragment}"
    )
    page = gql(query, {"id": busy.id}, busy.token).ok()["learner"]["account"]["transcript"]
    issuers = (world.university, world.college, world.mooc)
    shown = {}
    for edge in page["edges"]:
        node = edge["node"]
        shown[node["title"]] = node.get("by", node.get("issuer"))
    assert len(shown) == ROWS
    for i in range(ROWS):
        expected = issuers[i % 3]
        got = shown[f"Course {i:02d}"]
        if form == "skipped":
            assert got is None
        else:
            assert got == {"id": expected.id, "name": expected.name}


def test_only_the_serving_process_settles_its_heap_and_starts_its_workers(served: Served) -> None:
    """``creditbank serve`` freezes the start-up heap and collects young objects less often
    once ready (api.app.settle_heap), and starts the canonicalisation workers before the first
    credential needs them; an app built in tests leaves the collector alone and starts workers
    only when a credential needs them."""
    if served.engine != "sqlite":
        pytest.skip("storage plays no part: one engine")
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    canonicalisation.shutdown()
    try:
        with TestClient(create_app(served.settings)) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() == frozen
            assert gc.get_threshold() == threshold
            assert not pebble_workers()
        with TestClient(create_app(served.settings, serving=True)) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() > frozen
            assert gc.get_threshold()[0] == GEN0_THRESHOLD
            assert len(pebble_workers()) == canonicalisation.shared.workers
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        canonicalisation.shutdown()
