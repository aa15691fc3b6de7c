"""What every mutation does, once: parse the input's ids, run the command off the event loop,
wait for the views to include what it saved (read-your-writes), read the result back from the
views, and turn a refusal (a domain error: nothing was stored) into a typed ``UserError``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import strawberry

from api.graphql.authz import ALLOWED
from api.graphql.common import input_id
from api.graphql.context import Context, Info
from api.graphql.errors import user_error
from api.graphql.outcomes import Outcome
from application.bank import CreditBank
from domain.errors import DomainError
from projections import catalogue, transcript

P = TypeVar("P")
Command = Callable[[CreditBank, "Ids"], Any]

# Every mutation field is checked by the one permission that reads POLICY (api/graphql/authz).
mutation = partial(strawberry.mutation, permission_classes=ALLOWED)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


class Ids:
    """The input's ids, parsed on first use inside the error boundary: a malformed one is a
    NOT_FOUND user error naming its field (``ids.learner_id`` -> ``learnerId``)."""

    def __init__(self, input: Any) -> None:
        self._input = input

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._input, name)
        if value is None:
            return None
        if isinstance(value, list):
            return [input_id(v, camel(name)) for v in value]
        return input_id(value, camel(name))


Reader = Callable[[Info, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Back:
    """A payload field read back after the command: ``read(info, key(ids, result))``."""

    field: str
    read: Reader
    key: Callable[[Ids, Any], Any]

    async def __call__(self, info: Info, ids: Ids, result: Any) -> dict[str, Any]:
        return {self.field: await self.read(info, self.key(ids, result))}


async def mutate(
    info: Info, payload: Callable[..., P], input: Any, command: Command, *back: Back
) -> P:
    """Runs ``command(bank, ids)``; answers the payload with ``back`` read from the views, or
    with the refusal as its only error."""
    ids = Ids(input)
    try:
        result = await info.context.command(command, info.context.bank, ids)
        fields: dict[str, Any] = {}
        for b in back:
            fields |= await b(info, ids, result)
    except DomainError as exc:
        return payload(errors=[user_error(exc)])
    return payload(errors=[], **fields)


Decide = Callable[[Context, Ids, Any], Any]


def command(
    description: str, input_type: type[Any], payload: type[P], decide: Decide, *back: Back
) -> Any:
    """A mutation field that runs ``decide(context, ids, input)`` (the bank, the caller and the
    exporter are the context's) and answers ``payload`` with ``back`` read from the views."""

    async def resolve(self: Any, info: Info, input: Any) -> Any:
        def run(bank: CreditBank, ids: Ids) -> Any:
            return decide(info.context, ids, input)

        return await mutate(info, payload, input, run, *back)

    resolve.__annotations__ = {"info": Info, "input": input_type, "return": payload}
    return mutation(description=description)(resolve)


def shown_as(graphql_type: Any) -> Reader:
    """A catalogue entry, shown as ``graphql_type`` (None if it is not there)."""

    async def read(info: Info, entry_id: UUID) -> Any:
        found = await info.context.read(catalogue.read_entries, [str(entry_id)])
        row = found.get(str(entry_id))
        return None if row is None else graphql_type.of(row)

    return read


async def outcomes(info: Info, outcome_ids: list[UUID]) -> list[Outcome]:
    found = await info.context.read(transcript.read_outcomes, [str(i) for i in outcome_ids])
    return [Outcome.of_row(found[str(i)]) for i in outcome_ids if str(i) in found]


async def outcome(info: Info, outcome_id: UUID) -> Outcome | None:
    found = await outcomes(info, [outcome_id])
    return found[0] if found else None


def result(ids: Ids, value: Any) -> Any:
    """The key of a read-back is the command's own result (a new id)."""
    return value
