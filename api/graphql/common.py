"""Shared GraphQL pieces: enums (contract names), Node, PageInfo, ids and credits."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from api.auth import Role as AuthRole
from api.graphql.errors import ApiError
from api.graphql.pagination import Page
from domain import values
from domain.errors import NotFound
from projections.base import from_cc

if TYPE_CHECKING:
    from api.graphql.context import Info

Role = strawberry.enum(AuthRole, name="Role")
InstitutionKind = strawberry.enum(values.InstitutionKind, name="InstitutionKind")
OutcomeKind = strawberry.enum(values.OutcomeKind, name="OutcomeKind")
OutcomeStatus = strawberry.enum(values.OutcomeStatus, name="OutcomeStatus")
IdentityVerification = strawberry.enum(values.IdentityVerification, name="IdentityVerification")
RuleModel = strawberry.enum(values.RuleModel, name="RuleModel")


@strawberry.interface(description="An object with a globally unique id.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[object]) -> PageInfo:
        return cls(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.items[0][0] if page.items else None,
            end_cursor=page.items[-1][0] if page.items else None,
        )


def parse_id(value: str, field: str = "id") -> UUID:
    """Query arguments: a malformed id is a GraphQL error with INVALID_INPUT."""
    try:
        return UUID(str(value))
    except ValueError:
        raise ApiError("INVALID_INPUT", f"{field} is not a valid id") from None


def input_id(value: str, field: str) -> UUID:
    """Mutation inputs: a malformed id is a NOT_FOUND user error naming the field."""
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"{field} is not a valid id", (field,)) from None


def credits(value: int | None) -> Decimal:
    amount = from_cc(value)
    return amount if amount is not None else Decimal("0.00")


def gid(value: object) -> strawberry.ID:
    return strawberry.ID(str(value))


def asks_for(info: Info, *path: str) -> bool:
    """Whether the current field's selection reaches the field ``path`` (by name, through
    fragments). ``@skip``/``@include`` are not evaluated: a field they drop still counts, so a
    resolver may read something not shown, never miss something shown."""
    current: list[SelectedField] = list(_fields(info.selected_fields))
    for name in path:
        current = [f for parent in current for f in _fields(parent.selections) if f.name == name]
        if not current:
            return False
    return True


def _fields(selections: list[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:  # an inline fragment or a fragment spread
            yield from _fields(selection.selections)
