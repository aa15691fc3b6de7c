"""Beyond the contract: the standards catalogue, consents, and the conversions that would close
the gap to a qualification (DESIGN: "which conversions would close the gap")."""

from __future__ import annotations

from tests.api.conftest import GraphQL, World


def test_officers_define_standards_that_anyone_can_list(gql: GraphQL, world: World) -> None:
    code = f"NET-{world.learner().id[:8]}"
    payload = gql.mutate(
        "defineStandard",
        {"code": code, "title": "Networks", "level": 6, "credits": "3",
         "acceptedKinds": ["ACADEMIC_COURSE", "VOCATIONAL_CERTIFICATE"]},
        world.officer,
        "standard { id code level credits acceptedKinds active }",
    )  # fmt: skip
    assert payload["errors"] == []
    assert payload["standard"]["code"] == code
    assert payload["standard"]["credits"] == "3.00"
    listed = gql("{ standards(first: 100) { edges { node { code title } } } }").ok()
    assert code in [e["node"]["code"] for e in listed["standards"]["edges"]]
    again = gql.mutate(
        "defineStandard",
        {"code": code, "title": "x", "level": 6, "credits": "3", "acceptedKinds": ["MOOC"]},
        world.officer,
    )
    assert again["errors"][0]["code"] == "INVALID_INPUT"
    bad = gql.mutate(
        "defineStandard",
        {"code": "LV-99", "title": "x", "level": 99, "credits": "3", "acceptedKinds": ["MOOC"]},
        world.officer,
    )
    assert bad["errors"][0]["code"] == "INVALID_INPUT"


def test_a_learner_sees_their_consents_and_nobody_else_does(gql: GraphQL, world: World) -> None:
    learner, other = world.learner(), world.learner()
    world.consent(learner, world.enterprise, "TRAINING")
    query = "query($id: ID!) { learner(id: $id) { consents { scope organization { id } } } }"
    mine = gql(query, {"id": learner.id}, learner.token).ok()
    assert mine["learner"]["consents"] == [
        {"scope": "TRAINING", "organization": {"id": world.enterprise.id}}
    ]
    assert gql(query, {"id": learner.id}, world.officer).ok()["learner"]["consents"]
    refused = gql(query, {"id": learner.id}, other.token)
    assert refused.code == "FORBIDDEN"


def test_conversion_options_show_what_would_close_the_gap(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    world.deposit(learner, world.college, credits=4)  # general credits, convertible by the rule
    into_major = gql.mutate(
        "createConversionRule",
        {
            "name": f"College courses -> major {learner.id[:8]}",
            "model": "FRAMEWORK",
            "sourceInstitutionId": world.college.id,
            "targetInstitutionId": world.university.id,
            "targetCode": f"MAJ-{learner.id[:8]}",
            "targetCategory": "major",
            "ratio": "1",
            "maxCreditsPerLearner": "3",
        },
        world.officer,
        "rule { id }",
    )["rule"]["id"]
    query = (
        "query($id: ID!, $q: ID!) { learner(id: $id) { account { conversionOptions("
        "qualificationId: $q) { rule { id name } credits sourceCredits category outcomeIds "
        "unmetBefore unmetAfter countedChange closes } } } }"
    )
    reply = gql(query, {"id": learner.id, "q": world.qualification}, learner.token).ok()
    options = {o["rule"]["id"]: o for o in reply["learner"]["account"]["conversionOptions"]}
    # The agreement's 0.5 into the same category would only lose credits: never recommended.
    assert world.conversion_rule not in options
    option = options[into_major]
    # Capped at 3, it takes 3 of the 4 credits and closes the major minimum.
    assert (option["credits"], option["sourceCredits"]) == ("3.00", "3.00")
    assert len(option["outcomeIds"]) == 1
    assert option["unmetBefore"]
    assert option["closes"] == ["category major"]
    assert option["countedChange"] == "0.00"
    missing = gql(query, {"id": learner.id, "q": world.learner().id}, learner.token)
    assert missing.code == "NOT_FOUND"
