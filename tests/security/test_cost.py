"""Finding 10, the CPU an officer's query may ask for: an alias-heavy query over a page of
learners' conversion options and history took 2.2 s on 8 learners and grew with the data. The
cost rule (api/graphql/limits.py) refuses it before any resolver runs; what every test and every
docs example asks stays well under the budget.
"""

from __future__ import annotations

import time

import pytest
from graphql import get_introspection_query, parse, validate

from api.graphql.limits import (
    MAX_COST,
    MAX_FRAGMENT_DEPTH,
    MAX_SELECTIONS,
    QueryCost,
    document_error,
    expanded_size,
)
from api.graphql.schema import build_schema
from tests.api.conftest import Served, World

ALIASES = 14


def heavy(page: str) -> str:
    """The finding's query: every learner of a page, each account asked the same costly things
    under many aliases."""
    fields = " ".join(
        f"c{i}: conversionOptions(qualificationId: $q) {{ ruleVersion credits closes }}"
        for i in range(ALIASES // 2)
    ) + " ".join(
        f" h{i}: history(first: 100) {{ edges {{ node {{ version type }} }} }}"
        for i in range(ALIASES - ALIASES // 2)
    )
    return (
        f"query Heavy($q: ID!) {{ learners{page} {{ edges {{ node {{ id account {{ {fields} }} "
        "} } } }"
    )


def cost(query: str) -> int:
    schema = build_schema()._schema
    errors = validate(schema, parse(query), [QueryCost])
    if not errors:
        return 0
    message = errors[0].message
    return int(message.split("estimated ")[1].split(",")[0])


def test_the_rule_multiplies_by_page_sizes() -> None:
    one = 'query($q: ID!) { learner(id: "x") { account { conversionOptions(qualificationId: $q) '
    assert cost(one + "{ credits } } } }") == 0  # one learner: within budget
    assert cost(heavy("(first: 100)")) > MAX_COST
    assert cost(heavy("")) > MAX_COST  # the default page (20)
    schemes = " ".join(f"s{i}: creditSchemes {{ table {{ native framework }} }}" for i in range(14))
    page = "query($n: Int) {{ institutions(first: {}) {{ edges {{ node {{ {} }} }} }} }}"
    assert cost(page.format(20, schemes)) == 0
    assert cost(page.format(100, schemes)) > MAX_COST
    # a variable page counts as the largest: validation (cacheable) does not see variables
    assert cost(page.format("$n", schemes)) == cost(page.format(100, schemes))


def test_an_alias_heavy_query_over_a_page_of_learners_is_refused_at_once(world: World) -> None:
    gql = world.gql
    for _ in range(8):
        learner = world.learner()
        world.deposit(learner)
    variables = {"q": world.qualification}
    started = time.monotonic()
    reply = gql(heavy("(first: 8)"), variables, world.officer)
    elapsed = time.monotonic() - started
    assert reply.code == "INVALID_INPUT", reply.body
    assert reply.data is None
    assert len(reply.errors) == 1, reply.errors  # the cost, nothing else
    assert "too costly" in reply.errors[0]["message"]
    assert elapsed < 1.0, elapsed  # refused before any resolver ran
    # the same questions of one learner are answered
    one = heavy("(first: 1)")
    answered = gql(one, variables, world.officer)
    assert answered.ok()["learners"]["edges"]


@pytest.mark.parametrize("page", ["(first: 100)", ""])
def test_larger_pages_are_refused_too(world: World, page: str) -> None:
    reply = world.gql(heavy(page), {"q": world.qualification}, world.officer)
    assert reply.code == "INVALID_INPUT", reply.body


# -- fragments spread in fragments: a document small in bytes, exponential once expanded ----------
def doubling(levels: int) -> str:
    """``{ ...F0 }``, each fragment spreading the next twice: 2**levels selections expanded, in
    about 40 bytes a level (20 levels: 830 bytes, well under the token limit)."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ __typename }}")
    return "query Q { ...F0 }\n" + "\n".join(fragments)


@pytest.mark.parametrize("levels", [20, 30])
def test_exponentially_expanding_fragments_are_refused_at_once(served: Served, levels: int) -> None:
    """Validation rules (strawberry's depth and alias limiters, the cost rule) walked every spread
    of every fragment: 20 levels took 6.9 s of the event loop, anonymously. The document's
    expanded size is now measured first, once per fragment, and the rules never see it."""
    started = time.monotonic()
    reply = served.gql(doubling(levels))  # anonymous
    elapsed = time.monotonic() - started
    assert reply.status == 200, reply.text
    assert reply.data is None
    assert reply.code == "INVALID_INPUT", reply.body
    assert len(reply.errors) == 1, reply.errors
    assert elapsed < 0.5, elapsed
    # the same shape at a depth and size any real query has is answered
    assert served.gql(doubling(3)).ok() == {"__typename": "Query"}


def test_a_wide_fan_of_fragments_is_refused_by_its_expanded_size(served: Served) -> None:
    """Shallow (3 levels) but each fragment spread 12 times: 12**3 x 12 selections."""
    spreads = " ".join(["...F1"] * 12)
    query = (
        f"query Q {{ ...F0 }} fragment F0 on Query {{ {spreads} }} "
        f"fragment F1 on Query {{ {spreads.replace('F1', 'F2')} }} "
        f"fragment F2 on Query {{ {spreads.replace('F1', 'F3')} }} "
        f"fragment F3 on Query {{ {' '.join(['__typename'] * 12)} }}"
    )
    started = time.monotonic()
    reply = served.gql(query)
    assert time.monotonic() - started < 0.5
    assert reply.code == "INVALID_INPUT", reply.body
    assert "too large" in reply.errors[0]["message"]
    assert reply.data is None


def test_fragments_spreading_each_other_are_refused_at_once(served: Served) -> None:
    """A cycle is invalid anyway, but the limiters walk it before graphql-core's cycle rule
    reports it, stopping only at a fragment already on their path: ten fragments each spreading
    all the others is 10! paths."""
    names = [f"F{i}" for i in range(10)]
    fragments = " ".join(
        f"fragment {n} on Query {{ __typename {' '.join('...' + m for m in names if m != n)} }}"
        for n in names
    )
    started = time.monotonic()
    reply = served.gql(f"query Q {{ ...F0 }} {fragments}")
    assert time.monotonic() - started < 0.5
    assert reply.code == "INVALID_INPUT", reply.body
    assert "within itself" in reply.errors[0]["message"]
    assert reply.data is None


def test_the_cost_rule_sizes_each_fragment_once() -> None:
    """``QueryCost`` on its own (as any caller of graphql-core's ``validate`` would use it)
    memoises fragments: linear in the document, whatever the expansion."""
    schema = build_schema()._schema
    document = parse(doubling(30))
    started = time.monotonic()
    errors = validate(schema, document, [QueryCost])
    assert time.monotonic() - started < 0.5
    assert f"estimated {2**30}," in errors[0].message


def test_every_docs_example_and_graphiqls_introspection_fit_the_bounds() -> None:
    """The bounds leave room: GraphiQL's introspection query (the largest real document) and
    every example of docs/api.md are far inside them."""
    introspection = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    size, depth, cycle = expanded_size(parse(introspection))
    assert cycle is None
    assert size * 5 < MAX_SELECTIONS, size
    assert depth * 2 < MAX_FRAGMENT_DEPTH, depth
    from tests.e2e.test_docs_examples import DOC, examples

    for example in examples(DOC.read_text()):
        if example.lang == "graphql":
            assert document_error(parse(example.body)) is None, example.line
