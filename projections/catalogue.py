"""Catalogue: institutions, learners, rules, qualifications and standards, in creation order,
with their current public fields, for the API's lists and lookups."""

from __future__ import annotations

import json
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
        detail = {"issuerUri": aggregate.issuer_uri, "keys": keys}
        return aggregate.name, aggregate.kind.value, aggregate.version, aggregate.active, detail
    if isinstance(aggregate, Learner):
        detail = {
            "verification": aggregate.verification.value,
            "verifiedBy": aggregate.verified_by,
            "erased": aggregate.erased,
        }
        return "", aggregate.verification.value, aggregate.version, not aggregate.erased, detail
    if isinstance(aggregate, (RecognitionRule, ConversionRule)):
        detail = {"model": aggregate.model.value, "terms": plain(aggregate.terms)}
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
    }
    return aggregate.title, aggregate.code, aggregate.version, not aggregate.withdrawn, detail


class CatalogueView:
    name = "catalogue"
    tables = ("catalogue_entries",)

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


def read_page(
    cur: Cursor, entry_type: str, after_ordinal: int, limit: int, kind: str | None = None
) -> list[tuple[str, int, str, str | None, int, bool, dict[str, Any]]]:
    """(id, ordinal, name, kind, version, active, detail) in creation order."""
    sql = (
        "SELECT entry_id, ordinal, name, kind, version, active, detail FROM catalogue_entries "
        "WHERE entry_type = ? AND ordinal > ?"
    )
    params: list[Any] = [entry_type, after_ordinal]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    cur.execute(sql + " ORDER BY ordinal LIMIT ?", [*params, limit])
    return [_row(r) for r in cur.fetchall()]


def read_entries(
    cur: Cursor, ids: list[str]
) -> dict[str, tuple[str, int, str, str | None, int, bool, dict[str, Any], str]]:
    """id -> (id, ordinal, name, kind, version, active, detail, entry type)."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    cur.execute(
        "SELECT entry_id, ordinal, name, kind, version, active, detail, entry_type "  # noqa: S608
        f"FROM catalogue_entries WHERE entry_id IN ({marks})",
        ids,
    )
    return {r[0]: (*_row(r[:7]), r[7]) for r in cur.fetchall()}


def _row(r: Any) -> tuple[str, int, str, str | None, int, bool, dict[str, Any]]:
    return str(r[0]), int(r[1]), str(r[2]), r[3], int(r[4]), bool(r[5]), json.loads(r[6])
