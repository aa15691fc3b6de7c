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
    first operation's)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if getattr(context, "_provided_operation_name", None) is None:
            context.validation_rules = (*context.validation_rules, OperationNamed)
        yield


def build_schema(production: bool = False) -> strawberry.Schema:
    """The schema; ``production`` (CREDITBANK_ENV=production) refuses introspection, so a
    deployed bank does not hand out its full schema to anyone who asks (schema.graphql and the
    docs are where clients read it)."""
    extensions: list[Any] = [
        # First, and before any validation rule: the rules below walk fragments expanded.
        DocumentSize,
        # Limiters are passed as factories: strawberry builds one per operation.
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        RequireOperationName,
        QueryLimits,  # unsafe text, cost: fixed rule classes
    ]
    if production:
        extensions.append(DisableIntrospection)  # a class: one fixed rule (graphql-core's)
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
