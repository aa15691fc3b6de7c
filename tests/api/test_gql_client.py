"""A client app's view: the real ``gql`` library (HTTPX transport, schema fetched from the server
and queries validated against it) reading a learner's record, paging their transcript, and
getting typed errors back."""

from __future__ import annotations

from typing import Any

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLError

from tests.api.conftest import World

RECORD = gql("""  # a GraphQLRequest; variables are given per request
query MyRecord($id: ID!, $first: Int, $after: String) {
  learner(id: $id) {
    displayName
    identityVerification
    account {
      version
      balance { total available byCategory { category credits } }
      transcript(first: $first, after: $after) {
        totalCount
        edges { node { title status recognizedCredits issuer { name } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
""")


def client(world: World, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = HTTPXTransport(url=world.served.base_url + "/graphql", headers=headers, timeout=30)
    return Client(transport=transport, fetch_schema_from_transport=True)


def test_a_learner_reads_their_record_with_the_gql_client(world: World) -> None:
    learner = world.learner(name="Wang Fang 王芳")
    for i in range(3):
        world.deposit(learner, title=f"Course {i}", credits=2)
    with client(world, learner.token) as session:
        titles: list[str] = []
        after: str | None = None
        while True:
            request = GraphQLRequest(
                RECORD, variable_values={"id": learner.id, "first": 2, "after": after}
            )
            result: dict[str, Any] = session.execute(request)
            me = result["learner"]
            transcript = me["account"]["transcript"]
            titles += [e["node"]["title"] for e in transcript["edges"]]
            if not transcript["pageInfo"]["hasNextPage"]:
                break
            after = transcript["pageInfo"]["endCursor"]
        assert me["displayName"] == "Wang Fang 王芳"
        assert me["identityVerification"] == "DOCUMENT_CHECKED"
        assert me["account"]["balance"]["total"] == "6.00"
        assert me["account"]["balance"]["byCategory"] == [{"category": "major", "credits": "6.00"}]
        assert transcript["totalCount"] == 3
        assert titles == ["Course 0", "Course 1", "Course 2"]
        assert {e["node"]["issuer"]["name"] for e in transcript["edges"]} == {world.university.name}

        # the schema the client fetched lets it reject a bad query before sending it
        with pytest.raises(GraphQLError):
            session.execute(gql("{ learner(id: 1) { salary } }"))

        # someone else's record: a typed error the client can branch on
        other = world.learner()
        with pytest.raises(TransportQueryError) as refused:
            session.execute(GraphQLRequest(RECORD, variable_values={"id": other.id}))
        assert refused.value.errors
        assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"
