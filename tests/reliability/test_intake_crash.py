"""Intake under SIGKILL: ``creditbank serve`` takes an upload over HTTP, ``creditbank intake
work`` (its own process) deposits it and is SIGKILLed mid-job, then started again; the job ends
with exactly the answers of an uninterrupted run, every account holding each credential once.
Both engines."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import Role, load_or_create_signing_key
from application.bootstrap import build_bank
from application.intake.jobs import IntakeStore
from application.settings import Settings
from application.signing import BankKeys
from tests.builders import World
from tests.conftest import Clock
from tests.integration.test_intake import Semester
from tests.reliability import support

pytestmark = pytest.mark.slow


def _counts(base: str, job_id: str, token: str) -> dict[str, Any]:
    query = "query($id: ID!) { intakeJob(id: $id) { state total processed accepted refused } }"
    answer = httpx.post(
        base + "/graphql",
        json={"query": query, "variables": {"id": job_id}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    job: dict[str, Any] = answer.json()["data"]["intakeJob"]
    return job


def test_a_worker_killed_mid_job_resumes_with_the_same_result(
    tmp_path: Path, database_url: str | None
) -> None:
    data_dir = tmp_path / "data"
    secret = "intake-crash-" + uuid.uuid4().hex
    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key=secret)
    load_or_create_signing_key(data_dir)
    BankKeys.load_or_create(data_dir)
    bank = build_bank(settings)
    clock = Clock()
    clock.now = datetime.now(UTC)
    bank.clock = clock
    semester = Semester(World(bank, clock, settings), learners=100, courses=25)

    port = support.free_port()
    base = f"http://127.0.0.1:{port}"
    env = support.service_env(
        data_dir, database_url or "", secret, port, CREDITBANK_INTAKE_WORKER="false"
    )
    if database_url is None:
        env.pop("CREDITBANK_DATABASE_URL")
    api = support.Proc("api", support.cli("serve"), env, tmp_path / "api.log")
    worker = support.Proc("worker", support.cli("intake", "work"), env, tmp_path / "worker.log")
    token = support.Remote.of(base, None, data_dir).token(Role.INSTITUTION, str(semester.uni.id))
    kills = 0
    try:
        api.start()
        support.wait_http(base + "/readyz", api)
        answer = httpx.post(
            base + "/intake",
            content=b"".join(semester.lines),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
            timeout=120,
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        worker.start()
        deadline = time.monotonic() + 120
        while kills < 2 and time.monotonic() < deadline:
            job = _counts(base, job_id, token)
            if job["accepted"] > kills * 1000:  # mid-job: some lines deposited, not all
                assert job["state"] == "RUNNING", job
                worker.kill()
                kills += 1
                time.sleep(0.2)
                worker.start()
            time.sleep(0.02)
        assert kills == 2, _counts(base, job_id, token)
        while _counts(base, job_id, token)["state"] != "DONE" and time.monotonic() < deadline:
            time.sleep(0.2)
        job = _counts(base, job_id, token)
    finally:
        worker.stop()
        api.stop()

    assert job["state"] == "DONE", job
    assert job["total"] == job["processed"] == len(semester.lines)
    codes = {n: code for n, _r, code, _o in IntakeStore(bank.database).results(uuid.UUID(job_id))}
    assert codes == semester.expected
    assert job["accepted"] == sum(1 for c in semester.expected.values() if c is None)
    held = {lr.id: len(bank.account(lr.id).outcomes) for lr in semester.learners}
    assert held == {lr.id: 25 for lr in semester.learners}
    bank.close()
