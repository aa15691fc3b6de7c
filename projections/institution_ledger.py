"""Institution ledger: the outcomes an institution issued and the conversions it accepted."""

from __future__ import annotations

from domain.credit_account import CreditAccount
from projections.base import Batch, Tables, Writes, cc, iso
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
