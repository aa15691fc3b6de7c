"""Query fields (names as in CONTRACT.graphql, plus extensions)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry

from api.auth import Role
from api.graphql import authz
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
from api.graphql.errors import ApiError, UserError, user_error
from api.graphql.learners import Learner, LearnerConnection, LearnerEdge, Outcome
from api.graphql.organizations import Organization
from api.graphql.pagination import after_int, keyset_page, page_size
from application import audit
from domain import values
from domain.errors import DomainError
from projections import catalogue, transcript


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


@strawberry.type
class VerificationResult:
    valid: bool
    issuer: str | None
    revoked: bool
    errors: list[UserError]


async def _catalogue_page(
    info: Info, entry_type: str, first: int | None, after: str | None, kind: str | None = None
) -> Any:
    limit = page_size(first)
    rows = await info.context.read(
        catalogue.read_page, entry_type, after_int(after), limit + 1, kind
    )
    return keyset_page(rows, lambda r: str(r[1]), limit, after)


async def _entry(info: Info, entry_id: str, entry_type: str) -> Any:
    entry = await info.context.loader("catalogue", catalogue.read_entries).load(entry_id)
    return entry if entry is not None and entry[7] == entry_type else None


async def _learner(info: Info, id: str) -> Learner | None:
    learner_id = parse_id(id)
    p = info.context.require()
    if not (authz.is_self(p, learner_id) or p.role in authz.READERS):
        await authz.account_access(info, learner_id)  # enterprises with consent in force
    entry = await _entry(info, str(learner_id), "learner")
    return None if entry is None else Learner.of_entry(entry)


@strawberry.type
class Query:
    @strawberry.field(
        description="Any object by id: institutions, qualifications, rules, learners, outcomes."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        key = str(parse_id(id))
        entry = await info.context.loader("catalogue", catalogue.read_entries).load(key)
        if entry is not None:
            kind = entry[7]
            if kind == "institution":
                return Institution.of(entry[:7])
            if kind == "qualification":
                return Qualification.of(entry[:7])
            if kind == "conversion_rule":
                return ConversionRule.of(entry[:7])
            if kind == "recognition_rule":
                return RecognitionRule.of(entry[:7])
            if kind == "learner":
                return await _learner(info, id)
            return None
        row = await info.context.loader("outcomes", transcript.read_outcomes).load(key)
        if row is None:
            return None
        scope = await authz.account_access(info, UUID(row["learner_id"]))
        if scope != "ALL" and row["kind"] != values.OutcomeKind.ENTERPRISE_TRAINING.value:
            raise ApiError("FORBIDDEN", "the consent covers enterprise training only")
        return Outcome.of_row(row)

    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(role=p.role, subject=strawberry.ID(p.subject) if p.subject else None)

    @strawberry.field(description="Public: the active qualifications framework.")
    def framework(self, info: Info) -> Framework:
        return Framework.of(info.context.bank.framework)

    @strawberry.field(description="Public: registered institutions, in registration order.")
    async def institutions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kind: InstitutionKind | None = None,  # type: ignore[valid-type]
    ) -> InstitutionConnection:
        page = await _catalogue_page(
            info, "institution", first, after, values.InstitutionKind(kind).value if kind else None
        )
        return InstitutionConnection(
            edges=[InstitutionEdge(cursor=c, node=Institution.of(r)) for c, r in page.items],
            page_info=PageInfo.of(page),
        )

    @strawberry.field(description="Public: one institution.")
    async def institution(self, info: Info, id: strawberry.ID) -> Institution | None:
        entry = await _entry(info, str(parse_id(id)), "institution")
        return None if entry is None else Institution.of(entry[:7])

    @strawberry.field(description="Public: qualifications, in creation order.")
    async def qualifications(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> QualificationConnection:
        page = await _catalogue_page(info, "qualification", first, after)
        return QualificationConnection(
            edges=[QualificationEdge(cursor=c, node=Qualification.of(r)) for c, r in page.items],
            page_info=PageInfo.of(page),
        )

    @strawberry.field(description="Public: one qualification.")
    async def qualification(self, info: Info, id: strawberry.ID) -> Qualification | None:
        entry = await _entry(info, str(parse_id(id)), "qualification")
        return None if entry is None else Qualification.of(entry[:7])

    @strawberry.field(description="Public: conversion rules and their current versions.")
    async def conversion_rules(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ConversionRuleConnection:
        page = await _catalogue_page(info, "conversion_rule", first, after)
        return ConversionRuleConnection(
            edges=[ConversionRuleEdge(cursor=c, node=ConversionRule.of(r)) for c, r in page.items],
            page_info=PageInfo.of(page),
        )

    @strawberry.field(description="Public: the learning-outcome standards catalogue.")
    async def standards(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> OutcomeStandardConnection:
        page = await _catalogue_page(info, "standard", first, after)
        return OutcomeStandardConnection(
            edges=[
                OutcomeStandardEdge(cursor=c, node=OutcomeStandard.of(r)) for c, r in page.items
            ],
            page_info=PageInfo.of(page),
        )

    @strawberry.field(description="Public: recognition rules and their current versions.")
    async def recognition_rules(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> RecognitionRuleConnection:
        page = await _catalogue_page(info, "recognition_rule", first, after)
        return RecognitionRuleConnection(
            edges=[
                RecognitionRuleEdge(cursor=c, node=RecognitionRule.of(r)) for c, r in page.items
            ],
            page_info=PageInfo.of(page),
        )

    @strawberry.field(
        description="A learner: themself, officers, auditors, consenting enterprises."
    )
    async def learner(self, info: Info, id: strawberry.ID) -> Learner | None:
        return await _learner(info, id)

    @strawberry.field(description="Officers and auditors: learners, in registration order.")
    async def learners(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        identity_verification: IdentityVerification | None = None,  # type: ignore[valid-type]
    ) -> LearnerConnection:
        info.context.require(*authz.READERS)
        kind = (
            values.IdentityVerification(identity_verification).value
            if identity_verification
            else None
        )
        page = await _catalogue_page(info, "learner", first, after, kind)
        return LearnerConnection(
            edges=[LearnerEdge(cursor=c, node=Learner.of_entry(r)) for c, r in page.items],
            page_info=PageInfo.of(page),
        )

    @strawberry.field(description="An enterprise's consenting employees and their training.")
    async def organization(self, info: Info, id: strawberry.ID) -> Organization | None:
        org_id = parse_id(id)
        p = info.context.require(Role.ENTERPRISE, *authz.READERS)
        if p.role is Role.ENTERPRISE and not authz.subject_is(p, org_id):
            raise authz.forbid("an enterprise sees only its own employees")
        entry = await _entry(info, str(org_id), "institution")
        if entry is None or entry[3] != values.InstitutionKind.ENTERPRISE.value:
            return None
        return Organization(id=gid(org_id), name=entry[2])

    @strawberry.field(description="Auditors and officers: verify the tamper-evident history.")
    async def audit_report(self, info: Info) -> AuditReport:
        info.context.require(Role.AUDITOR, Role.OFFICER)
        bank, exporter = info.context.bank, info.context.exporter
        if exporter is None:
            raise ApiError("INVALID_INPUT", "the bank's signing key is not configured")
        report = await info.context.run(audit.verify, bank.recorder, bank.database, exporter.keys)
        return AuditReport(
            ok=report.ok,
            accounts=report.accounts,
            events=report.events,
            checkpoint_id=report.checkpoint_id,
            checkpoint_position=report.checkpoint_position,
            problems=report.problems,
        )

    @strawberry.field(
        description="Public: verifies a credential issued by the bank or a registered issuer: a "
        "VC-JWT, or JSON with a Data Integrity proof (eddsa-rdfc-2022)."
    )
    async def verify_credential(self, info: Info, credential: str) -> VerificationResult:
        exporter = info.context.exporter
        try:
            if exporter is not None:
                issuer, revoked = await info.context.run(exporter.verify, credential)
            else:
                verified = await info.context.run(info.context.bank.verify_credential, credential)
                issuer, revoked = verified.issuer.issuer_uri, False
        except DomainError as exc:
            return VerificationResult(
                valid=False, issuer=None, revoked=False, errors=[user_error(exc)]
            )
        return VerificationResult(valid=True, issuer=issuer, revoked=revoked, errors=[])
