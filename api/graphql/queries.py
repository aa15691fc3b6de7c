"""Query fields (names as in CONTRACT.graphql, plus extensions)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar, cast
from uuid import UUID

import strawberry

from api.graphql import authz, security
from api.graphql.awards import Award
from api.graphql.catalogue import (
    ConversionRule,
    ConversionRuleConnection,
    ConversionRuleEdge,
    Framework,
    Institution,
    InstitutionConnection,
    InstitutionEdge,
    OutcomeStandard,
    OutcomeStandardConnection,
    OutcomeStandardEdge,
    Qualification,
    QualificationConnection,
    QualificationEdge,
    RecognitionRule,
    RecognitionRuleConnection,
    RecognitionRuleEdge,
)
from api.graphql.common import IdentityVerification, InstitutionKind, Node, PageInfo, gid, parse_id
from api.graphql.common import Role as RoleEnum
from api.graphql.context import Info
from api.graphql.errors import ApiError
from api.graphql.intake import IntakeJob, read_intake_job
from api.graphql.learners import Learner, LearnerConnection, LearnerEdge
from api.graphql.ledger import LedgerConnection, LedgerRole, read_ledger
from api.graphql.limits import check_anonymous_verification
from api.graphql.organizations import Organization
from api.graphql.outcomes import Outcome
from api.graphql.pagination import after_int, keyset_page, page_size
from api.graphql.verification import VerificationResult
from application import audit
from domain import values
from domain.errors import DomainError
from projections import catalogue, progress, transcript
from projections.catalogue import CatalogueEntry


@strawberry.type(description="Who the bearer token says the caller is.")
class Viewer:
    role: RoleEnum | None  # type: ignore[valid-type]
    subject: strawberry.ID | None


@strawberry.type(
    description="The result of walking every account's hash chain and the newest checkpoint."
)
class AuditReport:
    ok: bool
    accounts: int
    events: int
    checkpoint_id: str | None
    checkpoint_position: int | None
    problems: list[str] = strawberry.field(description="exactly what is broken, one per line")


C = TypeVar("C")
# Every query field is checked by the one permission that reads POLICY (api/graphql/authz).
field = partial(strawberry.field, permission_classes=authz.ALLOWED)

# Catalogue entry type -> the GraphQL type that shows it (learners are shown by ``_learner``).
SHOWN_AS: dict[str, Any] = {
    "institution": Institution,
    "qualification": Qualification,
    "conversion_rule": ConversionRule,
    "recognition_rule": RecognitionRule,
    "standard": OutcomeStandard,
}


async def _connection(
    info: Info,
    entry_type: str,
    first: int | None,
    after: str | None,
    connection: type[C],
    edge: Any,
    node: Callable[[CatalogueEntry], Any],
    kind: str | None = None,
) -> C:
    """One page of a catalogue list, in creation order, as a Relay connection."""
    limit = page_size(first)
    rows = await info.context.read(
        catalogue.read_page, entry_type, after_int(after), limit + 1, kind
    )
    page = keyset_page(rows, lambda r: str(r.ordinal), limit, after)
    return connection(  # type: ignore[call-arg]
        edges=[edge(cursor=c, node=node(r)) for c, r in page.items],
        page_info=PageInfo.of(page),  # type: ignore[arg-type]
    )


async def _entry(info: Info, entry_id: str, entry_type: str) -> CatalogueEntry | None:
    entry: CatalogueEntry | None = await info.context.loader(
        "catalogue", catalogue.read_entries
    ).load(entry_id)
    return entry if entry is not None and entry.entry_type == entry_type else None


async def _learner(info: Info, id: str) -> Learner | None:
    learner_id = parse_id(id)
    p = info.context.require()
    if not (authz.is_self(p, learner_id) or p.role in authz.READERS):
        await authz.account_access(info, learner_id)  # enterprises with consent in force
    entry = await _entry(info, str(learner_id), "learner")
    return None if entry is None else Learner.of(entry)


@strawberry.type
class Query:
    @field(description="Any object by id: institutions, qualifications, rules, learners, outcomes.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        key = str(parse_id(id))
        entry = await info.context.loader("catalogue", catalogue.read_entries).load(key)
        if entry is not None:
            if entry.entry_type == "learner":
                return await _learner(info, id)
            shown = SHOWN_AS.get(entry.entry_type)
            return None if shown is None else cast(Node, shown.of(entry))
        row = await info.context.loader("outcomes", transcript.read_outcomes).load(key)
        if row is None:
            award = await info.context.read(progress.read_award, key)
            if award is None:
                return None
            if await authz.account_access(info, UUID(award.learner_id)) != "ALL":
                raise ApiError("FORBIDDEN", "the consent covers only part of the record")
            return Award.of(award)
        scope = await authz.account_access(info, UUID(row.learner_id))
        if not authz.shows(info, scope, row.kind, row.issuer_id):
            raise ApiError("FORBIDDEN", "the consent does not cover this outcome")
        return Outcome.of_row(row)

    @field()
    def viewer(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(role=p.role, subject=strawberry.ID(p.subject) if p.subject else None)

    @field(description="Public: the active qualifications framework.")
    def framework(self, info: Info) -> Framework:
        return Framework.of(info.context.bank.framework)

    @field(description="Public: registered institutions, in registration order.")
    async def institutions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kind: InstitutionKind | None = None,  # type: ignore[valid-type]
    ) -> InstitutionConnection:
        chosen = values.InstitutionKind(kind).value if kind else None
        return await _connection(
            info,
            "institution",
            first,
            after,
            InstitutionConnection,
            InstitutionEdge,
            Institution.of,
            chosen,
        )

    @field(description="Public: one institution.")
    async def institution(self, info: Info, id: strawberry.ID) -> Institution | None:
        entry = await _entry(info, str(parse_id(id)), "institution")
        return None if entry is None else Institution.of(entry)

    @field(description="Public: qualifications, in creation order.")
    async def qualifications(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> QualificationConnection:
        return await _connection(
            info,
            "qualification",
            first,
            after,
            QualificationConnection,
            QualificationEdge,
            Qualification.of,
        )

    @field(
        description="Public: one qualification; at ``version``, its requirements as that "
        "version stated them (what an officer or an award saw then)."
    )
    async def qualification(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> Qualification | None:
        key = parse_id(id)
        if version is None:
            entry = await _entry(info, str(key), "qualification")
            return None if entry is None else Qualification.of(entry)
        if version < 1:
            raise ApiError("INVALID_INPUT", "version counts from 1")
        try:
            found = await info.context.run(info.context.bank.qualification, key, version)
        except DomainError:
            return None
        if found.requirements_version != version:  # retired after its last version
            return None
        return Qualification.of(catalogue.entry_of(found))

    @field(description="Public: conversion rules and their current versions.")
    async def conversion_rules(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ConversionRuleConnection:
        return await _connection(
            info,
            "conversion_rule",
            first,
            after,
            ConversionRuleConnection,
            ConversionRuleEdge,
            ConversionRule.of,
        )

    @field(description="Public: the learning-outcome standards catalogue.")
    async def standards(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> OutcomeStandardConnection:
        return await _connection(
            info,
            "standard",
            first,
            after,
            OutcomeStandardConnection,
            OutcomeStandardEdge,
            OutcomeStandard.of,
        )

    @field(description="Public: recognition rules and their current versions.")
    async def recognition_rules(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> RecognitionRuleConnection:
        return await _connection(
            info,
            "recognition_rule",
            first,
            after,
            RecognitionRuleConnection,
            RecognitionRuleEdge,
            RecognitionRule.of,
        )

    @field(description="A learner: themself, officers, auditors, consenting enterprises.")
    async def learner(self, info: Info, id: strawberry.ID) -> Learner | None:
        return await _learner(info, id)

    @field(description="Officers and auditors: learners, in registration order.")
    async def learners(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        identity_verification: IdentityVerification | None = None,  # type: ignore[valid-type]
    ) -> LearnerConnection:
        kind = (
            values.IdentityVerification(identity_verification).value
            if identity_verification
            else None
        )
        return await _connection(
            info, "learner", first, after, LearnerConnection, LearnerEdge, Learner.of, kind
        )

    @field(description="An enterprise's consenting employees and their training.")
    async def organization(self, info: Info, id: strawberry.ID) -> Organization | None:
        org_id = parse_id(id)  # an enterprise asks for itself only (authz.POLICY)
        entry = await _entry(info, str(org_id), "institution")
        if entry is None or entry.kind != values.InstitutionKind.ENTERPRISE.value:
            return None
        return Organization(id=gid(org_id), name=entry.name)

    @field(
        description="The institution itself, officers and auditors: the outcomes it issued "
        "(ISSUED, with their status now) and the conversions into its scheme it accepted "
        "(ACCEPTED), newest first."
    )
    async def institution_ledger(
        self,
        info: Info,
        institution_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        role: LedgerRole | None = None,
        status: str | None = None,
    ) -> LedgerConnection:
        return await read_ledger(info, institution_id, first, after, role, status)

    @field(
        description="The uploading institution, officers and auditors: an intake job (POST "
        "/intake) with its counts and refused lines; null for an unknown id."
    )
    async def intake_job(self, info: Info, id: strawberry.ID) -> IntakeJob | None:
        return await read_intake_job(info, id)

    @field(
        description="Officers and auditors: deposits refused for naming the wrong learner, "
        "newest first (of one institution when given)."
    )
    async def identity_failures(
        self, info: Info, institution_id: strawberry.ID | None = None, first: int | None = None
    ) -> list[security.IdentityFailure]:
        return await security.identity_failures(info, institution_id, first)

    @field(
        description="Officers and auditors: events the views could not take, oldest first "
        "(their accounts' views are stale; docs/operations.md)."
    )
    async def parked_events(
        self, info: Info, first: int | None = None
    ) -> list[security.ParkedEvent]:
        return await security.parked(info, first)

    @field(description="Auditors and officers: verify the tamper-evident history.")
    async def audit_report(self, info: Info) -> AuditReport:
        bank, keys = info.context.bank, info.context.exporter.keys
        report = await info.context.run(audit.verify, bank.recorder, bank.database, keys)
        return AuditReport(
            ok=report.ok,
            accounts=report.accounts,
            events=report.events,
            checkpoint_id=report.checkpoint_id,
            checkpoint_position=report.checkpoint_position,
            problems=report.problems,
        )

    @field(
        description="Public: verifies a credential issued by the bank or a registered issuer: a "
        "VC-JWT, or JSON with a Data Integrity proof (eddsa-rdfc-2022)."
    )
    async def verify_credential(self, info: Info, credential: str) -> VerificationResult:
        try:
            check_anonymous_verification(info, credential)  # size and rate, before any work
            verification = await info.context.run(info.context.exporter.inspect, credential)
        except DomainError as exc:  # the limits, or the bank's own material (UNAVAILABLE)
            return VerificationResult.refused(exc)
        return VerificationResult.of(verification)
