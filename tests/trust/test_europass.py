"""Europass (ELM 3) export: levels and ECTS credits round-trip exactly through the document, the
document is valid JSON-LD in safe mode under the shipped ELM context (no term dropped, no
relative IRI), and the VC-JWT form verifies as the bank's own export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld
from pyld.documentloader.frozen import BUNDLED_CONTEXTS, FrozenDocumentLoader

from application.europass import (
    ECTS,
    EDC_CONTEXT,
    Claim,
    EuropassExporter,
    Format,
    build,
    in_framework,
    read,
)
from application.export import Exporter
from application.signing import BankKeys
from application.standards import PACKAGE_DIR
from domain.errors import InvalidCredential, InvalidSignature
from domain.framework import CHINA_LIFELONG, EQF
from tests.builders import World

PUBLIC_URL = "http://bank.example"
ISSUER = {"id": PUBLIC_URL + "/issuer", "type": "Organisation", "legalName": {"en": "Bank"}}
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
# The VC 1.1 context from pyld's own bundle, the ELM context from the shipped copy: offline.
LOADER = FrozenDocumentLoader(
    documents=dict(BUNDLED_CONTEXTS, **{EDC_CONTEXT: PACKAGE_DIR / "contexts/elm-edc-ap.jsonld"})
)


def expand_safely(document: dict[str, Any]) -> list[Any]:
    """JSON-LD expansion that refuses any term the contexts leave undefined (safe mode)."""
    dropped: list[Any] = []
    expanded = jsonld.JsonLdProcessor(on_property_dropped=dropped.append).expand(
        # No base: pyld would otherwise resolve a relative IRI against http://example.org/base/.
        document,
        {"documentLoader": LOADER, "base": None},
    )
    assert dropped == []
    return list(expanded)


def ids(node: Any) -> list[str]:
    if isinstance(node, list):
        return [i for n in node for i in ids(n)]
    if isinstance(node, dict):
        own = [node["@id"]] if isinstance(node.get("@id"), str) else []
        return own + [i for k, v in node.items() if k != "@id" for i in ids(v)]
    return []


def claim(n: int, level: int | None, credits: Decimal | None) -> Claim:
    return Claim(
        key=f"k/{n}",
        title=f"Course {n} 课程",
        description="d",
        eqf_level=level,
        ects=credits,
        awarded_at=NOW,
        partial=True,
    )


# -- the round trip --
credits = st.decimals(min_value=0, max_value=Decimal("999.99"), places=2, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 8) | st.none(), credits | st.none()), min_size=1))
def test_eqf_levels_and_ects_credits_round_trip_exactly(stated: list[Any]) -> None:
    document = build(
        [claim(n, level, c) for n, (level, c) in enumerate(stated)],
        learner_id=uuid4(),
        issuer=ISSUER,
        now=NOW,
        summary="s",
    )
    found = read(json.loads(json.dumps(document)))  # as text on the wire
    assert [(a.title, a.eqf_level, a.ects) for a in found] == [
        (f"Course {n} 课程", level, c) for n, (level, c) in enumerate(stated)
    ]
    for a, (_, c) in zip(found, stated, strict=True):  # exactly: the same decimal value
        assert a.ects is None or (
            c is not None and a.ects == c and a.ects.as_tuple().exponent >= -2
        )


def test_levels_are_eqf_uris_and_credits_ects_points() -> None:
    document = build(
        [claim(1, 6, Decimal("7.50"))], learner_id=uuid4(), issuer=ISSUER, now=NOW, summary="s"
    )
    spec = document["credentialSubject"]["hasClaim"][0]["specifiedBy"]
    assert spec["type"] == "Qualification"  # elm:EQFLevel's domain
    assert spec["eqfLevel"]["id"] == "http://data.europa.eu/snb/eqf/6"
    assert spec["creditPoint"] == [
        {
            "type": "CreditPoint",
            "framework": {
                "id": ECTS,
                "type": "Concept",
                "inScheme": {
                    "id": "http://data.europa.eu/snb/education-credit/25831c2",
                    "type": "ConceptScheme",
                },
                "prefLabel": {"en": "European Credit Transfer System"},
            },
            "point": "7.5",
        }
    ]


def test_the_chinese_framework_states_no_eqf_level_or_ects_but_a_note() -> None:
    stated = in_framework(CHINA_LIFELONG, 5, Decimal("3"))
    assert (stated["eqf_level"], stated["ects"]) == (None, None)
    assert "Level 5 (bachelor)" in stated["note"]
    assert "10 notional" in stated["note"]
    assert in_framework(EQF, 5, Decimal("3")) == {"eqf_level": 5, "ects": Decimal("3")}
    document = build(
        [Claim(key="x", title="t", description="d", awarded_at=NOW, partial=True, **stated)],
        learner_id=uuid4(),
        issuer=ISSUER,
        now=NOW,
        summary="s",
    )
    spec = document["credentialSubject"]["hasClaim"][0]["specifiedBy"]
    assert spec["type"] == "LearningAchievementSpecification"
    assert "eqfLevel" not in spec
    assert "creditPoint" not in spec
    assert read(document)[0].eqf_level is None
    assert read(document)[0].ects is None


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("eqfLevel", {"id": "http://data.europa.eu/snb/eqf/9"}),
        ("eqfLevel", {"id": "http://example.org/eqf/6"}),
        ("creditPoint", [{"framework": {"id": ECTS}, "point": "1e3"}]),
        ("creditPoint", [{"framework": {"id": ECTS}, "point": "-2"}]),
        ("creditPoint", [{"framework": {"id": ECTS}, "point": 3}]),
    ],
)
def test_the_reader_refuses_what_is_not_an_eqf_level_or_ects_points(where: str, value: Any) -> None:
    document = build(
        [claim(1, 6, Decimal(3))], learner_id=uuid4(), issuer=ISSUER, now=NOW, summary="s"
    )
    document["credentialSubject"]["hasClaim"][0]["specifiedBy"][where] = value
    with pytest.raises(InvalidCredential):
        read(document)


def test_credit_points_of_other_frameworks_are_not_read_as_ects() -> None:
    document = build(
        [claim(1, 6, Decimal(3))], learner_id=uuid4(), issuer=ISSUER, now=NOW, summary="s"
    )
    spec = document["credentialSubject"]["hasClaim"][0]["specifiedBy"]
    spec["creditPoint"][0]["framework"]["id"] = "http://example.org/other-credits"
    assert read(document)[0].ects is None


# -- from a real account --
@pytest.fixture
def europass(world: World) -> tuple[EuropassExporter, Any]:
    bank = world.bank
    uni, kim = world.issuer("Peking University"), world.learner(verified=True)
    world.course_rule(uni)
    for title, c in (("Linear Algebra 线性代数", 4), ("Operating Systems", 3.5)):
        bank.deposit_credential(kim.id, world.token(uni, kim, title=title, credits=c))
    exporter = Exporter(bank, BankKeys.load_or_create(world.settings.data_dir), PUBLIC_URL)
    return EuropassExporter(exporter), kim


def test_the_record_exports_as_valid_elm_json_ld(europass: tuple[EuropassExporter, Any]) -> None:
    exporter, kim = europass
    document = json.loads(exporter.export(kim.id, Format.JSON_LD))
    assert [(a.title, a.eqf_level, a.ects) for a in read(document)] == [
        ("Linear Algebra 线性代数", 6, Decimal("4")),
        ("Operating Systems", 6, Decimal("3.5")),
    ]
    assert document["issuer"]["id"] == PUBLIC_URL + "/issuer"
    assert document["credentialSubject"]["id"] == f"urn:uuid:{kim.id}"
    expanded = expand_safely(document)
    every_id = ids(expanded)
    assert all(":" in i and not i.startswith(("./", "/", "#")) for i in every_id)  # absolute
    assert "http://data.europa.eu/snb/eqf/6" in every_id
    text = json.dumps(expanded)
    assert "http://data.europa.eu/snb/model/elm/EQFLevel" in text
    assert "http://data.europa.eu/snb/model/elm/creditPoint" in text
    assert "https://www.w3.org/2018/credentials#validFrom" in text


def test_an_undefined_term_fails_the_safe_mode_check(
    europass: tuple[EuropassExporter, Any],
) -> None:
    """The check itself: a member the ELM context does not define is caught, not dropped."""
    exporter, kim = europass
    document = exporter.document(kim.id)
    document["credentialSubject"]["hasClaim"][0]["specifiedBy"]["ECTS"] = 4
    with pytest.raises(AssertionError):
        expand_safely(document)


def test_the_vc_jwt_is_the_banks_own_export(europass: tuple[EuropassExporter, Any]) -> None:
    exporter, kim = europass
    token = exporter.export(kim.id, Format.VC_JWT)
    assert exporter.exporter.verify(token) == (PUBLIC_URL + "/issuer", False)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["sub"] == f"urn:uuid:{kim.id}"
    assert [a.ects for a in read(payload)] == [Decimal("4"), Decimal("3.5")]
    head, _body, signature = token.split(".")
    payload["credentialSubject"]["hasClaim"][0]["specifiedBy"]["creditPoint"][0]["point"] = "40"
    forged = jwt.utils.base64url_encode(json.dumps(payload).encode()).decode()
    with pytest.raises(InvalidSignature):
        exporter.exporter.verify(f"{head}.{forged}.{signature}")
