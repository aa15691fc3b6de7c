"""Tamper evidence, on SQLite and PostgreSQL: the event store is edited directly (the SQLite file;
the PostgreSQL schema through psycopg), behind the bank's back, after a signed checkpoint. Each
edit is detected by application.audit.verify and named in ``problems``: which account, which
version, what happened. ``creditbank audit verify`` exits 1 with a BROKEN line, 0 when intact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from application.audit import sign_checkpoint, verify
from application.chain import event_hash
from application.settings import Settings
from tests.builders import RawStore, World, edit_json, outcome_for
from tests.trust.tamper import Ledger, build_ledger

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ledger(world: World) -> Ledger:
    ledger = build_ledger(world, accounts=4, deposits=6)  # 10 events an account
    ledger.checkpoint()
    assert ledger.audit().ok
    return ledger


def _problems(ledger: Ledger) -> list[str]:
    report = ledger.audit()
    assert report.checkpoint_id is not None
    assert not report.ok
    return report.problems


def _only_about(problems: list[str], account: Any) -> None:
    """No other account is blamed."""
    assert all(str(account) in p for p in problems), problems


def _set_credits(value: str) -> Any:
    def change(state: dict[str, Any]) -> None:
        assert state["credits"]["_type_"] == "decimal_str"
        state["credits"]["_data_"] = value

    return change


def test_intact_history_is_ok(ledger: Ledger) -> None:
    report = ledger.audit()
    assert report.ok
    assert (report.accounts, report.events) == (4, 40)
    assert report.checkpoint_position == ledger.world.bank.recorder.max_notification_id()


def test_modified_event(ledger: Ledger, raw: RawStore) -> None:
    account = ledger.account_id(ledger.learners[1])
    _, version, topic, state = raw.rows(account)[3]  # v4: a deposit
    assert topic.endswith(".OutcomeDeposited")
    raw.set_state(account, version, edit_json(state, _set_credits("30.00")))
    problems = _problems(ledger)
    assert problems == [
        f"account {account} event v4: modified (its hash no longer matches the link stored in v5)"
    ]


def test_modified_recognition_keeps_its_json_shape(ledger: Ledger, raw: RawStore) -> None:
    """The smallest edit: one digit of a recognised amount, same length, same JSON layout."""
    account = ledger.account_id(ledger.learners[2])
    _, version, topic, state = raw.rows(account)[2]  # v3: a recognition
    assert topic.endswith(".OutcomeRecognized")
    assert b'"_data_":"2.00"' in state
    raw.set_state(account, version, state.replace(b'"_data_":"2.00"', b'"_data_":"9.00"'))
    problems = _problems(ledger)
    assert problems == [
        f"account {account} event v3: modified (its hash no longer matches the link stored in v4)"
    ]


def test_modified_last_event_is_caught_by_the_checkpoint(ledger: Ledger, raw: RawStore) -> None:
    account = ledger.account_id(ledger.learners[0])
    _, version, _, state = raw.rows(account)[-1]
    assert version == 10
    raw.set_state(account, version, edit_json(state, _set_credits("12.00")))
    problems = _problems(ledger)
    _only_about(problems, account)
    assert any(
        p.startswith(f"account {account} event v10: modified (does not match checkpoint")
        for p in problems
    )


def test_deleted_event_in_the_middle(ledger: Ledger, raw: RawStore) -> None:
    account = ledger.account_id(ledger.learners[2])
    raw.delete(account, 5)
    problems = _problems(ledger)
    assert problems == [f"account {account}: event v5 deleted"]


def test_deleted_events_in_the_middle(ledger: Ledger, raw: RawStore) -> None:
    account = ledger.account_id(ledger.learners[2])
    for version in (4, 5, 6):
        raw.delete(account, version)
    assert _problems(ledger) == [f"account {account}: event v4..v6 deleted"]


def test_deleted_first_event(ledger: Ledger, raw: RawStore) -> None:
    account = ledger.account_id(ledger.learners[3])
    raw.delete(account, 1)
    assert _problems(ledger) == [f"account {account}: event v1 deleted"]


def test_deleted_last_event_is_caught_by_the_checkpoint(ledger: Ledger, raw: RawStore) -> None:
    account = ledger.account_id(ledger.learners[3])
    raw.delete(account, 10)
    problems = _problems(ledger)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"account {account} event v10: deleted (it is the head in checkpoint "
    )


def test_deleted_whole_account_is_caught_by_the_checkpoint(ledger: Ledger, raw: RawStore) -> None:
    account = ledger.account_id(ledger.learners[1])
    for version in range(1, 11):
        raw.delete(account, version)
    problems = _problems(ledger)
    assert len(problems) == 1
    assert problems[0].startswith(f"account {account}: deleted (checkpoint ")


def test_inserted_copy_at_a_new_version(ledger: Ledger, raw: RawStore) -> None:
    """A copy of v4 appended as v11 (after the checkpoint): its link names v3, which v4 already
    follows; the chain shows the insertion."""
    account = ledger.account_id(ledger.learners[0])
    _, _, topic, state = raw.rows(account)[3]
    raw.insert(account, 11, topic, state)
    problems = _problems(ledger)
    assert any(p.startswith(f"account {account} event v11: inserted") for p in problems), problems
    _only_about(problems, account)


def test_inserted_copy_older_than_the_checkpoint(ledger: Ledger, raw: RawStore) -> None:
    """The same copy placed at a log position before the checkpoint's (here 0, below every
    position the library hands out): the account would load it, so the audit must see it."""
    account = ledger.account_id(ledger.learners[0])
    _, _, topic, state = raw.rows(account)[3]
    raw.insert(account, 11, topic, state, notification_id=0)
    assert len(ledger.world.bank.repository.get(account).outcomes) == 6  # the copy loads...
    problems = _problems(ledger)
    assert any(p.startswith(f"account {account} event v11: inserted") for p in problems), problems
    assert any("inserted before checkpoint" in p for p in problems), problems
    _only_about(problems, account)


@pytest.mark.parametrize("position", ["zero", "negative"])
def test_inserted_account_older_than_the_checkpoint(
    ledger: Ledger, raw: RawStore, position: str
) -> None:
    """A whole new account (a copy of another's events under a new id) placed before the
    checkpoint: its chain is internally consistent; only the checkpoint can tell."""
    source = ledger.account_id(ledger.learners[0])
    forged = uuid.uuid4()
    start = 0 if position == "zero" else -100
    for offset, (_, version, topic, state) in enumerate(raw.rows(source)[:3]):
        raw.insert(forged, version, topic, state, notification_id=start - offset)
    problems = _problems(ledger)
    assert any(p.startswith(f"account {forged}: inserted (older than checkpoint") for p in problems)
    _only_about(problems, forged)


def test_inserted_account_at_a_free_position_older_than_the_checkpoint(
    ledger: Ledger, raw: RawStore
) -> None:
    """Positions freed by a deletion elsewhere (here: of an institution event) are reused."""
    bank = ledger.world.bank
    source = ledger.account_id(ledger.learners[0])
    with raw.cursor() as cur:
        cur.execute(
            f"SELECT MIN({raw.nid}) FROM {raw.table} WHERE topic LIKE ?",
            ["%Institution.Registered"],
        )
        free = int(cur.fetchone()[0])
        cur.execute(f"DELETE FROM {raw.table} WHERE {raw.nid} = ?", [free])
    forged = uuid.uuid4()
    _, version, topic, state = raw.rows(source)[0]
    raw.insert(forged, version, topic, state, notification_id=free)
    assert free <= int(bank.recorder.max_notification_id() or 0)
    problems = _problems(ledger)
    assert problems == [p for p in problems if str(forged) in p]
    assert problems[0].startswith(f"account {forged}: inserted (older than checkpoint")


def test_two_events_reordered_by_swapping_versions(ledger: Ledger, raw: RawStore) -> None:
    account = ledger.account_id(ledger.learners[1])
    raw.set_version(account, 6, 1000)
    raw.set_version(account, 7, 6)
    raw.set_version(account, 1000, 7)
    problems = _problems(ledger)
    _only_about(problems, account)
    assert f"account {account} event v7: reordered (stored before v6)" in problems
    assert any(p.startswith(f"account {account} event v6: reordered") for p in problems)
    # v5 was not touched: it must not be blamed.
    assert not any("event v5: modified" in p for p in problems), problems


def test_two_events_reordered_by_swapping_states(ledger: Ledger, raw: RawStore) -> None:
    """Same topic, contents swapped (two deposits: v7 and v8), log positions unchanged."""
    account = ledger.account_id(ledger.learners[2])
    rows = raw.rows(account)
    (_, _, topic7, state7), (_, _, topic8, state8) = rows[6], rows[7]
    assert topic7 == topic8
    raw.set_state(account, 7, state8)
    raw.set_state(account, 8, state7)
    problems = _problems(ledger)
    _only_about(problems, account)
    assert any(p.startswith(f"account {account} event v7: reordered") for p in problems)
    assert any(p.startswith(f"account {account} event v8: reordered") for p in problems)
    assert not any("event v6: modified" in p for p in problems), problems


def test_two_accounts_swapped_events(ledger: Ledger, raw: RawStore) -> None:
    """v4 of one account replaced by v4 of another (both deposits)."""
    a, b = (ledger.account_id(lr) for lr in ledger.learners[:2])
    state_a, state_b = raw.rows(a)[3][3], raw.rows(b)[3][3]
    raw.set_state(a, 4, state_b)
    raw.set_state(b, 4, state_a)
    problems = _problems(ledger)
    assert any(p.startswith(f"account {a} event v4") for p in problems)
    assert any(p.startswith(f"account {b} event v4") for p in problems)


def test_modified_checkpoint_signature(ledger: Ledger, raw: RawStore) -> None:
    checkpoint_id, _, signature = raw.checkpoint()
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    raw.update_checkpoint(checkpoint_id, "signature", flipped)
    assert _problems(ledger) == [f"checkpoint {checkpoint_id}: signature does not verify (altered)"]


def test_modified_checkpoint_heads_to_hide_a_deleted_last_event(
    ledger: Ledger, raw: RawStore
) -> None:
    """The attacker deletes v10 and rewrites the checkpoint's head to v9 with v9's true hash:
    the heads agree with the store again, but the signature no longer holds."""
    account = ledger.account_id(ledger.learners[0])
    _, version, topic, state = raw.rows(account)[8]
    raw.delete(account, 10)
    checkpoint_id, heads, _ = raw.checkpoint()
    value = json.loads(heads)
    value[str(account)] = [version, event_hash(account, version, topic, state)]
    raw.update_checkpoint(checkpoint_id, "heads", json.dumps(value, sort_keys=True))
    assert _problems(ledger) == [f"checkpoint {checkpoint_id}: signature does not verify (altered)"]


def test_forged_newer_checkpoint_is_refused(ledger: Ledger, raw: RawStore) -> None:
    """A checkpoint row written by someone without the bank's key (the newest one is checked)."""
    account = ledger.account_id(ledger.learners[0])
    raw.delete(account, 10)
    checkpoint_id, _, _ = raw.checkpoint()
    with raw.cursor() as cur:
        cur.execute(
            "INSERT INTO audit_checkpoints (checkpoint_id, created_at, position, heads, kid, "
            "signature) SELECT ?, created_at, position + 1, heads, kid, signature "
            "FROM audit_checkpoints WHERE checkpoint_id = ?",
            [str(uuid.uuid4()), checkpoint_id],
        )
    problems = _problems(ledger)
    assert any(p.endswith("signature does not verify (altered)") for p in problems)
    assert any(p.startswith(f"account {account} event v10: deleted") for p in problems)


def test_checkpoint_signed_while_a_deposit_commits_is_not_a_false_alarm(world: World) -> None:
    """``serve`` signs checkpoints while requests are served: an event committed between reading
    the log position and reading the chains must not make its account look inserted."""
    ledger = build_ledger(world, accounts=2, deposits=2)
    bank = world.bank
    learner = ledger.learners[0]
    uni = world.issuer("Nanjing University")

    class Racing:
        def __init__(self, recorder: Any) -> None:
            self._recorder = recorder

        def max_notification_id(self) -> int | None:
            position = self._recorder.max_notification_id()
            bank.deposit(learner.id, outcome_for(uni, "nju-late"), b"late")  # a concurrent save
            return position

        def __getattr__(self, name: str) -> Any:
            return getattr(self._recorder, name)

    sign_checkpoint(Racing(bank.recorder), bank.database, ledger.keys, bank.now())  # type: ignore[arg-type]
    report = verify(bank.recorder, bank.database, ledger.keys)
    assert report.ok, report.problems


def test_audit_while_a_deposit_and_a_checkpoint_commit_is_not_a_false_alarm(
    world: World,
) -> None:
    """An audit that has read the chains when a deposit and a newer checkpoint commit (serve
    signs checkpoints while requests are served) must not call the new head deleted."""
    ledger = build_ledger(world, accounts=2, deposits=2)
    ledger.checkpoint()
    bank = world.bank
    uni = world.issuer("Wuhan University")

    class Racing:
        def __init__(self, recorder: Any) -> None:
            self._recorder = recorder
            self.raced = False

        def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
            page = self._recorder.select_notifications(*args, **kwargs)
            if not page and not self.raced:  # the chains are read; now others write
                self.raced = True
                bank.deposit(ledger.learners[0].id, outcome_for(uni, "whu-late"), b"late")
                sign_checkpoint(bank.recorder, bank.database, ledger.keys, bank.now())
            return page

        def __getattr__(self, name: str) -> Any:
            return getattr(self._recorder, name)

    racing = Racing(bank.recorder)
    report = verify(racing, bank.database, ledger.keys)  # type: ignore[arg-type]
    assert racing.raced
    assert report.ok, report.problems
    assert verify(bank.recorder, bank.database, ledger.keys).ok


# -- the command line ------------------------------------------------------------------------------
def _cli(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBANK_")}
    env["CREDITBANK_DATA_DIR"] = str(settings.data_dir)
    env["CREDITBANK_SECRET_KEY"] = str(settings.secret_key)
    if settings.database_url:
        env["CREDITBANK_DATABASE_URL"] = settings.database_url
    return subprocess.run(
        [str(Path(sys.executable).parent / "creditbank"), "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_cli_audit_verify(ledger: Ledger, raw: RawStore, settings: Settings) -> None:
    intact = _cli(settings)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "history intact" in intact.stdout
    assert "checked 4 accounts, 40 events" in intact.stdout

    account = ledger.account_id(ledger.learners[1])
    raw.delete(account, 5)
    broken = _cli(settings)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"BROKEN: account {account}: event v5 deleted" in broken.stdout.splitlines()
    assert "history intact" not in broken.stdout
