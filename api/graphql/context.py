"""Per-request context: the bank, the caller, and a way to run the synchronous library off the
event loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from api.auth import Principal, Role
from api.graphql.errors import ApiError
from application.bank import CreditBank

T = TypeVar("T")


@dataclass
class Context(BaseContext):
    bank: CreditBank
    principal: Principal
    request_id: str = ""
    cache: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The eventsourcing library is synchronous: run it in the threadpool."""
        return await run_in_threadpool(fn, *args, **kwargs)

    def require(self, *roles: Role) -> Principal:
        p = self.principal
        if p.anonymous:
            raise ApiError("UNAUTHENTICATED", "a bearer token is required")
        if roles and p.role not in roles:
            raise ApiError("FORBIDDEN", f"role {p.role.value if p.role else '-'} may not do this")
        return p


Info = StrawberryInfo[Context, None]
