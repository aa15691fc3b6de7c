"""Qualification progress: per learner and qualification, what is met and what is missing.

The view keeps each account's holdings (credits as requirements see them) so that a new or
amended qualification is assessed for every learner from these rows, without loading accounts.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.assessment import CALENDAR_YEAR, Assessment, Goal, Holding, assess
from domain.awards import Pathway, pathway_of, with_contributions
from domain.credit_account import CreditAccount
from domain.qualification import (
    CategoryMinimum,
    KindMaximum,
    LevelMinimum,
    Qualification,
    Requirements,
    Stacking,
)
from domain.records import Redemption, spending
from domain.values import ZERO, AwardStatus, OutcomeKind
from projections.base import Batch, Cursor, Tables, Writes, cc, credits, from_cc, iso, plain


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
        max_credits_per_semester=dec(r.get("max_credits_per_semester")),
        min_level_share=dec(r.get("min_level_share")),
        min_credits_from_awarding=dec(r.get("min_credits_from_awarding")),
        max_credits_by_kind=tuple(
            KindMaximum(kind=OutcomeKind(m["kind"]), credits=Decimal(m["credits"]))
            for m in r.get("max_credits_by_kind", ())
        ),
        stacks_from=tuple(
            Stacking(
                qualification_id=UUID(m["qualification_id"]),
                counts_again=m["counts_again"],
                required=m["required"],
            )
            for m in r.get("stacks_from", ())
        ),
    )


@dataclass(frozen=True, kw_only=True)
class _Qualification:
    """A qualification as the view assesses it."""

    version: int
    name: str
    goal: Goal
    active: bool


class ProgressView:
    name = "progress"
    tables = ("account_holdings", "qualification_progress", "account_awards")
    reads: tuple[str, ...] = ("catalogue",)  # qualifications and learners, as applied
    # The bank's calendar and default level share (``configure``: from the application).
    calendar = CALENDAR_YEAR
    level_share = ZERO

    def configure(self, source: Any) -> None:
        self.calendar = getattr(source, "calendar", None) or self.calendar
        self.level_share = getattr(source, "level_share", None) or self.level_share

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None:
        known = self._qualifications(batch, cur, t)
        qualifications = {qid: q for qid, q in known.items() if q.active}
        changed_quals = {e.originator_id for _, e in batch.of(Qualification)}
        accounts = batch.accounts()
        for learner_id, account in accounts.items():
            if account.absorbed_from:  # a merge moved holdings here, perhaps in another batch
                self._release_moved(cur, t, learner_id, account)
            self._write_holdings(cur, t, learner_id, account)
            self._write_awards(cur, t, learner_id, account)
            awards = awards_by_qualification(account.redemptions.values())
            for qid, q in qualifications.items():
                award = awards.get(qid)
                if award is not None and award.status is AwardStatus.STANDING:
                    self._write_redeemed(cur, t, learner_id, qid, award)
                    continue
                goal = q.goal
                if award is not None and award.status is AwardStatus.UNDER_REVIEW:
                    # Reviewed under the version it met, as the officer's review is.
                    goal = self._awarded(batch, award).goal(self.calendar, self.level_share)
                pathway = _pathway(goal, known)
                released = award.id if award is not None and award.active else None
                result = account.assess(goal, None, pathway, releasing=released)
                self._write_progress(cur, t, learner_id, qid, q.version, result, award)
        for qid in map(str, changed_quals):
            if qid not in qualifications:
                cur.execute(
                    f"DELETE FROM {t('qualification_progress')} WHERE qualification_id = ?",  # noqa: S608
                    [qid],
                )
                continue
            q = qualifications[qid]
            pathway = _pathway(q.goal, known)
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
                cur.execute(
                    f"SELECT redeemed, award_id, award_status FROM {t('qualification_progress')} "  # noqa: S608
                    "WHERE learner_id = ? AND qualification_id = ?",
                    [str(learner_id), qid],
                )
                row = cur.fetchone()
                if row is not None and row[0]:
                    continue  # awarded: the row keeps what the award counted (or its review)
                rescinded = (row[1], row[2]) if row is not None else (None, None)
                holdings, spent_by = self._read_holdings(cur, t, learner_id, pathway.counts_again)
                result = with_contributions(assess(q.goal, holdings), pathway, spent_by)
                missing = self._missing_awards(cur, t, learner_id, pathway.requires)
                if missing:
                    result = replace(
                        result,
                        met=False,
                        unmet=result.unmet + tuple(f"award {n}: not held" for n in missing),
                    )
                self._write_progress(
                    cur, t, learner_id, qid, q.version, result, None, kept=rescinded
                )

    @staticmethod
    def _awarded(batch: Batch, award: Redemption) -> Qualification:
        """The qualification as the version an award met stated it."""
        found: Qualification = batch.load(award.qualification_id, award.qualification_version)
        return found

    def _qualifications(self, batch: Batch, cur: Cursor, t: Tables) -> dict[str, _Qualification]:
        """Every qualification (the retired too: their awards still stack): the batch's own
        state for those it touches, else the catalogue."""
        found: dict[str, _Qualification] = {}
        cur.execute(
            f"SELECT entry_id, name, version, active, detail FROM {t('catalogue_entries')} "  # noqa: S608
            "WHERE entry_type = 'qualification'"
        )
        for entry_id, name, version, active, detail in cur.fetchall():
            d = json.loads(detail)
            goal = Goal(
                requirements=requirements_from(d),
                level=d["level"],
                awarding_institution_id=UUID(d["awardingInstitutionId"]),
                calendar=self.calendar,
                level_share=self.level_share,
            )
            found[entry_id] = _Qualification(
                version=version, name=name, goal=goal, active=bool(active)
            )
        for _, e in batch.of(Qualification):
            q: Qualification = batch.state(e.originator_id)
            found[str(q.id)] = _Qualification(
                version=q.requirements_version,
                name=q.name,
                goal=q.goal(self.calendar, self.level_share),
                active=not q.retired,
            )
        return found

    @staticmethod
    def _release_moved(cur: Writes, t: Tables, learner_id: UUID, account: CreditAccount) -> None:
        """A merge moves holdings and awards between accounts, perhaps in different batches:
        the rows of the ids this account holds now leave the account that held them before."""
        for table, key, ids in (
            ("account_holdings", "holding_id", [str(h.id) for h in account.holdings()]),
            ("account_awards", "award_id", list(account.redemptions)),
        ):
            if ids:
                marks = ", ".join("?" for _ in ids)
                cur.execute(
                    f"DELETE FROM {t(table)} WHERE learner_id <> ? "  # noqa: S608
                    f"AND {key} IN ({marks})",
                    [str(learner_id), *ids],
                )

    @staticmethod
    def _write_holdings(cur: Writes, t: Tables, learner_id: UUID, account: CreditAccount) -> None:
        # What each award spent of each holding, by the award's qualification: the rows let a
        # new qualification on a pathway be assessed without loading accounts.
        awards = list(account.redemptions.values())
        spent = spending(awards)
        qualification_of = spent_by_key(awards)
        rows = []
        for h in account.holdings():
            by: defaultdict[str, Decimal] = defaultdict(Decimal)
            for rid, amount in spent.get(str(h.id), {}).items():
                by[qualification_of[rid]] += amount
            rows.append(
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
                    "spent": h.spent > 0,
                    "spent_by": json.dumps({q: str(v) for q, v in sorted(by.items())}),
                }
            )
        cur.replace(t("account_holdings"), "learner_id", learner_id, rows)

    @staticmethod
    def _write_awards(cur: Writes, t: Tables, learner_id: UUID, account: CreditAccount) -> None:
        rows = [
            {
                "award_id": r.id,
                "learner_id": learner_id,
                "qualification_id": r.qualification_id,
                "qualification_version": r.qualification_version,
                "status": r.status.value,
                "awarded_at": iso(r.redeemed_at),
                "counted_cc": cc(r.credits_counted),
                "flags": json.dumps(list(r.flags), ensure_ascii=False),
                "reviews": json.dumps(plain(r.reviews), ensure_ascii=False),
                "allocations": json.dumps(plain(r.allocations)),
            }
            for r in account.redemptions.values()
        ]
        cur.replace(t("account_awards"), "learner_id", learner_id, rows)

    @staticmethod
    def _read_holdings(
        cur: Cursor, t: Tables, learner_id: UUID, again: frozenset[UUID]
    ) -> tuple[list[Holding], dict[str, dict[UUID, Decimal]]]:
        """The learner's holdings as a qualification on a pathway of ``again`` sees them, and
        what standing awards spent of each, by their qualification."""
        cur.execute(
            f"SELECT holding_id, credits_cc, level, kind, category, institution_id, completed_on, "  # noqa: S608
            f"converted, standard_codes, spent_by FROM {t('account_holdings')} "
            "WHERE learner_id = ?",
            [str(learner_id)],
        )
        recount = {str(q) for q in again}
        held = []
        spent_by: dict[str, dict[UUID, Decimal]] = {}
        for r in cur.fetchall():
            by = {q: Decimal(v) for q, v in json.loads(r[9]).items()}
            spent_by[r[0]] = {UUID(q): v for q, v in by.items() if q != RESERVED}
            counted_again = sum((v for q, v in by.items() if q in recount), ZERO)
            held.append(
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
                    spent=sum(by.values(), ZERO) - counted_again,
                    again=counted_again,
                )
            )
        return held, spent_by

    @staticmethod
    def _missing_awards(
        cur: Cursor, t: Tables, learner_id: UUID, requires: tuple[tuple[UUID, str], ...]
    ) -> list[str]:
        missing = []
        for qid, name in requires:
            cur.execute(
                f"SELECT 1 FROM {t('account_awards')} WHERE learner_id = ? "  # noqa: S608
                "AND qualification_id = ? AND status = 'STANDING'",
                [str(learner_id), str(qid)],
            )
            if cur.fetchone() is None:
                missing.append(name)
        return missing

    @staticmethod
    def _write_redeemed(
        cur: Writes, t: Tables, learner_id: UUID, qualification_id: str, redemption: Redemption
    ) -> None:
        """A standing award is met: with what it counted, under the version it checked (not
        re-assessed on the holdings left unspent)."""
        cur.upsert(
            t("qualification_progress"),
            ("learner_id", "qualification_id"),
            {
                "learner_id": learner_id,
                "qualification_id": qualification_id,
                "qualification_version": redemption.qualification_version,
                "met": True,
                "unmet": "[]",
                "notes": "[]",
                "counted_cc": cc(redemption.credits_counted),
                "redeemed": True,
                "award_id": redemption.id,
                "award_status": redemption.status.value,
            },
        )

    @staticmethod
    def _write_progress(
        cur: Writes,
        t: Tables,
        learner_id: UUID,
        qualification_id: str,
        version: int,
        result: Assessment,
        award: Redemption | None,
        kept: tuple[str | None, str | None] = (None, None),
    ) -> None:
        """Progress as assessed now; an award under review is assessed on what remains (its
        own credits released), and says why it is reviewed. ``kept``: the rescinded award a
        row already names (re-assessed from the rows, without the account)."""
        reviewed = award is not None and award.status is AwardStatus.UNDER_REVIEW
        notes = [f"award under review: {f}" for f in award.flags] if reviewed and award else []
        cur.upsert(
            t("qualification_progress"),
            ("learner_id", "qualification_id"),
            {
                "learner_id": learner_id,
                "qualification_id": qualification_id,
                "qualification_version": award.qualification_version
                if reviewed and award
                else version,
                "met": result.met,
                "unmet": json.dumps(list(result.unmet), ensure_ascii=False),
                "notes": json.dumps(notes + list(result.notes), ensure_ascii=False),
                "counted_cc": cc(result.credits_counted),
                "redeemed": reviewed,
                "award_id": award.id if award is not None else kept[0],
                "award_status": award.status.value if award is not None else kept[1],
            },
        )


RESERVED = "*"  # spent_by key of what awards under review hold (never counted again)


def spent_by_key(awards: Iterable[Redemption]) -> dict[str, str]:
    """Award id -> the key its spending is kept under in ``spent_by``: its qualification's id
    when it stands (a qualification on a pathway counts it again), else ``RESERVED``."""
    return {
        str(r.id): str(r.qualification_id) if r.status is AwardStatus.STANDING else RESERVED
        for r in awards
    }


def awards_by_qualification(awards: Iterable[Redemption]) -> dict[str, Redemption]:
    """Each qualification's award: the one in force, else the last rescinded."""
    found: dict[str, Redemption] = {}
    for r in awards:
        kept = found.get(str(r.qualification_id))
        if kept is None or r.active or not kept.active:
            found[str(r.qualification_id)] = r
    return found


def _pathway(goal: Goal, known: dict[str, _Qualification]) -> Pathway:
    def lookup(qid: UUID) -> tuple[str, Requirements] | None:
        q = known.get(str(qid))
        return None if q is None else (q.name, q.goal.requirements)

    return pathway_of(goal.requirements, lookup)


@dataclass(frozen=True, kw_only=True)
class ProgressRow:
    met: bool
    unmet: list[str]  # precisely what is missing
    notes: list[str]  # credits a cap kept from counting; why an award is under review
    counted: Decimal
    redeemed: bool
    award_id: str | None = None


def read_progress(cur: Cursor, learner_id: str, qualification_id: str) -> ProgressRow | None:
    """None if the qualification was never assessed for the learner (no such qualification)."""
    cur.execute(
        "SELECT met, unmet, notes, counted_cc, redeemed, award_id FROM qualification_progress "
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
        award_id=row[5],
    )


@dataclass(frozen=True, kw_only=True)
class AwardRow:
    id: str
    learner_id: str
    qualification_id: str
    qualification_version: int
    status: str
    awarded_at: str
    counted: Decimal
    flags: list[str]  # why it is (or was) under review
    reviews: list[dict[str, str]]


AWARD_COLUMNS = (
    "award_id, learner_id, qualification_id, qualification_version, status, awarded_at, "
    "counted_cc, flags, reviews"
)


def _award(r: Any) -> AwardRow:
    return AwardRow(
        id=r[0],
        learner_id=r[1],
        qualification_id=r[2],
        qualification_version=int(r[3]),
        status=r[4],
        awarded_at=r[5],
        counted=credits(r[6]),
        flags=json.loads(r[7]),
        reviews=json.loads(r[8]),
    )


def read_awards(cur: Cursor, learner_id: str) -> list[AwardRow]:
    """The learner's awards, in the order they were made."""
    cur.execute(
        f"SELECT {AWARD_COLUMNS} FROM account_awards WHERE learner_id = ? "  # noqa: S608
        "ORDER BY awarded_at, award_id",
        [learner_id],
    )
    return [_award(r) for r in cur.fetchall()]


def read_award(cur: Cursor, award_id: str) -> AwardRow | None:
    cur.execute(
        f"SELECT {AWARD_COLUMNS} FROM account_awards WHERE award_id = ?",  # noqa: S608
        [award_id],
    )
    row = cur.fetchone()
    return None if row is None else _award(row)
