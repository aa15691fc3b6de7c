"""Learning-outcome standards: the catalogue (unit code, title, level, credits, accepted kinds)
that framework rules cite."""

from __future__ import annotations

from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput
from domain.values import OutcomeKind, credits, enum_value, text
from domain.values import level as check_level


class OutcomeStandard(Aggregate):
    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"creditbank:/standards/{code}")

    @event("Defined")
    def __init__(
        self,
        code: str,
        title: str,
        level: int,
        credits: Decimal,
        accepted_kinds: tuple[OutcomeKind, ...],
    ) -> None:
        self.code = code
        self.title = title
        self.level = level
        self.credits = credits
        self.accepted_kinds = tuple(accepted_kinds)
        self.withdrawn = False

    @classmethod
    def define(
        cls,
        *,
        code: object,
        title: object,
        level: int,
        credits_: object,
        accepted_kinds: tuple[OutcomeKind, ...],
        max_level: int,
    ) -> OutcomeStandard:
        level = check_level(level, max_level)
        if not accepted_kinds:
            raise InvalidInput("a standard accepts at least one outcome kind", ("acceptedKinds",))
        return cls(
            code=text(code, "code", max_length=50),
            title=text(title, "title", max_length=300),
            level=level,
            credits=credits(credits_),
            accepted_kinds=tuple(
                dict.fromkeys(enum_value(OutcomeKind, k, "acceptedKinds") for k in accepted_kinds)
            ),
        )

    def withdraw(self) -> None:
        if self.withdrawn:
            raise InvalidInput(f"standard {self.code} is already withdrawn")
        self._withdrawn()

    @event("Withdrawn")
    def _withdrawn(self) -> None:
        self.withdrawn = True
