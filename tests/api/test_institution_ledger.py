"""Query.institutionLedger over HTTP, on both engines: an institution sees the outcomes it issued
(with their status as it changes) and the conversions into its scheme it accepted, newest first,
page by page; officers and auditors may read it, every other caller is refused.

The world is shared by the module's tests, so each reads the entries it made at the top of the
list (newest first) and counts by difference.
"""

from __future__ import annotations

from typing import Any

from api.auth import Role
from tests.api.conftest import GraphQL, Issuer, LearnerRef, Reply, World

LEDGER = """
query Ledger($id: ID!, $first: Int, $after: String, $role: LedgerRole, $status: String) {
  institutionLedger(
    institutionId: $id, first: $first, after: $after, role: $role, status: $status
  ) {
    totalCount
    edges { cursor node { id role learnerId title credits status at } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def ledger(gql: GraphQL, issuer: Issuer, token: str | None, **variables: Any) -> Reply:
    return gql(LEDGER, {"id": issuer.id, **variables}, token)


def read(gql: GraphQL, world: World, issuer: Issuer, **variables: Any) -> dict[str, Any]:
    """The ledger as the institution itself reads it."""
    data: dict[str, Any] = ledger(gql, issuer, world.institution_token(issuer), **variables).ok()
    return data["institutionLedger"]


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def revoke(gql: GraphQL, world: World, issuer: Issuer, learner: LearnerRef, outcome: str) -> None:
    payload = gql.mutate(
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": outcome, "reason": "issued in error"},
        world.institution_token(issuer),
    )
    assert payload["errors"] == [], payload


def test_the_institution_sees_what_it_issued_newest_first_page_by_page(
    gql: GraphQL, world: World
) -> None:
    before = read(gql, world, world.university, first=0)["totalCount"]
    learner = world.learner()
    titles = ["Ledger Algebra", "Ledger Botany", "Ledger Chemistry"]
    outcomes = [world.deposit(learner, title=t, credits=3)["id"] for t in titles]

    first = read(gql, world, world.university, first=2)
    assert first["totalCount"] == before + 3
    assert [(n["id"], n["title"]) for n in nodes(first)] == [
        (outcomes[2], "Ledger Chemistry"),
        (outcomes[1], "Ledger Botany"),
    ]
    newest = nodes(first)[0]
    assert newest["role"] == "ISSUED"
    assert newest["learnerId"] == learner.id  # it issued to this learner: it knows them already
    assert (newest["credits"], newest["status"]) == ("3.00", "RECOGNIZED")
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["endCursor"] == first["edges"][1]["cursor"]

    second = read(gql, world, world.university, first=2, after=first["pageInfo"]["endCursor"])
    assert nodes(second)[0]["id"] == outcomes[0]
    assert second["pageInfo"]["hasPreviousPage"] is True
    # Newest first throughout: each entry no later than the one before it.
    moments = [n["at"] for n in nodes(first) + nodes(second)]
    assert moments == sorted(moments, reverse=True)

    revoke(gql, world, world.university, learner, outcomes[1])
    again = nodes(read(gql, world, world.university, first=3))
    assert [(n["id"], n["status"]) for n in again] == [
        (outcomes[2], "RECOGNIZED"),
        (outcomes[1], "REVOKED"),
        (outcomes[0], "RECOGNIZED"),
    ]
    revoked = read(gql, world, world.university, status="REVOKED", first=100)
    assert outcomes[1] in [n["id"] for n in nodes(revoked)]
    assert {n["status"] for n in nodes(revoked)} == {"REVOKED"}
    assert revoked["totalCount"] == len(revoked["edges"])


def conversion_ids(gql: GraphQL, learner: LearnerRef) -> list[str]:
    """The learner's conversions, from their account at its latest version."""
    account = "query($id: ID!) { learner(id: $id) { account { version } } }"
    version = gql(account, {"id": learner.id}, learner.token).ok()["learner"]["account"]["version"]
    state = gql(
        "query($id: ID!, $v: Int!) { learner(id: $id) { account { asOf(version: $v) { "
        "conversions { id } } } } }",
        {"id": learner.id, "v": version},
        learner.token,
    ).ok()
    return [c["id"] for c in state["learner"]["account"]["asOf"]["conversions"]]


def test_the_institution_sees_the_conversions_it_accepted(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    source = world.deposit(learner, world.college, title="Ledger Physics", credits=3, eqf_level=5)
    converted = gql.mutate(
        "convertCredits",
        {
            "learnerId": learner.id,
            "outcomeIds": [source["id"]],
            "conversionRuleId": world.conversion_rule,
        },
        learner.token,
    )
    assert converted["errors"] == [], converted
    [conversion] = conversion_ids(gql, learner)

    # The university accepted it (the agreement's target); the college issued its source.
    accepted = nodes(read(gql, world, world.university, first=1))[0]
    assert {k: accepted[k] for k in ("id", "role", "learnerId", "title", "credits", "status")} == {
        "id": conversion,
        "role": "ACCEPTED",
        "learnerId": learner.id,
        "title": "GEN-TRANSFER",
        "credits": "1.50",
        "status": "ACTIVE",
    }
    issued = nodes(read(gql, world, world.college, first=1))[0]
    assert (issued["id"], issued["role"], issued["status"]) == (
        source["id"],
        "ISSUED",
        "CONVERTED",
    )
    assert read(gql, world, world.university, role="ACCEPTED", first=100)["totalCount"] >= 1
    only_issued = nodes(read(gql, world, world.university, role="ISSUED", first=100))
    assert conversion not in [n["id"] for n in only_issued]
    assert {n["role"] for n in only_issued} == {"ISSUED"}

    # The college revokes the source: the conversion falls away with it.
    revoke(gql, world, world.college, learner, source["id"])
    cancelled = read(gql, world, world.university, role="ACCEPTED", status="CANCELLED", first=100)
    assert conversion in [n["id"] for n in nodes(cancelled)]
    assert nodes(read(gql, world, world.college, first=1))[0]["status"] == "REVOKED"


def test_only_the_institution_officers_and_auditors_may_read_it(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    world.deposit(learner, title="Ledger Geology")
    own = read(gql, world, world.university, first=5)
    assert own["edges"], own
    for reader in (world.officer, world.auditor):
        assert ledger(gql, world.university, reader, first=5).ok()["institutionLedger"] == own

    refused = {
        "another institution": world.institution_token(world.college),
        "the learner it issued to": learner.token,
        "an enterprise": world.enterprise_token(world.enterprise),
        "an enterprise as an institution": world.institution_token(world.enterprise),
        "an administrator": world.admin,
    }
    for who, token in refused.items():
        reply = ledger(gql, world.university, token, first=5)
        assert reply.code == "FORBIDDEN", (who, reply.body)
        assert reply.data is None, (who, reply.body)
    anonymous = ledger(gql, world.university, None, first=5)
    assert anonymous.code == "UNAUTHENTICATED"
    assert anonymous.data is None


def test_a_malformed_request_is_invalid_input(gql: GraphQL, world: World) -> None:
    def code(**variables: Any) -> str | None:
        return ledger(gql, world.university, world.officer, **variables).code

    assert code(status="NOT-A-STATUS") == "INVALID_INPUT"
    assert code(after="not a cursor") == "INVALID_INPUT"
    assert code(after="MQ") == "INVALID_INPUT"  # "1": another list's cursor
    assert code(first=101) == "INVALID_INPUT"
    assert code(first=-1) == "INVALID_INPUT"
    reply = gql(LEDGER, {"id": "not-an-id"}, world.officer)
    assert reply.code == "INVALID_INPUT"
    # An institution naming an id that is not one is refused as well, never shown another's.
    reply = gql(LEDGER, {"id": "not-an-id"}, world.institution_token(world.university))
    assert reply.code == "INVALID_INPUT"


def test_a_page_costs_its_size(gql: GraphQL, world: World) -> None:
    """QueryCost multiplies what is beneath the field by its ``first``: six pages of 100 (about
    1000 each) are past the bound of 5000, where the same six of 20 are not."""

    def aliased(first: int) -> Reply:
        fields = "edges { cursor node { id role learnerId title credits status at } }"
        selections = " ".join(
            f'l{n}: institutionLedger(institutionId: "{world.university.id}", first: {first}) '
            f"{{ {fields} }}"
            for n in range(6)
        )
        return gql(f"{{ {selections} }}", token=world.officer)

    refused = aliased(100)
    assert refused.code == "INVALID_INPUT"
    assert "too costly" in refused.errors[0]["message"]
    assert set(aliased(20).ok()) == {f"l{n}" for n in range(6)}


def test_the_enterprise_role_is_not_an_institution(world: World) -> None:
    """The enterprise is an institution of kind ENTERPRISE: its ENTERPRISE token is the
    reporting view and reads no ledger (the INSTITUTION token for its id does)."""
    enterprise = world.enterprise
    reply = ledger(world.gql, enterprise, world.enterprise_token(enterprise), first=1)
    assert reply.code == "FORBIDDEN"
    assert ledger(world.gql, enterprise, world.token(Role.INSTITUTION, enterprise.id), first=1).ok()
