"""Property: flipping any one bit of any stored CreditAccount event's state is detected by the
audit (with a checkpoint signed after the events), on SQLite and PostgreSQL.

The world is built once per engine, outside the hypothesis loop; each example edits one row
directly in the database and restores its original bytes afterwards.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import RawStore, World
from tests.trust.tamper import build_ledger

EXAMPLES = 100


def test_any_flipped_bit_is_detected(world: World, raw: RawStore) -> None:
    ledger = build_ledger(world, accounts=3, deposits=5)  # 9 events an account
    ledger.checkpoint()
    assert ledger.audit().ok
    rows = [
        (ledger.account_id(learner), version, state)
        for learner in ledger.learners
        for _, version, _, state in raw.rows(ledger.account_id(learner))
    ]
    assert len(rows) == 27
    seen: set[tuple[int, int]] = set()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def flip(data: st.DataObject) -> None:
        row = data.draw(st.integers(0, len(rows) - 1), label="event")
        account, version, original = rows[row]
        offset = data.draw(st.integers(0, len(original) - 1), label="byte")
        bit = data.draw(st.integers(0, 7), label="bit")
        tampered = bytearray(original)
        tampered[offset] ^= 1 << bit
        raw.set_state(account, version, bytes(tampered))
        try:
            report = ledger.audit()
            assert report.problems, (account, version, offset, bit)
            # The flipped event itself is named (modified, unreadable, or not the checkpoint's).
            named = f"account {account} event v{version}: modified"
            assert any(p.startswith(named) for p in report.problems), report.problems
        finally:
            raw.set_state(account, version, original)
        seen.add((row, offset))

    flip()
    assert len({row for row, _ in seen}) > 5  # many different events were tried
    assert ledger.audit().ok  # every example was undone
