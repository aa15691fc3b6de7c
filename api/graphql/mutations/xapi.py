"""xAPI evidence: a registered learning platform deposits a signed xAPI 2.0 statement, which
becomes a non-formal outcome credited from its hours (application.xapi; docs/xapi.md)."""

from __future__ import annotations

import json
from typing import Any

import strawberry

from api.graphql.context import Context
from api.graphql.errors import UserError
from api.graphql.mutations.accounts import NEW_OUTCOME, _issuer
from api.graphql.mutations.act import command
from api.graphql.outcomes import Outcome
from domain.errors import InvalidCredential


@strawberry.input(
    description="statement: the xAPI 2.0 statement as JSON text, with its signature attachment; "
    "signature: the compact JWS that attachment describes (xAPI signed statements)."
)
class DepositStatementInput:
    learner_id: strawberry.ID
    statement: str
    signature: str


@strawberry.type
class DepositStatementPayload:
    outcome: Outcome | None = None
    errors: list[UserError]


def _submission(i: DepositStatementInput) -> dict[str, Any]:
    try:
        statement = json.loads(i.statement)
    except ValueError:
        raise InvalidCredential("the statement is not JSON", ("statement",)) from None
    return {"statement": statement, "signature": i.signature}


def _deposit(c: Context, ids: Any, i: DepositStatementInput) -> Any:
    return c.bank.deposit_statement(ids.learner_id, _submission(i), c.principal.actor, _issuer(c))


@strawberry.type
class XapiMutations:
    deposit_statement = command(
        "A learning platform deposits a signed xAPI statement (completed or passed) about a "
        "learner: a non-formal outcome whose credits come from its hours.",
        DepositStatementInput,
        DepositStatementPayload,
        _deposit,
        NEW_OUTCOME,
    )
