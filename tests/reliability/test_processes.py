"""The views written in a process of their own, on PostgreSQL, with read-your-writes intact.

1. ``creditbank serve`` as shipped (CREDITBANK_PROJECTIONS unset: ``auto``) runs its projection
   runner as a child process: every acknowledged deposit is in the learner's transcript at the
   very next request; the child, killed, is started again and the views keep following; the
   server, killed outright, leaves no runner behind.
2. Two API processes and one ``creditbank projections run`` worker on one database: a deposit
   acknowledged by one API process is read through the other at once.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from api.auth import load_or_create_signing_key
from tests.api.conftest import GraphQL, LearnerRef, World, build_world
from tests.reliability import support

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TRANSCRIPT = """query($id: ID!) { learner(id: $id) { account {
  transcript(first: 100) { totalCount edges { node { id status } } } } } }"""


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (Linux)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return "projections run" in cmdline(pid)  # not a reused pid


def runners(pid: int) -> list[int]:
    """The projection runners among the children of ``pid``."""
    return [c for c in children(pid) if "projections run" in cmdline(c)]


def runner_of(api: support.Proc, timeout: float = 30) -> int:
    """The API process's projection runner child, once it is there."""
    assert api.proc is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = runners(api.proc.pid)
        if found:
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no projection runner process under the API:\n{api.tail()}")


def transcript_ids(gql: GraphQL, learner: LearnerRef) -> set[str]:
    data = gql(TRANSCRIPT, {"id": learner.id}, learner.token).ok()
    edges: list[dict[str, Any]] = data["learner"]["account"]["transcript"]["edges"]
    return {e["node"]["id"] for e in edges}


def deposit_and_read(world: World, reader: GraphQL, learner: LearnerRef) -> None:
    """A deposit acknowledged, then read at once (through ``reader``)."""
    outcome = world.deposit(learner)  # the payload is read back from the views
    assert outcome["id"] in transcript_ids(reader, learner)


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_serve_runs_its_views_in_a_process_of_its_own(pg_url: str, tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", support.free_port()
    base = f"http://127.0.0.1:{port}"
    load_or_create_signing_key(data_dir)
    env = support.service_env(data_dir, pg_url, "proc-" + uuid.uuid4().hex, port)
    api = support.Proc("api", support.cli("serve"), env, tmp_path / "api.log")
    gql = GraphQL(base)
    try:
        api.start()
        support.wait_http(base + "/readyz", api)
        runner = runner_of(api)
        world = build_world(support.Remote.of(base, gql, data_dir))  # type: ignore[arg-type]
        learner = world.learner()
        for _ in range(10):
            deposit_and_read(world, gql, learner)

        os.kill(runner, signal.SIGKILL)  # the server starts another
        wait_until(lambda: runner_of(api) != runner, 30, "the runner was not started again")
        for _ in range(3):
            deposit_and_read(world, gql, learner)

        survivor = runner_of(api)
        api.kill()  # outright: the runner notices its parent is gone
        wait_until(lambda: not alive(survivor), 15, "the runner outlived its server")
    finally:
        gql.close()
        api.stop()


def test_read_your_writes_across_two_api_processes_and_one_worker(
    pg_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    load_or_create_signing_key(data_dir)
    secret = "two-" + uuid.uuid4().hex
    ports = [support.free_port(), support.free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    envs = [
        support.service_env(data_dir, pg_url, secret, p, CREDITBANK_PROJECTIONS="external")
        for p in ports
    ]
    apis = [
        support.Proc(f"api{i}", support.cli("serve"), env, tmp_path / f"api{i}.log")
        for i, env in enumerate(envs)
    ]
    worker = support.Proc(
        "worker", support.cli("projections", "run"), envs[0], tmp_path / "worker.log"
    )
    clients = [GraphQL(b) for b in bases]
    try:
        apis[0].start()
        support.wait_http(bases[0] + "/healthz", apis[0])  # migrated before the others start
        apis[1].start()
        worker.start()
        for base, api in zip(bases, apis, strict=True):
            support.wait_http(base + "/readyz", api)
        # external: no runner of their own (their children are the canonicalisation workers)
        assert not [c for api in apis if api.proc for c in runners(api.proc.pid)]
        world = build_world(support.Remote.of(bases[0], clients[0], data_dir))  # type: ignore[arg-type]
        learners = [world.learner() for _ in range(2)]
        for i in range(12):
            deposit_and_read(world, clients[1], learners[i % 2])
        totals = [len(transcript_ids(c, learners[0])) for c in clients]
        assert totals == [6, 6]
    finally:
        for client in clients:
            client.close()
        for proc in (*apis, worker):
            proc.stop()
