"""Learning-outcome standards: the catalogue (unit code, title, level, credits, accepted kinds)
that framework rules cite."""

from __future__ import annotations

from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput
from domain.values import OutcomeKind, parse_credits, parse_enum, parse_level, parse_text


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
        credits: object,
        accepted_kinds: tuple[OutcomeKind, ...],
        max_level: int,
    ) -> OutcomeStandard:
        level = parse_level(level, max_level)
        if not accepted_kinds:
            raise InvalidInput("a standard accepts at least one outcome kind", ("acceptedKinds",))
        return cls(
            code=parse_text(code, "code", max_length=50),
            title=parse_text(title, "title", max_length=300),
            level=level,
            credits=parse_credits(credits),
            accepted_kinds=tuple(
                dict.fromkeys(parse_enum(OutcomeKind, k, "acceptedKinds") for k in accepted_kinds)
            ),
        )

    def withdraw(self) -> None:
        if self.withdrawn:
            raise InvalidInput(f"standard {self.code} is already withdrawn")
        self._withdrawn()

    @event("Withdrawn")
    def _withdrawn(self) -> None:
        self.withdrawn = True
