"""Institution ledger: the outcomes an institution issued and the conversions it accepted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.credit_account import CreditAccount
from domain.values import OutcomeStatus
from projections.base import Batch, Cursor, Tables, Writes, cc, credits, iso
from projections.transcript import touched_conversions, touched_outcomes


class InstitutionLedgerView:
    name = "institution_ledger"
    tables = ("institution_ledger",)
    reads: tuple[str, ...] = ()

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None:
        for _, e in batch.of(CreditAccount):
            account: CreditAccount = batch.state(e.originator_id)
            for oid in touched_outcomes(e, account):
                o = account.outcomes[oid]
                cur.upsert(
                    t("institution_ledger"),
                    ("institution_id", "entry_id"),
                    {
                        "institution_id": o.issuer_id,
                        "entry_id": oid,
                        "role": "ISSUED",
                        "learner_id": account.learner_id,
                        "title": o.title,
                        "credits_cc": cc(o.recognized_credits or o.credits_claimed),
                        "status": o.status.value,
                        "at": iso(o.deposited_at),
                    },
                )
            for cid in touched_conversions(e, account):
                c = account.conversions[cid]
                cur.upsert(
                    t("institution_ledger"),
                    ("institution_id", "entry_id"),
                    {
                        "institution_id": c.target_institution_id,
                        "entry_id": cid,
                        "role": "ACCEPTED",
                        "learner_id": account.learner_id,
                        "title": c.target_code,
                        "credits_cc": cc(c.credits),
                        "status": "ACTIVE" if c.active else "CANCELLED",
                        "at": iso(c.converted_at),
                    },
                )


@dataclass(frozen=True, kw_only=True)
class LedgerRow:
    entry_id: str
    role: str  # ISSUED or ACCEPTED
    learner_id: str
    title: str
    credits: Decimal
    status: str  # an outcome's status (ISSUED); ACTIVE or CANCELLED (ACCEPTED)
    at: datetime
    stored_at: str  # ``at`` as stored: pages continue from it (``read_page``'s ``before``)


# What ``status`` may be: an issued outcome's, or an accepted conversion's.
STATUSES = (*(s.value for s in OutcomeStatus), "ACTIVE", "CANCELLED")
COLUMNS = "entry_id, role, learner_id, title, credits_cc, status, at"


def read_page(
    cur: Cursor,
    institution_id: str,
    *,
    before: tuple[str, str] | None,
    limit: int,
    role: str | None = None,
    status: str | None = None,
) -> list[LedgerRow]:
    """One keyset page of an institution's ledger, newest first: rows strictly before
    ``before`` (at, entry_id), the entry id breaking ties of time (index ledger_by_time)."""
    where, params = _filters(institution_id, role, status)
    if before is not None:
        where += " AND (at < ? OR (at = ? AND entry_id < ?))"
        params += [before[0], before[0], before[1]]
    cur.execute(
        f"SELECT {COLUMNS} FROM institution_ledger WHERE {where} "  # noqa: S608
        "ORDER BY at DESC, entry_id DESC LIMIT ?",
        [*params, limit],
    )
    return [_row(r) for r in cur.fetchall()]


def count(
    cur: Cursor, institution_id: str, role: str | None = None, status: str | None = None
) -> int:
    where, params = _filters(institution_id, role, status)
    cur.execute(f"SELECT count(*) FROM institution_ledger WHERE {where}", params)  # noqa: S608
    return int(cur.fetchone()[0])


def _filters(institution_id: str, role: str | None, status: str | None) -> tuple[str, list[Any]]:
    where, params = ["institution_id = ?"], [institution_id]
    if role is not None:
        where.append("role = ?")
        params.append(role)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    return " AND ".join(where), params


def _row(r: Any) -> LedgerRow:
    return LedgerRow(
        entry_id=str(r[0]),
        role=str(r[1]),
        learner_id=str(r[2]),
        title=str(r[3]),
        credits=credits(r[4]),
        status=str(r[5]),
        at=datetime.fromisoformat(str(r[6])),
        stored_at=str(r[6]),
    )
