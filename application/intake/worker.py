"""The intake worker: takes a queued job by its lease and deposits its lines a batch at a time,
off the request path (a thread of ``creditbank serve``, or ``creditbank intake work``).

Each batch groups its lines by learner, and each learner's lines go in one transaction
(``CreditBank.deposit_batch``); then the batch's results and the job's counts are written in one
more. A SIGKILL between the two loses nothing: the lines are still undecided, the next worker
deposits them again, and the account, already holding them, answers that it does (accepted,
never twice). A database outage or a lost race leaves the lines undecided to be tried again;
every other refusal is the line's answer, with the code ``depositCredential`` gives.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from uuid import UUID

from application.bank import CreditBank
from application.commands.intake import MAX_BATCH, Deposited, LineResult
from application.intake.jobs import LEASE, Decision, IntakeStore, Job, LeaseLost, Line
from application.intake.lines import Deposit, deposit, refusal
from domain.errors import Conflict, DomainError, Unavailable

log = logging.getLogger("creditbank.intake")

BATCH = 500  # lines read and recorded together
TRANSIENT = (Unavailable, Conflict)  # try the line again later; never its answer


class IntakeWorker:
    def __init__(
        self,
        bank: CreditBank,
        store: IntakeStore | None = None,
        *,
        batch: int = BATCH,
        lease: float = LEASE,
        idle: float = 1.0,
    ) -> None:
        self.bank = bank
        self.store = store or IntakeStore(bank.database)
        self.batch = batch
        self.lease = lease
        self.idle = idle  # seconds between looks for work when there is none
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
            lines = self.store.pending(job.id, self.batch)
            if not lines:
                self.store.finish(job.id, self.owner, self.bank.now())
                return
            decisions = self.decide(job, lines)
            if decisions:
                self.store.record(job.id, self.owner, decisions, self.lease)
            if len(decisions) < len(lines):  # some met an outage: wait, then again
                self._stop.wait(1.0)

    # -- deciding --------------------------------------------------------------------------------
    def decide(self, job: Job, lines: list[Line]) -> list[Decision]:
        """The batch's answers, in line order; a line that met an outage has none yet (and so
        the batch ends before it: lines are decided in order)."""
        answers: dict[int, LineResult] = {}
        groups: defaultdict[UUID, list[tuple[Line, Deposit]]] = defaultdict(list)
        for line in lines:
            try:
                asked = deposit(line)
            except DomainError as exc:
                answers[line.number] = exc
                continue
            if asked.statement:  # one at a time: xAPI evidence comes in small numbers
                answers[line.number] = self._statement(job, asked)
                continue
            groups[asked.learner_id].append((line, asked))
        for learner_id, items in groups.items():
            for start in range(0, len(items), MAX_BATCH):
                chunk = items[start : start + MAX_BATCH]
                results = self._deposit(job, learner_id, [d.credential for _, d in chunk])
                for (line, _), result in zip(chunk, results, strict=True):
                    answers[line.number] = result
        decisions: list[Decision] = []
        for line in lines:
            answer = answers[line.number]
            if isinstance(answer, TRANSIENT):
                break
            if isinstance(answer, Deposited):
                decisions.append(
                    Decision(line.number, line.learner_id, line.digest, answer.outcome_id, None)
                )
            else:
                decisions.append(
                    Decision(line.number, line.learner_id, line.digest, None, refusal(answer))
                )
        return decisions

    def _statement(self, job: Job, asked: Deposit) -> LineResult:
        try:
            outcome_id = self.bank.deposit_statement(
                asked.learner_id, asked.credential, job.actor, job.institution_id
            )
        except DomainError as exc:
            return exc
        except Exception:  # a fault of the bank's: logged, and the line's answer
            log.exception("intake job %s: a statement for %s failed", job.id, asked.learner_id)
            return LineFailed()
        return Deposited(outcome_id, new=True)

    def _deposit(self, job: Job, learner_id: UUID, credentials: list[str]) -> list[LineResult]:
        try:
            return self.bank.deposit_batch(learner_id, credentials, job.actor, job.institution_id)
        except DomainError as exc:
            return [exc] * len(credentials)
        except Exception:  # a fault of the bank's: logged, and the lines' answer (never a loop)
            log.exception("intake job %s: deposits into %s failed", job.id, learner_id)
            return [LineFailed()] * len(credentials)


class LineFailed(DomainError):
    code = "UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("the bank could not process this line; send it again")
