"""The schema: the committed schema.graphql is what the code builds, and every type, field,
argument, input field and enum value of the public contract (tests/api/contract/, copies) is
served, with the same type (the served schema is read by introspection over HTTP)."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    is_non_null_type,
)
from graphql import (
    build_schema as parse_sdl,
)

from api.graphql.schema import build_schema
from tests.api.conftest import CONTRACT, CONTRACT_2, ROOT, GraphQL

REGENERATE = (
    'schema.graphql is out of date; regenerate it with\n  uv run python -c "from '
    "api.graphql.schema import build_schema; open('schema.graphql', 'w').write("
    "build_schema().as_str() + '\\n')\""
)


def test_schema_file_is_what_the_code_builds() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == build_schema().as_str() + "\n", REGENERATE


def served_schema(gql: GraphQL) -> GraphQLSchema:
    return build_client_schema(gql(get_introspection_query()).ok())


def same_kind(value: Any, kind: type) -> bool:
    return isinstance(value, kind)


def contract_differences(contract: GraphQLSchema, served: GraphQLSchema) -> list[str]:
    problems: list[str] = []
    expected: Any
    for name, expected in contract.type_map.items():
        if name.startswith("__"):
            continue
        actual: Any = served.type_map.get(name)
        if actual is None:
            problems.append(f"type {name} is missing")
            continue
        kinds = (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType, GraphQLEnumType)
        kind = next((k for k in kinds if isinstance(expected, k)), type(expected))
        if not same_kind(actual, kind):
            problems.append(f"type {name} is a {type(actual).__name__}, not a {kind.__name__}")
            continue
        if isinstance(expected, (GraphQLObjectType, GraphQLInterfaceType)):
            served_interfaces = {i.name for i in actual.interfaces}
            for interface in expected.interfaces:
                if interface.name not in served_interfaces:
                    problems.append(f"{name} does not implement {interface.name}")
            for field_name, field in expected.fields.items():
                got = actual.fields.get(field_name)
                if got is None:
                    problems.append(f"field {name}.{field_name} is missing")
                    continue
                if str(got.type) != str(field.type):
                    problems.append(f"{name}.{field_name}: {got.type}, contract {field.type}")
                for arg_name, arg in field.args.items():
                    served_arg = got.args.get(arg_name)
                    if served_arg is None:
                        problems.append(f"argument {name}.{field_name}({arg_name}) is missing")
                    elif str(served_arg.type) != str(arg.type):
                        problems.append(
                            f"{name}.{field_name}({arg_name}): {served_arg.type}, "
                            f"contract {arg.type}"
                        )
                for arg_name, served_arg in got.args.items():  # additions must be optional
                    if (
                        arg_name not in field.args
                        and is_non_null_type(served_arg.type)
                        and (served_arg.default_value is None)
                    ):
                        problems.append(
                            f"{name}.{field_name}({arg_name}) is a new required argument"
                        )
        if isinstance(expected, GraphQLInputObjectType):
            for field_name, field in expected.fields.items():
                got = actual.fields.get(field_name)
                if got is None:
                    problems.append(f"input field {name}.{field_name} is missing")
                elif str(got.type) != str(field.type):
                    problems.append(f"{name}.{field_name}: {got.type}, contract {field.type}")
            for field_name, got in actual.fields.items():
                if field_name not in expected.fields and is_non_null_type(got.type):
                    problems.append(f"{name}.{field_name} is a new required input field")
        if isinstance(expected, GraphQLEnumType):
            for value in expected.values:
                if value not in actual.values:
                    problems.append(f"enum value {name}.{value} is missing")
    return problems


def test_the_served_schema_keeps_the_contract(gql: GraphQL) -> None:
    assert CONTRACT.exists(), f"the contract is not at {CONTRACT}"
    contract = parse_sdl(CONTRACT.read_text(encoding="utf-8"))
    served = served_schema(gql)
    assert contract_differences(contract, served) == []
    assert served.query_type is not None
    assert served.query_type.name == "Query"
    assert served.mutation_type is not None
    assert served.mutation_type.name == "Mutation"


def test_the_comparison_notices_a_broken_contract(gql: GraphQL) -> None:
    """The checker itself: a contract the server does not keep yields precise differences."""
    contract = parse_sdl(
        CONTRACT.read_text(encoding="utf-8")
        + """
        type Extra { x: Int }
        extend type Query { missing(id: ID!): Extra }
        extend type Learner { age: Int! }
        extend enum OutcomeStatus { LOST }
        extend input RegisterLearnerInput { nickname: String }
    """
    )
    problems = contract_differences(contract, served_schema(gql))
    assert "type Extra is missing" in problems
    assert "field Query.missing is missing" in problems
    assert "field Learner.age is missing" in problems
    assert "enum value OutcomeStatus.LOST is missing" in problems
    assert "input field RegisterLearnerInput.nickname is missing" in problems
    retyped = parse_sdl(
        CONTRACT.read_text(encoding="utf-8").replace(
            "version: Int!\n  balance: Balance!", "version: String!\n  balance: Balance!"
        )
    )
    assert "CreditAccount.version: Int!, contract String!" in contract_differences(
        retyped, served_schema(gql)
    )


# The parts of CONTRACT-2.graphql not built yet, each with the issue that builds it. The test below
# fails when the schema drops anything else of either contract, and when a part lands without
# being struck from this list; once it is empty, the whole of CONTRACT-2 is checked.
CONTRACT_2_PENDING: set[str] = set()


def test_the_served_schema_keeps_contract_2_as_far_as_built(gql: GraphQL) -> None:
    both = CONTRACT.read_text(encoding="utf-8") + "\n" + CONTRACT_2.read_text(encoding="utf-8")
    problems = set(contract_differences(parse_sdl(both), served_schema(gql)))
    assert problems - CONTRACT_2_PENDING == set(), "the schema breaks the contract"
    assert CONTRACT_2_PENDING - problems == set(), "built: strike these from CONTRACT_2_PENDING"
