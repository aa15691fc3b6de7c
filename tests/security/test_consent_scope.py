"""Finding 9: a TRAINING consent showed an employee's training from a rival enterprise. New
grants default to OWN (only what that enterprise issued); TRAINING now says what it means
(enterprise training from any issuer). Over HTTP, on both engines."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import GraphQL, Issuer, LearnerRef, World, register_institution

TRANSCRIPT = """query($id: ID!) { learner(id: $id) { account {
    transcript(first: 50) { totalCount edges { node { id title } } } } } }"""
EMPLOYEES = """query($id: ID!) { organization(id: $id) { employees(first: 10) {
    edges { node { learner { id } trainingCredits } } } } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on Outcome { title } } }"


def titles(gql: GraphQL, learner: LearnerRef, token: str) -> list[str]:
    found = gql(TRANSCRIPT, {"id": learner.id}, token).ok()["learner"]["account"]["transcript"]
    assert found["totalCount"] == len(found["edges"])
    return sorted(e["node"]["title"] for e in found["edges"])


def setup(world: World) -> tuple[Issuer, Issuer, LearnerRef, dict[str, Any]]:
    gql, admin = world.gql, world.admin
    employer = register_institution(gql, admin, "Employer Co", "ENTERPRISE")
    rival = register_institution(gql, admin, "Rival Co", "ENTERPRISE")
    staff = world.learner()
    outcomes = {
        "own": world.deposit(staff, employer, title="Employer safety", achievement_type="Badge"),
        "rival": world.deposit(staff, rival, title="Rival sales", achievement_type="Badge"),
        "course": world.deposit(staff, title="University course"),
    }
    return employer, rival, staff, outcomes


def test_a_consent_without_a_scope_shows_only_what_the_enterprise_issued(world: World) -> None:
    gql = world.gql
    employer, rival, staff, outcomes = setup(world)
    granted = gql.mutate(
        "grantConsent", {"learnerId": staff.id, "organizationId": employer.id}, staff.token
    )
    assert granted == {"errors": []}
    consents = gql(
        "query($id: ID!) { learner(id: $id) { consents { organization { id } scope } } }",
        {"id": staff.id},
        staff.token,
    ).ok()["learner"]["consents"]
    assert consents == [{"organization": {"id": employer.id}, "scope": "OWN"}]

    token = world.enterprise_token(employer)
    assert titles(gql, staff, token) == ["Employer safety"]
    assert gql(NODE, {"id": outcomes["own"]["id"]}, token).ok()["node"]["title"] == (
        "Employer safety"
    )
    for other in ("rival", "course"):
        reply = gql(NODE, {"id": outcomes[other]["id"]}, token)
        assert reply.code == "FORBIDDEN"
        assert "Rival" not in reply.text
        assert "University" not in reply.text
    employees = gql(EMPLOYEES, {"id": employer.id}, token).ok()["organization"]["employees"]
    assert [e["node"]["learner"]["id"] for e in employees["edges"]] == [staff.id]
    # The rival, with no consent, sees nothing at all.
    assert gql(TRANSCRIPT, {"id": staff.id}, world.enterprise_token(rival)).code == "FORBIDDEN"


def test_a_training_consent_says_and_shows_training_from_any_issuer(world: World) -> None:
    gql = world.gql
    employer, _, staff, _ = setup(world)
    world.consent(staff, employer, "TRAINING")
    assert titles(gql, staff, world.enterprise_token(employer)) == [
        "Employer safety",
        "Rival sales",
    ]
    # What the learner is told when granting it (the schema is the consent screen's text).
    described = gql(
        '{ __type(name: "GrantConsentInput") { inputFields { name description } } }',
        token=world.officer,
    ).ok()["__type"]["inputFields"]
    scope = next(f["description"] for f in described if f["name"] == "scope")
    assert "OWN" in scope
    assert "whoever issued it" in scope
