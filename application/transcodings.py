"""JSON transcodings for the values that events and snapshots carry: enums, dates, dataclasses."""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from typing import Any, cast

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain import (
    credit_schemes,
    institution,
    learner,
    qualification,
    records,
    rules,
    standard,
)
from domain.values import ENUM_TYPES


class EnumAsValue(Transcoding):
    def __init__(self, enum: type[Enum]) -> None:
        self.type = enum
        self.name = f"enum:{enum.__name__}"

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        return cast(Enum, self.type(data))


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DataclassAsDict(Transcoding):
    """Encodes a dataclass field by field; JSON lists come back as tuples where the field is one."""

    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = f"dc:{cls.__qualname__}"
        self._tuple_fields = frozenset(
            f.name for f in dataclasses.fields(cls) if str(f.type).startswith("tuple")
        )

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        values = {
            k: tuple(v) if k in self._tuple_fields and isinstance(v, list) else v
            for k, v in data.items()
        }
        return self.type(**values)


STATE_DATACLASSES: tuple[type[Any], ...] = (
    institution.SigningKey,
    credit_schemes.CreditScheme,
    credit_schemes.CreditEquivalence,
    learner.Consent,
    records.Outcome,
    records.Conversion,
    records.Redemption,
    records.AwardReview,
    records.ConvertedPart,
    records.OfficerDecision,
    records.Proposal,
    records.Appeal,
    records.EvidenceItem,
    records.Portfolio,
    rules.OutcomeCriteria,
    standard.PassMark,
    standard.StandardTerms,
    standard.StandardVersion,
    rules.RecognitionTerms,
    rules.TermsVersion,
    rules.ConversionTerms,
    qualification.CategoryMinimum,
    qualification.LevelMinimum,
    qualification.KindMaximum,
    qualification.Stacking,
    qualification.Requirements,
)


def register_all(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    for enum in ENUM_TYPES:
        transcoder.register(EnumAsValue(enum))
    for cls in STATE_DATACLASSES:
        transcoder.register(DataclassAsDict(cls))
