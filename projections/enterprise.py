"""Enterprise training: per organisation and consenting employee, the training hours and credits,
by period (month of completion), only within the consent's scope. Revoking consent (or erasure)
removes the rows; expiry is applied when reading (expires_on is kept with the consent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.credit_account import CreditAccount
from domain.learner import Learner, scope_covers
from domain.values import OutcomeStatus
from projections.base import Batch, Cursor, Tables, Writes, cc, credits, iso

COUNTED = (
    OutcomeStatus.RECOGNIZED,
    OutcomeStatus.CONVERTED,
    OutcomeStatus.REDEEMED,
    OutcomeStatus.DEPOSITED,
)


class EnterpriseTrainingView:
    name = "enterprise"
    tables = ("enterprise_consents", "enterprise_training")
    reads: tuple[str, ...] = ()

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None:
        learners: dict[UUID, Learner] = {
            e.originator_id: batch.state(e.originator_id) for _, e in batch.of(Learner)
        }
        accounts = batch.accounts()
        consents: dict[UUID, list[tuple[str, str]]] = {}
        for learner_id, learner in learners.items():
            granted = [
                {
                    "organization_id": consent.organization_id,
                    "learner_id": learner_id,
                    "scope": consent.scope.value,
                    "expires_on": iso(consent.expires_on),
                    "granted_at": iso(consent.granted_at),
                }
                for consent in learner.consents.values()
            ]
            cur.replace(t("enterprise_consents"), "learner_id", learner_id, granted)
            consents[learner_id] = [(str(r["organization_id"]), str(r["scope"])) for r in granted]
        # Learners whose account changed but not their consents: the consents on record.
        consents.update(_consents(cur, t, [i for i in accounts if i not in learners]))
        for learner_id, scopes in consents.items():
            account = accounts.get(learner_id) if scopes else None
            if scopes and account is None:
                account = batch.load(CreditAccount.create_id(learner_id), None)
            rows: list[dict[str, Any]] = [
                {
                    "organization_id": organization_id,
                    "learner_id": learner_id,
                    "outcome_id": o.id,
                    "period": o.completed_on.strftime("%Y-%m"),
                    "kind": o.kind.value,
                    "category": o.category,
                    "hours_cc": cc(o.hours) or 0,
                    "credits_cc": cc(o.recognized_credits) or 0,
                }
                for organization_id, scope in scopes
                for o in (account.outcomes.values() if account is not None else ())
                if o.status in COUNTED
                and o.under_review is None  # frozen until an officer decides
                and scope_covers(scope, organization_id, o.kind.value, o.issuer_id)
            ]
            cur.replace(t("enterprise_training"), "learner_id", learner_id, rows)


def _consents(cur: Cursor, t: Tables, learner_ids: list[UUID]) -> dict[UUID, list[tuple[str, str]]]:
    """learner -> [(organization id, scope)] as recorded, for every one of ``learner_ids``."""
    found: dict[UUID, list[tuple[str, str]]] = {i: [] for i in learner_ids}
    for start in range(0, len(learner_ids), 500):
        chunk = [str(i) for i in learner_ids[start : start + 500]]
        cur.execute(
            f"SELECT learner_id, organization_id, scope FROM {t('enterprise_consents')} "  # noqa: S608
            f"WHERE learner_id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        )
        for learner_id, organization_id, scope in cur.fetchall():
            found[UUID(str(learner_id))].append((str(organization_id), str(scope)))
    return found


def consent_scope(cur: Cursor, organization_id: str, learner_id: str, today: str) -> str | None:
    """The scope of the consent in force today, or None."""
    cur.execute(
        "SELECT scope FROM enterprise_consents WHERE organization_id = ? AND learner_id = ? "
        "AND (expires_on IS NULL OR expires_on >= ?)",
        [organization_id, learner_id, today],
    )
    row = cur.fetchone()
    return None if row is None else str(row[0])


@dataclass(frozen=True, kw_only=True)
class EmployeeTraining:
    learner_id: str
    credits: Decimal
    hours: Decimal


@dataclass(frozen=True, kw_only=True)
class PeriodTraining:
    period: str  # YYYY-MM of completion
    category: str | None
    credits: Decimal
    hours: Decimal


@dataclass(frozen=True, kw_only=True)
class ConsentRow:
    organization_id: str
    scope: str
    expires_on: date | None
    granted_at: datetime


def employees_page(
    cur: Cursor,
    organization_id: str,
    today: str,
    after_learner: str,
    limit: int,
    period_from: str | None = None,
    period_to: str | None = None,
) -> list[EmployeeTraining]:
    """Employees whose consent is in force, by learner id, with their training's totals."""
    period = ""
    params: list[Any] = [organization_id, today, after_learner]
    if period_from:
        period += " AND t.period >= ?"
        params.append(period_from)
    if period_to:
        period += " AND t.period <= ?"
        params.append(period_to)
    cur.execute(
        "SELECT c.learner_id, COALESCE(SUM(t.credits_cc), 0), COALESCE(SUM(t.hours_cc), 0) "
        "FROM enterprise_consents c LEFT JOIN enterprise_training t "
        "ON t.organization_id = c.organization_id AND t.learner_id = c.learner_id"
        + period
        + " WHERE c.organization_id = ? AND (c.expires_on IS NULL OR c.expires_on >= ?) "
        "AND c.learner_id > ? GROUP BY c.learner_id ORDER BY c.learner_id LIMIT ?",
        [*params[3:], *params[:3], limit] if period else [*params, limit],
    )
    return [
        EmployeeTraining(learner_id=str(r[0]), credits=credits(r[1]), hours=credits(r[2]))
        for r in cur.fetchall()
    ]


def training_by_period(
    cur: Cursor, organization_id: str, learner_id: str, today: str
) -> list[PeriodTraining]:
    """One consenting employee's training, by month and category."""
    cur.execute(
        "SELECT t.period, t.category, SUM(t.credits_cc), SUM(t.hours_cc) "
        "FROM enterprise_training t JOIN enterprise_consents c "
        "ON c.organization_id = t.organization_id AND c.learner_id = t.learner_id "
        "WHERE t.organization_id = ? AND t.learner_id = ? "
        "AND (c.expires_on IS NULL OR c.expires_on >= ?) "
        "GROUP BY t.period, t.category ORDER BY t.period, t.category",
        [organization_id, learner_id, today],
    )
    return [
        PeriodTraining(period=str(r[0]), category=r[1], credits=credits(r[2]), hours=credits(r[3]))
        for r in cur.fetchall()
    ]


def consents_of(cur: Cursor, learner_id: str) -> list[ConsentRow]:
    """A learner's consents, oldest first."""
    cur.execute(
        "SELECT organization_id, scope, expires_on, granted_at FROM enterprise_consents "
        "WHERE learner_id = ? ORDER BY granted_at",
        [learner_id],
    )
    return [
        ConsentRow(
            organization_id=str(r[0]),
            scope=str(r[1]),
            expires_on=date.fromisoformat(r[2]) if r[2] else None,
            granted_at=datetime.fromisoformat(str(r[3])),
        )
        for r in cur.fetchall()
    ]
