"""The aggregate cache hands each command a deep copy; records make those copies cheap by sharing
what cannot change (domain.values.shared_copy) and copying the rest. Here every aggregate of the
demo world (institutions with keys and credit schemes, rules, standards, qualifications,
learners with consents, accounts with conversions, awards, appeals and portfolios) is copied:
the copy equals the original and shares nothing that can be changed in place."""

from __future__ import annotations

import copy
from pathlib import Path

from application.bootstrap import bootstrap
from application.demo import load_demo
from application.settings import Settings
from tests.unit.sharing import immutable_records_hold_only_immutables, shared_mutables


def test_every_aggregate_copy_is_independent_and_equal(tmp_path: Path) -> None:
    services = bootstrap(Settings(data_dir=tmp_path / "data", secret_key="copies"))
    try:
        bank = services.bank
        load_demo(bank, tmp_path / "data")
        notifications = bank.recorder.select_notifications(start=1, limit=100_000)
        # Aggregates' events (not the listing logs' entries, which are no aggregate).
        ids = {n.originator_id for n in notifications if not n.topic.endswith(("Listed", "Entry"))}
        kinds: set[str] = set()
        for aggregate_id in ids:
            original = bank.repository.get(aggregate_id)
            copied = copy.deepcopy(original)
            kinds.add(type(original).__name__)
            assert shared_mutables(original, copied) == [], type(original).__name__
            assert immutable_records_hold_only_immutables(original) == []
            assert vars(copied) == vars(original)
    finally:
        services.close()
    assert {"CreditAccount", "Institution", "Learner", "RecognitionRule"} <= kinds, kinds
