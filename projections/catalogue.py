"""Catalogue: institutions, learners, rules, qualifications and standards, in creation order,
with their current public fields, for the API's lists and lookups."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from domain.institution import Institution
from domain.learner import Learner
from domain.qualification import Qualification
from domain.rules import ConversionRule, RecognitionRule
from domain.standard import OutcomeStandard
from projections.base import Batch, Cursor, Tables, Writes, plain

TYPES: dict[type[Any], str] = {
    Institution: "institution",
    Learner: "learner",
    RecognitionRule: "recognition_rule",
    ConversionRule: "conversion_rule",
    Qualification: "qualification",
    OutcomeStandard: "standard",
}


def describe(aggregate: Any) -> tuple[str, str | None, int, bool, dict[str, Any]]:
    """(name, kind, version, active, detail) of a catalogue aggregate."""
    detail: dict[str, Any]
    if isinstance(aggregate, Institution):
        keys = [plain(k) for k in aggregate.keys.values()]
        detail = {
            "issuerUri": aggregate.issuer_uri,
            "keys": keys,
            "creditSchemes": plain(aggregate.credit_schemes),
        }
        return aggregate.name, aggregate.kind.value, aggregate.version, aggregate.active, detail
    if isinstance(aggregate, Learner):
        detail = {
            "verification": aggregate.verification.value,
            "verifiedBy": aggregate.verified_by,
            "erased": aggregate.erased,
            "mergedInto": plain(aggregate.merged_into),
        }
        return "", aggregate.verification.value, aggregate.version, not aggregate.erased, detail
    if isinstance(aggregate, (RecognitionRule, ConversionRule)):
        detail = {"model": aggregate.model.value, "terms": plain(aggregate.terms)}
        if isinstance(aggregate, ConversionRule):
            detail["governance"] = {
                "awaiting": aggregate.awaiting(),
                "awaitingParties": [str(p) for p in aggregate.awaiting_parties],
                "needsApproval": aggregate.needs_approval,
                "proposedBy": aggregate.proposed_by,
                "proposerInstitution": plain(aggregate.proposer_institution),
                "approvedBy": aggregate.approved_by,
                "justification": aggregate.justification,
            }
        return (
            aggregate.name,
            aggregate.model.value,
            aggregate.rule_version,
            not aggregate.retired,
            detail,
        )
    if isinstance(aggregate, Qualification):
        detail = {
            "level": aggregate.level,
            "awardingInstitutionId": str(aggregate.awarding_institution_id),
            "requirements": plain(aggregate.requirements),
        }
        return (aggregate.name, None, aggregate.requirements_version, not aggregate.retired, detail)
    assert isinstance(aggregate, OutcomeStandard)
    detail = {
        "code": aggregate.code,
        "level": aggregate.level,
        "credits": str(aggregate.credits),
        "acceptedKinds": [k.value for k in aggregate.accepted_kinds],
        "versions": plain(aggregate.versions),
        "withdrawnOn": plain(aggregate.withdrawn_on),
    }
    return aggregate.title, aggregate.code, aggregate.version, not aggregate.withdrawn, detail


class CatalogueView:
    name = "catalogue"
    tables = ("catalogue_entries",)
    reads: tuple[str, ...] = ()

    def apply(self, batch: Batch, cur: Writes, t: Tables) -> None:
        first_seen: dict[Any, tuple[int, str]] = {}
        for aggregate_type, entry_type in TYPES.items():
            for nid, e in batch.of(aggregate_type):
                first_seen.setdefault(e.originator_id, (nid, entry_type))
        for aggregate_id, (nid, entry_type) in first_seen.items():
            name, kind, version, active, detail = describe(batch.state(aggregate_id))
            row = {
                "entry_id": aggregate_id,
                "entry_type": entry_type,
                "ordinal": nid,
                "name": name,
                "kind": kind,
                "version": version,
                "active": active,
                "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
            }
            # Listing order is creation order: an existing row keeps its ordinal.
            cur.upsert(t("catalogue_entries"), ("entry_id",), row, keep=("ordinal",))


@dataclass(frozen=True, kw_only=True)
class CatalogueEntry:
    """A row of the catalogue: an aggregate's public fields (``detail`` by its type)."""

    id: str
    ordinal: int  # creation order: the listing's keyset
    entry_type: str  # institution, learner, recognition_rule, conversion_rule, ...
    name: str
    kind: str | None
    version: int
    active: bool
    detail: dict[str, Any]


SELECTED = "entry_id, ordinal, entry_type, name, kind, version, active, detail"


def entry_of(aggregate: Any) -> CatalogueEntry:
    """An aggregate (perhaps as it stood at an earlier version) as a catalogue entry would show
    it (its listing position unknown: 0)."""
    name, kind, version, active, detail = describe(aggregate)
    return CatalogueEntry(
        id=str(aggregate.id),
        ordinal=0,
        entry_type=TYPES[type(aggregate)],
        name=name,
        kind=kind,
        version=version,
        active=active,
        detail=json.loads(json.dumps(detail, ensure_ascii=False)),
    )


def read_page(
    cur: Cursor, entry_type: str, after_ordinal: int, limit: int, kind: str | None = None
) -> list[CatalogueEntry]:
    """Entries of one type in creation order, after ``after_ordinal``."""
    sql = f"SELECT {SELECTED} FROM catalogue_entries WHERE entry_type = ? AND ordinal > ?"  # noqa: S608
    params: list[Any] = [entry_type, after_ordinal]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    cur.execute(sql + " ORDER BY ordinal LIMIT ?", [*params, limit])
    return [_entry(r) for r in cur.fetchall()]


def read_entries(cur: Cursor, ids: list[str]) -> dict[str, CatalogueEntry]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    cur.execute(
        f"SELECT {SELECTED} FROM catalogue_entries WHERE entry_id IN ({marks})",  # noqa: S608
        ids,
    )
    entries = (_entry(r) for r in cur.fetchall())
    return {e.id: e for e in entries}


def _entry(r: Any) -> CatalogueEntry:
    return CatalogueEntry(
        id=str(r[0]),
        ordinal=int(r[1]),
        entry_type=str(r[2]),
        name=str(r[3]),
        kind=r[4],
        version=int(r[5]),
        active=bool(r[6]),
        detail=json.loads(r[7]),
    )
