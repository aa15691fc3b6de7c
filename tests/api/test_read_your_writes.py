"""Read-your-writes over HTTP: a query sent after a mutation's response sees that mutation.

100 mutate-then-read pairs of several kinds, each read on a different HTTP connection from the
write, on SQLite and PostgreSQL; not one stale read is allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from api.auth import Role
from application.issuing import IssuerKey
from tests.api.conftest import GraphQL, LearnerRef, World

PAIRS = 100


def test_one_hundred_mutations_are_each_visible_to_the_next_query(
    gql: GraphQL, world: World
) -> None:
    reader = GraphQL(gql.base_url)  # another connection: no affinity with the writer
    learner = world.learner()
    pending = world.learner(verified=False)
    deposited: list[str] = []
    consented = False
    stale: list[str] = []

    def check(what: str, ok: bool) -> None:
        if not ok:
            stale.append(what)

    def transcript(who: LearnerRef) -> dict[str, Any]:
        data = reader(
            "query($id: ID!) { learner(id: $id) { identityVerification account { "
            "version balance { total } transcript(first: 100) { totalCount edges { "
            "node { id status } } } } } }",
            {"id": who.id},
            who.token,
        ).ok()
        return data["learner"]  # type: ignore[no-any-return]

    def deposit(i: int) -> None:
        before = transcript(learner)["account"]["transcript"]["totalCount"]
        outcome = world.deposit(learner, title=f"RYW {i}")
        deposited.append(outcome["id"])
        after = transcript(learner)["account"]
        ids = [e["node"]["id"] for e in after["transcript"]["edges"]]
        check(
            f"{i} deposit", after["transcript"]["totalCount"] == before + 1 and outcome["id"] in ids
        )

    def revoke(i: int) -> None:
        if not deposited:
            return deposit(i)
        outcome_id = deposited.pop()
        gql.mutate(
            "revokeOutcome",
            {"learnerId": learner.id, "outcomeId": outcome_id, "reason": f"ryw {i}"},
            world.officer,
        )
        statuses = {
            e["node"]["id"]: e["node"]["status"]
            for e in transcript(learner)["account"]["transcript"]["edges"]
        }
        check(f"{i} revoke", statuses.get(outcome_id) == "REVOKED")
        return None

    def consent(i: int) -> None:
        nonlocal consented
        name = "revokeConsent" if consented else "grantConsent"
        input_: dict[str, Any] = {"learnerId": learner.id, "organizationId": world.enterprise.id}
        if not consented:
            input_["scope"] = "TRAINING"
        assert gql.mutate(name, input_, learner.token)["errors"] == []
        consented = not consented
        org = reader(
            "query($id: ID!) { organization(id: $id) { employees(first: 100) { edges { "
            "node { learner { id } } } } } }",
            {"id": world.enterprise.id},
            world.token(Role.ENTERPRISE, world.enterprise.id),
        ).ok()
        ids = {e["node"]["learner"]["id"] for e in org["organization"]["employees"]["edges"]}
        check(f"{i} {name}", (learner.id in ids) is consented)

    def verify(i: int) -> None:
        nonlocal pending
        method = "ELECTRONIC_ID" if i % 2 else "DOCUMENT_CHECKED"
        gql.mutate(
            "verifyLearnerIdentity", {"learnerId": pending.id, "method": method}, world.officer
        )
        check(f"{i} verify", transcript(pending)["identityVerification"] == method)
        pending = world.learner(verified=False)

    def rule(i: int) -> None:
        created = gql.mutate(
            "createRecognitionRule",
            {
                "name": f"ryw {i}",
                "model": "AGREEMENT",
                "standardCode": f"RYW-{i}",
                "level": 3,
                "category": "c",
                "priority": -10,  # below the world's rules it overlaps
            },
            world.officer,
            "rule { id }",
        )["rule"]
        node = reader("query($id: ID!) { node(id: $id) { id } }", {"id": created["id"]}).ok()
        check(f"{i} rule", node["node"] == {"id": created["id"]})

    def institution(i: int) -> None:
        created = gql.mutate(
            "registerInstitution",
            {
                "name": f"RYW {i}",
                "kind": "TRAINING_PROVIDER",
                "publicKeyJwk": IssuerKey.ed25519().jwk,
                "issuerUri": f"https://ryw-{uuid.uuid4().hex[:8]}.example/issuer",
            },
            world.admin,
            "institution { id }",
        )["institution"]
        found = reader(
            "query($id: ID!) { institution(id: $id) { id } }", {"id": created["id"]}
        ).ok()
        check(f"{i} institution", found["institution"] == {"id": created["id"]})

    kinds: list[Callable[[int], None]] = [
        deposit,
        deposit,
        revoke,
        consent,
        verify,
        rule,
        institution,
        deposit,
    ]
    try:
        for i in range(PAIRS):
            kinds[i % len(kinds)](i)
    finally:
        reader.close()
    assert stale == [], f"{len(stale)} stale reads of {PAIRS}: {stale}"


def test_concurrent_deposits_are_all_kept_and_each_answer_sees_its_own(
    gql: GraphQL, world: World
) -> None:
    """Eight clients deposit into one account at once: optimistic concurrency retries the losers,
    every answer carries its outcome (read-your-writes), and none is lost or doubled. The same
    credential pushed by all eight at once enters exactly once."""
    from concurrent.futures import ThreadPoolExecutor

    learner = world.learner()
    token = world.institution_token(world.university)
    credentials = [world.credential(learner, title=f"Parallel {i}") for i in range(16)]
    same = world.credential(learner, title="Same one")

    def deposit(credential: str) -> dict[str, Any]:
        client = GraphQL(gql.base_url)
        try:
            return client.mutate(
                "depositCredential",
                {"learnerId": learner.id, "credential": credential},
                token,
                "outcome { id title }",
            )
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        distinct = list(pool.map(deposit, credentials))
        duplicates = list(pool.map(deposit, [same] * 8))
    assert all(p["errors"] == [] and p["outcome"] for p in distinct), distinct
    assert sorted(p["outcome"]["title"] for p in distinct) == sorted(
        f"Parallel {i}" for i in range(16)
    )
    codes = sorted(e["code"] for p in duplicates for e in p["errors"])
    assert sum(1 for p in duplicates if p["outcome"]) == 1
    assert codes == ["DUPLICATE_CREDENTIAL"] * 7
    total = gql(
        "query($id: ID!) { learner(id: $id) { account { transcript { totalCount } "
        "balance { total } } } }",
        {"id": learner.id},
        learner.token,
    ).ok()
    assert total["learner"]["account"]["transcript"]["totalCount"] == 17
    assert total["learner"]["account"]["balance"]["total"] == "51.00"
