"""An outcome's credential status (domain/credential_status.py): an unknown status is never
recognised, only the issuer's list read again lifts it, and the events replay to the same state."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import AlreadyRevoked, InvalidInput, RuleNotApplicable
from domain.values import OutcomeStatus
from tests.unit.support import MAX_LEVEL, TODAY, deposit, names, new_account, refused, replay

ENTRY: dict[str, Any] = {
    "type": "BitstringStatusListEntry",
    "statusListCredential": "https://uni.example/status/1",
    "statusPurpose": "revocation",
    "statusListIndex": "7",
}


def officer_recognises(account: Any, outcome_id: Any) -> None:
    account.recognize_by_officer(
        outcome_id,
        credits=None,
        level=6,
        category="major",
        officer="officer-1",
        max_level=MAX_LEVEL,
        identity_verified=True,
        on=TODAY,
    )


def test_an_unknown_status_is_never_recognised_until_established() -> None:
    account = new_account()
    outcome_id = deposit(account)
    account.watch_status(outcome_id, [ENTRY], "the status list answered HTTP 503")
    assert account.outcome(outcome_id).status_unknown == "the status list answered HTTP 503"
    with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        officer_recognises(account, outcome_id)
    assert account.establish_status(outcome_id, "not set in its issuer's status list")
    assert not account.establish_status(outcome_id, "again")  # nothing to do twice
    officer_recognises(account, outcome_id)
    assert account.outcome(outcome_id).status is OutcomeStatus.RECOGNIZED
    assert names(account.collect_events())[-3:] == [
        "StatusWatched",
        "StatusEstablished",
        "OutcomeRecognized",
    ]


def test_a_known_status_is_watched_without_holding_anything_back() -> None:
    account = new_account()
    outcome_id = deposit(account)
    account.watch_status(outcome_id, [ENTRY], None)
    assert account.outcome(outcome_id).status_unknown is None
    assert not account.establish_status(outcome_id, "read")
    officer_recognises(account, outcome_id)


def test_a_revoked_outcome_is_not_established() -> None:
    account = new_account()
    outcome_id = deposit(account)
    account.watch_status(outcome_id, [ENTRY], "unreachable")
    account.revoke(outcome_id, "revoked by its issuer", "status-list")
    assert not account.establish_status(outcome_id, "read")


def test_watching_needs_one_to_four_entries_of_an_outcome_of_the_account() -> None:
    account = new_account()
    outcome_id = deposit(account)
    with refused(account, InvalidInput, "INVALID_INPUT"):
        account.watch_status(outcome_id, [], None)
    with refused(account, InvalidInput, "INVALID_INPUT"):
        account.watch_status(outcome_id, [ENTRY] * 5, None)
    with pytest.raises(Exception, match="outcome"):
        account.watch_status(deposit(new_account()), [ENTRY], None)


@given(st.lists(st.sampled_from(["watch", "unknown", "establish", "recognise", "revoke"])))
def test_replaying_the_events_gives_the_same_status_and_never_credits_an_unknown_one(
    steps: list[str],
) -> None:
    account = new_account()
    outcome_id = deposit(account)
    for step in steps:
        try:
            if step in ("watch", "unknown"):
                account.watch_status(outcome_id, [ENTRY], "503" if step == "unknown" else None)
            elif step == "establish":
                account.establish_status(outcome_id, "read")
            elif step == "recognise":
                officer_recognises(account, outcome_id)
            else:
                account.revoke(outcome_id, "revoked", "status-list")
        except (InvalidInput, RuleNotApplicable, AlreadyRevoked):
            pass
        outcome = account.outcome(outcome_id)
        assert outcome.status_unknown is None or outcome.recognized_credits is None
    replayed = replay(account.collect_events())
    assert replayed.outcome(outcome_id).status_unknown == account.outcome(outcome_id).status_unknown
    assert replayed.outcome(outcome_id).status == account.outcome(outcome_id).status
