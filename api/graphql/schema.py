"""The GraphQL schema: CONTRACT.graphql's names, plus extensions, with query limits."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, ValidationRule
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from api.graphql.catalogue import ConversionRule, Institution, Qualification, RecognitionRule
from api.graphql.documents import CachedDocuments, DocumentCache
from api.graphql.learners import Learner
from api.graphql.limits import DocumentSize, QueryLimits
from api.graphql.mutations import Mutation
from api.graphql.organizations import Organization
from api.graphql.outcomes import Outcome
from api.graphql.queries import Query

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 15


class CreditBankSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Expected errors (typed codes) are answers, not incidents; unexpected ones are logged
        once, with their traceback, where the response masks them (api.graphql.errors.mask)."""


class OperationNamed(ValidationRule):
    """GraphQL spec §6.1 GetOperation: several operations and no operationName is an error."""

    def enter_document(self, node: DocumentNode, *_: Any) -> None:
        operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1:
            self.report_error(
                GraphQLError(
                    "Must provide operationName if the document contains several operations."
                )
            )


class RequireOperationName(SchemaExtension):
    """Strawberry runs the first operation when no name is given; the spec requires an error.
    The request's own name is kept privately by strawberry (its public one falls back to the
    first operation's). Added in ``on_operation``, with the other rules, so that the rule set is
    known before the document cache (``CachedDocuments``) looks it up."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        if getattr(context, "_provided_operation_name", None) is None:
            context.validation_rules = (*context.validation_rules, OperationNamed)
        yield


# strawberry's depth and alias limiters make a new rule class each time one is constructed;
# constructed once here, their rules are the same classes for every request, so a validated
# document can be looked up by its rule set (a new class per request would never hit).
LIMIT_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)


class FixedLimits(SchemaExtension):
    """The depth and alias limits, as rule classes made once (``LIMIT_RULES``)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *LIMIT_RULES)
        yield


def build_schema(
    production: bool = False, documents: DocumentCache | None = None
) -> strawberry.Schema:
    """The schema; ``production`` (CREDITBANK_ENV=production) refuses introspection, so a
    deployed bank does not hand out its full schema to anyone who asks (schema.graphql and the
    docs are where clients read it). ``documents``: where parsed and validated documents are
    kept (a new cache of the default size when not given)."""
    # Parse options and rules are set in on_operation, in this order (the rules' order is the
    # order of their errors); the cache then parses and validates each distinct document once.
    extensions: list[Any] = [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        FixedLimits,  # depth, aliases
        QueryLimits,  # unsafe text, cost: fixed rule classes
    ]
    if production:
        extensions.append(DisableIntrospection)  # a class: one fixed rule (graphql-core's)
    extensions += [
        RequireOperationName,
        partial(CachedDocuments, cache=DocumentCache() if documents is None else documents),
        # Its check runs before strawberry's validation (the rules walk fragments expanded) and
        # after the cache's lookup: a cached document skips both.
        DocumentSize,
    ]
    return CreditBankSchema(
        query=Query,
        mutation=Mutation,
        types=[
            Institution,
            Qualification,
            ConversionRule,
            RecognitionRule,
            Learner,
            Outcome,
            Organization,
        ],
        extensions=extensions,
    )
