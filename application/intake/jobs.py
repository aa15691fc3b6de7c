"""The intake jobs and their lines (tables ``intake_jobs`` and ``intake_lines``, migration 0016).

A job is RECEIVING while its upload streams in (invisible: nothing is acknowledged yet), QUEUED
once the whole body is stored (the 202), RUNNING while a worker holds its lease, then DONE; an
upload that breaks off is FAILED and its lines deleted. Workers take a job by a lease that each
batch renews: a worker that dies (SIGKILL) loses it within ``LEASE`` seconds and another (or the
restarted service) resumes from the first undecided line. A batch's results and counts are
written in one transaction, and only while the lease is held, so no line is counted twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from application.database import Database
from application.dialects import in_lists

LEASE = 10.0  # seconds a worker holds a job without renewing it
RECEIVING_TIMEOUT = 600.0  # seconds an upload may go without a batch arriving before it is swept


class LeaseLost(Exception):
    """Another worker has the job now: this one's batch is not written."""


@dataclass(frozen=True)
class Line:
    """A line as received: its number (1-based), the learner it names (as given), the digest of
    its bytes, and its text, or the refusal it met on arrival (too long, not UTF-8...)."""

    number: int
    learner_id: str | None
    digest: str
    body: str | None
    refused: tuple[str, str] | None = None  # (code, message)


@dataclass(frozen=True)
class Decision:
    number: int
    learner_id: str | None
    digest: str
    outcome_id: UUID | None  # accepted (a new deposit or one the account already held)
    refused: tuple[str, str] | None  # (code, message)


@dataclass(frozen=True)
class Job:
    id: UUID
    institution_id: UUID
    actor: str | None
    state: str
    total: int
    processed: int
    accepted: int
    refused: int
    created_at: datetime
    finished_at: datetime | None


LINE_COLUMNS = (
    "job_id",
    "line",
    "learner_id",
    "digest",
    "body",
    "result",
    "outcome_id",
    "code",
    "message",
)
JOB_COLUMNS = (
    "job_id, institution_id, actor, state, total, processed, accepted, refused, created_at, "
    "finished_at"
)


class IntakeStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    # -- receiving -------------------------------------------------------------------------------
    def open(self, institution_id: UUID, actor: str | None, now: datetime) -> UUID:
        job_id = uuid4()
        with self._db.transaction() as cur:
            cur.execute(
                "INSERT INTO intake_jobs (job_id, institution_id, actor, state, created_at,"
                " lease_until) VALUES (?, ?, ?, 'RECEIVING', ?, ?)",
                (str(job_id), str(institution_id), actor, now.isoformat(), time.time()),
            )
        return job_id

    def add(self, job_id: UUID, lines: list[Line]) -> None:
        if not lines:
            return
        rows = [
            [
                str(job_id),
                line.number,
                line.learner_id,
                line.digest,
                line.body,
                None if line.refused is None else "REFUSED",
                None,
                *(line.refused or (None, None)),
            ]
            for line in lines
        ]
        with self._db.transaction() as cur:
            self._db.dialect.insert_rows(cur, "intake_lines", LINE_COLUMNS, rows, "")
            cur.execute(  # still receiving (a receiving job's lease_until: its last batch)
                "UPDATE intake_jobs SET lease_until = ? WHERE job_id = ?",
                (time.time(), str(job_id)),
            )

    def queue(self, job_id: UUID, total: int) -> None:
        """The upload is whole: the job is acknowledged (its lines refused on arrival count as
        processed already)."""
        with self._db.transaction() as cur:
            cur.execute(
                "SELECT count(*) FROM intake_lines WHERE job_id = ? AND result = 'REFUSED'",
                (str(job_id),),
            )
            refused = int(cur.fetchone()[0])
            cur.execute(
                "UPDATE intake_jobs SET state = 'QUEUED', total = ?, processed = ?, refused = ?"
                " WHERE job_id = ? AND state = 'RECEIVING'",
                (total, refused, refused, str(job_id)),
            )

    def abandon(self, job_id: UUID, now: datetime) -> None:
        """An upload that broke off: nothing of it was acknowledged, nothing of it is kept."""
        with self._db.transaction() as cur:
            failed = cur.execute(
                "UPDATE intake_jobs SET state = 'FAILED', finished_at = ?, lease_until = NULL"
                " WHERE job_id = ? AND state = 'RECEIVING'",
                (now.isoformat(), str(job_id)),
            )
            if failed.rowcount == 1:  # (an acknowledged job is never undone)
                cur.execute("DELETE FROM intake_lines WHERE job_id = ?", (str(job_id),))

    def sweep(self, now: datetime, quiet: float = RECEIVING_TIMEOUT) -> int:
        """Uploads whose process died while receiving them (nothing arrived for ``quiet``
        seconds; never acknowledged): their lines are deleted, the job FAILED. Returns how many."""
        with self._db.transaction(readonly=True) as cur:
            cur.execute(
                "SELECT job_id FROM intake_jobs WHERE state = 'RECEIVING' AND lease_until < ?",
                (time.time() - quiet,),
            )
            stale = [str(row[0]) for row in cur.fetchall()]
        for job_id in stale:
            self.abandon(UUID(job_id), now)
        return len(stale)

    # -- working ---------------------------------------------------------------------------------
    def claim(self, owner: str, lease: float = LEASE) -> Job | None:
        """The oldest job waiting or abandoned by its worker, now leased to ``owner``."""
        now = time.time()
        with self._db.transaction(readonly=True) as cur:  # (an idle service only reads)
            cur.execute(
                "SELECT job_id FROM intake_jobs WHERE state IN ('QUEUED', 'RUNNING')"
                " AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at LIMIT 1",
                (now,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        with self._db.transaction() as cur:
            taken = cur.execute(
                "UPDATE intake_jobs SET state = 'RUNNING', lease_owner = ?, lease_until = ?"
                " WHERE job_id = ? AND state IN ('QUEUED', 'RUNNING')"
                " AND (lease_until IS NULL OR lease_until < ?)",
                (owner, now + lease, str(row[0]), now),
            )
            if taken.rowcount != 1:  # another worker took it first
                return None
        return self.job(UUID(str(row[0])))

    def pending(self, job_id: UUID, limit: int, max_bytes: int = 1 << 62) -> list[Line]:
        """The first undecided lines, in order: ``limit`` of them at most, and no more text than
        ``max_bytes`` (at least one line)."""
        with self._db.transaction(readonly=True) as cur:
            cur.execute(
                "SELECT line, length(body) FROM intake_lines"
                " WHERE job_id = ? AND result IS NULL ORDER BY line LIMIT ?",
                (str(job_id), limit),
            )
            sizes = cur.fetchall()
            if not sizes:
                return []
            last, total = sizes[0][0], 0
            for n, size in sizes:
                total += int(size or 0)
                if total > max_bytes and n != sizes[0][0]:
                    break
                last = n
            cur.execute(
                "SELECT line, learner_id, digest, body FROM intake_lines"
                " WHERE job_id = ? AND result IS NULL AND line <= ? ORDER BY line",
                (str(job_id), last),
            )
            rows = cur.fetchall()
        return [Line(int(n), learner, str(digest), body) for n, learner, digest, body in rows]

    def renew(self, job_id: UUID, owner: str, lease: float = LEASE) -> None:
        """Keeps the job while a long batch runs; ``LeaseLost`` when another worker has it."""
        with self._db.transaction() as cur:
            renewed = cur.execute(
                "UPDATE intake_jobs SET lease_until = ? WHERE job_id = ? AND lease_owner = ?",
                (time.time() + lease, str(job_id), owner),
            )
            if renewed.rowcount != 1:
                raise LeaseLost

    def record(
        self, job_id: UUID, owner: str, decisions: list[Decision], lease: float = LEASE
    ) -> None:
        """Writes a batch's results and counts, and renews the lease; ``LeaseLost`` (nothing
        written) when another worker has the job now."""
        accepted = sum(1 for d in decisions if d.refused is None)
        with self._db.transaction() as cur:
            renewed = cur.execute(
                "UPDATE intake_jobs SET processed = processed + ?, accepted = accepted + ?,"
                " refused = refused + ?, lease_until = ? WHERE job_id = ? AND lease_owner = ?",
                (
                    len(decisions),
                    accepted,
                    len(decisions) - accepted,
                    time.time() + lease,
                    str(job_id),
                    owner,
                ),
            )
            if renewed.rowcount != 1:
                raise LeaseLost
            deleted = 0
            for marks, numbers in in_lists([d.number for d in decisions]):
                deleted += cur.execute(
                    "DELETE FROM intake_lines WHERE job_id = ? AND result IS NULL"  # noqa: S608
                    f" AND line IN ({marks})",
                    (str(job_id), *numbers),
                ).rowcount
            if deleted != len(decisions):
                raise LeaseLost  # (the batch is not what is pending: never written half)
            rows: list[list[Any]] = [
                [
                    str(job_id),
                    d.number,
                    d.learner_id,
                    d.digest,
                    None,
                    "ACCEPTED" if d.refused is None else "REFUSED",
                    None if d.outcome_id is None else str(d.outcome_id),
                    *(d.refused or (None, None)),
                ]
                for d in decisions
            ]
            self._db.dialect.insert_rows(cur, "intake_lines", LINE_COLUMNS, rows, "")

    def finish(self, job_id: UUID, owner: str, now: datetime) -> None:
        with self._db.transaction() as cur:
            cur.execute(
                "UPDATE intake_jobs SET state = 'DONE', finished_at = ?, lease_owner = NULL,"
                " lease_until = NULL WHERE job_id = ? AND lease_owner = ?",
                (now.isoformat(), str(job_id), owner),
            )

    def release(self, job_id: UUID, owner: str) -> None:
        """Gives the job back (the worker stops): the next claim resumes it at once."""
        with self._db.transaction() as cur:
            cur.execute(
                "UPDATE intake_jobs SET lease_owner = NULL, lease_until = NULL"
                " WHERE job_id = ? AND lease_owner = ?",
                (str(job_id), owner),
            )

    # -- reading ---------------------------------------------------------------------------------
    def job(self, job_id: UUID) -> Job | None:
        """An acknowledged job (never one still receiving)."""
        with self._db.transaction(readonly=True) as cur:
            cur.execute(
                f"SELECT {JOB_COLUMNS} FROM intake_jobs"  # noqa: S608 - constant columns
                " WHERE job_id = ? AND state <> 'RECEIVING'",
                (str(job_id),),
            )
            row = cur.fetchone()
        if row is None:
            return None
        job_id_, institution, actor, state, total, processed, accepted, refused, at, done = row
        return Job(
            UUID(str(job_id_)),
            UUID(str(institution)),
            actor,
            str(state),
            int(total),
            int(processed),
            int(accepted),
            int(refused),
            datetime.fromisoformat(str(at)),
            None if done is None else datetime.fromisoformat(str(done)),
        )

    def refusals(self, job_id: UUID, after: int, limit: int) -> list[tuple[int, str, str]]:
        """(line, code, message) of refused lines after line ``after``, in order."""
        with self._db.transaction(readonly=True) as cur:
            cur.execute(
                "SELECT line, code, message FROM intake_lines WHERE job_id = ?"
                " AND result = 'REFUSED' AND line > ? ORDER BY line LIMIT ?",
                (str(job_id), after, limit),
            )
            rows = cur.fetchall()
        return [(int(n), str(code), str(message)) for n, code, message in rows]

    def results(self, job_id: UUID) -> list[tuple[int, str | None, str | None, str | None]]:
        """Every line's (number, result, code, outcome id), in order: the audit of a job."""
        with self._db.transaction(readonly=True) as cur:
            cur.execute(
                "SELECT line, result, code, outcome_id FROM intake_lines WHERE job_id = ?"
                " ORDER BY line",
                (str(job_id),),
            )
            rows = cur.fetchall()
        return [(int(n), r, c, o) for n, r, c, o in rows]
