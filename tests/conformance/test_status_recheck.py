"""Issue 15, incoming status over time: a list that cannot be read at the deposit leaves the
outcome DEPOSITED with its status unknown (never recognised, never taken as active) and the
periodic re-check establishes it or revokes it; a credential its issuer revokes later is revoked
by the next re-check. The issuer's list is served by a local HTTP server. Both engines."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from api.cli import cli
from application.status_watch import StatusWatcher, recheck
from domain.errors import DomainError
from domain.values import OutcomeStatus
from projections.runner import EventSource, ProjectionRunner
from projections.transcript import read_outcomes
from tests.builders import Issuer, Learner, World
from tests.conformance.publisher import Publisher, entry, status_list, with_status
from tests.projections.conftest import child_env

FRESH = {"Cache-Control": "max-age=0"}  # the issuer says: do not keep the list


@pytest.fixture
def views(trust: World) -> Iterator[ProjectionRunner]:
    runner = ProjectionRunner(EventSource(trust.bank), trust.bank.database)
    yield runner
    runner.stop()


def watched_rows(world: World) -> dict[str, str | None]:
    with world.bank.database.transaction(readonly=True) as cur:
        cur.execute("SELECT outcome_id, unknown FROM status_watch")
        return {str(o): u for o, u in cur.fetchall()}


def transcript_row(world: World, outcome_id: UUID) -> Any:
    with world.bank.database.transaction(readonly=True) as cur:
        return read_outcomes(cur, [str(outcome_id)])[str(outcome_id)]


def setting_up(world: World, publisher: Publisher, path: str) -> tuple[Issuer, Learner, str]:
    uni, wang = world.issuer(uri=f"{publisher.base}/issuer"), world.learner()
    world.course_rule(uni)
    return uni, wang, f"{publisher.base}{path}"


def publish(publisher: Publisher, issuer: Issuer, url: str, revoked: set[int]) -> None:
    path = url.removeprefix(publisher.base)
    publisher.pages[path] = (200, status_list(issuer, url, revoked), FRESH)


def test_an_unreadable_list_deposits_the_outcome_with_its_status_unknown_until_it_is_read(
    trust: World, publisher: Publisher, views: ProjectionRunner
) -> None:
    bank = trust.bank
    uni, wang, url = setting_up(trust, publisher, "/status/a")
    # Not published yet (404): deposited, status unknown, not recognised though a rule matches.
    outcome_id = bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 5)))
    outcome = bank.account(wang.id).outcome(outcome_id)
    assert outcome.status is OutcomeStatus.DEPOSITED
    assert outcome.status_unknown is not None
    assert "404" in outcome.status_unknown
    assert outcome.recognized_credits is None
    with pytest.raises(DomainError, match="status is not established") as refused:
        bank.recognize_outcome(wang.id, outcome_id, "officer-1", credits=None)
    assert refused.value.code == "RULE_NOT_APPLICABLE"
    views.catch_up()
    assert transcript_row(trust, outcome_id).status_unknown == outcome.status_unknown
    assert watched_rows(trust) == {str(outcome_id): outcome.status_unknown}

    # Still unreachable: nothing changes.
    still = recheck(bank)
    assert (still.checked, still.unknown, still.established, still.revoked) == (1, 1, [], [])

    # Published, and the credential stands: established, then recognised by the rule.
    publish(publisher, uni, url, revoked={4, 6})
    done = recheck(bank)
    assert done.established == [outcome_id]
    assert done.revoked == []
    outcome = bank.account(wang.id).outcome(outcome_id)
    assert outcome.status_unknown is None
    assert outcome.status is OutcomeStatus.RECOGNIZED
    assert outcome.recognized_by is not None
    views.catch_up()
    row = transcript_row(trust, outcome_id)
    assert row.status_unknown is None
    assert row.status == "RECOGNIZED"
    assert watched_rows(trust) == {str(outcome_id): None}  # still watched: it may yet be revoked
    assert recheck(bank).established == []  # nothing more to establish


def test_a_credential_its_issuer_revokes_later_is_revoked_by_the_recheck(
    trust: World, publisher: Publisher, views: ProjectionRunner
) -> None:
    bank = trust.bank
    uni, wang, url = setting_up(trust, publisher, "/status/b")
    publish(publisher, uni, url, revoked=set())
    kept = bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 1)))
    gone = bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 2)))
    plain = bank.deposit_credential(wang.id, trust.token(uni, wang))  # states no status
    account = bank.account(wang.id)
    assert {account.outcome(i).status for i in (kept, gone, plain)} == {OutcomeStatus.RECOGNIZED}
    balance = bank.account(wang.id).balance().total
    views.catch_up()
    assert set(watched_rows(trust)) == {str(kept), str(gone)}

    publish(publisher, uni, url, revoked={2})
    done = recheck(bank)
    assert done.revoked == [gone]
    assert done.checked == 2
    account = bank.account(wang.id)
    assert account.outcome(gone).status is OutcomeStatus.REVOKED
    assert "revoked by its issuer" in (account.outcome(gone).revoked_reason or "")
    assert account.outcome(kept).status is OutcomeStatus.RECOGNIZED
    assert bank.account(wang.id).balance().total < balance
    events = [e for e in bank.account_history(wang.id) if e.type == "OutcomeRevoked"]
    assert [e.actor for e in events] == ["status-list"]
    views.catch_up()
    assert set(watched_rows(trust)) == {str(kept)}  # a revoked credential is no longer watched
    assert recheck(bank).revoked == []


def test_an_unknown_status_that_turns_out_revoked_is_never_counted(
    trust: World, publisher: Publisher, views: ProjectionRunner
) -> None:
    bank = trust.bank
    uni, wang, url = setting_up(trust, publisher, "/status/c")
    publisher.pages["/status/c"] = (503, b"", {})  # the issuer's server failing
    outcome_id = bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 3)))
    assert bank.account(wang.id).balance().total == 0
    views.catch_up()
    publish(publisher, uni, url, revoked={3})
    done = recheck(bank, unknown_only=True)
    assert done.revoked == [outcome_id]
    assert done.established == []
    assert bank.account(wang.id).outcome(outcome_id).recognized_credits is None
    assert bank.account(wang.id).balance().total == 0


def test_a_list_that_cannot_be_trusted_is_still_refused_at_the_deposit(
    trust: World, publisher: Publisher
) -> None:
    """Only a list that cannot be *read* lets a credential in: one that is read and not the
    issuer's (another signer) is no evidence of anything, and the deposit is refused."""
    uni, wang, url = setting_up(trust, publisher, "/status/d")
    rival = trust.issuer()
    publisher.pages["/status/d"] = (200, status_list(rival, url, set()), {})
    with pytest.raises(DomainError) as refused:
        trust.bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 1)))
    assert refused.value.code == "INVALID_CREDENTIAL"


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.05)


def test_the_background_watcher_establishes_and_revokes(
    trust: World, publisher: Publisher, views: ProjectionRunner
) -> None:
    bank = trust.bank
    uni, wang, url = setting_up(trust, publisher, "/status/e")
    outcome_id = bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 9)))
    views.start(poll_interval=0.05)
    bank.on_saved.append(lambda _position: views.wake())
    watcher = StatusWatcher(bank, interval=0.1)
    watcher.start()
    try:
        publish(publisher, uni, url, revoked=set())
        eventually(lambda: bank.account(wang.id).outcome(outcome_id).status_unknown is None)
        assert bank.account(wang.id).outcome(outcome_id).status is OutcomeStatus.RECOGNIZED
        publish(publisher, uni, url, revoked={9})
        eventually(
            lambda: bank.account(wang.id).outcome(outcome_id).status is OutcomeStatus.REVOKED
        )
    finally:
        watcher.stop()
    assert not watcher._thread.is_alive()


def test_the_cli_rechecks_once(
    trust: World, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = trust.bank
    uni, wang, url = setting_up(trust, publisher, "/status/f")
    outcome_id = bank.deposit_credential(wang.id, with_status(trust, uni, wang, entry(url, 2)))
    publish(publisher, uni, url, revoked={2})
    for name, value in child_env(trust.settings).items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["credential", "recheck-status"])
    assert result.exit_code == 0, result.output
    assert "checked 1: 0 established, 1 revoked, 0 still unknown, 0 failed" in result.output
    assert f"revoked {outcome_id}" in result.output
    assert bank.account(wang.id).outcome(outcome_id).status is OutcomeStatus.REVOKED
