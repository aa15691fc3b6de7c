"""Each distinct document is parsed and validated once (api.graphql.documents), and what the
limits refuse is refused again from the cache, with the same errors."""

from __future__ import annotations

import pytest
import strawberry.schema.schema as strawberry_schema
from graphql import parse

from api.graphql.documents import MAX_CACHED_TEXT, DocumentCache
from api.graphql.schema import MAX_ALIASES, build_schema
from tests.security.test_cost import doubling

DEEP = """query($org: ID!) { organization(id: $org) { employees { edges { node { learner {
  account { transcript { edges { node { issuer { keys { kid } } } } } } } } } } } }"""  # depth 12


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts graphql-core ``validate`` calls made by strawberry."""
    calls: list[int] = []
    real = strawberry_schema.validate

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(strawberry_schema, "validate", counted)
    return calls


def test_a_document_is_validated_once(validations: list[int]) -> None:
    cache = DocumentCache()
    schema = build_schema(documents=cache)
    for _ in range(3):
        result = schema.execute_sync("{ __typename }")
        assert result.errors is None
        assert result.data == {"__typename": "Query"}
    assert len(validations) == 1
    assert len(cache) == 1
    schema.execute_sync("query Other { __typename }")
    assert len(validations) == 2
    assert len(cache) == 2


REFUSED = {
    "depth": (DEEP, "exceeds maximum operation depth"),
    "aliases": (
        "{ " + " ".join(f"a{i}: framework {{ name }}" for i in range(MAX_ALIASES + 1)) + " }",
        "aliases found",
    ),
    "cost": (
        "{ learners(first: 100) { edges { node { account { history(first: 100) "
        "{ edges { cursor } } } } } } }",
        "too costly",
    ),
    "unsafe text": ('{ learner(id: "a\\u0000b") { id } }', "NUL"),
    "fragment depth": (doubling(20), "spreads fragments 21 deep"),
    "unknown field": ("{ nothing }", "Cannot query field"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_document_is_refused_again_from_the_cache(
    name: str, validations: list[int]
) -> None:
    query, phrase = REFUSED[name]
    cache = DocumentCache()
    schema = build_schema(documents=cache)
    first = schema.execute_sync(query, {"org": "x"})
    second = schema.execute_sync(query, {"org": "x"})
    assert len(cache) == 1
    assert len(validations) <= 1  # the second answer came from the cache
    assert first.errors
    assert second.errors
    assert first.data is None
    assert second.data is None
    assert [e.formatted for e in second.errors] == [e.formatted for e in first.errors]
    assert any(phrase in e.message for e in first.errors), first.errors


def test_several_operations_need_a_name_whatever_was_cached(validations: list[int]) -> None:
    schema = build_schema(documents=DocumentCache())
    query = "query A { __typename } query B { __typename }"
    for _ in range(2):
        unnamed = schema.execute_sync(query)
        assert unnamed.errors
        assert "operationName" in unnamed.errors[0].message
        named = schema.execute_sync(query, operation_name="B")
        assert named.errors is None
        assert named.data == {"__typename": "Query"}
    assert len(validations) == 2  # one per rule set: with and without the name rule


def test_parse_errors_and_long_texts_are_not_kept() -> None:
    cache = DocumentCache()
    schema = build_schema(documents=cache)
    for _ in range(2):
        result = schema.execute_sync("{ framework {")
        assert result.errors
        assert "Syntax Error" in result.errors[0].message
    long = "{ __typename } # " + "x" * MAX_CACHED_TEXT
    assert schema.execute_sync(long).data == {"__typename": "Query"}
    assert len(cache) == 0


def test_the_cache_keeps_the_most_recently_used() -> None:
    cache = DocumentCache(maxsize=2)
    document = parse("{ __typename }")
    cache.put("a", document)
    cache.put("b", document)
    assert cache.get("a") is not None  # now the most recent
    cache.put("c", document)
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None
