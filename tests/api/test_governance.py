"""Conversion integrity and governance through the API, on both engines (issue 12): decisions
seen by two officers, reversal, appeals and prior learning, as the views show them."""

from __future__ import annotations

from api.auth import Role
from tests.api.conftest import GraphQL, World

FIELDS = (
    "id status recognizedCredits availableCredits recognizedBy justification approvedBy "
    "appeal { grounds decidedBy heardBy upheld reason } "
    "portfolio { description hours evidence { description url digest } } kind issuer { name }"
)
DECISION = "decision { id action subjectId proposedBy justification credits level category }"


def test_a_decision_beyond_the_claim_waits_for_a_second_officer(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    mooc = world.deposit(learner, world.mooc, credits=3, eqf_level=3)["id"]
    values = {"learnerId": learner.id, "outcomeId": mooc, "credits": "100", "level": 8}
    refused = gql.mutate(
        "recognizeOutcome", {**values, "category": "major"}, world.officer, "outcome { id }"
    )
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("INVALID_INPUT", ["justification"])
    ]
    proposed = gql.mutate(
        "recognizeOutcome",
        {**values, "category": "major", "justification": "a capstone project"},
        world.officer,
        f"outcome {{ status recognizedCredits }} {DECISION}",
    )
    assert proposed["errors"] == []
    assert proposed["outcome"] == {"status": "DEPOSITED", "recognizedCredits": None}
    decision = proposed["decision"]
    assert (decision["action"], decision["credits"], decision["level"]) == (
        "RECOGNITION",
        "100.00",
        8,
    )
    waiting = gql(
        "query($id: ID!) { learner(id: $id) { account { pendingDecisions { id proposedBy } } } }",
        {"id": learner.id},
        world.officer,
    ).ok()["learner"]["account"]["pendingDecisions"]
    assert waiting == [{"id": decision["id"], "proposedBy": "officer:officer-1"}]
    approve = {"learnerId": learner.id, "decisionId": decision["id"]}
    same = gql.mutate("approveDecision", approve, world.officer, "outcomes { id }")
    assert [e["code"] for e in same["errors"]] == ["FORBIDDEN"]
    second = world.token(Role.OFFICER, "officer-2")
    approved = gql.mutate("approveDecision", approve, second, f"outcomes {{ {FIELDS} }}")
    assert approved["errors"] == []
    [o] = approved["outcomes"]
    assert (o["status"], o["recognizedCredits"], o["recognizedBy"], o["approvedBy"]) == (
        "RECOGNIZED",
        "100.00",
        "officer:officer-1",
        "officer:officer-2",
    )
    assert o["justification"] == "a capstone project"


def test_a_learner_undoes_a_capped_conversion_and_gets_back_exactly_what_it_took(
    gql: GraphQL, world: World
) -> None:
    learner = world.learner()
    source = world.deposit(learner, world.college, credits=30)["id"]
    # The world's agreement: ratio 0.5, at most 10 per learner: it takes 20 of the 30.
    converted = gql.mutate(
        "convertCredits",
        {
            "learnerId": learner.id,
            "outcomeIds": [source],
            "conversionRuleId": world.conversion_rule,
        },
        learner.token,
        f"outcomes {{ {FIELDS} }}",
    )
    assert converted["errors"] == []
    [o] = converted["outcomes"]
    assert (o["status"], o["recognizedCredits"], o["availableCredits"]) == (
        "RECOGNIZED",
        "30.00",
        "10.00",
    )
    history = gql(
        "query($id: ID!) { learner(id: $id) { account { balance { total } "
        "history(first: 100) { edges { node { type data } } } } } }",
        {"id": learner.id},
        learner.token,
    ).ok()["learner"]["account"]
    assert history["balance"]["total"] == "20.00"  # 10 kept + 10 converted
    [event] = [
        e["node"] for e in history["history"]["edges"] if e["node"]["type"] == "CreditsConverted"
    ]
    conversion_id = event["data"]["conversion_id"]
    other = world.learner()  # another learner undoes nothing of this one's
    stranger = gql.mutate_raw(
        "reverseConversion",
        {"learnerId": learner.id, "conversionId": conversion_id},
        other.token,
        DECISION,
    )
    assert [e["extensions"]["code"] for e in stranger.errors] == ["FORBIDDEN"]
    undone = gql.mutate(
        "reverseConversion",
        {"learnerId": learner.id, "conversionId": conversion_id},
        learner.token,
        DECISION,
    )
    assert undone == {"decision": None, "errors": []}
    after = gql(
        "query($id: ID!, $o: ID!) { learner(id: $id) { account { balance { total } } } "
        f"node(id: $o) {{ ... on Outcome {{ {FIELDS} }} }} }}",
        {"id": learner.id, "o": source},
        learner.token,
    ).ok()
    assert after["learner"]["account"]["balance"]["total"] == "30.00"
    assert after["node"]["availableCredits"] == "30.00"


def test_an_appeal_is_heard_by_another_officer(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    mooc = world.deposit(learner, world.mooc, credits=3, eqf_level=5)["id"]
    gql.mutate(
        "rejectOutcome",
        {"learnerId": learner.id, "outcomeId": mooc, "reason": "not at degree level"},
        world.officer,
    )
    lodged = gql.mutate(
        "appealDecision",
        {"learnerId": learner.id, "outcomeId": mooc, "grounds": "the syllabus is level 5"},
        learner.token,
        f"outcome {{ {FIELDS} }}",
    )
    assert lodged["errors"] == []
    assert lodged["outcome"]["appeal"]["decidedBy"] == "officer:officer-1"
    hear = {
        "learnerId": learner.id,
        "outcomeId": mooc,
        "upheld": True,
        "reason": "the syllabus is level 5",
        "credits": "3",
        "level": 5,
        "category": "elective",
    }
    same = gql.mutate("hearAppeal", hear, world.officer, "outcome { id }")
    assert [e["code"] for e in same["errors"]] == ["FORBIDDEN"]
    second = world.token(Role.OFFICER, "officer-2")
    heard = gql.mutate("hearAppeal", hear, second, f"outcome {{ {FIELDS} }} {DECISION}")
    assert heard["errors"] == []
    assert heard["decision"] is None
    o = heard["outcome"]
    assert (o["status"], o["recognizedBy"], o["appeal"]["upheld"]) == (
        "RECOGNIZED",
        "officer:officer-2",
        True,
    )


def test_prior_learning_enters_with_its_portfolio(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    applied = gql.mutate(
        "applyForPriorLearning",
        {
            "learnerId": learner.id,
            "title": "Bookkeeping at the family shop",
            "completedOn": "2024-12-31",
            "description": "ten years of double-entry ledgers",
            "hours": "400",
            "evidence": [
                {"description": "employer letter", "digest": "sha256:" + "b" * 64},
                {"description": "ledger samples", "url": "https://files.example/ledgers.pdf"},
            ],
        },
        learner.token,
        f"outcome {{ {FIELDS} }}",
    )
    assert applied["errors"] == []
    o = applied["outcome"]
    assert (o["kind"], o["status"]) == ("PRIOR_LEARNING", "DEPOSITED")
    assert o["issuer"]["name"].startswith("Credit Bank")
    assert o["portfolio"]["hours"] == "400.00"
    assert [e["description"] for e in o["portfolio"]["evidence"]] == [
        "employer letter",
        "ledger samples",
    ]
    bad = gql.mutate(
        "applyForPriorLearning",
        {
            "learnerId": learner.id,
            "title": "x",
            "completedOn": "2024-12-31",
            "description": "y",
            "evidence": [],
        },
        learner.token,
        "outcome { id }",
    )
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID_INPUT", ["evidence"])]
