"""Reads computed from the events rather than the views: an account's history, its version at a
moment, and what a qualification would make of it (assessment, conversion options)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import DomainEvent

from application.chain import stored_hash
from application.commands.awards import AwardCommands
from application.commands.compromise import CompromiseCommands
from application.commands.intake import IntakeCommands
from application.commands.merges import MergeCommands
from application.commands.reviews import ReviewCommands
from application.commands.status import StatusCommands
from application.commands.xapi import XapiCommands
from domain.assessment import Assessment
from domain.conversion import ConversionOption
from domain.values import parse_whole, utc

EVENT_BOOKKEEPING = ("originator_id", "originator_version", "timestamp", "originator_topic")


@dataclass(frozen=True, kw_only=True)
class AccountEvent:
    version: int
    type: str
    at: datetime
    actor: str | None
    data: dict[str, Any]
    hash: str  # this event's link in the account's hash chain


class AccountReads(
    MergeCommands,
    ReviewCommands,
    AwardCommands,
    CompromiseCommands,
    StatusCommands,
    IntakeCommands,
    XapiCommands,
):
    def account_version_at(self, learner_id: UUID, at: datetime) -> int:
        """The account's version as it stood at a moment (0: not yet opened)."""
        at = utc(at)
        version = 0
        for e in self.events.get(self.account_id(learner_id)):
            if cast(DomainEvent, e).timestamp > at:
                break
            version = e.originator_version
        return version

    def account_history(
        self, learner_id: UUID, after_version: int = 0, limit: int | None = None
    ) -> Iterator[AccountEvent]:
        parse_whole(after_version, "afterVersion")
        if limit is not None:
            parse_whole(limit, "limit")
        stored_events = self.recorder.select_events(
            self.account_id(learner_id), gt=after_version, limit=limit
        )
        for stored in stored_events:
            e: Any = self.mapper.to_domain_event(stored)
            data = {k: v for k, v in vars(e).items() if k not in EVENT_BOOKKEEPING}
            yield AccountEvent(
                version=e.originator_version,
                type=type(e).__name__,
                at=e.timestamp,
                actor=cast(str | None, data.pop("actor", None)),
                data=data,
                hash=stored_hash(stored),
            )

    def assess(self, learner_id: UUID, qualification_id: UUID) -> Assessment:
        qualification = self.qualification(qualification_id)
        return self.account(learner_id).assess(
            self.goal_for(qualification), self.now().date(), self.pathway_for(qualification)
        )

    def conversion_options(
        self, learner_id: UUID, qualification_id: UUID
    ) -> list[ConversionOption]:
        """Conversions the learner could make now, best first for this qualification."""
        qualification = self.qualification(qualification_id)
        rules = [
            r.current() for r in self.conversion_rules() if not r.retired and r.awaiting() is None
        ]
        return self.account(learner_id).conversion_options(
            rules, self.goal_for(qualification), self.now().date(), self.pathway_for(qualification)
        )
