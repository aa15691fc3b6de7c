"""Limits on what a GraphQL request may ask, checked before any resolver runs.

- Text the databases cannot hold: a NUL character (PostgreSQL refuses it in text) or an unpaired
  UTF-16 surrogate (no UTF-8 encoding exists for it) anywhere in a request is INVALID_INPUT.
  Variables (JSON scalars included) are checked as the body is decoded (api.graphql.router);
  string literals written in the query itself by ``NoUnsafeText``.
- Anonymous ``verifyCredential`` (``AnonymousVerifications``): at most so many calls a minute
  from one client address, and a credential of at most so many bytes; callers with a token keep
  the body limit (api.middleware) only.
- A cost budget (``QueryCost``): every field costs 1, a paginated field multiplies what lies
  beneath it by its page size, and the fields that compute (conversion options, study plans,
  progress, past states, history) weigh more. Depth, aliases and tokens are bounded separately
  (api.graphql.schema); none of those alone bounds "15 aliases of an expensive field under a
  page of 100 learners".

Both rules are plain classes with fixed parameters, so the rule tuple is the same for every
request (a validation cache keyed on it would hit; factories would not).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from strawberry.extensions import SchemaExtension

from api.graphql.pagination import DEFAULT_PAGE, MAX_PAGE
from application.text import UNSAFE_MESSAGE, UNSAFE_TEXT
from domain.errors import InvalidInput, RateLimited

MAX_COST = 5000
# The document once fragments are spread in place (``DocumentSize``). GraphiQL's introspection
# query is 487 selections, the largest docs example (docs/api.md) 37; validation takes about 7 µs
# a selection, so 5000 is ~35 ms.
MAX_SELECTIONS = 5000
MAX_FRAGMENT_DEPTH = 10
# What a field costs beyond 1: roughly its work relative to reading one row. These compute over
# a whole account (and its rules) on every call.
FIELD_WEIGHTS = {
    "CreditAccount.conversionOptions": 50,
    "CreditAccount.studyPlan": 50,
    "CreditAccount.progress": 20,
    "CreditAccount.asOf": 20,
    "CreditAccount.diff": 40,
    "CreditAccount.history": 10,
    "AccountState.progress": 20,
    "Query.verifyCredential": 20,
    "Query.auditReport": 500,  # walks every account's chain
}


def invalid(message: str, *nodes: Any) -> GraphQLError:
    return GraphQLError(message, nodes=list(nodes) or None, extensions={"code": "INVALID_INPUT"})


class NoUnsafeText(ValidationRule):
    """String literals in the document (arguments, defaults, inline JSON) hold no NUL or
    unpaired surrogate: ``after: "\\u0000"`` is refused before any resolver sees it."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if UNSAFE_TEXT.search(node.value):
            self.report_error(invalid(UNSAFE_MESSAGE, node))


class QueryCost(ValidationRule):
    """Refuses an operation whose estimated cost exceeds ``MAX_COST``.

    cost(field) = weight + page × cost(its selections), where the page is the field's ``first``
    (a literal, at most MAX_PAGE; a variable counts as MAX_PAGE, since validation does not see
    variables and so stays cacheable; absent, DEFAULT_PAGE) for a field taking ``first``, else 1.
    Plain lists (an account's awards, a framework's levels) count once: their length is bounded by
    one account's or the catalogue's data, computed by one resolver call.
    """

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        # A fragment's cost, by (fragment, the type it is spread in): each is walked once, so a
        # fragment spread twice in a fragment spread twice... costs linear time, not 2**depth.
        self._fragments: dict[tuple[str, str], int] = {}

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        schema = self.context.schema
        root = schema.get_root_type(node.operation)
        if root is None:
            return  # another rule reports the unsupported operation
        cost = self._selections(schema, root, node.selection_set, frozenset())
        if cost > MAX_COST:
            name = f" {node.name.value}" if node.name else ""
            self.report_error(
                invalid(
                    f"the operation{name} is too costly: estimated {cost}, at most {MAX_COST} "
                    "(ask for fewer items a page, fewer aliases, or split it)",
                    node,
                )
            )

    def _selections(
        self,
        schema: GraphQLSchema,
        parent: Any,
        selection_set: SelectionSetNode | None,
        fragments: frozenset[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(schema, parent, selection, fragments)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = schema.get_type(selection.type_condition.name.value) or parent
                total += self._selections(schema, target, selection.selection_set, fragments)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in fragments:  # unknown or cyclic: other rules say
                    continue
                target = schema.get_type(fragment.type_condition.name.value) or parent
                key = (name, getattr(target, "name", ""))
                if key not in self._fragments:
                    self._fragments[key] = self._selections(
                        schema, target, fragment.selection_set, fragments | {name}
                    )
                total += self._fragments[key]
        return total

    def _field(
        self, schema: GraphQLSchema, parent: Any, node: FieldNode, fragments: frozenset[str]
    ) -> int:
        name = node.name.value
        if name == "__typename":
            return 1
        if name == "__schema":
            definition = SchemaMetaFieldDef
        elif name == "__type":
            definition = TypeMetaFieldDef
        elif isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            found = parent.fields.get(name)
            if found is None:
                return 1  # unknown field: FieldsOnCorrectTypeRule reports it
            definition = found
        else:
            return 1
        weight = FIELD_WEIGHTS.get(f"{getattr(parent, 'name', '')}.{name}", 1)
        child_type = get_named_type(definition.type)
        page = _page(node) if "first" in definition.args else 1
        return weight + page * self._selections(schema, child_type, node.selection_set, fragments)


def _page(node: FieldNode) -> int:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(0, min(int(value.value), MAX_PAGE))
        if isinstance(value, VariableNode):
            return MAX_PAGE
        return DEFAULT_PAGE  # null: the default page
    return DEFAULT_PAGE


def expanded_size(document: DocumentNode) -> tuple[int, int, str | None]:
    """(selections, fragment depth, a fragment spread within itself or None) of ``document``.

    Selections are counted with every fragment spread replaced by its fragment, as validation
    rules walk them (strawberry's depth and alias limiters, ``QueryCost``, graphql-core's
    overlap check): ``{ ...F0 } fragment F0 { ...F1 ...F1 } fragment F1 { ...F2 ...F2 } ...``
    is 2**n selections written in 30·n bytes. Here each fragment is sized once (memoised), so
    this is linear in the document whatever it expands to. Every definition counts, the unused
    fragments too (rules visit them). Iterative: a long chain of spreads cannot exhaust the
    recursion limit. A cycle is reported, not sized: it is invalid (spec §5.5.2.2), and the
    limiters' walks, which only stop at a fragment already on their path, are exponential in it.
    """
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    memo: dict[str, tuple[int, int]] = {}  # fragment -> (selections, spread depth)

    def own(selection_set: SelectionSetNode | None) -> tuple[int, list[str]]:
        """The selections written in a selection set (nested fields and inline fragments too),
        and the fragments it spreads, each spread once per place it is written."""
        count, spreads, stack = 0, [], [selection_set]
        while stack:
            current = stack.pop()
            if current is None:
                continue
            for selection in current.selections:
                count += 1
                if isinstance(selection, FragmentSpreadNode):
                    spreads.append(selection.name.value)
                else:
                    stack.append(cast(Any, selection).selection_set)
        return count, spreads

    def size(name: str) -> tuple[int, int] | str:
        """Sizes ``name`` and every fragment it reaches (post-order on an explicit stack)."""
        on_path: set[str] = set()
        work: list[tuple[str, list[str] | None]] = [(name, None)]
        while work:
            current, pending = work.pop()
            if current in memo:
                continue
            fragment = fragments.get(current)
            if fragment is None:  # unknown: KnownFragmentNamesRule says so
                memo[current] = (0, 0)
                continue
            if pending is None:  # first visit: size its children first
                if current in on_path:
                    return current
                on_path.add(current)
                _, spreads = own(fragment.selection_set)
                work.append((current, spreads))
                for child in spreads:
                    if child in on_path:
                        return child
                    if child not in memo:
                        work.append((child, None))
                continue
            count, spreads = own(fragment.selection_set)
            total = count + sum(memo[child][0] for child in spreads)
            depth = 1 + max((memo[child][1] for child in spreads), default=0)
            memo[current] = (total, depth)
            on_path.discard(current)
        return memo[name]

    selections = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            continue
        count, spreads = own(definition.selection_set)
        selections += count
        for child in spreads:
            sized = size(child)
            if isinstance(sized, str):
                return selections, 0, sized
            selections += sized[0]
    depth = max((d for _, d in memo.values()), default=0)
    return selections, depth, None


class DocumentSize(SchemaExtension):
    """Refuses, before any validation rule runs, a document that expands (fragments spread in
    place) to more than ``MAX_SELECTIONS`` selections, spreads fragments more than
    ``MAX_FRAGMENT_DEPTH`` deep, or spreads a fragment within itself. Validation rules walk the
    expanded document, several of them without memoising fragments; this check does not, so
    they only ever see documents it has bounded.

    It sets the execution context's pre-execution errors in ``on_validate``, before strawberry
    runs the rules: strawberry then skips validation and answers ``data: null`` with the error.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            error = document_error(document)
            if error is not None:
                context.pre_execution_errors = [error]
        yield


def document_error(document: DocumentNode) -> GraphQLError | None:
    selections, depth, cycle = expanded_size(document)
    if cycle is not None:
        return invalid(f"Cannot spread fragment '{cycle}' within itself.")
    if depth > MAX_FRAGMENT_DEPTH:
        return invalid(f"the document spreads fragments {depth} deep; at most {MAX_FRAGMENT_DEPTH}")
    if selections > MAX_SELECTIONS:
        return invalid(
            f"the document is too large: {selections} selections once its fragments are "
            f"spread, at most {MAX_SELECTIONS} (spread fewer fragments, or split it)"
        )
    return None


class QueryLimits(SchemaExtension):
    """Adds ``NoUnsafeText`` and ``QueryCost`` to validation (the same rule classes for every
    request)."""

    RULES = (NoUnsafeText, QueryCost)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *self.RULES)
        yield


class AnonymousVerifications:
    """Bounds anonymous ``verifyCredential``: a moving window of ``per_minute`` calls per client
    address (the ``limits`` library, in this process's memory: each API process counts its own),
    and credentials of at most ``max_bytes``. Verification is public, costs CPU (signatures,
    canonicalisation) and stores nothing, so nothing else would slow a client down."""

    def __init__(self, per_minute: int, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, client: str, credential: str) -> None:
        if not self._limiter.hit(self._item, client):
            reset = self._limiter.get_window_stats(self._item, client).reset_time
            raise RateLimited(
                "too many anonymous verifications from this address; try again later, or "
                "verify with a bearer token",
                retry_after=max(1, int(reset - time.time()) + 1),
            )
        if len(credential.encode("utf-8", "surrogatepass")) > self.max_bytes:
            raise InvalidInput(
                f"a credential verified anonymously is at most {self.max_bytes} bytes",
                ("credential",),
            )


def check_anonymous_verification(info: Any, credential: str) -> None:
    """Raises RateLimited or InvalidInput for an anonymous caller over its bounds; a rate limit
    also sets the response's Retry-After (api.middleware.RequestContext)."""
    context = info.context
    if not context.principal.anonymous:
        return
    request = getattr(context, "request", None)
    guard: AnonymousVerifications | None = getattr(
        getattr(getattr(request, "app", None), "state", None), "anonymous_verifications", None
    )
    if guard is None:  # an app without the guard (a bare schema in tests)
        return
    client = request.client.host if request is not None and request.client else "unknown"
    try:
        guard.check(client, credential)
    except RateLimited as exc:
        if exc.retry_after is not None and request is not None:
            request.scope.setdefault("state", {})["retry_after"] = exc.retry_after
        raise
