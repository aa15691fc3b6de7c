"""Credentials whose status is watched: what the periodic re-check reads
(application.status_watch)."""

from __future__ import annotations

import json
from typing import Any

from domain.credit_account import CreditAccount
from projections.base import Batch, Cursor, Tables, Writes, iso


class StatusWatchView:
    name = "status_watch"
    tables = ("status_watch",)
    reads: tuple[str, ...] = ()

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None:
        # Event by event, in order: a batch may watch an outcome and revoke it.
        for _, e in batch.of(CreditAccount):
            kind = type(e).__name__
            if kind == "StatusWatched":
                account = batch.state(e.originator_id)
                outcome = account.outcomes[str(e.outcome_id)]
                cur.upsert(
                    t("status_watch"),
                    ("outcome_id",),
                    {
                        "outcome_id": str(e.outcome_id),
                        "learner_id": str(account.learner_id),
                        "issuer_id": str(outcome.issuer_id),
                        "credential_id": outcome.credential_id,
                        "entries": json.dumps(e.entries, sort_keys=True),
                        "unknown": e.unknown,
                        "watched_at": iso(e.timestamp),
                    },
                )
            elif kind == "StatusEstablished":
                cur.execute(
                    f"UPDATE {t('status_watch')} SET unknown = NULL WHERE outcome_id = ?",  # noqa: S608
                    [str(e.outcome_id)],
                )
            elif kind == "OutcomeRevoked":  # nothing left to watch
                cur.execute(
                    f"DELETE FROM {t('status_watch')} WHERE outcome_id = ?",  # noqa: S608
                    [str(e.outcome_id)],
                )


def watched(cur: Cursor, *, unknown_only: bool, after: str, limit: int) -> list[dict[str, Any]]:
    """A keyset page of watched credentials (by outcome id), those of unknown status only or all."""
    only = " AND unknown IS NOT NULL" if unknown_only else ""
    cur.execute(
        "SELECT outcome_id, learner_id, issuer_id, credential_id, entries, unknown "  # noqa: S608
        f"FROM status_watch WHERE outcome_id > ?{only} ORDER BY outcome_id LIMIT ?",
        [after, limit],
    )
    names = ("outcome_id", "learner_id", "issuer_id", "credential_id", "entries", "unknown")
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
