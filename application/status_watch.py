"""The periodic re-read of incoming credentials' status lists (issue 15).

A credential that states a ``credentialStatus`` is watched from its deposit (the view
``status_watch``). Each pass reads every watched credential's status again, through the same
fetcher as a deposit (allow-listed host, timeout, size cap, the lists' own caching, so one list
is fetched once per pass at most):

- an outcome whose status was unknown and now stands is established, then recognised by the
  rules as a deposit would have been;
- an outcome whose credential its issuer has revoked (or suspended) is revoked, with what relied
  on it (conversions cancelled, awards flagged for review);
- a list still unreadable leaves the outcome as it is: an unknown status stays unknown (and
  unrecognised), a known one stays as it was last read.

``serve`` runs a pass every ``CREDITBANK_STATUS_RECHECK_INTERVAL`` seconds;
``creditbank credential recheck-status`` runs one (for cron, or after an issuer's outage).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from application.status_lists import Verdict
from domain.errors import AlreadyRevoked, DomainError, NotFound
from projections.status_watch import watched

if TYPE_CHECKING:
    from application.bank import CreditBank

log = logging.getLogger("creditbank.status")
ACTOR = "status-list"  # who revokes or establishes: the issuer's published list, read by the bank
PAGE = 500


@dataclass
class Pass:
    """What one pass did."""

    checked: int = 0
    established: list[UUID] = field(default_factory=list)  # unknown before, standing now
    revoked: list[UUID] = field(default_factory=list)
    unknown: int = 0  # still unreadable (left as they were)
    failed: int = 0  # a command refused or failed (logged; tried again next pass)


def recheck(bank: CreditBank, unknown_only: bool = False) -> Pass:
    """One pass over the watched credentials (``unknown_only``: those of unknown status)."""
    done = Pass()
    after = ""
    while True:
        with bank.database.transaction(readonly=True) as cur:
            page = watched(cur, unknown_only=unknown_only, after=after, limit=PAGE)
        for row in page:
            done.checked += 1
            try:
                _recheck_one(bank, row, done)
            except DomainError as exc:  # e.g. the issuer's record changed under us: next pass
                done.failed += 1
                log.warning("status re-check of outcome %s refused: %s", row["outcome_id"], exc)
        if len(page) < PAGE:
            return done
        after = page[-1]["outcome_id"]


def _recheck_one(bank: CreditBank, row: dict[str, str], done: Pass) -> None:
    outcome_id, learner_id = UUID(row["outcome_id"]), UUID(row["learner_id"])
    try:
        issuer = bank.institution(UUID(row["issuer_id"]))
    except NotFound:
        done.failed += 1
        return
    stated = {"id": row["credential_id"], "credentialStatus": json.loads(row["entries"])}
    status = bank.status_lists.check(issuer, stated)
    if status.verdict is Verdict.REVOKED:
        try:
            bank.revoke_outcome(
                learner_id, outcome_id, f"revoked by its issuer: {status.reason}", ACTOR
            )
        except AlreadyRevoked:  # revoked meanwhile (the view had not caught up)
            return
        done.revoked.append(outcome_id)
        log.info("outcome %s revoked: its issuer's status list says %s", outcome_id, status.reason)
    elif status.verdict is Verdict.ACTIVE:
        if row["unknown"] is not None and bank.establish_status(
            learner_id, outcome_id, status.reason
        ):
            done.established.append(outcome_id)
    else:
        done.unknown += 1


class StatusWatcher:
    """``serve``'s background pass, every ``interval`` seconds, until stopped."""

    def __init__(self, bank: CreditBank, interval: float) -> None:
        self.bank, self.interval = bank, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-watch", daemon=True)
        self.passes = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                done = recheck(self.bank)
            except Exception:  # the database down, say: the next pass tries again
                log.warning("the status re-check pass failed", exc_info=True)
                continue
            self.passes += 1
            if done.revoked or done.established or done.unknown:
                log.info(
                    "status re-check: %d checked, %d established, %d revoked, %d still unknown",
                    done.checked,
                    len(done.established),
                    len(done.revoked),
                    done.unknown,
                )
