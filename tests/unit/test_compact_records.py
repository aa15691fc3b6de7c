"""The account's records in their compact stored form (``RecordAsCompact``): any record comes
back equal, with every value of the same type, and records stored in the generic form before
(``dc:<name>``, in events and older snapshots) still decode."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from hypothesis import given, settings
from hypothesis import strategies as st

from application.transcodings import COMPACT_RECORDS, DataclassAsDict, register_all
from domain import records
from domain.values import ENUM_TYPES

ENUMS = {e.__name__: e for e in ENUM_TYPES}
DECIMALS = st.decimals(
    allow_nan=False, allow_infinity=False, places=3, min_value=-1000, max_value=1000
)
TEXT = st.text(max_size=12)
MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), None]),
)
BASES: dict[str, st.SearchStrategy[Any]] = {
    "UUID": st.uuids(),
    "Decimal": DECIMALS,
    "datetime": MOMENTS,
    "date": st.dates(),
    "str": TEXT,
    "int": st.integers(-5, 10_000),
    "bool": st.booleans(),
    "dict[str, Decimal]": st.dictionaries(TEXT, DECIMALS, max_size=3),
    "list[str]": st.lists(TEXT, max_size=3),
    "tuple[UUID, ...]": st.lists(st.uuids(), max_size=3).map(tuple),
    "tuple[str, ...]": st.lists(TEXT, max_size=3).map(tuple),
}


def strategy(annotation: str) -> st.SearchStrategy[Any]:
    parts = [p.strip() for p in annotation.split("|")]
    options = []
    for part in parts:
        if part == "None":
            options.append(st.none())
        elif part in BASES:
            options.append(BASES[part])
        elif part in ENUMS:
            options.append(st.sampled_from(list(ENUMS[part])))
        elif "None" in parts:  # nested records: their defaults (None, (), []) stand for them
            return st.none()
        else:
            return st.just([] if part.startswith("list") else ())
    return st.one_of(*options)


def records_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    fields = {
        f.name: strategy(str(f.type))
        for f in dataclasses.fields(cls)
        if str(f.type).split("|")[0].strip() in BASES
        or str(f.type).split("|")[0].strip() in ENUMS
        or f.default is dataclasses.MISSING
    }
    return st.builds(cls, **fields)


def transcoder(compact: bool = True) -> JSONTranscoder:
    """The bank's transcoder (``CreditBank.register_transcodings``), or the one before the
    compact form."""
    t = JSONTranscoder()
    for library in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        t.register(library)
    register_all(t)
    if not compact:
        for cls in COMPACT_RECORDS:  # encoded as before; the decoder knows both names
            t.types[cls] = DataclassAsDict(cls)
    return t


def same(a: Any, b: Any) -> bool:
    """Equal, and each field's value of the same type (a date is not a datetime)."""
    return a == b and all(
        type(getattr(a, f.name)) is type(getattr(b, f.name)) for f in dataclasses.fields(a)
    )


@settings(max_examples=150, deadline=None)
@given(st.one_of(*(records_of(cls) for cls in COMPACT_RECORDS)))
def test_a_record_comes_back_equal_and_of_the_same_types(record: Any) -> None:
    t = transcoder()
    stored = t.encode({"r": record})
    assert json.loads(stored)["r"]["_type_"].startswith("rec:")
    assert same(t.decode(stored)["r"], record)


@settings(max_examples=100, deadline=None)
@given(st.one_of(*(records_of(cls) for cls in COMPACT_RECORDS)))
def test_records_stored_in_the_generic_form_still_decode(record: Any) -> None:
    stored = transcoder(compact=False).encode({"r": record})
    assert json.loads(stored)["r"]["_type_"].startswith("dc:")
    assert same(transcoder().decode(stored)["r"], record)


def an_outcome(**changes: Any) -> records.Outcome:
    values: dict[str, Any] = {
        "id": UUID(int=1),
        "issuer_id": UUID(int=2),
        "credential_id": "urn:uuid:00000000-0000-4000-8000-000000000003",
        "kind": next(iter(ENUMS["OutcomeKind"])),
        "title": "高等数学",
        "standard_code": None,
        "level": 6,
        "credits_claimed": Decimal("3"),
        "hours": None,
        "result": "A",
        "completed_on": date(2020, 1, 1),
        "evidence_digest": "sha256:" + "a" * 64,
        "key_id": "k-2015",
        "deposited_at": datetime(2020, 1, 2, tzinfo=UTC),
    }
    return records.Outcome(**{**values, **changes})


def test_a_value_not_of_its_declared_type_is_kept_as_it_is() -> None:
    outcome = an_outcome(
        credits_claimed=3,  # an int where a Decimal is declared
        completed_on=datetime(2020, 1, 1, 12, tzinfo=UTC),  # a datetime where a date is
    )
    t = transcoder()
    stored = t.encode({"r": outcome})
    assert set(json.loads(stored)["r"]["_data_"]["_raw_"]) == {"credits_claimed", "completed_on"}
    assert same(t.decode(stored)["r"], outcome)


def test_the_compact_form_of_a_recognised_outcome_is_smaller() -> None:
    outcome = an_outcome(
        recognized_credits=Decimal("3"),
        recognized_level=6,
        category="major",
        rule_id=UUID(int=4),
        rule_version=1,
    )
    compact = transcoder().encode(outcome)
    generic = transcoder(compact=False).encode(outcome)
    assert len(compact) < 0.6 * len(generic)
