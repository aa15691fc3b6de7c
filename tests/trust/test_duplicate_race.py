"""Two processes push the same credential into one account at the same moment, on each engine:
exactly one is accepted, the other gets DUPLICATE_CREDENTIAL, and the account holds it once."""

from __future__ import annotations

import multiprocessing

import pytest

from application.settings import Settings
from tests.builders import World, settings_kwargs


@pytest.mark.slow
def test_duplicate_raced_from_two_processes(world: World, settings: Settings) -> None:
    uni, kim = world.issuer(), world.learner()
    token = world.token(uni, kim)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    from tests.trust.workers import deposit_once

    workers = [
        ctx.Process(
            target=deposit_once,
            args=(settings_kwargs(settings), str(kim.id), token, barrier, results),
        )
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    outcomes = sorted(results.get(timeout=120) for _ in workers)
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    assert [o[0] for o in outcomes] == ["accepted", "refused"], outcomes
    assert outcomes[1][1] == "DUPLICATE_CREDENTIAL"
    account = world.bank.account(kim.id)
    assert list(account.outcomes) == [outcomes[0][1]]
