"""Rebuilding a view while readers read it: they see the whole view every time (never an empty,
partial or missing table), before, during and after the swap."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from projections import balances, enterprise, transcript
from projections.base import Cursor
from projections.rebuild import rebuild
from projections.runner import EventSource, ProjectionRunner, views_named
from tests.projections.conftest import Populated

ROUNDS = 3


def _balances_totals(cur: Cursor) -> tuple[Any, ...]:
    cur.execute(
        "SELECT count(*), sum(total_cc), sum(available_cc), sum(redeemed_cc) FROM account_balances"
    )
    return tuple(int(v or 0) for v in cur.fetchone())


def _breakdown_then_balances(cur: Cursor) -> tuple[Any, ...]:
    """Both tables of the view in one transaction, in the order opposite to the swap's."""
    cur.execute("SELECT count(*), sum(credits_cc) FROM balance_breakdown")
    first = tuple(int(v or 0) for v in cur.fetchone())
    return first + _balances_totals(cur)


def test_readers_never_see_a_partial_view_during_a_rebuild(populated: Populated) -> None:
    bank = populated.bank
    source = EventSource(bank)
    ProjectionRunner(source, bank.database).catch_up()
    with bank.database.transaction() as cur:
        cur.execute(
            "SELECT learner_id FROM transcript_entries GROUP BY learner_id "
            "ORDER BY count(*) DESC, learner_id LIMIT 3"
        )
        learners = [str(r[0]) for r in cur.fetchall()]
    assert len(learners) == 3

    def learner_reads(cur: Cursor) -> Any:
        return (
            [transcript.count(cur, lid) for lid in learners],
            [transcript.read_page(cur, lid, after_seq=0, limit=1000) for lid in learners],
            balances.read_balances(cur, learners),
        )

    def conversions(cur: Cursor) -> Any:
        cur.execute("SELECT count(*), sum(credits_cc) FROM account_conversions")
        return tuple(cur.fetchone())

    with bank.database.transaction() as cur:
        cur.execute(
            "SELECT organization_id, learner_id FROM enterprise_consents "
            "ORDER BY organization_id, learner_id"
        )
        consents = [(str(o), str(lid)) for o, lid in cur.fetchall()]
    assert consents
    today = "2000-01-01"  # every consent is in force

    def employees(cur: Cursor) -> Any:
        """The API's enterprise reads; one joins training to consents (the swap's reverse)."""
        orgs = sorted({o for o, _ in consents})
        return (
            [enterprise.employees_page(cur, o, today, "", 500) for o in orgs],
            [enterprise.training_by_period(cur, o, lid, today) for o, lid in consents],
        )

    queries: dict[str, Callable[[Cursor], Any]] = {
        "employees": employees,
        "balances": _balances_totals,
        "breakdown+balances": _breakdown_then_balances,
        "learners": learner_reads,
        "conversions": conversions,
    }
    expected = {}
    with bank.database.transaction(readonly=True) as cur:
        for name, query in queries.items():
            expected[name] = query(cur)
    assert expected["balances"][0] > 100
    assert expected["balances"][1] > 0

    done = threading.Event()
    reads: dict[str, int] = dict.fromkeys(queries, 0)
    wrong: list[str] = []
    errors: list[str] = []

    def reader(name: str) -> None:
        query = queries[name]
        while not done.is_set():
            try:
                with bank.database.transaction(readonly=True) as cur:
                    got = query(cur)
            except Exception as exc:
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            reads[name] += 1
            if got != expected[name]:
                wrong.append(f"{name}: {str(got)[:300]} != {str(expected[name])[:300]}")

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in queries]
    for t in threads:
        t.start()
    started = time.monotonic()
    swaps = 0
    try:
        for _ in range(ROUNDS):
            for view in views_named(["balances", "transcript", "enterprise"]):
                rebuild(source, bank.database, view, batch_size=200)
                swaps += 1
    finally:
        done.set()
        for t in threads:
            t.join(30)
    elapsed = time.monotonic() - started
    assert not errors, f"{len(errors)} reads failed during rebuilds, e.g. {errors[:3]}"
    assert not wrong, f"{len(wrong)} reads saw a partial view, e.g. {wrong[:3]}"
    assert all(n > 0 for n in reads.values()), reads
    with bank.database.transaction(readonly=True) as cur:
        assert {name: query(cur) for name, query in queries.items()} == expected
    print(f"\n[{populated.engine}] {swaps} rebuilds in {elapsed:.1f}s while reading: {reads}")
