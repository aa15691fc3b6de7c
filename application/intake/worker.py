"""The intake worker: takes a queued job by its lease and deposits its lines a batch at a time,
off the request path (a thread of ``creditbank serve``, or ``creditbank intake work``).

A window of lines is grouped by learner, several learners' lines a transaction
(``CreditBank.deposit_groups``); then those lines' answers and the job's counts are written in one
more. A SIGKILL between the two loses nothing: the lines are still undecided, the next worker
deposits them again, and the account, already holding them, answers that it does (accepted,
never twice). A database outage or a lost race leaves the lines undecided to be tried again;
every other refusal is the line's answer, with the code ``depositCredential`` gives.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any
from uuid import UUID

from application import dialects
from application.bank import CreditBank
from application.commands.intake import MAX_BATCH, Deposited, LineResult
from application.credentials import _b64json
from application.intake.jobs import LEASE, Decision, IntakeStore, Job, LeaseLost, Line
from application.intake.lines import Deposit, deposit, refusal
from application.intake.verifying import Verdict, VerifyPool
from domain.errors import Conflict, DomainError, Unavailable
from domain.institution import Institution

log = logging.getLogger("creditbank.intake")

BATCH = 5000  # lines read, decided and recorded together (a window)
WINDOW_BYTES = 32 * 1024 * 1024  # and no more of their text than this
# Seconds between looks for work when there is none: an upload to this process wakes its worker
# at once; this finds jobs queued through another process, or left by a worker that died.
IDLE = 5.0
POOL_CHUNK = 250  # credentials a pool process verifies per task
POOL_MIN_LINES = 500  # a smaller window is verified in this process
TRANSIENT = (Unavailable, Conflict)  # try the line again later; never its answer


class IntakeWorker:
    def __init__(
        self,
        bank: CreditBank,
        store: IntakeStore | None = None,
        *,
        batch: int = BATCH,
        lease: float = LEASE,
        idle: float = IDLE,
        pool: VerifyPool | None = None,
    ) -> None:
        self.bank = bank
        self.store = store or IntakeStore(bank.database)
        self.batch = batch
        self.lease = lease
        self.idle = idle  # seconds between looks for work when there is none
        self.pool = pool  # verifies VC-JWTs in other processes (None: in this one)
        self.owner = f"worker-{uuid.uuid4()}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="intake", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.pool is not None:
            self.pool.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.work_once()
            except Exception:
                log.warning("intake worker: a pass failed; trying again", exc_info=True)
                worked = False
            if not worked:
                self._wake.wait(self.idle)
                self._wake.clear()

    def work_once(self) -> bool:
        """Takes one job and works it to its end (or until stopped); False: nothing to do."""
        self.store.sweep(self.bank.now())
        job = self.store.claim(self.owner, self.lease)
        if job is None:
            return False
        try:
            self._work(job)
        except LeaseLost:
            log.warning("intake job %s was taken over by another worker", job.id)
        finally:
            if self._stop.is_set():
                self.store.release(job.id, self.owner)
        return True

    def run_until_idle(self) -> None:
        """Works every job there is, then returns (tests, ``creditbank intake work --once``)."""
        while self.work_once():
            pass

    def _work(self, job: Job) -> None:
        while not self._stop.is_set():
            lines = self.store.pending(job.id, self.batch, WINDOW_BYTES)
            if not lines:
                self.store.finish(job.id, self.owner, self.bank.now())
                return
            decided = 0
            for decisions in self.decide(job, lines):
                if decisions:
                    self.store.record(job.id, self.owner, decisions, self.lease)
                decided += len(decisions)
            if decided < len(lines):  # some met an outage: wait, then again
                self._stop.wait(1.0)

    # -- deciding --------------------------------------------------------------------------------
    def decide(self, job: Job, lines: list[Line]) -> Iterator[list[Decision]]:
        """The window's answers, a transaction's worth at a time (each recorded as it comes); a
        line that met an outage has none yet.

        Lines are decided as if sent one by one in the file's order, but grouped by learner:
        each transaction holds several learners' lines (a registrar's file is in course order,
        one line per learner in a row). The one order that matters across learners is which of
        two lines naming the same credential for different learners comes first: such lines
        are decided first, one by one, in line order (nothing else in their accounts depends
        on them)."""
        first: dict[int, LineResult] = {}
        asked: list[tuple[Line, Deposit]] = []
        for line in lines:
            try:
                deposit_ = deposit(line)
            except DomainError as exc:
                first[line.number] = exc
                continue
            if deposit_.statement:  # one at a time: xAPI evidence comes in small numbers
                first[line.number] = self._statement(job, deposit_)
            else:
                asked.append((line, deposit_))
        contested = _contested(asked)
        for n, (line, d) in enumerate(item for item in asked if item[0].number in contested):
            one = {d.learner_id: [d.credential]}
            first[line.number] = self._deposit(job, one)[d.learner_id][0]
            if n % 200 == 199:  # one transaction a line: keep the job while they run
                self.store.renew(job.id, self.owner, self.lease)
        yield _decisions(lines, first)
        groups: dict[UUID, list[tuple[Line, Deposit]]] = defaultdict(list)
        for line, d in asked:
            if line.number not in contested:
                groups[d.learner_id].append((line, d))
        chunks = list(_transactions(groups))
        verifying = self._verify_ahead(job, chunks)  # the pool works ahead of the deposits
        for chunk, pending in zip(chunks, verifying, strict=True):
            results = self._deposit(
                job,
                {lid: [d.credential for _, d in items] for lid, items in chunk.items()},
                pending(),
            )
            answers = {
                line.number: result
                for learner_id, items in chunk.items()
                for (line, _), result in zip(items, results[learner_id], strict=True)
            }
            yield _decisions([line for items in chunk.values() for line, _ in items], answers)

    def _verify_ahead(
        self, job: Job, chunks: list[dict[UUID, list[tuple[Line, Deposit]]]]
    ) -> list[Callable[[], dict[str, Verdict]]]:
        """For each transaction, how to get its VC-JWTs' verdicts from the pool (submitted now,
        all of them); without a pool, or if it fails, the bank's process verifies them."""
        nothing: list[Callable[[], dict[str, Verdict]]] = [dict] * len(chunks)
        lines = sum(len(items) for chunk in chunks for items in chunk.values())
        if self.pool is None or lines < POOL_MIN_LINES:  # not worth a process's start
            return nothing
        try:
            institution = self.bank.institution(job.institution_id)
        except DomainError:
            return nothing
        now = self.bank.now()
        getters: list[Callable[[], dict[str, Verdict]]] = []
        for chunk in chunks:
            tokens = [d.credential for items in chunk.values() for _, d in items]
            tokens = [t for t in tokens if not t.lstrip().startswith("{")]  # JSON: here
            parts = list(dialects.chunks(tokens, POOL_CHUNK))
            try:
                futures = [(part, self.pool.submit(part, institution, now)) for part in parts]
            except Exception:
                log.warning("intake: the verifying pool is unavailable", exc_info=True)
                return nothing
            getters.append(functools.partial(self._gathered, futures, institution))
        return getters

    def _gathered(
        self, futures: list[tuple[list[str], Future[list[Any]]]], institution: Institution
    ) -> dict[str, Verdict]:
        verdicts: dict[str, Verdict] = {}
        for part, future in futures:
            try:
                verdicts.update(VerifyPool.verdicts(part, future, institution))
            except Exception:  # a broken pool: these are verified here instead
                log.warning("intake: a verifying process failed", exc_info=True)
        return verdicts

    def _statement(self, job: Job, asked: Deposit) -> LineResult:
        try:
            return self.bank.deposit_statement_line(
                asked.learner_id, asked.credential, job.actor, job.institution_id
            )
        except Exception:  # a fault of the bank's: logged, and the line's answer
            log.exception("intake job %s: a statement for %s failed", job.id, asked.learner_id)
            return LineFailed()

    def _deposit(
        self,
        job: Job,
        groups: dict[UUID, list[str]],
        verdicts: dict[str, Verdict] | None = None,
    ) -> dict[UUID, list[LineResult]]:
        problem: DomainError
        try:
            return self.bank.deposit_groups(groups, job.actor, job.institution_id, verdicts)
        except DomainError as exc:
            problem = exc
        except Exception:  # a fault of the bank's: logged, and the lines' answer (never a loop)
            log.exception("intake job %s: deposits into %d accounts failed", job.id, len(groups))
            problem = LineFailed()
        return {lid: [problem] * len(credentials) for lid, credentials in groups.items()}


def _decisions(lines: list[Line], answers: dict[int, LineResult]) -> list[Decision]:
    """The answered lines' decisions, in line order; an outage is no answer (tried again)."""
    decisions = []
    for line in sorted(lines, key=lambda line: line.number):
        answer = answers.get(line.number)
        if answer is None or isinstance(answer, TRANSIENT):
            continue
        outcome = answer.outcome_id if isinstance(answer, Deposited) else None
        refused = None if isinstance(answer, Deposited) else refusal(answer)
        decisions.append(Decision(line.number, line.learner_id, line.digest, outcome, refused))
    return decisions


def _keys(credential: str) -> set[str]:
    """The ids a credential may be indexed by (read without verifying: only to see which lines
    might name the same credential; more keys than needed only decide more lines one by one)."""
    try:
        text = credential.strip()
        value = json.loads(text) if text.startswith("{") else _b64json(text.split(".")[1])
        found = {value.get("jti"), value.get("id"), (value.get("vc") or {}).get("id")}
    except (DomainError, ValueError, IndexError, AttributeError, TypeError):
        return set()
    return {k for k in found if isinstance(k, str)}


def _contested(asked: list[tuple[Line, Deposit]]) -> set[int]:
    """The lines naming a credential that another line names for another learner."""
    learners: defaultdict[str, set[UUID]] = defaultdict(set)
    keys = {line.number: _keys(d.credential) for line, d in asked}
    for line, d in asked:
        for key in keys[line.number]:
            learners[key].add(d.learner_id)
    shared = {key for key, who in learners.items() if len(who) > 1}
    return {n for n, ks in keys.items() if ks & shared}


def _transactions(
    groups: dict[UUID, list[tuple[Line, Deposit]]],
) -> Iterator[dict[UUID, list[tuple[Line, Deposit]]]]:
    """Learners' lines packed into transactions of at most MAX_BATCH lines (a learner with more
    is split across several, in order)."""
    chunk: dict[UUID, list[tuple[Line, Deposit]]] = {}
    size = 0
    for learner_id, items in groups.items():
        for part in dialects.chunks(items, MAX_BATCH):
            if chunk and (size + len(part) > MAX_BATCH or learner_id in chunk):
                yield chunk
                chunk, size = {}, 0
            chunk[learner_id] = part
            size += len(part)
    if chunk:
        yield chunk


class LineFailed(DomainError):
    code = "UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("the bank could not process this line; send it again")
