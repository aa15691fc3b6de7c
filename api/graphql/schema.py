"""The GraphQL schema: CONTRACT.graphql's names, plus extensions, with query limits."""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from api.graphql.catalogue import ConversionRule, Institution, Qualification, RecognitionRule
from api.graphql.learners import Learner, Outcome
from api.graphql.mutations import Mutation
from api.graphql.organizations import Organization
from api.graphql.queries import Query

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 15


class CreditBankSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Expected errors (typed codes) are answers, not incidents; unexpected ones are logged
        once, with their traceback, where the response masks them (api.graphql.errors.mask)."""


def build_schema() -> strawberry.Schema:
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
        extensions=[
            # Limiters are passed as factories: strawberry builds one per operation.
            partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
            partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
            partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        ],
    )
