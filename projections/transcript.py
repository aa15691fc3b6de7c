"""Transcript: one row per outcome with its current status, and the account's conversions."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.account_merging import AccountMerging
from domain.credit_account import CreditAccount
from domain.prior_learning import PriorLearning
from domain.records import Outcome
from projections.base import Batch, Cursor, Tables, Writes, cc, credits, from_cc, iso, plain

DEPOSITED: type[Any] = CreditAccount.OutcomeDeposited
# Events that give an outcome its place in a transcript: its deposit, or its transfer into the
# account it was merged into.
PLACED = (
    DEPOSITED,
    AccountMerging.OutcomeTransferred,  # type: ignore[attr-defined]
    PriorLearning.PriorLearningClaimed,  # type: ignore[attr-defined]
)


# Events that may change which outcomes and conversions an award counts (status REDEEMED): a
# redemption, a review, and what puts an award under review (it may move what it reserves).
AWARD_EVENTS = frozenset(
    {
        "CreditsRedeemed",
        "AwardReaffirmed",
        "AwardRescinded",
        "OutcomeRevoked",
        "OutcomeSuperseded",
        "OutcomeQuestioned",
        "ReviewCleared",
        "RecordsTransferred",
    }
)


def _award_event(event: Any, account: CreditAccount) -> bool:
    """Whether an event may change what awards count: then every record of the account is
    rewritten (what an award counted before a review is not in the state after it)."""
    return bool(account.redemptions) and type(event).__name__ in AWARD_EVENTS


def touched_outcomes(event: Any, account: CreditAccount) -> set[str]:
    """The outcomes whose row an account event changes."""
    if _award_event(event, account):
        return set(account.outcomes)
    ids: set[str] = set()
    for name in ("outcome_id",):
        if hasattr(event, name):
            ids.add(str(getattr(event, name)))
    for oid in getattr(event, "outcome_ids", ()):
        ids.add(str(oid))
    for oid in getattr(event, "restored", ()):  # set aside, counting again
        ids.add(str(oid))
    for holding_id in getattr(event, "allocations", {}):
        ids.add(str(holding_id))
    # The sources of a conversion cancelled or reversed get back what it took.
    for cid in (*getattr(event, "cancelled_conversions", ()), getattr(event, "conversion_id", "")):
        conversion = account.conversions.get(str(cid))
        if conversion is not None:
            ids.update(str(s) for s in conversion.source_ids)
    return {i for i in ids if i in account.outcomes}


def touched_conversions(event: Any, account: CreditAccount) -> set[str]:
    if _award_event(event, account):
        return set(account.conversions)
    ids = {str(getattr(event, "conversion_id", ""))}
    ids.update(str(c.id) for c in getattr(event, "conversions", ()))  # taken over in a merge
    ids.update(str(c) for c in getattr(event, "cancelled_conversions", ()))
    for h in getattr(event, "allocations", {}):  # a conversion's parts
        conversion = account.conversion_holding(str(h))
        if conversion is not None:
            ids.add(str(conversion.id))
    return {i for i in ids if i in account.conversions}


class TranscriptView:
    name = "transcript"
    tables = ("transcript_entries", "account_conversions")
    reads: tuple[str, ...] = ()

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None:
        changed: dict[UUID, tuple[set[str], set[str], dict[str, int]]] = {}
        for _, e in batch.of(CreditAccount):
            account: CreditAccount = batch.state(e.originator_id)
            outcomes, conversions, seqs = changed.setdefault(account.learner_id, (set(), set(), {}))
            outcomes |= touched_outcomes(e, account)
            conversions |= touched_conversions(e, account)
            if isinstance(e, PLACED):
                seqs[str(e.outcome_id)] = e.originator_version
        accounts = batch.accounts()  # survivors of a merge last: their rows win
        for learner_id in accounts:
            outcomes, conversions, seqs = changed[learner_id]
            account = accounts[learner_id]
            for oid in outcomes:
                self._write_outcome(cur, t, learner_id, account.outcomes[oid], seqs.get(oid))
            for cid in conversions:
                c = account.conversions[cid]
                cur.upsert(
                    t("account_conversions"),
                    ("conversion_id",),
                    {
                        "conversion_id": cid,
                        "learner_id": learner_id,
                        "rule_id": c.rule_id,
                        "rule_version": c.rule_version,
                        "source_cc": cc(c.source_credits),
                        "credits_cc": cc(c.credits),
                        "target_institution_id": c.target_institution_id,
                        "target_code": c.target_code,
                        "category": c.category,
                        "active": c.active,
                        "redemption_id": c.redemption_id and str(c.redemption_id),
                        "converted_at": iso(c.converted_at),
                        "reversed_reason": c.reversed_reason,
                    },
                )

    @staticmethod
    def _write_outcome(
        cur: Writes, t: Tables, learner_id: UUID, o: Outcome, seq: int | None
    ) -> None:
        row = to_columns(row_of(learner_id, o, seq or 0))
        if seq is not None:
            cur.upsert(t("transcript_entries"), ("outcome_id",), row)
            return
        del row["seq"]  # a later event keeps the deposit's place
        sets = ", ".join(f"{k} = ?" for k in row if k != "outcome_id")
        values = [v for k, v in row.items() if k != "outcome_id"]
        cur.execute(
            f"UPDATE {t('transcript_entries')} SET {sets} WHERE outcome_id = ?",  # noqa: S608
            [*values, str(o.id)],
        )


@dataclass(frozen=True, kw_only=True)
class TranscriptRow:
    """One outcome of a transcript, as the view stores it."""

    outcome_id: str
    learner_id: str
    seq: int  # the account version that deposited it: the transcript's order and keyset
    credential_id: str
    title: str
    kind: str
    issuer_id: str
    standard_code: str | None
    level: int | None  # as claimed
    credits: Decimal  # as claimed
    recognized_credits: Decimal | None
    recognized_level: int | None
    category: str | None
    status: str
    hours: Decimal | None
    completed_on: date
    deposited_at: datetime
    rule_id: str | None
    rule_version: int | None
    recognized_by: str | None
    conversion_id: str | None
    redemption_id: str | None
    reason: str | None  # why it was rejected or revoked
    framework_credits: Decimal | None  # the claim through the issuer's credit scheme
    issued_at: datetime | None
    expires_at: datetime | None
    passed: bool | None
    recognized_standard: str | None  # the standard it was recognised against (and its version)
    standard_version: int | None
    superseded_by: str | None  # the outcome that counts instead
    available_credits: Decimal | None  # what conversions left of its recognised credits
    justification: str | None
    approved_by: str | None  # the second officer of a decision beyond the bounds
    appeal: dict[str, Any] | None
    portfolio: dict[str, Any] | None  # prior learning: what the learner submitted
    under_review: str | None = None  # why it counts for nothing until an officer decides
    status_unknown: str | None = None  # why its issuer's status list could not be read yet


def row_of(learner_id: UUID, o: Outcome, seq: int) -> TranscriptRow:
    """The row the view keeps for an outcome (also how an account rebuilt from its events, at a
    past version, shows its outcomes)."""
    return TranscriptRow(
        outcome_id=str(o.id),
        learner_id=str(learner_id),
        seq=seq,
        credential_id=o.credential_id,
        title=o.title,
        kind=o.kind.value,
        issuer_id=str(o.issuer_id),
        standard_code=o.standard_code,
        level=o.level,
        credits=o.credits_claimed,
        recognized_credits=o.recognized_credits,
        recognized_level=o.recognized_level,
        category=o.category,
        status=o.status.value,
        hours=o.hours,
        completed_on=o.completed_on,
        deposited_at=o.deposited_at,
        rule_id=str(o.rule_id) if o.rule_id else None,
        rule_version=o.rule_version,
        recognized_by=o.recognized_by,
        conversion_id=str(o.conversion_id) if o.conversion_id else None,
        redemption_id=str(o.redemption_id) if o.redemption_id else None,
        reason=o.revoked_reason or o.rejection_reason,
        framework_credits=o.framework_credits,
        issued_at=o.issued_at,
        expires_at=o.expires_at,
        passed=o.passed,
        recognized_standard=o.recognized_standard,
        standard_version=o.standard_version,
        superseded_by=str(o.superseded_by) if o.superseded_by else None,
        available_credits=None if o.recognized_credits is None else o.available_credits,
        justification=o.justification,
        approved_by=o.approved_by,
        appeal=None if o.appeal is None else plain(o.appeal),
        portfolio=None if o.portfolio is None else plain(o.portfolio),
        under_review=o.under_review,
        status_unknown=o.status_unknown,
    )


def _same(value: Any) -> Any:
    return value


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else parse(value)


# The view's columns: (the row's field, the column, to the database, from the database).
_MAPPING: tuple[tuple[str, str, Callable[[Any], Any], Callable[[Any], Any]], ...] = (
    ("outcome_id", "outcome_id", _same, str),
    ("learner_id", "learner_id", _same, str),
    ("seq", "seq", _same, int),
    ("credential_id", "credential_id", _same, _same),
    ("title", "title", _same, _same),
    ("kind", "kind", _same, _same),
    ("issuer_id", "issuer_id", _same, str),
    ("standard_code", "standard_code", _same, _same),
    ("level", "level", _same, _same),
    ("credits", "credits_cc", cc, credits),
    ("recognized_credits", "recognized_cc", cc, from_cc),
    ("recognized_level", "recognized_level", _same, _same),
    ("category", "category", _same, _same),
    ("status", "status", _same, _same),
    ("hours", "hours_cc", cc, from_cc),
    ("completed_on", "completed_on", iso, date.fromisoformat),
    ("deposited_at", "deposited_at", iso, datetime.fromisoformat),
    ("rule_id", "rule_id", _same, _same),
    ("rule_version", "rule_version", _same, _same),
    ("recognized_by", "recognized_by", _same, _same),
    ("conversion_id", "conversion_id", _same, _same),
    ("redemption_id", "redemption_id", _same, _same),
    ("reason", "reason", _same, _same),
    ("framework_credits", "framework_cc", cc, from_cc),
    ("issued_at", "issued_at", iso, _optional(datetime.fromisoformat)),
    ("expires_at", "expires_at", iso, _optional(datetime.fromisoformat)),
    ("passed", "passed", _optional(int), _optional(bool)),
    ("recognized_standard", "recognized_standard", _same, _same),
    ("standard_version", "standard_version", _same, _same),
    ("superseded_by", "superseded_by", _same, _same),
    ("available_credits", "available_cc", cc, from_cc),
    ("justification", "justification", _same, _same),
    ("approved_by", "approved_by", _same, _same),
    ("appeal", "appeal", _json, _optional(json.loads)),
    ("portfolio", "portfolio", _json, _optional(json.loads)),
    ("under_review", "under_review", _same, _same),
    ("status_unknown", "status_unknown", _same, _same),
)
COLUMNS = ", ".join(column for _, column, _, _ in _MAPPING)


def to_columns(row: TranscriptRow) -> dict[str, Any]:
    return {column: put(getattr(row, name)) for name, column, put, _ in _MAPPING}


def _row(r: Any) -> TranscriptRow:
    return TranscriptRow(**{name: get(v) for (name, _, _, get), v in zip(_MAPPING, r, strict=True)})


def read_page(
    cur: Cursor,
    learner_id: str,
    *,
    after_seq: int,
    limit: int,
    status: str | None = None,
    kind: str | None = None,
    issuer: str | None = None,
) -> list[TranscriptRow]:
    """One keyset page of a learner's transcript, oldest deposit first (index-backed)."""
    where, params = _filters(learner_id, status, kind, issuer)
    cur.execute(
        f"SELECT {COLUMNS} FROM transcript_entries WHERE {where} AND seq > ? "  # noqa: S608
        "ORDER BY seq LIMIT ?",
        [*params, after_seq, limit],
    )
    return [_row(r) for r in cur.fetchall()]


def count(
    cur: Cursor,
    learner_id: str,
    status: str | None = None,
    kind: str | None = None,
    issuer: str | None = None,
) -> int:
    where, params = _filters(learner_id, status, kind, issuer)
    cur.execute(f"SELECT count(*) FROM transcript_entries WHERE {where}", params)  # noqa: S608
    return int(cur.fetchone()[0])


def read_outcomes(cur: Cursor, outcome_ids: list[str]) -> dict[str, TranscriptRow]:
    if not outcome_ids:
        return {}
    marks = ", ".join("?" for _ in outcome_ids)
    cur.execute(
        f"SELECT {COLUMNS} FROM transcript_entries WHERE outcome_id IN ({marks})",  # noqa: S608
        outcome_ids,
    )
    rows = (_row(r) for r in cur.fetchall())
    return {r.outcome_id: r for r in rows}


def _filters(
    learner_id: str, status: str | None, kind: str | None, issuer: str | None = None
) -> tuple[str, list[Any]]:
    where, params = ["learner_id = ?"], [learner_id]
    if issuer is not None:
        where.append("issuer_id = ?")
        params.append(issuer)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    return " AND ".join(where), params


def signed_by(cur: Cursor, issuer_id: str) -> list[tuple[str, str]]:
    """(learner id, outcome id) of every outcome an institution issued (a compromised key's
    review narrows these down against the accounts themselves)."""
    cur.execute(
        "SELECT learner_id, outcome_id FROM transcript_entries WHERE issuer_id = ?", [issuer_id]
    )
    return [(str(learner), str(outcome)) for learner, outcome in cur.fetchall()]
