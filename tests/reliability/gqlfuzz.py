"""Hypothesis strategies for GraphQL operations, generated from the served schema's introspection
(graphql-core): a root field of Query or Mutation, its arguments — mostly well-typed, but also of
the wrong type, null, missing, huge or odd strings, invalid ids, enums, decimals, dates and JSON —
given inline or as variables, and a random nested selection (with inline fragments on interfaces
and unions). Mutations always select their ``errors`` so a refusal can be seen.

(schemathesis's GraphQL support would be the next step; it is not a dependency of the project.)
"""

from __future__ import annotations

import json
import math
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from hypothesis import strategies as st


class Enum(str):
    """An enum value: printed bare in an inline literal, as a string in variables."""


@dataclass
class Operation:
    kind: str  # "query" | "mutation"
    root: str  # the root field
    text: str
    variables: dict[str, Any]
    token: str  # name of the token used (see the test's token pool)


@dataclass
class Pools:
    """Real values from the world, mixed with garbage, so that deep code paths are reached."""

    ids: list[str] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)  # e.g. real signed credentials
    tokens: list[str] = field(default_factory=list)  # token names
    json: list[Any] = field(default_factory=list)  # e.g. a real public JWK
    roles: dict[str, list[str]] = field(default_factory=dict)  # root field -> fitting tokens
    by_name: dict[str, list[Any]] = field(default_factory=dict)  # field/arg name -> values

    def named(self, name: str | None) -> list[Any] | None:
        """Values that fit a field or argument of this name (learnerId, outcomeIds, scope...)."""
        if not name:
            return None
        for key in (name, name.rstrip("s"), name.lower()):
            if key in self.by_name:
                return self.by_name[key]
        return None


ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e\u200b",
    "😀" * 3,
    "名前",
    "' OR 1=1 --",
    "'; DROP TABLE catalogue_entries; --",
    "${7*7}",
    "<script>alert(1)</script>",
    "null",
    "NaN",
    "-0",
    "1e309",
    "0x10",
    "../../etc/passwd",
    "eyJhbGciOiJub25lIn0.eyJ9.",
    "a.b.c",
]
ODD_IDS = [
    "",
    "0",
    "-1",
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "{12345678-1234-5678-1234-567812345678}",
    "urn:uuid:12345678-1234-5678-1234-567812345678",
    "12345678123456781234567812345678",
    "12345678-1234-5678-1234-56781234567\x00",
    "ÿ" * 36,
]
ODD_DECIMALS = [
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "1e999999999",
    "-1e-999999999",
    "0.001",
    "1E+2",
    "99999999999999999999999999999999999999",
    "-0",
    "0",
    "3",
    "1.005",
    "abc",
    "",
    " 1",
    "1_000",
    "١٢",
]
ODD_DATES = [
    "2024-02-29",
    "2023-02-29",
    "0001-01-01",
    "9999-12-31",
    "2025-13-01",
    "20250101",
    "2025-01-01T00:00:00",
    "2025-01-01T00:00:00Z",
    "2025-01-01T00:00:00+14:00",
    "2025-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59.999999+00:00",
    "0001-01-01T00:00:00+00:00",
    "yesterday",
    "",
]

NAME = st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=8).filter(
    lambda s: not s.startswith("__")
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(ODD_STRINGS),
    st.builds(lambda c, n: c * n, st.sampled_from("aZ0 é😀\x00"), st.integers(1000, 200_000)),
)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
DEEP_JSON = st.integers(50, 400).map(lambda n: json.loads("[" * n + "]" * n))


def literal(value: Any) -> str:
    """A value as an inline GraphQL literal (not necessarily a valid one for the type)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value) if value.isidentifier() else json.dumps(str(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "0"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = [f"{k if str(k).isidentifier() else 'x'}: {literal(v)}" for k, v in value.items()]
        return "{" + ", ".join(items) + "}"
    return json.dumps(str(value))


def plain(value: Any) -> Any:
    """A value for the variables JSON."""
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


PLAUSIBLE_TEXT = st.one_of(
    st.sampled_from(["major", "general", "elective", "Course A", "PASSPORT", "NATIONAL_ID"]),
    st.text(alphabet=string.ascii_letters + string.digits + " -", min_size=1, max_size=20),
)


class Generator:
    """Half the operations are plausible (right-typed values, real ids, a fitting token: they
    reach the resolvers and the domain), half hostile (wrong types, nulls, garbage)."""

    def __init__(self, schema: GraphQLSchema, pools: Pools) -> None:
        self.schema = schema
        self.pools = pools
        self.hostile = True

    # -- input values --------------------------------------------------------------------------
    def value(self, draw: Any, t: GraphQLInputType, depth: int = 0, name: str | None = None) -> Any:
        roll = draw(st.integers(0, 99 if self.hostile else 999))
        if roll < 6:
            return draw(JSON_VALUE)  # of the wrong type, most likely
        if roll < 9:
            return None  # null, even where the type says non-null
        if isinstance(t, GraphQLNonNull):
            return self.value(draw, t.of_type, depth, name)
        if isinstance(t, GraphQLList):
            if draw(st.integers(0, 9)) == 0:
                return self.value(draw, t.of_type, depth + 1, name)  # a single item (coerced)
            size = draw(st.integers(0 if self.hostile else 1, 4 if depth < 2 else 1))
            return [self.value(draw, t.of_type, depth + 1, name) for _ in range(size)]
        if isinstance(t, GraphQLEnumType):
            names = sorted(t.values)
            if not self.hostile:
                return Enum(draw(st.sampled_from(names)))
            return Enum(
                draw(
                    st.one_of(
                        st.sampled_from(names),
                        st.sampled_from(names).map(str.lower),
                        NAME,
                    )
                )
            )
        if isinstance(t, GraphQLInputObjectType):
            out: dict[str, Any] = {}
            for name, f in t.fields.items():
                required = isinstance(f.type, GraphQLNonNull)
                keep = draw(st.integers(0, 19 if self.hostile else 199))
                if (required and keep > 0) or (not required and keep % 20 > 9):
                    out[name] = self.value(draw, f.type, depth + 1, name)
            if draw(st.integers(0, 19 if self.hostile else 199)) == 0:
                out[draw(NAME)] = draw(JSON_LEAF)  # an unknown field
            return out
        assert isinstance(t, GraphQLScalarType), t
        return self.scalar(draw, t.name, name)

    def scalar(self, draw: Any, name: str, field_name: str | None = None) -> Any:
        if not self.hostile and draw(st.integers(0, 29)) > 0:
            fitting = self.pools.named(field_name)
            if fitting and draw(st.integers(0, 9)) > 0:
                return draw(st.sampled_from(fitting))
            return self.plausible(draw, name)
        if name == "ID":
            return draw(
                st.one_of(
                    st.sampled_from(self.pools.ids or ["x"]),
                    st.sampled_from(self.pools.ids or ["x"]),
                    st.uuids().map(str),
                    st.sampled_from(ODD_IDS),
                    TEXT,
                    st.integers(-(2**40), 2**40),
                )
            )
        if name == "String":
            options = [TEXT, st.sampled_from(ODD_STRINGS)]
            if self.pools.strings:
                options.append(st.sampled_from(self.pools.strings))
            return draw(st.one_of(*options))
        if name == "Int":
            return draw(
                st.one_of(
                    st.integers(-5, 200),
                    st.sampled_from([0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**30]),
                )
            )
        if name == "Float":
            return draw(st.floats(allow_nan=False, allow_infinity=False))
        if name == "Boolean":
            return draw(st.booleans())
        if name == "Decimal":
            return draw(
                st.one_of(
                    st.sampled_from(ODD_DECIMALS),
                    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
                    st.integers(-(10**6), 10**6),
                    st.floats(allow_nan=False, allow_infinity=False),
                )
            )
        if name in ("Date", "DateTime"):
            return draw(
                st.one_of(
                    st.sampled_from(ODD_DATES),
                    st.dates().map(lambda d: d.isoformat()),
                    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
                    TEXT,
                )
            )
        if name == "JSON":
            return draw(st.one_of(JSON_VALUE, DEEP_JSON, st.just({"kty": "OKP"})))
        return draw(JSON_LEAF)  # an unknown custom scalar

    def plausible(self, draw: Any, name: str) -> Any:
        if name == "ID":
            return draw(st.sampled_from(self.pools.ids or ["x"]))
        if name == "String":
            options = [PLAUSIBLE_TEXT]
            if self.pools.strings:
                options.append(st.sampled_from(self.pools.strings))
            return draw(st.one_of(*options))
        if name == "Int":
            return draw(st.integers(1, 8))
        if name == "Float":
            return draw(st.floats(0, 100))
        if name == "Boolean":
            return draw(st.booleans())
        if name == "Decimal":
            return str(draw(st.decimals(0, 200, places=2)))
        if name == "Date":
            return draw(st.dates(date(1950, 1, 1), date(2030, 12, 31))).isoformat()
        if name == "DateTime":
            moment = draw(st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31)))
            return moment.replace(tzinfo=UTC).isoformat()
        if name == "JSON":
            return draw(st.sampled_from(self.pools.json or [{}]))
        return draw(JSON_LEAF)

    # -- arguments -------------------------------------------------------------------------------
    def arguments(
        self, draw: Any, f: GraphQLField, variables: dict[str, Any], declared: list[str]
    ) -> str:
        parts = []
        for name, arg in f.args.items():
            required = isinstance(arg.type, GraphQLNonNull)
            mode = draw(st.integers(0 if self.hostile else 1, 19))
            if mode == 0 or (not required and mode < 8):
                continue  # omitted, even when required
            value = self.value(draw, arg.type, name=name)
            if draw(st.booleans()):
                var = f"v{len(declared)}"
                declared.append(f"${var}: {arg.type}")
                if not self.hostile or draw(st.integers(0, 29)) > 0:  # else: no value sent
                    variables[var] = plain(value)
                parts.append(f"{name}: ${var}")
            else:
                parts.append(f"{name}: {literal(value)}")
        if self.hostile and draw(st.integers(0, 29)) == 0:
            parts.append(f"{draw(NAME)}: 1")  # an unknown argument
        return f"({', '.join(parts)})" if parts else ""

    # -- selections ------------------------------------------------------------------------------
    def selection(
        self, draw: Any, t: Any, depth: int, variables: dict[str, Any], declared: list[str]
    ) -> str:
        named = get_named_type(t)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            return ""
        if isinstance(named, GraphQLUnionType):
            parts = ["__typename"]
            for member in draw(st.lists(st.sampled_from(named.types), max_size=2, unique=True)):
                inner = self.selection(draw, member, depth, variables, declared)
                parts.append(f"... on {member.name} {inner}")
            return "{ " + " ".join(parts) + " }"
        assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType), named
        names = sorted(named.fields)
        if depth <= 0:  # leaves only
            leaves = [n for n in names if not _composite(named.fields[n].type)][:3]
            if "errors" in named.fields:
                leaves.append("errors { code message field }")
            return "{ " + (" ".join(leaves) or "__typename") + " }"
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
        parts = []
        for i, name in enumerate(chosen):
            f = named.fields[name]
            args = self.arguments(draw, f, variables, declared)
            inner = self.selection(draw, f.type, depth - 1, variables, declared)
            alias = "" if name == "errors" else f"f{i}: "  # refusals are read by name
            parts.append(f"{alias}{name}{args} {inner}".rstrip())
        if isinstance(named, GraphQLInterfaceType) and draw(st.booleans()):
            possible = self.schema.get_possible_types(named)
            member = draw(st.sampled_from(possible))
            inner = self.selection(draw, member, min(depth - 1, 1), variables, declared)
            parts.append(f"... on {member.name} {inner}")
        if "errors" in named.fields and "errors" not in chosen:
            parts.append("errors { code message field }")  # a mutation's refusals
        return "{ " + " ".join(parts) + " }"

    # -- operations ------------------------------------------------------------------------------
    def operation(self, draw: Any) -> Operation:
        self.hostile = draw(st.booleans())
        kind = draw(st.sampled_from(["query", "query", "mutation", "mutation", "mutation"]))
        root_type = self.schema.query_type if kind == "query" else self.schema.mutation_type
        assert root_type is not None
        roots = sorted(root_type.fields)
        root = draw(st.sampled_from(roots))
        variables: dict[str, Any] = {}
        declared: list[str] = []
        depth = draw(st.integers(0, 6))
        f = root_type.fields[root]
        args = self.arguments(draw, f, variables, declared)
        body = f"r0: {root}{args} {self.selection(draw, f.type, depth, variables, declared)}"
        if kind == "query" and draw(st.integers(0, 4)) == 0:
            other = draw(st.sampled_from(roots))
            g = root_type.fields[other]
            more = self.arguments(draw, g, variables, declared)
            body += f" r1: {other}{more} {self.selection(draw, g.type, 2, variables, declared)}"
        header = f"({', '.join(declared)})" if declared else ""
        fitting = self.pools.roles.get(root)
        if not self.hostile and fitting:
            token = draw(st.sampled_from(fitting))
        else:
            token = draw(st.sampled_from(self.pools.tokens or ["anonymous"]))
        return Operation(kind, root, f"{kind} Fuzz{header} {{ {body} }}", variables, token)


def _composite(t: Any) -> bool:
    return not isinstance(get_named_type(t), GraphQLScalarType | GraphQLEnumType)


RAW_BODIES = [
    b"",
    b"{",
    b"[]",
    b"null",
    b'"query"',
    b'{"query": 1}',
    b'{"query": "{ framework { name } }", "variables": []}',
    b'{"query": "{ framework { name } }", "variables": "x"}',
    b'{"query": "{ framework { name } }", "operationName": "Nope"}',
    b'{"query": "query A { framework { name } } query B { viewer { role } }"}',
    b'{"query": "mutation { __typename }"}',
    b'{"query": "subscription { x }"}',
    b'{"query": "{ __schema { types { name fields { name } } } }"}',
    b'{"query": "{ framework { name } }", "extensions": {"persistedQuery": {"version": 1}}}',
    b'{"query": "{ ...F } fragment F on Query { ...F }"}',
    b'{"query": "{ framework { name } }"}' + b" " * 10,
    b"\xff\xfe\x00",
    b'{"query": "{ framework { name } }", "variables": {"x": '
    + b"[" * 50_000
    + b"]" * 50_000
    + b"}}",
    b'{"query": "' + b"{ framework " * 3000 + b'"}',
]


def raw_bodies() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.sampled_from(RAW_BODIES),
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda s: json.dumps({"query": s}).encode()),
        st.builds(
            lambda q: json.dumps({"query": "{ framework { name } }", "variables": q}).encode(),
            JSON_VALUE,
        ),
    )


def random_uuid() -> str:
    return str(uuid.uuid4())
