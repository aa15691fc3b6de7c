"""The CPU bomb through canonicalisation (issue 14, finding 2).

A 1.7 KB Data Integrity credential whose blank nodes form a 7-node clique cost 6.4 s of CPU in
URDNA2015 (pyld) before any signature check, about ten times more per extra node, with the GIL
held: a few at once stalled every request. Now the proof and its key are checked first, the JSON
is bounded (size, nesting, blank nodes), and the canonicalisation runs in a worker process with a
deadline (application/canonicalisation.py).

Storage plays no part, so the served app is on SQLite only.
"""

from __future__ import annotations

import contextlib
import copy
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pebble import ProcessFuture
from pebble.pool.base_pool import PoolStatus

from api.auth import Role
from application import canonicalisation, data_integrity
from application.bootstrap import bootstrap
from application.issuing import IssuerKey, sign_data_integrity
from application.settings import Settings
from application.signing import base58btc, multikey
from application.standards import Standards
from domain.errors import InvalidCredential, InvalidSignature, Unavailable
from tests.api.conftest import GraphQL, Issuer, LearnerRef, Served, World, serve
from tests.builders import STANDARDS, CredentialSpec, achievement_credential
from tests.reliability.support import left_by_a_killed_parent

VERIFY = (
    "query V($c: String!) { verifyCredential(credential: $c) { valid errors { code message } } }"
)
DEPOSIT_SELECTION = "outcome { id }"
CHEAP = "{ framework { name } }"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve("sqlite", tmp_path_factory.mktemp("api") / "data", None) as s:
        yield s


# -- credentials -----------------------------------------------------------------------------------
def _credential(issuer: Issuer, learner: LearnerRef) -> dict[str, Any]:
    return achievement_credential(
        CredentialSpec(issuer_uri=issuer.issuer_uri, document_number=learner.document_number)
    )


def _proof(issuer: Issuer, **changes: Any) -> dict[str, Any]:
    """A well-formed eddsa-rdfc-2022 proof naming the issuer's registered key; the signature is
    64 random bytes (an attacker needs no valid one: the cost came before the signature)."""
    return {
        "type": "DataIntegrityProof",
        "created": "2026-01-15T10:00:00Z",
        "verificationMethod": f"{issuer.issuer_uri}#{multikey(issuer.keys.private.public_key())}",
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + base58btc(os.urandom(64)),
        **changes,
    }


def clique(issuer: Issuer, learner: LearnerRef, nodes: int, **proof: Any) -> str:
    """An OB 3.0 AchievementCredential whose subject knows ``nodes`` blank nodes that all know
    each other: every node looks alike to URDNA2015, which then tries their permutations."""
    credential = _credential(issuer, learner)
    knows = {"knows": {"@id": "https://attacker.example/knows", "@type": "@id"}}
    credential["@context"] = [*credential["@context"], knows]
    credential["credentialSubject"]["knows"] = [
        {"id": f"_:b{i}", "knows": [f"_:b{j}" for j in range(nodes) if j != i]}
        for i in range(nodes)
    ]
    return json.dumps({**credential, "proof": _proof(issuer, **proof)})


def signed(issuer: Issuer, learner: LearnerRef) -> str:
    return json.dumps(
        sign_data_integrity(_credential(issuer, learner), issuer.keys, Standards(), _now())
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def deposit(world: World, learner: LearnerRef, text: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    payload = world.gql.mutate(
        "depositCredential",
        {"learnerId": learner.id, "credential": text},
        world.institution_token(world.university),
        DEPOSIT_SELECTION,
    )
    return payload, time.monotonic() - started


def pebble_workers() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "pebble_pool_worker"]


# -- the bomb over HTTP ----------------------------------------------------------------------------
@pytest.mark.parametrize("nodes", [7, 8])
def test_a_blank_node_clique_is_refused_within_the_deadline(
    served: Served, world: World, nodes: int
) -> None:
    deadline = served.settings.canonicalisation_timeout
    learner = world.learner()
    warm, _ = deposit(world, learner, signed(world.university, learner))  # workers started
    assert warm["errors"] == []
    assert warm["outcome"]["id"]
    head = world.gql.head()

    payload, took = deposit(world, learner, clique(world.university, learner, nodes))
    assert payload["outcome"] is None
    [error] = payload["errors"]
    assert error["code"] == "INVALID_CREDENTIAL"
    assert "too costly to canonicalise" in error["message"]
    assert took < 3 * deadline, took  # it cost 6.4 s (7 nodes) and ten times more per node
    assert world.gql.head() == head  # nothing stored

    started = time.monotonic()
    reply = world.gql(VERIFY, {"c": clique(world.university, learner, nodes)})
    assert time.monotonic() - started < 3 * deadline
    result = reply.ok()["verifyCredential"]
    assert result["valid"] is False
    assert result["errors"][0]["code"] == "INVALID_CREDENTIAL"
    assert "too costly" in result["errors"][0]["message"]

    # The killed worker is replaced: a real credential deposits again.
    again, _ = deposit(world, learner, signed(world.university, learner))
    assert again["errors"] == []
    assert again["outcome"]["id"]


def test_other_requests_are_answered_while_bombs_run(served: Served, world: World) -> None:
    """Six 8-node cliques at once (in-process, each held the GIL for minutes and together they
    ate every core): each is refused in seconds, and a cheap query keeps answering meanwhile."""
    deadline = served.settings.canonicalisation_timeout
    learner = world.learner()
    ok, _ = deposit(world, learner, signed(world.university, learner))
    assert ok["errors"] == []
    refusals: list[tuple[str, float]] = []

    def bomb() -> None:
        client = GraphQL(served.base_url)  # its own connection, like another client
        started = time.monotonic()
        try:
            reply = client.mutate_raw(
                "depositCredential",
                {"learnerId": learner.id, "credential": clique(world.university, learner, 8)},
                world.institution_token(world.university),
                DEPOSIT_SELECTION,
            )
            code = reply.data["depositCredential"]["errors"][0]["code"]
            refusals.append((code, time.monotonic() - started))
        finally:
            client.close()

    bombs = [threading.Thread(target=bomb, daemon=True) for _ in range(6)]
    for thread in bombs:
        thread.start()
    time.sleep(0.2)  # the first bombs are in the workers
    latencies: list[float] = []
    token = world.token(Role.LEARNER, learner.id)
    while any(thread.is_alive() for thread in bombs):
        started = time.monotonic()
        assert world.gql(CHEAP, token=token).ok()["framework"]["name"]
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)
    for thread in bombs:
        thread.join()
    latencies.sort()
    assert len(latencies) >= 20, latencies  # the bombs ran long enough to matter
    assert latencies[-1] < 1.0, latencies
    assert latencies[len(latencies) // 2] < 0.1, latencies  # in-process: 0.25 s
    # Each bomb is refused, by its cost or (waiting for a worker) as busy, in bounded time;
    # the ones that reached a worker are refused for their cost.
    assert len(refusals) == 6, refusals
    assert {code for code, _ in refusals} <= {"INVALID_CREDENTIAL", "UNAVAILABLE"}
    assert sum(code == "INVALID_CREDENTIAL" for code, _ in refusals) >= 2, refusals
    assert max(took for _, took in refusals) < 2 * (deadline + canonicalisation.STARTUP) + 1


def test_structure_and_key_are_checked_before_any_canonicalisation(world: World) -> None:
    """An 8-node clique (a minute of CPU) with a flaw in its proof or key is refused in
    milliseconds, by the flaw, and no worker is ever started for it."""
    canonicalisation.shutdown()
    learner = world.learner()
    stranger = copy.deepcopy(world.university)
    stranger.keys = IssuerKey.ed25519()  # a key the bank never registered
    cases = {
        "INVALID_SIGNATURE": clique(world.university, learner, 8, proofValue="z" + "1" * 20),
        "KEY_NOT_VALID": clique(stranger, learner, 8),
        "INVALID_CREDENTIAL": clique(world.university, learner, 8, proofPurpose="authentication"),
    }
    short = _proof(world.university)
    short["proofValue"] = "z" + base58btc(os.urandom(63))
    document = json.loads(cases["INVALID_CREDENTIAL"])
    cases["INVALID_SIGNATURE (63 bytes)"] = json.dumps({**document, "proof": short})
    wrong_method = _proof(world.university)
    wrong_method["verificationMethod"] = world.university.issuer_uri  # no Multikey
    cases["INVALID_CREDENTIAL (method)"] = json.dumps({**document, "proof": wrong_method})
    for expected, text in cases.items():
        payload, took = deposit(world, learner, text)
        assert payload["errors"][0]["code"] == expected.split()[0], (expected, payload)
        assert took < 1.0, (expected, took)
    assert pebble_workers() == []


def test_a_proof_verified_with_another_key_is_refused_before_canonicalisation() -> None:
    """data_integrity.verify itself: the verificationMethod must name the key it is checked
    with, and the proofValue must be 64 bytes, before the (costly) canonicalisation."""
    canonicalisation.shutdown()
    knows = [{"id": f"_:b{i}", "knows": [f"_:b{j}" for j in range(8) if j != i]} for i in range(8)]
    document = _simple_with(knows=knows)
    other = IssuerKey.ed25519().private.public_key()
    started = time.monotonic()
    with pytest.raises(InvalidCredential, match="not the key it is checked with"):
        data_integrity.verify(document, other, Standards())
    document["proof"] = {**document["proof"], "proofValue": "z" + base58btc(b"\1" * 65)}
    with pytest.raises(InvalidSignature, match="64 bytes"):
        data_integrity.verify(document, _public(), Standards())
    assert time.monotonic() - started < 0.5
    assert pebble_workers() == []


# -- the bounds, before any JSON-LD ----------------------------------------------------------------
def _public() -> Any:
    method = json.loads((STANDARDS / "examples" / "ob3-simple.json").read_text())["proof"][0]
    return data_integrity.public_key_from_multikey(method["verificationMethod"].rsplit("#")[1])


def _simple_with(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((STANDARDS / "examples" / "ob3-simple.json").read_text())
    knows = {"knows": {"@id": "https://example.org/knows", "@type": "@id"}}
    document["@context"] = [*document["@context"], knows]
    document["credentialSubject"] = {**document["credentialSubject"], **changes}
    document["proof"] = document["proof"][0]
    return document


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"id": "https://example.org/leaf"}
    for level in range(depth):
        value = {"id": f"https://example.org/{level}", "knows": value}
    return value


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"padding": "x" * (canonicalisation.MAX_BYTES + 1)}, "larger than 256 KiB"),
        ({"knows": _nested(canonicalisation.MAX_DEPTH - 2)}, "deeper than 32 levels"),
        ({"knows": [{} for _ in range(canonicalisation.MAX_BLANK_NODES)]}, "more than 1000"),
        (
            {"knows": [f"_:n{i}" for i in range(canonicalisation.MAX_BLANK_NODES)]},
            "more than 1000 blank nodes",
        ),
    ],
    ids=["size", "depth", "unlabelled-blank-nodes", "blank-node-labels"],
)
def test_each_bound_refuses_before_any_worker(changes: dict[str, Any], says: str) -> None:
    canonicalisation.shutdown()
    document = _simple_with(**changes)
    started = time.monotonic()
    with pytest.raises(InvalidCredential, match=f"too costly to canonicalise: .*{says}"):
        data_integrity.verify(document, _public(), Standards())
    assert time.monotonic() - started < 0.5
    assert pebble_workers() == []


def test_at_the_bounds_a_document_is_canonicalised() -> None:
    """At the depth limit, and near the blank-node limit, the document reaches the worker (and is
    refused there only by its signature, which these changes break)."""
    depth = canonicalisation.MAX_DEPTH - 3  # the subject is at depth 2, its knows at 3
    for changes in (
        {"knows": _nested(depth)},
        {"knows": [{} for _ in range(canonicalisation.MAX_BLANK_NODES - 10)]},
    ):
        with pytest.raises(InvalidSignature):
            data_integrity.verify(_simple_with(**changes), _public(), Standards())


def _shipped() -> dict[str, dict[str, Any]]:
    vector = json.loads((STANDARDS / "vectors" / "ob3-eddsa-rdfc-2022.json").read_text())
    found = {"vector": vector["document"]}
    for path in sorted((STANDARDS / "examples").glob("*.json")):
        found[path.name] = json.loads(path.read_text())
    root = Path(__file__).resolve().parents[2]
    found["examples/computer-networks.signed.json"] = json.loads(
        (root / "examples" / "computer-networks.signed.json").read_text()
    )
    clr = found["clr2-simple.json"]
    big = copy.deepcopy(clr)
    inner = clr["credentialSubject"]["verifiableCredential"][0]
    big["credentialSubject"]["verifiableCredential"] = [
        {**copy.deepcopy(inner), "id": f"http://example.com/credentials/{i}"} for i in range(100)
    ]
    found["a CLR of 100 credentials"] = big
    return found


@pytest.mark.parametrize("name", list(_shipped()))
def test_real_credentials_are_far_inside_the_bounds(name: str) -> None:
    """The W3C/1EdTech material and a CLR of 100 OB 3.0 credentials pass with room to spare
    (the vectors themselves are reproduced byte for byte in tests/service/test_conformance.py)."""
    document = _shipped()[name]
    canonicalisation.check([document])
    narrower = {
        "MAX_BYTES": canonicalisation.MAX_BYTES // 2,
        "MAX_DEPTH": canonicalisation.MAX_DEPTH // 3,
        "MAX_BLANK_NODES": canonicalisation.MAX_BLANK_NODES // 4,
    }
    saved = {key: getattr(canonicalisation, key) for key in narrower}
    try:
        for key, value in narrower.items():
            setattr(canonicalisation, key, value)
        canonicalisation.check([document])  # still inside bounds twice to four times tighter
    finally:
        for key, value in saved.items():
            setattr(canonicalisation, key, value)
    started = time.monotonic()
    canonicalisation.canonicalise([{k: v for k, v in document.items() if k != "proof"}], STANDARDS)
    assert time.monotonic() - started < 2.0


# -- the pool's life -------------------------------------------------------------------------------
def test_the_workers_stop_with_the_services(tmp_path: Path) -> None:
    services = bootstrap(
        Settings(data_dir=tmp_path / "data", secret_key="t-" + "s" * 40, canonicalisation_timeout=3)
    )
    try:
        assert canonicalisation.shared.timeout == 3
        vector = json.loads((STANDARDS / "vectors" / "ob3-eddsa-rdfc-2022.json").read_text())
        data_integrity.canonical(vector["document"], services.bank.standards_material)
        assert pebble_workers()
    finally:
        services.close()
        canonicalisation.configure(canonicalisation.DEFAULT_TIMEOUT)
    assert pebble_workers() == []


CHILD = """
import json, multiprocessing, sys, threading, time
from application import canonicalisation
from application.standards import PACKAGE_DIR

canonicalisation.configure(600)  # the worker stays busy on the clique
document = json.loads(sys.argv[1])
threading.Thread(
    target=canonicalisation.canonicalise, args=([document], PACKAGE_DIR), daemon=True
).start()
time.sleep(3)  # the workers have started and one is in pyld
workers = [p.pid for p in multiprocessing.active_children() if p.name == "pebble_pool_worker"]
print(" ".join(map(str, workers)), flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_busy_worker_does_not_outlive_the_process_that_started_it() -> None:
    """The API process killed (SIGKILL, OOM) while a worker canonicalises a clique: the worker
    ends within a second or so instead of burning a core for minutes."""
    context = {"knows": {"@id": "https://attacker.example/knows", "@type": "@id"}}
    bomb = {
        "@context": ["https://www.w3.org/ns/credentials/v2", context],
        "id": "https://example.org/c",
        "knows": [
            {"id": f"_:b{i}", "knows": [f"_:b{j}" for j in range(9) if j != i]} for i in range(9)
        ],
    }
    assert not left_by_a_killed_parent(CHILD, json.dumps(bomb))


# -- waiting for a worker, and the workers' share of the CPU ---------------------------------------
BOMB = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        {"knows": {"@id": "https://attacker.example/knows", "@type": "@id"}},
    ],
    "id": "https://example.org/c",
    "knows": [
        {"id": f"_:b{i}", "knows": [f"_:b{j}" for j in range(9) if j != i]} for i in range(9)
    ],
}


def test_a_caller_waits_briefly_for_a_worker_and_workers_run_at_low_priority() -> None:
    """Callers wait in the server's threadpool: waiting up to 7 s for a slot let a few requests of
    15 aliased anonymous verifications hold all 40 threads, and every database read with them.
    With the one worker busy, a second caller is told UNAVAILABLE within about half a second.
    The worker runs niced, so the API process keeps its share of the CPU."""
    pool = canonicalisation.Canonicaliser(timeout=10, workers=1)
    busy = threading.Thread(
        target=_swallow, args=(pool.canonicalise, [BOMB], STANDARDS), daemon=True
    )
    try:
        busy.start()
        deadline = time.monotonic() + 15
        while not pebble_workers() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the worker has taken the bomb
        started = time.monotonic()
        with pytest.raises(Unavailable):
            pool.canonicalise([_simple_with()], STANDARDS)
        assert time.monotonic() - started < 1.5
        for worker in pebble_workers():
            assert os.getpriority(os.PRIO_PROCESS, worker.pid or 0) >= 10
    finally:
        pool.close()
        busy.join(timeout=10)


WARM_UP_CHILD = """
import json, os, sys
from application import canonicalisation
seen = []
work = canonicalisation._work
def spy(documents, directory):
    seen.append(os.getpriority(os.PRIO_PROCESS, 0))
    return work(documents, directory)
canonicalisation._work = spy
canonicalisation._warm_up(os.getppid(), sys.argv[1])
print(json.dumps({"during": seen, "after": os.getpriority(os.PRIO_PROCESS, 0),
                  "cached": sorted(canonicalisation._standards)}))
"""


def test_a_worker_warms_up_at_full_priority_then_runs_niced() -> None:
    """A worker niced from its start took 3-5 s to start on a busy 2-core machine, past the
    caller's allowance: the first caller was told UNAVAILABLE for the bank's own start-up. It
    now imports, parses the contexts and canonicalises one small document at the priority it
    was started with, and only then lowers its own."""
    root = Path(__file__).resolve().parents[2]
    reply = subprocess.run(
        [sys.executable, "-c", WARM_UP_CHILD, str(STANDARDS)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(reply.stdout)
    started_at = os.getpriority(os.PRIO_PROCESS, 0)
    assert seen["during"] == [started_at]  # one warm-up canonicalisation, not yet niced
    assert seen["after"] >= started_at + canonicalisation.WORKER_NICENESS or seen["after"] == 19
    assert seen["cached"] == [str(STANDARDS)]  # a task finds the contexts parsed


def _swallow(function: Any, *args: Any) -> None:
    with contextlib.suppress(Exception):
        function(*args)


def test_a_broken_pool_is_replaced_and_its_workers_stopped() -> None:
    """A pool found broken (pebble's ERROR state: a manager thread died, a channel failed) was
    replaced, and its workers left running."""
    pool = canonicalisation.Canonicaliser(timeout=5, workers=1)
    try:
        pool.canonicalise([_simple_with()], STANDARDS)
        broken = pool._pool
        assert broken is not None
        old = {p.pid for p in pebble_workers()}
        broken._context.status = PoolStatus.ERROR  # how pebble marks a pool it found broken
        pool.canonicalise([_simple_with()], STANDARDS)  # served by a new pool
        assert pool._pool is not broken
        deadline = time.monotonic() + 10
        while old & {p.pid for p in pebble_workers()} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not old & {p.pid for p in pebble_workers()}, "the broken pool's workers leaked"
    finally:
        pool.close()


def test_what_a_finished_task_means_is_read_from_the_task() -> None:
    """A task done with an answer is that answer, however late the caller looks; only pebble's
    own deadline (TimeoutError on the task) or a worker's death is TOO_COSTLY."""
    answered: ProcessFuture[Any] = ProcessFuture()
    answered.set_result([("ok", "<a> <b> <c> .\n")])
    assert canonicalisation._settle(answered, 0) == [("ok", "<a> <b> <c> .\n")]
    timed_out: ProcessFuture[Any] = ProcessFuture()
    timed_out.set_exception(TimeoutError("Task timeout", 2))
    with pytest.raises(InvalidCredential):
        canonicalisation._settle(timed_out, 0)
    waiting: ProcessFuture[Any] = ProcessFuture()
    with pytest.raises(Unavailable):
        canonicalisation._settle(waiting, 0.05)
