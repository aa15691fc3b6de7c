"""Qualification progress: per learner and qualification, what is met and what is missing.

The view keeps each account's holdings (credits as requirements see them) so that a new or
amended qualification is assessed for every learner from these rows, without loading accounts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.credit_account import CreditAccount
from domain.qualification import (
    CategoryMinimum,
    Holding,
    LevelMinimum,
    Qualification,
    Requirements,
    assess,
)
from domain.records import Redemption
from domain.values import OutcomeKind
from projections.base import Batch, Cursor, Tables, Writes, cc, credits, from_cc, iso


def requirements_from(detail: dict[str, Any]) -> Requirements:
    r = detail["requirements"]

    def dec(v: str | None) -> Decimal | None:
        return None if v is None else Decimal(v)

    return Requirements(
        total_credits=Decimal(r["total_credits"]),
        minimum_by_category=tuple(
            CategoryMinimum(category=m["category"], credits=Decimal(m["credits"]))
            for m in r["minimum_by_category"]
        ),
        minimum_at_level=tuple(
            LevelMinimum(level=m["level"], credits=Decimal(m["credits"]))
            for m in r["minimum_at_level"]
        ),
        required_standards=tuple(r["required_standards"]),
        max_converted_share=dec(r["max_converted_share"]),
        max_credits_per_institution=dec(r["max_credits_per_institution"]),
        max_credits_per_year=dec(r["max_credits_per_year"]),
    )


class ProgressView:
    name = "progress"
    tables = ("account_holdings", "qualification_progress")
    reads: tuple[str, ...] = ("catalogue",)  # qualifications and learners, as applied

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None:
        qualifications = self._qualifications(batch, cur, t)
        changed_quals = {e.originator_id for _, e in batch.of(Qualification)}
        accounts = batch.accounts()
        for learner_id, account in accounts.items():
            if account.absorbed_from:  # a merge moved holdings here, perhaps in another batch
                self._release_moved(cur, t, learner_id, account)
            self._write_holdings(cur, t, learner_id, account)
            holdings = account.holdings()
            redemptions = {str(r.qualification_id): r for r in account.redemptions.values()}
            for qid, (version, requirements) in qualifications.items():
                if qid in redemptions:
                    self._write_redeemed(cur, t, learner_id, qid, redemptions[qid])
                    continue
                self._write_progress(
                    cur, t, learner_id, qid, version, requirements, holdings, redeemed=False
                )
        for qid in map(str, changed_quals):
            if qid not in qualifications:
                cur.execute(
                    f"DELETE FROM {t('qualification_progress')} WHERE qualification_id = ?",  # noqa: S608
                    [qid],
                )
                continue
            version, requirements = qualifications[qid]
            # Every learner, not only those holding credits: an account without holdings is
            # assessed too (as it is when the account itself changes). The catalogue (applied
            # first, same transaction) lists every learner.
            cur.execute(
                f"SELECT learner_id FROM {t('account_holdings')} "  # noqa: S608
                f"UNION SELECT learner_id FROM {t('qualification_progress')} "
                f"UNION SELECT entry_id FROM {t('catalogue_entries')} WHERE entry_type = 'learner'"
            )
            others = sorted(UUID(r[0]) for r in cur.fetchall() if UUID(r[0]) not in accounts)
            for learner_id in others:
                holdings = self._read_holdings(cur, t, learner_id)
                cur.execute(
                    f"SELECT redeemed FROM {t('qualification_progress')} "  # noqa: S608
                    "WHERE learner_id = ? AND qualification_id = ?",
                    [str(learner_id), qid],
                )
                row = cur.fetchone()
                if row is not None and row[0]:
                    continue  # redeemed: the row keeps what the redemption counted
                self._write_progress(
                    cur, t, learner_id, qid, version, requirements, holdings, redeemed=False
                )

    @staticmethod
    def _qualifications(
        batch: Batch, cur: Cursor, t: Tables
    ) -> dict[str, tuple[int, Requirements]]:
        """Open qualifications: the batch's own state for those it touches, else the catalogue."""
        found: dict[str, tuple[int, Requirements]] = {}
        cur.execute(
            f"SELECT entry_id, version, active, detail FROM {t('catalogue_entries')} "  # noqa: S608
            "WHERE entry_type = 'qualification'"
        )
        for entry_id, version, active, detail in cur.fetchall():
            if active:
                found[entry_id] = (version, requirements_from(json.loads(detail)))
        for _, e in batch.of(Qualification):
            q: Qualification = batch.state(e.originator_id)
            if q.retired:
                found.pop(str(q.id), None)
            else:
                found[str(q.id)] = (q.requirements_version, q.requirements)
        return found

    @staticmethod
    def _release_moved(cur: Writes, t: Tables, learner_id: UUID, account: CreditAccount) -> None:
        """A merge moves holdings between accounts, perhaps in different batches: the rows of
        the ids this account holds now leave the account that held them before."""
        ids = [str(h.id) for h in account.holdings()]
        if ids:
            marks = ", ".join("?" for _ in ids)
            cur.execute(
                f"DELETE FROM {t('account_holdings')} WHERE learner_id <> ? "  # noqa: S608
                f"AND holding_id IN ({marks})",
                [str(learner_id), *ids],
            )

    @staticmethod
    def _write_holdings(cur: Writes, t: Tables, learner_id: UUID, account: CreditAccount) -> None:
        rows = [
            {
                "holding_id": h.id,
                "learner_id": learner_id,
                "credits_cc": cc(h.credits),
                "level": h.level,
                "kind": h.kind.value,
                "category": h.category,
                "institution_id": h.institution_id,
                "completed_on": iso(h.completed_on),
                "converted": h.converted,
                "standard_codes": " ".join(sorted(h.standard_codes)),
                "spent": h.spent,
            }
            for h in account.holdings()
        ]
        cur.replace(t("account_holdings"), "learner_id", learner_id, rows)

    @staticmethod
    def _read_holdings(cur: Cursor, t: Tables, learner_id: UUID) -> list[Holding]:
        cur.execute(
            f"SELECT holding_id, credits_cc, level, kind, category, institution_id, completed_on, "  # noqa: S608
            f"converted, standard_codes, spent FROM {t('account_holdings')} WHERE learner_id = ?",
            [str(learner_id)],
        )
        return [
            Holding(
                id=UUID(r[0]),
                credits=from_cc(r[1]) or Decimal(0),
                level=r[2],
                kind=OutcomeKind(r[3]),
                category=r[4],
                institution_id=UUID(r[5]),
                completed_on=date.fromisoformat(r[6]),
                converted=bool(r[7]),
                standard_codes=frozenset(r[8].split()),
                spent=bool(r[9]),
            )
            for r in cur.fetchall()
        ]

    @staticmethod
    def _write_redeemed(
        cur: Writes, t: Tables, learner_id: UUID, qualification_id: str, redemption: Redemption
    ) -> None:
        """A redeemed qualification is met: with what its redemption counted, under the version
        it checked (not re-assessed on the holdings left unspent); flags are its notes."""
        cur.upsert(
            t("qualification_progress"),
            ("learner_id", "qualification_id"),
            {
                "learner_id": learner_id,
                "qualification_id": qualification_id,
                "qualification_version": redemption.qualification_version,
                "met": True,
                "unmet": "[]",
                "notes": json.dumps(list(redemption.flags), ensure_ascii=False),
                "counted_cc": cc(redemption.credits_counted),
                "redeemed": True,
            },
        )

    @staticmethod
    def _write_progress(
        cur: Writes,
        t: Tables,
        learner_id: UUID,
        qualification_id: str,
        version: int,
        requirements: Requirements,
        holdings: list[Holding],
        redeemed: bool,
    ) -> None:
        result = assess(requirements, holdings)
        cur.upsert(
            t("qualification_progress"),
            ("learner_id", "qualification_id"),
            {
                "learner_id": learner_id,
                "qualification_id": qualification_id,
                "qualification_version": version,
                "met": result.met,
                "unmet": json.dumps(list(result.unmet), ensure_ascii=False),
                "notes": json.dumps(list(result.notes), ensure_ascii=False),
                "counted_cc": cc(result.credits_counted),
                "redeemed": redeemed,
            },
        )


@dataclass(frozen=True, kw_only=True)
class ProgressRow:
    met: bool
    unmet: list[str]  # precisely what is missing
    notes: list[str]  # credits a cap kept from counting; a redemption's flags
    counted: Decimal
    redeemed: bool


def read_progress(cur: Cursor, learner_id: str, qualification_id: str) -> ProgressRow | None:
    """None if the qualification was never assessed for the learner (no such qualification)."""
    cur.execute(
        "SELECT met, unmet, notes, counted_cc, redeemed FROM qualification_progress "
        "WHERE learner_id = ? AND qualification_id = ?",
        [learner_id, qualification_id],
    )
    row = cur.fetchone()
    if row is None:
        return None
    return ProgressRow(
        met=bool(row[0]),
        unmet=json.loads(row[1]),
        notes=json.loads(row[2]),
        counted=credits(row[3]),
        redeemed=bool(row[4]),
    )
