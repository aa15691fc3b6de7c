"""Per-request context: the bank, the read models, the caller, and helpers that run the
synchronous library off the event loop."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from api.auth import Principal, Role
from api.freshness import Freshness
from api.graphql.errors import ApiError
from application.bank import CreditBank
from application.export import Exporter
from projections.base import Cursor

T = TypeVar("T")
log = logging.getLogger("creditbank.api")


@dataclass
class Context(BaseContext):
    bank: CreditBank
    principal: Principal
    exporter: Exporter  # signs the bank's verifiable exports, verifies credentials
    freshness: Freshness | None = None
    request_id: str = ""
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The eventsourcing library is synchronous: run it in the threadpool."""
        return await run_in_threadpool(fn, *args, **kwargs)

    async def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs a read-model query (a function of a cursor) in one short transaction."""

        def go() -> T:
            with self.bank.database.transaction(readonly=True) as cur:
                return query(cur, *args, **kwargs)

        return await run_in_threadpool(go)

    async def command(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs a command, then waits until the views include what it saved (read-your-writes)."""

        def go() -> tuple[T, int]:
            with self.bank.tracking() as saved:
                result = fn(*args, **kwargs)
            return result, saved.position

        result, position = await run_in_threadpool(go)
        if self.freshness is not None and not await self.freshness.wait_for(position):
            # Stored, but the views are behind (the runner is failing or far behind): the
            # payload may lack the result; /readyz reports the lag.
            log.warning("views did not reach position %d in time after a command", position)
        return result

    def loader(
        self, name: str, load: Callable[[Cursor, list[Any]], dict[Any, Any]]
    ) -> DataLoader[Any, Any]:
        """One DataLoader per relation per request: a page's relations cost one query each."""
        if name not in self.loaders:

            async def batch(keys: list[Any]) -> list[Any]:
                found = await self.read(load, list(keys))
                return [found.get(k) for k in keys]

            self.loaders[name] = DataLoader(load_fn=batch)
        return self.loaders[name]

    def require(self, *roles: Role) -> Principal:
        p = self.principal
        if p.anonymous:
            raise ApiError("UNAUTHENTICATED", "a bearer token is required")
        if roles and p.role not in roles:
            raise ApiError("FORBIDDEN", f"role {p.role.value if p.role else '-'} may not do this")
        return p

    def today(self) -> str:
        """By the bank's clock, like the commands (consent expiry, for one)."""
        return self.bank.now().date().isoformat()


Info = StrawberryInfo[Context, None]
