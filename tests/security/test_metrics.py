"""/metrics (issue 14, finding 5): it answered anyone, and took operation names from clients as
labels, so 1,000 made-up names grew it from 5 KB to 1.85 MB, never freed."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.observability import describe_operation
from tests.api.conftest import GraphQL, Served, World

QUERY = "query {name} {{ framework {{ name }} }}"


def labels(text: str) -> set[str]:
    return {
        line.split('operation="', 1)[1].split('"', 1)[0]
        for line in text.splitlines()
        if line.startswith("creditbank_request_seconds_count{")
    }


def test_labels_are_the_schemas_own_fields_whatever_clients_name(
    served: Served, gql: GraphQL
) -> None:
    before = gql.http.get("/metrics")
    assert before.status_code == 200  # the test client is on loopback
    for _ in range(300):
        name = "Op" + uuid.uuid4().hex
        body = {"query": QUERY.format(name=name), "operationName": name}
        assert gql.http.post("/graphql", json=body).status_code == 200
        junk = {"query": "query { " + "x" * 40 + uuid.uuid4().hex + " }"}
        gql.http.post("/graphql", json=junk)
    after = gql.http.get("/metrics")
    assert labels(after.text) <= {"framework", "other"} | labels(before.text)
    assert "framework" in labels(after.text)
    assert not any(label.startswith("Op") for label in labels(after.text))
    assert len(after.content) < len(before.content) + 4_000  # bounded, not one series a name


def test_metrics_answer_only_loopback_callers_by_default(served: Served) -> None:
    # The served app itself, as a caller from another host reaches it (its state is running).
    remote = TestClient(served.app, client=("203.0.113.9", 40000))
    assert remote.get("/metrics").status_code == 403
    assert remote.get("/healthz").status_code == 200  # the rest is unchanged


@pytest.mark.parametrize("engine", ["sqlite"])
def test_with_a_token_metrics_answer_its_bearer_only(served: Served, engine: str) -> None:
    if served.engine != engine:
        pytest.skip("storage plays no part: one engine")
    token = SecretStr("metrics-" + "s" * 24)
    settings = served.settings.model_copy(update={"metrics_token": token})
    with TestClient(create_app(settings)) as client:  # "testclient": not loopback
        assert client.get("/metrics").status_code == 403
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", headers=wrong).status_code == 403
        right = {"Authorization": "Bearer metrics-" + "s" * 24}
        answer = client.get("/metrics", headers=right)
        assert answer.status_code == 200
        assert "creditbank_projection_lag_events" in answer.text


def errors_counted(text: str, code: str) -> float:
    prefix = f'creditbank_errors_total{{code="{code}"}} '
    return next(
        (float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)), 0.0
    )


def test_mutation_refusals_are_counted_by_their_code(gql: GraphQL, world: World) -> None:
    """A mutation's UserErrors are in its payload, not in ``errors``: the router finds them."""
    learner = world.learner()
    before = errors_counted(gql.http.get("/metrics").text, "INVALID_CREDENTIAL")
    payload = gql.mutate(
        "depositCredential",
        {"learnerId": learner.id, "credential": "definitely-not-a-credential"},
        world.institution_token(world.university),
    )
    assert [e["code"] for e in payload["errors"]] == ["INVALID_CREDENTIAL"]
    after = errors_counted(gql.http.get("/metrics").text, "INVALID_CREDENTIAL")
    assert after == before + 1


@pytest.mark.parametrize(
    ("body", "described"),
    [
        ({"query": "{ framework { name } }"}, ("framework", False)),
        ({"query": "query Q { learner(id: 1) { id } }"}, ("learner", False)),
        ({"query": "mutation M { revokeToken(id: 1) { ok } }"}, ("revokeToken", True)),
        # the operation that runs decides, not the first in the document
        (
            {"query": "query A { framework { name } } mutation B { x }", "operationName": "B"},
            ("other", True),
        ),
        (
            {"query": "mutation { " + " " * 20_000 + "depositCredential }"},
            ("depositCredential", True),
        ),
        ({"query": "mutation {"}, ("other", False)),
        ({"query": 5}, ("other", False)),
    ],
)
def test_the_router_walks_the_payloads_of_mutations_only(
    body: dict[str, object], described: tuple[str, bool]
) -> None:
    """``describe_operation`` says which answers to walk for UserErrors (a query's is not)."""
    known = frozenset({"framework", "learner", "revokeToken", "depositCredential"})
    assert describe_operation(body, known) == described
