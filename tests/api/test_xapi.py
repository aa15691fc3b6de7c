"""depositStatement through real HTTP, on both engines: a platform's signed xAPI statement becomes
a non-formal outcome credited from its hours; unsigned or not JSON, a typed refusal."""

from __future__ import annotations

import json

from tests.api.conftest import World
from tests.builders import sign_statement, xapi_actor, xapi_statement

FIELDS = "outcome { id kind title hours status } errors { code message field }"


def test_a_platform_deposits_a_signed_statement(world: World) -> None:
    uni, learner = world.university, world.learner()
    statement = xapi_statement(
        uni.issuer_uri,
        xapi_actor(learner.document_number),
        activity_id="https://lms.example.org/activities/api-test",
    )
    signed = sign_statement(statement, uni.keys)
    token = world.institution_token(uni)
    given = {"learnerId": learner.id, "statement": json.dumps(signed["statement"])}
    payload = world.gql.mutate(
        "depositStatement", {**given, "signature": signed["signature"]}, token, FIELDS
    )
    assert payload["errors"] == [], payload
    outcome = payload["outcome"]
    assert outcome["kind"] == "NON_DEGREE_COURSE"
    assert float(outcome["hours"]) > 0

    again = world.gql.mutate(
        "depositStatement", {**given, "signature": signed["signature"]}, token, FIELDS
    )
    assert [e["code"] for e in again["errors"]] == ["DUPLICATE_CREDENTIAL"]
    unsigned = world.gql.mutate("depositStatement", {**given, "signature": ""}, token, FIELDS)
    assert [e["code"] for e in unsigned["errors"]] == ["INVALID_CREDENTIAL"]
    broken = {"learnerId": learner.id, "statement": "{not json", "signature": "x"}
    refused = world.gql.mutate("depositStatement", broken, token, FIELDS)
    assert [e["code"] for e in refused["errors"]] == ["INVALID_CREDENTIAL"]
    assert refused["outcome"] is None
