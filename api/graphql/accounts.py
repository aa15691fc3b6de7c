"""A learner's account as the API shows it: balance, transcript, progress, conversion options,
history, and the account at any past version (time travel). What it holds (balances, outcomes)
is in outcomes.py."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from api.graphql.awards import Award, award_of, read_award, read_awards
from api.graphql.catalogue import Institution, Qualification
from api.graphql.common import (
    OutcomeKind,
    OutcomeStatus,
    PageInfo,
    asks_for,
    gid,
    parse_id,
)
from api.graphql.context import Info
from api.graphql.conversions import Conversion, ConversionOption
from api.graphql.errors import ApiError
from api.graphql.outcomes import Balance, Outcome, OutcomeConnection, OutcomeEdge
from api.graphql.pagination import after_int, keyset_page, page_size
from api.graphql.study_plan import StudyPlan
from application.reads import AccountEvent as StoredEvent
from domain import values
from domain.credit_account import CreditAccount as DomainAccount
from domain.errors import NotFound
from domain.records import Proposal
from domain.values import utc
from projections import balances, catalogue, progress, runner, time_index, transcript
from projections.base import plain
from projections.catalogue import CatalogueEntry
from projections.progress import ProgressRow
from projections.transcript import TranscriptRow


@strawberry.type(
    description="One event of an account: what happened, when, by whom, under which rule version."
)
class AccountEvent:
    version: int
    type: str
    at: datetime
    actor: str | None
    data: JSON
    hash: str | None = strawberry.field(description="hash-chain link (tamper evidence)")

    @classmethod
    def of(cls, e: StoredEvent) -> AccountEvent:
        return cls(
            version=e.version, type=e.type, at=e.at, actor=e.actor, data=plain(e.data), hash=e.hash
        )


@strawberry.type
class AccountEventEdge:
    cursor: str
    node: AccountEvent


@strawberry.type
class AccountEventConnection:
    edges: list[AccountEventEdge]
    page_info: PageInfo


@strawberry.type(description="The account as it stood at a version or at a moment.")
class AccountState:
    version: int
    at: datetime
    balance: Balance
    outcomes: list[Outcome]
    conversions: list[Conversion]
    awards: list[Award]
    learner_id: strawberry.Private[UUID]
    moment: strawberry.Private[datetime | None] = None  # asked "at" this moment

    @strawberry.field(
        description="Progress toward a qualification as it stood then: under the version of "
        "its requirements in force at that moment, on the credits held then."
    )
    async def progress(self, info: Info, qualification_id: strawberry.ID) -> PastProgress:
        qid = parse_id(qualification_id, "qualificationId")
        try:
            past = await info.context.run(
                info.context.bank.progress_as_of, self.learner_id, self.version, qid, self.moment
            )
        except NotFound as exc:
            raise ApiError("NOT_FOUND", str(exc)) from None
        return PastProgress(
            qualification_version=past.qualification_version,
            met=past.assessment.met,
            unmet=list(past.assessment.unmet),
            notes=list(past.assessment.notes),
            credits_counted=past.assessment.credits_counted,
            award=None if past.award is None else award_of(past.award),
        )


@strawberry.type(description="Progress toward a qualification at a past state of the account.")
class PastProgress:
    qualification_version: int = strawberry.field(
        description="the version of its requirements in force then"
    )
    met: bool
    unmet: list[str]
    notes: list[str]
    credits_counted: Decimal
    award: Award | None = strawberry.field(description="its award then, if there was one")


@strawberry.type
class QualificationProgress:
    met: bool
    unmet: list[str] = strawberry.field(description="precisely what is missing")
    notes: list[str] = strawberry.field(
        description="credits a cap kept from counting; why an award is under review"
    )
    credits_counted: Decimal
    redeemed: bool = strawberry.field(
        description="an award stands (or is under review: then met and unmet are the "
        "assessment on the credits that remain)"
    )
    qualification_id: strawberry.Private[str]
    award_id: strawberry.Private[str | None] = None

    @classmethod
    def of(cls, row: ProgressRow, qualification_id: str) -> QualificationProgress:
        return cls(
            met=row.met,
            unmet=row.unmet,
            notes=row.notes,
            credits_counted=row.counted,
            redeemed=row.redeemed,
            qualification_id=qualification_id,
            award_id=row.award_id,
        )

    @strawberry.field(description="the award for it (standing, under review or rescinded)")
    async def award(self, info: Info) -> Award | None:
        return None if self.award_id is None else await read_award(info, self.award_id)

    @strawberry.field
    async def qualification(self, info: Info) -> Qualification:
        entry = await info.context.loader("catalogue", catalogue.read_entries).load(
            self.qualification_id
        )
        return Qualification.of(entry)


@strawberry.type(description="A decision that takes effect when a second officer approves it.")
class PendingDecision:
    id: strawberry.ID
    action: str = strawberry.field(description="RECOGNITION or REVERSAL")
    subject_id: strawberry.ID = strawberry.field(description="the outcome or the conversion")
    proposed_by: str
    justification: str
    proposed_at: datetime | None
    credits: Decimal | None
    level: int | None
    category: str | None
    standard_code: str | None

    @classmethod
    def of(cls, p: Proposal) -> PendingDecision:
        d = p.decision
        return cls(
            id=strawberry.ID(str(p.id)),
            action=p.action,
            subject_id=gid(p.subject_id),
            proposed_by=p.proposed_by,
            justification=p.justification,
            proposed_at=p.proposed_at,
            credits=None if d is None else d.credits,
            level=None if d is None else d.level,
            category=None if d is None else d.category,
            standard_code=None if d is None else d.standard_code,
        )


@strawberry.type(description="What changed between two versions of an account.")
class AccountDiff:
    before: AccountState
    after: AccountState
    events: list[AccountEvent] = strawberry.field(description="the events in between, in order")
    total_change: Decimal
    available_change: Decimal


@strawberry.type(description="A learner's lifelong credit account.")
class CreditAccount:
    learner_id: strawberry.Private[UUID]
    scope: strawberry.Private[str]

    def _all(self) -> None:
        if self.scope != "ALL":
            raise ApiError("FORBIDDEN", "the consent covers only part of the record")

    @strawberry.field(
        description="the views of this account are behind it: an event of it could not be "
        "applied and waits for an operator (Query.parkedEvents); what is shown is its state "
        "before that event"
    )
    async def stale(self, info: Info) -> bool:
        self._all()
        ids = [str(self.learner_id), str(DomainAccount.create_id(self.learner_id))]
        return await info.context.read(runner.stale, ids)

    @strawberry.field
    async def version(self, info: Info) -> int:
        self._all()
        row = await _balance(info, self.learner_id)
        return 0 if row is None else row.version

    @strawberry.field
    async def balance(self, info: Info) -> Balance:
        self._all()
        return Balance.of(await _balance(info, self.learner_id))

    @strawberry.field
    async def transcript(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: OutcomeStatus | None = None,  # type: ignore[valid-type]
        kind: OutcomeKind | None = None,  # type: ignore[valid-type]
    ) -> OutcomeConnection:
        issuer = None  # an OWN consent shows what the enterprise itself issued
        if self.scope == values.ConsentScope.TRAINING.value:
            if kind not in (None, values.OutcomeKind.ENTERPRISE_TRAINING):
                raise ApiError("FORBIDDEN", "the consent covers enterprise training only")
            kind = values.OutcomeKind.ENTERPRISE_TRAINING
        elif self.scope != values.ConsentScope.ALL.value:
            issuer = info.context.principal.subject or "-"
        limit = page_size(first)
        learner = str(self.learner_id)
        status_v = values.OutcomeStatus(status).value if status else None
        kind_v = values.OutcomeKind(kind).value if kind else None

        with_issuers = asks_for(info, "edges", "node", "issuer")

        def query(cur: Any) -> tuple[list[TranscriptRow], int, dict[str, CatalogueEntry]]:
            rows = transcript.read_page(
                cur,
                learner,
                after_seq=after_int(after),
                limit=limit + 1,
                status=status_v,
                kind=kind_v,
                issuer=issuer,
            )
            total = transcript.count(cur, learner, status_v, kind_v, issuer)
            # The page's issuers in the same transaction, when asked for.
            ids = sorted({r.issuer_id for r in rows[:limit]}) if with_issuers else []
            return rows, total, catalogue.read_entries(cur, ids)

        rows, total, entries = await info.context.read(query)
        issuers = {i: Institution.of(e) for i, e in entries.items()}
        page = keyset_page(rows, lambda r: str(r.seq), limit, after)
        return OutcomeConnection(
            edges=[
                OutcomeEdge(cursor=c, node=Outcome.of_row(r, issuers.get(r.issuer_id)))
                for c, r in page.items
            ],
            page_info=PageInfo.of(page),  # type: ignore[arg-type]
            total_count=total,
        )

    @strawberry.field
    async def progress(self, info: Info, qualification_id: strawberry.ID) -> QualificationProgress:
        self._all()
        qid = str(parse_id(qualification_id, "qualificationId"))
        row = await info.context.read(progress.read_progress, str(self.learner_id), qid)
        if row is None:
            raise ApiError("NOT_FOUND", "no such qualification")
        return QualificationProgress.of(row, qid)

    @strawberry.field(
        description="Conversions that would close the gap to a qualification, best first."
    )
    async def conversion_options(
        self, info: Info, qualification_id: strawberry.ID
    ) -> list[ConversionOption]:
        self._all()
        qid = parse_id(qualification_id, "qualificationId")
        try:
            options = await info.context.run(
                info.context.bank.conversion_options, self.learner_id, qid
            )
        except NotFound:
            raise ApiError("NOT_FOUND", "no such qualification") from None
        return [ConversionOption.of(o) for o in options]

    @strawberry.field(
        description="What is left toward a qualification, what would close it, and the "
        "earliest date it can be met given the semester and yearly caps."
    )
    async def study_plan(self, info: Info, qualification_id: strawberry.ID) -> StudyPlan:
        self._all()
        qid = parse_id(qualification_id, "qualificationId")
        try:
            found = await info.context.run(info.context.bank.study_plan, self.learner_id, qid)
        except NotFound:
            raise ApiError("NOT_FOUND", "no such qualification") from None
        return StudyPlan.of(found)

    @strawberry.field(
        description="Decisions on this account waiting for a second officer: recognitions "
        "beyond their bounds and officers' reversals of conversions."
    )
    async def pending_decisions(self, info: Info) -> list[PendingDecision]:
        self._all()
        account = await info.context.run(info.context.bank.account, self.learner_id)
        return [PendingDecision.of(p) for p in account.proposals.values()]

    @strawberry.field(description="Its qualifications redeemed, in the order they were made.")
    async def awards(self, info: Info) -> list[Award]:
        self._all()
        return await read_awards(info, self.learner_id)

    @strawberry.field(description="The account's events, oldest first.")
    async def history(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> AccountEventConnection:
        self._all()
        limit = page_size(first)
        bank = info.context.bank
        events = await info.context.run(
            lambda: list(bank.account_history(self.learner_id, after_int(after), limit + 1))
        )
        page = keyset_page(events, lambda e: str(e.version), limit, after)
        return AccountEventConnection(
            edges=[AccountEventEdge(cursor=c, node=AccountEvent.of(e)) for c, e in page.items],
            page_info=PageInfo.of(page),  # type: ignore[arg-type]
        )

    @strawberry.field(
        description="The account at a version or a moment (auditors, and the learner)."
    )
    async def as_of(
        self, info: Info, version: int | None = None, at: datetime | None = None
    ) -> AccountState:
        self._all()
        if (version is None) == (at is None):
            raise ApiError("INVALID_INPUT", "give exactly one of version and at")
        if at is not None:
            if at.tzinfo is None:
                raise ApiError("INVALID_INPUT", "at needs a timezone")
            version = await info.context.read(
                time_index.version_at, str(self.learner_id), utc(at).isoformat()
            )
        assert version is not None
        return await _state_at(info, self.learner_id, version, utc(at) if at else None)

    @strawberry.field(description="The difference between two versions, and the events between.")
    async def diff(self, info: Info, from_version: int, to_version: int) -> AccountDiff:
        self._all()
        if not 1 <= from_version <= to_version:
            raise ApiError("INVALID_INPUT", "need 1 <= fromVersion <= toVersion")
        if to_version - from_version > 1000:
            raise ApiError("INVALID_INPUT", "at most 1000 versions apart")
        before = await _state_at(info, self.learner_id, from_version)
        after = await _state_at(info, self.learner_id, to_version)
        bank = info.context.bank
        events = await info.context.run(
            lambda: list(
                bank.account_history(self.learner_id, from_version, to_version - from_version)
            )
        )
        return AccountDiff(
            before=before,
            after=after,
            events=[AccountEvent.of(e) for e in events],
            total_change=after.balance.total - before.balance.total,
            available_change=after.balance.available - before.balance.available,
        )


async def _state_at(
    info: Info, learner_id: UUID, version: int, moment: datetime | None = None
) -> AccountState:
    if version < 1:
        raise ApiError("NOT_FOUND", "the account did not exist then")
    try:
        account: DomainAccount = await info.context.run(
            info.context.bank.account, learner_id, version
        )
    except NotFound:
        raise ApiError("NOT_FOUND", f"the account has no version {version}") from None
    if account.version != version:
        raise ApiError("NOT_FOUND", f"the account has no version {version}")
    return AccountState(
        version=account.version,
        at=account.modified_on,
        balance=Balance.of(account.balance()),
        outcomes=[Outcome.of(learner_id, o) for o in account.outcomes.values()],
        conversions=[Conversion.of(c) for c in account.conversions.values()],
        awards=[award_of(r) for r in account.redemptions.values()],
        learner_id=learner_id,
        moment=moment,
    )


async def _balance(info: Info, learner_id: UUID) -> Any:
    return await info.context.loader("balances", balances.read_balances).load(str(learner_id))
