"""Merging two accounts of one person, over HTTP on both engines: the views follow the records
to the survivor, and both histories stay whole (issue 11, finding 5)."""

from __future__ import annotations

from tests.api.conftest import GraphQL, World
from tests.api.test_mutations import account, refuse


def test_an_officer_merges_two_accounts_of_one_person(gql: GraphQL, world: World) -> None:
    kim, again = world.learner(), world.learner()
    kept = world.deposit(kim, credits=3)
    moved = world.deposit(again, credits=4)
    payload = gql.mutate(
        "mergeLearners",
        {"survivorId": kim.id, "duplicateId": again.id, "reason": "one person, two accounts"},
        world.officer,
        "learner { id mergedInto }",
    )
    assert payload["errors"] == [], payload
    assert payload["learner"] == {"id": kim.id, "mergedInto": None}
    survivor = account(gql, kim, world.officer)
    assert set(survivor["outcomes"]) == {kept["id"], moved["id"]}
    assert survivor["balance"]["total"] == "7.00"
    assert survivor["events"][-1]["type"] == "OutcomeTransferred"
    assert survivor["events"][-1]["actor"] == "officer:officer-1"
    duplicate = account(gql, again, world.officer)
    assert (duplicate["outcomes"], duplicate["balance"]["total"]) == ({}, "0.00")
    assert [e["type"] for e in duplicate["events"]][-1] == "HandedOver"
    learner = gql(
        "query($id: ID!) { learner(id: $id) { mergedInto } }", {"id": again.id}, world.officer
    ).ok()["learner"]
    assert learner == {"mergedInto": kim.id}
    refuse(
        gql,
        "mergeLearners",
        {"survivorId": again.id, "duplicateId": kim.id, "reason": "back again"},
        world.officer,
        "INVALID_INPUT",
        "learner { id }",
    )
