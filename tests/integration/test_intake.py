"""Bulk intake on both engines: an upload with bad lines of every kind gives exactly the expected
counts and codes, each the code ``depositCredential`` gives; sending it again changes nothing;
two uploads touching the same learners at once lose nothing; a worker that dies mid-job (its
lease lapses) is resumed by another with the same result."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.bank import CreditBank
from application.intake.jobs import IntakeStore
from application.intake.lines import MAX_LINE_BYTES, Upload
from application.intake.worker import IntakeWorker
from application.issuing import IssuerKey, sign_vc_jwt
from tests.builders import Issuer, Learner, World
from tests.reliability.support import left_by_a_killed_parent

pytestmark = pytest.mark.slow

LEARNERS = 40
COURSES = 24  # lines a learner: 960 good lines
TERM = (400, 25)  # a term of 10,000 good lines (and 700 bad ones), for the main test


def _line(learner_id: Any, credential: Any) -> bytes:
    return json.dumps({"learnerId": str(learner_id), "credential": credential}).encode() + b"\n"


class Semester:
    """An institution's term: good lines for every learner and course, and 1 % bad lines of
    every kind, each with the code depositCredential gives it."""

    def __init__(self, world: World, learners: int = LEARNERS, courses: int = COURSES) -> None:
        self.world = world
        self.uni = world.issuer("Huadong University")
        self.other = world.issuer("Another University")
        self.learners = [world.learner() for _ in range(learners)]
        self.lines: list[bytes] = []
        self.expected: dict[int, str | None] = {}  # line -> code (None: accepted)
        for n, learner in enumerate(self.learners):
            for c in range(courses):
                token = world.token(
                    self.uni, learner, title=f"Course {c}", credential_id=f"urn:x:{n}-{c}"
                )
                self._add(_line(learner.id, token), None)
                if (n * courses + c) % 100 == 7:  # 1 % of every kind of bad line
                    self._bad(learner, n, c)

    def _bad(self, learner: Learner, n: int, c: int) -> None:
        w, uni = self.world, self.uni
        forged = sign_vc_jwt(
            w.credential(uni, learner, credential_id=f"urn:forged:{n}-{c}"),
            IssuerKey.of(Ed25519PrivateKey.generate(), uni.kid),
        )
        self._add(_line(learner.id, forged), "INVALID_SIGNATURE")
        unknown = w.token(uni, learner, credential_id=f"urn:nobody:{n}-{c}")
        self._add(_line(uuid4(), unknown), "NOT_FOUND")
        someone_else = self.learners[(n + 1) % len(self.learners)]
        mismatch = w.token(uni, someone_else, credential_id=f"urn:mismatch:{n}-{c}")
        self._add(_line(learner.id, mismatch), "IDENTITY_MISMATCH")
        # The same credential as an earlier line, into another learner's account.
        earlier = json.loads(self.lines[-4])["credential"]
        self._add(_line(someone_else.id, earlier), "DUPLICATE_CREDENTIAL")
        self._add(
            b'{"learnerId": "' + str(learner.id).encode() + b'", "credential": \n', "INVALID_INPUT"
        )
        self._add(_line(learner.id, "x" * (MAX_LINE_BYTES + 10)), "INVALID_INPUT")
        theirs = w.token(self.other, learner, credential_id=f"urn:theirs:{n}-{c}")
        self._add(_line(learner.id, theirs), "FORBIDDEN")  # not this institution's credential

    def _add(self, line: bytes, code: str | None) -> None:
        self.lines.append(line)
        self.expected[len(self.lines)] = code

    def body(self, chunk: int = 65536) -> list[bytes]:
        data = b"".join(self.lines)
        return [data[i : i + chunk] for i in range(0, len(data), chunk)]


def upload(bank: CreditBank, issuer: Issuer, chunks: list[bytes]) -> UUID:
    received = Upload(IntakeStore(bank.database), issuer.id, f"institution:{issuer.id}", bank.now())
    for chunk in chunks:
        received.feed(chunk)
    return received.finish()


def outcomes(world: World, semester: Semester) -> dict[UUID, int]:
    return {lr.id: len(world.bank.account(lr.id).outcomes) for lr in semester.learners}


@pytest.fixture
def semester(trust: World) -> Semester:
    trust.clock.now = trust.clock.now + timedelta(days=1)
    return Semester(trust)


def test_an_upload_gives_every_line_its_code_and_again_changes_nothing(trust: World) -> None:
    trust.clock.now = trust.clock.now + timedelta(days=1)
    semester = Semester(trust, *TERM)
    bank = trust.bank
    store = IntakeStore(bank.database)
    job_id = upload(bank, semester.uni, semester.body())
    job = store.job(job_id)
    assert job is not None
    assert job.state == "QUEUED"
    assert job.total == len(semester.lines)
    IntakeWorker(bank, store).run_until_idle()

    job = store.job(job_id)
    expected = Counter(semester.expected.values())
    assert job is not None
    assert job.state == "DONE"
    assert (job.processed, job.accepted, job.refused) == (
        len(semester.lines),
        expected[None],
        len(semester.lines) - expected[None],
    )
    got = {n: code for n, _result, code, _o in store.results(job_id)}
    assert got == semester.expected
    held = outcomes(trust, semester)
    assert held == {lr.id: TERM[1] for lr in semester.learners}

    # The same file again: every line answers the same, and no account changes.
    position = bank.recorder.max_notification_id()
    again = upload(bank, semester.uni, semester.body(chunk=4096))
    IntakeWorker(bank, store).run_until_idle()
    assert {n: code for n, _r, code, _o in store.results(again)} == semester.expected
    assert outcomes(trust, semester) == held
    assert bank.recorder.max_notification_id() == position


def test_a_worker_that_dies_mid_job_is_resumed_with_the_same_result(
    trust: World, semester: Semester
) -> None:
    bank = trust.bank
    store = IntakeStore(bank.database)
    job_id = upload(bank, semester.uni, semester.body())
    dying = IntakeWorker(bank, store, batch=100, lease=0.5)
    job = store.claim(dying.owner, lease=0.5)
    assert job is not None
    # It deposits a batch but dies before writing the batch's results (the worst moment).
    for _ in dying.decide(job, store.pending(job_id, 100)):
        pass
    import time

    time.sleep(0.6)  # its lease lapses
    IntakeWorker(bank, store, batch=100).run_until_idle()
    assert {n: code for n, _r, code, _o in store.results(job_id)} == semester.expected
    assert outcomes(trust, semester) == {lr.id: COURSES for lr in semester.learners}


def test_two_uploads_touching_the_same_learners_lose_nothing(trust: World) -> None:
    bank = trust.bank
    store = IntakeStore(bank.database)
    a, b = trust.issuer("University A"), trust.issuer("University B")
    learners = [trust.learner() for _ in range(10)]
    jobs = []
    for issuer in (a, b):
        lines = [
            _line(lr.id, trust.token(issuer, lr, credential_id=f"urn:{issuer.id}:{lr.id}:{c}"))
            for lr in learners
            for c in range(10)
        ]
        jobs.append(upload(bank, issuer, [b"".join(lines)]))
    workers = [IntakeWorker(bank, store, batch=25) for _ in range(2)]
    threads = [threading.Thread(target=w.run_until_idle) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for job_id in jobs:
        job = store.job(job_id)
        assert job is not None
        assert (job.state, job.accepted, job.refused) == ("DONE", 100, 0)
    assert all(len(bank.account(lr.id).outcomes) == 20 for lr in learners)


def test_verifying_in_other_processes_gives_the_same_answers(
    trust: World, semester: Semester
) -> None:
    """The pool knows only the job's institution: another issuer's credential comes back
    unknown and is verified again here (FORBIDDEN, as depositCredential says)."""
    from application.intake.verifying import VerifyPool

    bank = trust.bank
    store = IntakeStore(bank.database)
    job_id = upload(bank, semester.uni, semester.body())
    pool = VerifyPool(2)
    try:
        IntakeWorker(bank, store, pool=pool).run_until_idle()
    finally:
        pool.close()
    assert {n: code for n, _r, code, _o in store.results(job_id)} == semester.expected
    assert outcomes(trust, semester) == {lr.id: COURSES for lr in semester.learners}


POOL_CHILD = """
import multiprocessing, time
from datetime import UTC, datetime
from application.intake.verifying import VerifyPool
pool = VerifyPool(2)
assert pool.submit([], None, datetime.now(UTC)).result(timeout=60) == []
print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_verifying_process_does_not_outlive_the_process_that_started_it() -> None:
    """The server killed (SIGKILL, OOM) with its intake pool started: the pool's processes,
    blocked on their task queue, end within a second or so instead of staying, orphans of init
    (~120 MB each; four were found after each run of the suite)."""
    assert not left_by_a_killed_parent(POOL_CHILD)


def test_an_upload_whose_receiver_died_is_swept(trust: World) -> None:
    """Never acknowledged, never worked: once nothing has arrived for a while, its lines go and
    the job is FAILED. An acknowledged job is never undone by it."""
    bank = trust.bank
    store = IntakeStore(bank.database)
    issuer, learner = trust.issuer("Sweep University"), trust.learner()
    broken = Upload(store, issuer.id, None, bank.now())
    broken.feed(_line(learner.id, trust.token(issuer, learner)) * 3)
    broken._flush()  # what a dead receiver left: lines stored, the job still RECEIVING
    whole = upload(bank, issuer, [_line(learner.id, trust.token(issuer, learner))])
    assert store.sweep(bank.now(), quiet=3600) == 0  # still within its time
    assert store.sweep(bank.now(), quiet=-1) == 1
    assert store.results(broken.job_id) == []
    store.abandon(whole, bank.now())  # too late: acknowledged
    job = store.job(whole)
    assert job is not None
    assert job.state == "QUEUED"
    assert len(store.results(whole)) == 1
