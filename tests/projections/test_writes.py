"""The views' buffered writes (projections.base.Writes) leave exactly the rows that the same
operations, executed one statement at a time, would leave: on both engines, with repeated keys,
repeated owners, changing column sets and reads in between."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.bank import CreditBank
from application.dialects import MAX_PARAMETERS
from projections.base import Cursor, Writes

LEARNERS = ["a", "b", "c"]

upserts = st.tuples(
    st.just("upsert"),
    st.sampled_from(LEARNERS),
    st.integers(1, 3),
    st.text("xyz", max_size=3),
    st.booleans(),  # keep event_type on conflict
)
replacements = st.tuples(
    st.just("replace"),
    st.sampled_from(LEARNERS),
    st.lists(
        st.tuples(st.sampled_from(["level", "kind"]), st.sampled_from(["1", "2"]), st.integers()),
        max_size=3,
        unique_by=lambda r: (r[0], r[1]),
    ),
)
reads = st.tuples(st.just("read"))
operations = st.lists(st.one_of(upserts, replacements, reads), max_size=25)


def _apply(writes: Writes, ops: list[tuple[Any, ...]], at_once: bool) -> list[Any]:
    seen: list[Any] = []
    for op in ops:
        if op[0] == "upsert":
            _, learner, version, at, keep = op
            row = {"learner_id": learner, "version": version, "at": at, "event_type": at + "!"}
            writes.upsert(
                "account_time_index",
                ("learner_id", "version"),
                row,
                keep=("event_type",) if keep else (),
            )
        elif op[0] == "replace":
            _, learner, rows = op
            writes.replace(
                "balance_breakdown",
                "learner_id",
                learner,
                [
                    {"learner_id": learner, "dimension": d, "bucket": b, "credits_cc": c % 2**62}
                    for d, b, c in rows
                ],
            )
        else:
            writes.execute("SELECT COUNT(*) FROM balance_breakdown")
            seen.append(writes.fetchone()[0])
        if at_once:
            writes.flush()
    writes.flush()
    return seen


def _state(cur: Cursor) -> tuple[list[Any], list[Any]]:
    cur.execute("SELECT learner_id, version, at, event_type FROM account_time_index ORDER BY 1, 2")
    index = [tuple(r) for r in cur.fetchall()]
    cur.execute("SELECT * FROM balance_breakdown ORDER BY 1, 2, 3")
    return index, [tuple(r) for r in cur.fetchall()]


class Rollback(Exception):
    pass


def _outcome(bank: CreditBank, ops: list[tuple[Any, ...]], buffered: bool) -> Any:
    result: Any = None
    try:
        with bank.database.transaction(pipeline=True) as cur:
            seen = _apply(Writes(cur, bank.database.dialect), ops, at_once=not buffered)
            result = (seen, _state(cur))
            raise Rollback
    except Rollback:
        pass
    return result


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=operations)
def test_buffered_writes_equal_statement_by_statement(
    bank: CreditBank, ops: list[tuple[Any, ...]]
) -> None:
    assert _outcome(bank, ops, buffered=True) == _outcome(bank, ops, buffered=False)


def test_more_rows_than_one_statement_takes(bank: CreditBank) -> None:
    """Rows beyond the bound-parameter limit are split over several statements."""
    n = MAX_PARAMETERS // 4 + 7  # 4 columns a row
    with bank.database.transaction() as cur:
        writes = Writes(cur, bank.database.dialect)
        for i in range(n):
            writes.upsert(
                "account_time_index",
                ("learner_id", "version"),
                {"learner_id": "many", "version": i, "at": "t", "event_type": "e"},
            )
        writes.flush()
        cur.execute("SELECT COUNT(*) FROM account_time_index WHERE learner_id = 'many'")
        assert cur.fetchone()[0] == n


@pytest.mark.parametrize("keep", [False, True])
def test_an_upsert_updates_all_but_the_kept_columns(bank: CreditBank, keep: bool) -> None:
    with bank.database.transaction() as cur:
        writes = Writes(cur, bank.database.dialect)
        for at in ("first", "second"):
            writes.upsert(
                "account_time_index",
                ("learner_id", "version"),
                {"learner_id": "k", "version": 1, "at": at, "event_type": at},
                keep=("event_type",) if keep else (),
            )
            writes.flush()
        cur.execute("SELECT at, event_type FROM account_time_index WHERE learner_id = 'k'")
        assert tuple(cur.fetchone()) == ("second", "first" if keep else "second")
