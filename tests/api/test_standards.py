"""Standards as the yardstick, through GraphQL over HTTP: officers define, amend and withdraw
them; a framework rule measures against the standard it cites; an officer may recognise against
one (issue 11, finding 1)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.conftest import OUTCOME_FIELDS, GraphQL, Issuer, World, register_institution
from tests.api.test_mutations import refuse

STANDARD = (
    "standard { id code title level credits acceptedKinds acceptedIssuerKinds version active "
    "withdrawnOn passMark { passingResults minimumScore } "
    "versions { version effectiveFrom title credits } }"
)


def define(gql: GraphQL, world: World, **fields: Any) -> dict[str, Any]:
    payload = gql.mutate("defineStandard", fields, world.officer, STANDARD)
    assert payload["errors"] == [], payload
    standard: dict[str, Any] = payload["standard"]
    return standard


def framework_rule(gql: GraphQL, world: World, issuer: Issuer, code: str) -> dict[str, Any]:
    payload: dict[str, Any] = gql.mutate(
        "createRecognitionRule",
        {
            "name": f"{code} at {issuer.name}",
            "model": "FRAMEWORK",
            "issuerId": issuer.id,
            "standardCode": code,
            "level": 6,
            "category": "major",
            "validFrom": "2000-01-01",
        },
        world.officer,
        "rule { id }",
    )
    return payload


def test_a_rule_never_recognises_beyond_its_standard(gql: GraphQL, world: World) -> None:
    """Finding 1: a framework rule citing CS101 (level 6, 3 credits, academic courses of
    universities, pass mark) recognised a level-2 MOOC claiming CS101 for 30 credits, and an
    F like a pass."""
    code = f"CS101-{uuid.uuid4().hex[:6]}"
    standard = define(
        gql,
        world,
        code=code,
        title="Programming 1",
        level=6,
        credits="3",
        acceptedKinds=["ACADEMIC_COURSE"],
        acceptedIssuerKinds=["UNIVERSITY"],
        passingResults=["A", "B", "C", "D", "P"],
    )
    assert standard["passMark"] == {
        "passingResults": ["A", "B", "C", "D", "P"],
        "minimumScore": None,
    }
    assert standard["acceptedIssuerKinds"] == ["UNIVERSITY"]
    assert standard["versions"] == [
        {"version": 1, "effectiveFrom": None, "title": "Programming 1", "credits": "3.00"}
    ]
    uni = register_institution(gql, world.admin, f"Yardstick University {code}", "UNIVERSITY")
    mooc = register_institution(gql, world.admin, f"Yardstick MOOC {code}", "MOOC_PLATFORM")
    for issuer in (uni, mooc):
        assert framework_rule(gql, world, issuer, code)["errors"] == []
    learner = world.learner()
    inflated = world.deposit(learner, mooc, human_code=code, credits=30, eqf_level=2, result="A")
    assert (inflated["status"], inflated["recognizedStandard"]) == ("DEPOSITED", None)
    failed = world.deposit(learner, uni, human_code=code, credits=3, result="F")
    assert failed["status"] == "DEPOSITED"
    claimed_30 = world.deposit(learner, uni, human_code=code, credits=30, result="B")
    assert claimed_30["status"] == "RECOGNIZED"
    assert (claimed_30["recognizedCredits"], claimed_30["level"]) == ("3.00", 6)
    assert (claimed_30["recognizedStandard"], claimed_30["standardVersion"]) == (code, 1)


def test_amend_and_withdraw_are_versions_and_a_withdrawn_standard_recognises_nothing(
    gql: GraphQL, world: World
) -> None:
    code = f"ACC-{uuid.uuid4().hex[:6]}"
    standard = define(
        gql, world, code=code, title="Accounting", level=5, credits="3", acceptedKinds=["MOOC"]
    )
    amended = gql.mutate(
        "amendStandard",
        {
            "standardId": standard["id"],
            "title": "Accounting (2026)",
            "level": 5,
            "credits": "4",
            "acceptedKinds": ["MOOC"],
            "minimumScore": "60",
            "effectiveFrom": "2026-01-01",
        },
        world.officer,
        STANDARD,
    )
    assert amended["errors"] == [], amended
    s = amended["standard"]
    assert (s["version"], s["title"], s["credits"]) == (2, "Accounting (2026)", "4.00")
    assert s["passMark"] == {"passingResults": [], "minimumScore": "60.00"}
    assert [(v["version"], v["effectiveFrom"]) for v in s["versions"]] == [
        (1, None),
        (2, "2026-01-01"),
    ]
    withdrawn = gql.mutate(
        "withdrawStandard",
        {"standardId": standard["id"], "effectiveOn": "2026-06-30"},
        world.officer,
        STANDARD,
    )
    assert withdrawn["errors"] == [], withdrawn
    assert (withdrawn["standard"]["withdrawnOn"], withdrawn["standard"]["active"]) == (
        "2026-06-30",
        False,
    )
    refuse(
        gql,
        "withdrawStandard",
        {"standardId": standard["id"]},
        world.officer,
        "INVALID_INPUT",
        STANDARD,
    )
    refuse(
        gql,
        "createRecognitionRule",
        {
            "name": "cites a withdrawn standard",
            "model": "FRAMEWORK",
            "standardCode": code,
            "level": 5,
            "category": "c",
        },
        world.officer,
        "RULE_NOT_APPLICABLE",
        "rule { id }",
    )


def test_refusals_name_the_field_and_store_nothing(gql: GraphQL, world: World) -> None:
    refuse(
        gql,
        "createRecognitionRule",
        {
            "name": "cites nothing",
            "model": "FRAMEWORK",
            "standardCode": "NO-SUCH-STANDARD",
            "level": 5,
            "category": "c",
        },
        world.officer,
        "NOT_FOUND",
        "rule { id }",
    )
    refuse(
        gql,
        "defineStandard",
        {
            "code": "BAD-ISSUER",
            "title": "t",
            "level": 3,
            "credits": "1",
            "acceptedKinds": ["MOOC"],
            "acceptedIssuerIds": [str(uuid.uuid4())],
        },
        world.officer,
        "NOT_FOUND",
        STANDARD,
    )
    refuse(
        gql,
        "amendStandard",
        {
            "standardId": "not-an-id",
            "title": "t",
            "level": 3,
            "credits": "1",
            "acceptedKinds": ["MOOC"],
        },
        world.officer,
        "NOT_FOUND",
        STANDARD,
    )


def test_an_officer_recognises_against_a_standard_only_one_in_the_catalogue(
    gql: GraphQL, world: World
) -> None:
    code = f"OFF-{uuid.uuid4().hex[:6]}"
    define(gql, world, code=code, title="Ethics", level=4, credits="2", acceptedKinds=["MOOC"])
    learner = world.learner()
    waiting = world.deposit(learner, world.mooc, credits=2)
    values = {"learnerId": learner.id, "outcomeId": waiting["id"], "category": "general"}
    refuse(
        gql,
        "recognizeOutcome",
        {**values, "standardCode": "NOT-IN-CATALOGUE"},
        world.officer,
        "NOT_FOUND",
        f"outcome {{ {OUTCOME_FIELDS} }}",
    )
    payload = gql.mutate(
        "recognizeOutcome",
        {**values, "standardCode": code, "level": 4},
        world.officer,
        f"outcome {{ {OUTCOME_FIELDS} }}",
    )
    assert payload["errors"] == [], payload
    assert (payload["outcome"]["recognizedStandard"], payload["outcome"]["standardVersion"]) == (
        code,
        1,
    )
