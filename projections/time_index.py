"""Account time index: (learner, version) -> moment, so an account can be read "as of" a time."""

from __future__ import annotations

from domain.credit_account import CreditAccount
from projections.base import Batch, Cursor, Tables, Writes, iso


class TimeIndexView:
    name = "time_index"
    tables = ("account_time_index",)
    reads: tuple[str, ...] = ()

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None:
        for _, e in batch.of(CreditAccount):
            learner_id = batch.state(e.originator_id).learner_id
            cur.upsert(
                t("account_time_index"),
                ("learner_id", "version"),
                {
                    "learner_id": learner_id,
                    "version": e.originator_version,
                    "at": iso(e.timestamp),
                    "event_type": type(e).__name__,
                },
            )


def version_at(cur: Cursor, learner_id: str, at: str) -> int:
    """The account's version at a moment (0 if it did not exist yet)."""
    cur.execute(
        "SELECT MAX(version) FROM account_time_index WHERE learner_id = ? AND at <= ?",
        [learner_id, at],
    )
    row = cur.fetchone()
    return int(row[0] or 0)
