"""Crash: ``creditbank serve`` (CREDITBANK_PROJECTIONS=external) and ``creditbank projections
run`` as subprocesses on PostgreSQL; a load thread drives mutations over HTTP and records every
one acknowledged (empty errors); the API and/or the worker are SIGKILLed at random moments and
started again, several times.

At the end: nothing acknowledged is lost (each acknowledged mutation's event is in the store),
the store is whole (contiguous versions, every credential index matches an outcome, the audit
verifies, checkpoints signed every second by the API included), and the views the worker wrote
through all the crashes equal a clean rebuild of every view from the events.
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path

import httpx
import pytest

from api.auth import load_or_create_signing_key
from application.bootstrap import build_bank
from application.settings import Settings
from application.signing import BankKeys
from tests.api.conftest import GraphQL, build_world
from tests.reliability import support
from tests.reliability.load import Load, lost, tally

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

KILLS = support.scale(4, 16)
BETWEEN_KILLS = support.scale((0.8, 2.0), (0.5, 4.0))  # seconds of load between kills
SEED = support.scale(11, int(time.time()))


def _wait_drained(base: str, timeout: float = 60) -> dict:
    """Until the worker has applied every event (lag 0)."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            body = httpx.get(base + "/readyz", timeout=5).json()
            if body.get("projectionLag") == 0:
                return body
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the worker did not catch up: {body}")


def test_sigkill_api_and_worker_under_load(pg_url: str, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    data_dir = tmp_path / "data"
    secret = "crash-" + uuid.uuid4().hex
    port = support.free_port()
    base = f"http://127.0.0.1:{port}"
    load_or_create_signing_key(data_dir)  # the API, the worker and this test share the keys
    BankKeys.load_or_create(data_dir)
    env = support.service_env(
        data_dir,
        pg_url,
        secret,
        port,
        CREDITBANK_PROJECTIONS="external",
        CREDITBANK_CHECKPOINT_INTERVAL="1",
    )
    api = support.Proc("api", support.cli("serve"), env, tmp_path / "api.log")
    worker = support.Proc(
        "worker", support.cli("projections", "run", "--poll", "0.2"), env, tmp_path / "worker.log"
    )
    load: Load | None = None
    schedule = ["api", "worker", "both"] + [
        rng.choice(["api", "worker", "both"]) for _ in range(KILLS - 3)
    ]
    kills: list[str] = []
    try:
        api.start()
        support.wait_http(base + "/readyz", api)
        worker.start()
        gql = GraphQL(base)
        world = build_world(support.Remote.of(base, gql, data_dir))  # type: ignore[arg-type]
        load = Load(world, seed=SEED)
        load.start()
        for victim in schedule:
            time.sleep(rng.uniform(*BETWEEN_KILLS))
            assert load.failure is None, load.failure
            down = [p for p in (api, worker) if victim in (p.name, "both")]
            for p in down:
                p.kill()
            kills.append(victim)
            time.sleep(rng.uniform(0, 0.5))
            for p in down:
                p.start()
            if api in down:
                support.wait_http(base + "/healthz", api)
        # The service works after the last restart: more mutations are acknowledged.
        resumed = time.monotonic()
        deadline = resumed + 60
        while load.acked_since(resumed) < 5 and time.monotonic() < deadline:
            assert load.failure is None, load.failure
            time.sleep(0.2)
        load.stop()
        assert load.failure is None, load.failure
        assert load.acked_since(resumed) >= 5, "no mutation was acknowledged after the last restart"
        ready = _wait_drained(base)
        gql.close()
    finally:
        if load is not None and load.is_alive():
            load.stop()
        api.stop()
        worker.stop()

    answers = tally(load.answers)
    with_problems = [a for a in load.answers if a.problems]
    assert not with_problems, [
        (a.action, a.status, a.problems, a.excerpt) for a in with_problems[:5]
    ]
    internal = [a for a in load.answers if "INTERNAL" in a.codes]
    assert not internal, [(a.action, a.excerpt) for a in internal[:5]]

    settings = Settings(data_dir=data_dir, database_url=pg_url, secret_key=secret)
    bank = build_bank(settings)
    try:
        missing = lost(bank, load.acks)
        assert missing == [], f"{len(missing)} acknowledged mutations are not in the store"
        assert support.store_problems(bank) == []
        report = support.audit(bank, data_dir)
        assert report.ok, report.problems
        assert report.checkpoint_id is not None  # the API signed checkpoints between the kills
        head = support.head(bank)
        assert ready["projectionPosition"] == head
        compared, differences = support.rebuild_and_compare(bank)
        assert differences == []
    finally:
        bank.close()

    support.record(
        "crash (SIGKILL api/worker)",
        seed=SEED,
        kills=dict(sorted({k: kills.count(k) for k in set(kills)}.items())),
        api_starts=api.starts,
        worker_starts=worker.starts,
        acknowledged=len(load.acks),
        events=head,
        view_rows_compared=compared,
        audited_events=report.events,
        answers=answers,
    )
