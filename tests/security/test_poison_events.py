"""Finding 11: one stored event the runner could not apply stopped every view for every learner.
Now it is parked with its error, its account's views are marked stale, every other account keeps
moving, and a replay applies it after the fix. Both engines."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from application.bank import CreditBank
from application.settings import Settings
from projections import runner as runner_module
from projections import transcript
from projections.runner import EventSource, ProjectionRunner, parked_events, stale
from projections.transcript import TranscriptView
from tests.builders import Learner, RawStore, World


def titles(bank: CreditBank, learner: Learner) -> list[str]:
    with bank.database.transaction() as cur:
        rows = transcript.read_page(cur, str(learner.id), after_seq=0, limit=50)
    return [r.title for r in rows]


def is_stale(bank: CreditBank, learner: Learner) -> bool:
    ids = [str(learner.id), str(bank.account_id(learner.id))]
    with bank.database.transaction() as cur:
        return stale(cur, ids)


def parked(bank: CreditBank) -> list[runner_module.Parked]:
    with bank.database.transaction() as cur:
        return parked_events(cur)


def eventually(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the views did not get there in time"
        time.sleep(0.05)


def test_an_event_that_cannot_be_decoded_is_parked_and_the_others_move_on(
    trust: World, settings: Settings
) -> None:
    bank, raw = trust.bank, RawStore(trust.bank, settings)
    views = ProjectionRunner(EventSource(bank), bank.database)
    uni, wang, li = trust.issuer(), trust.learner(), trust.learner()
    views.catch_up()
    bank.deposit_credential(wang.id, trust.token(uni, wang, title="Poisoned course"))
    account = bank.account_id(wang.id)
    _, version, _, good = raw.rows(account)[-1]
    raw.set_state(account, version, b'{"corrupted": ')  # a damaged row, as after a bad restore
    bank.deposit_credential(li.id, trust.token(uni, li, title="Li's course"))

    with pytest.raises(runner_module.UndecodableEvent):  # retried first, never parked at once
        views.catch_up()
    assert views.parked() == 0
    views.start(poll_interval=0.05)  # the serving runner takes the batch apart
    try:
        eventually(lambda: titles(bank, li) == ["Li's course"])
        eventually(lambda: views.lag() == 0)
    finally:
        views.stop()

    assert titles(bank, li) == ["Li's course"]
    assert titles(bank, wang) == []
    assert is_stale(bank, wang)
    assert not is_stale(bank, li)
    (poison,) = parked(bank)
    assert (poison.originator_id, poison.originator_version) == (str(account), version)
    assert "cannot be decoded" in poison.error
    assert views.parked() == 1

    # A replay before the fix keeps it parked; after it, the account catches up.
    assert views.replay_parked() == (0, 1)
    raw.set_state(account, version, good)
    assert views.replay_parked() == (1, 0)
    assert titles(bank, wang) == ["Poisoned course"]
    assert not is_stale(bank, wang)
    assert views.parked() == 0


def test_an_event_a_view_fails_on_is_parked_and_its_account_waits_behind_it(
    trust: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = trust.bank
    views = ProjectionRunner(EventSource(bank), bank.database)
    uni, wang, li = trust.issuer(), trust.learner(), trust.learner()
    views.catch_up()
    account = bank.account_id(wang.id)
    original = TranscriptView.apply

    def broken(self: TranscriptView, batch: Any, cur: Any, table: Any) -> None:
        if any(e.originator_id == account for _, e in batch.events):
            raise RuntimeError("a view bug this account's events hit")
        original(self, batch, cur, table)

    monkeypatch.setattr(TranscriptView, "apply", broken)
    monkeypatch.setattr(runner_module, "ISOLATE_AFTER", 1)
    bank.deposit_credential(wang.id, trust.token(uni, wang, title="First"))
    bank.deposit_credential(li.id, trust.token(uni, li, title="Li's course"))
    bank.deposit_credential(wang.id, trust.token(uni, wang, title="Second"))
    views.start(poll_interval=0.05)
    try:
        eventually(lambda: titles(bank, li) == ["Li's course"])
        eventually(lambda: views.lag() == 0)
    finally:
        views.stop()
    assert titles(bank, wang) == []
    errors = [p.error for p in parked(bank)]
    assert len(errors) == 2  # the failing event, and the later one waiting behind it
    assert "a view bug" in errors[0]
    assert "earlier event of this aggregate is parked" in errors[1]
    assert is_stale(bank, wang)

    monkeypatch.setattr(TranscriptView, "apply", original)  # the fix is released
    assert views.replay_parked() == (2, 0)
    assert titles(bank, wang) == ["First", "Second"]
    assert not is_stale(bank, wang)
