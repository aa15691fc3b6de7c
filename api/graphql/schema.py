"""The GraphQL schema: queries and mutations (names as in CONTRACT.graphql)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.scalars import JSON

from api.auth import Role as AuthRole
from api.graphql.context import Info
from api.graphql.errors import ApiError, UserError, user_error
from api.graphql.pagination import paginate
from api.graphql.types import (
    Framework,
    IdentityVerification,
    Institution,
    InstitutionConnection,
    InstitutionEdge,
    InstitutionKind,
    Learner,
    PageInfo,
    Viewer,
    parse_id,
)
from domain.errors import DomainError, NotFound

STAFF = (AuthRole.OFFICER, AuthRole.AUDITOR, AuthRole.ADMIN)


@strawberry.type
class Query:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(role=p.role, subject=strawberry.ID(p.subject) if p.subject else None)

    @strawberry.field(description="Public: the active qualifications framework.")
    def framework(self, info: Info) -> Framework:
        return Framework.of(info.context.bank.framework)

    @strawberry.field(description="Public: registered institutions, oldest first.")
    async def institutions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        kind: InstitutionKind | None = None,  # type: ignore[valid-type]
    ) -> InstitutionConnection:
        found = await info.context.run(info.context.bank.institutions)
        rows = [Institution.of(i) for i in found if kind is None or i.kind is kind]
        page = paginate(rows, key=lambda i: _ordinal(rows, i), first=first, after=after)
        return InstitutionConnection(
            edges=[InstitutionEdge(cursor=c, node=n) for c, n in page.items],
            page_info=_page_info(page),
        )

    @strawberry.field(description="Public: one institution.")
    async def institution(self, info: Info, id: strawberry.ID) -> Institution | None:
        try:
            found = await info.context.run(info.context.bank.institution, parse_id(id))
        except NotFound:
            return None
        return Institution.of(found)

    @strawberry.field(description="A learner: the learner themself, officers and auditors.")
    async def learner(self, info: Info, id: strawberry.ID) -> Learner | None:
        p = info.context.require()
        learner_id = parse_id(id)
        if p.role is AuthRole.LEARNER:
            if p.subject != str(learner_id):
                raise ApiError("FORBIDDEN", "learners see only their own account")
        elif p.role not in STAFF:
            raise ApiError(
                "FORBIDDEN", f"role {p.role.value if p.role else '-'} may not read learners"
            )
        try:
            found = await info.context.run(info.context.bank.learner, learner_id)
        except NotFound:
            return None
        return Learner.of(found)


def _ordinal(rows: list[Institution], item: Institution) -> str:
    # Listing order is registration order; zero-padded so cursors compare as strings.
    return f"{rows.index(item):012d}"


def _page_info(page: Any) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=page.items[0][0] if page.items else None,
        end_cursor=page.items[-1][0] if page.items else None,
    )


@strawberry.input
class RegisterInstitutionInput:
    name: str
    kind: InstitutionKind  # type: ignore[valid-type]
    public_key_jwk: JSON = strawberry.field(
        description="public JWK (OKP Ed25519 or RSA) with a kid; credentials it signs carry that "
        "kid in their header"
    )
    issuer_uri: str | None = strawberry.field(
        default=None,
        description="the issuer.id its credentials carry; defaults to urn:uuid:<institution id>",
    )


@strawberry.type
class RegisterInstitutionPayload:
    institution: Institution | None
    errors: list[UserError]


@strawberry.input
class RegisterLearnerInput:
    name: str
    identity_document_type: str
    identity_document_number: str
    birth_date: date


@strawberry.type
class RegisterLearnerPayload:
    learner: Learner | None
    errors: list[UserError]


@strawberry.input
class VerifyLearnerIdentityInput:
    learner_id: strawberry.ID
    method: IdentityVerification  # type: ignore[valid-type]


@strawberry.type
class VerifyLearnerIdentityPayload:
    learner: Learner | None
    errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admins register institutions with their first signing key.")
    async def register_institution(
        self,
        info: Info,
        input: RegisterInstitutionInput,
    ) -> RegisterInstitutionPayload:
        info.context.require(AuthRole.ADMIN)
        bank = info.context.bank
        try:
            institution_id = await info.context.run(
                bank.register_institution, input.name, input.kind, input.public_key_jwk,
                input.issuer_uri,
            )  # fmt: skip
            institution = await info.context.run(bank.institution, institution_id)
        except DomainError as exc:
            return RegisterInstitutionPayload(institution=None, errors=[user_error(exc)])
        return RegisterInstitutionPayload(institution=Institution.of(institution), errors=[])

    @strawberry.mutation(description="Officers open a learner's account.")
    async def register_learner(
        self,
        info: Info,
        input: RegisterLearnerInput,
    ) -> RegisterLearnerPayload:
        info.context.require(AuthRole.OFFICER, AuthRole.ADMIN)
        bank = info.context.bank
        try:
            learner_id = await info.context.run(
                bank.register_learner, input.name, input.identity_document_type,
                input.identity_document_number, input.birth_date,
            )  # fmt: skip
            learner = await info.context.run(bank.learner, learner_id)
        except DomainError as exc:
            return RegisterLearnerPayload(learner=None, errors=[user_error(exc)])
        return RegisterLearnerPayload(learner=Learner.of(learner), errors=[])

    @strawberry.mutation(description="Officers record how a learner's identity was verified.")
    async def verify_learner_identity(
        self,
        info: Info,
        input: VerifyLearnerIdentityInput,
    ) -> VerifyLearnerIdentityPayload:
        p = info.context.require(AuthRole.OFFICER)
        bank = info.context.bank
        try:
            learner_id = _input_id(input.learner_id, "learnerId")
            await info.context.run(bank.verify_learner_identity, learner_id, input.method, p.actor)
            learner = await info.context.run(bank.learner, learner_id)
        except DomainError as exc:
            return VerifyLearnerIdentityPayload(learner=None, errors=[user_error(exc)])
        return VerifyLearnerIdentityPayload(learner=Learner.of(learner), errors=[])


def _input_id(value: str, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"{field} is not a valid id", (field,)) from None


class CreditBankSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Expected errors (typed codes) are answers, not incidents; unexpected ones are logged
        once, with their traceback, where the response masks them (api.graphql.errors.mask)."""


def build_schema() -> strawberry.Schema:
    return CreditBankSchema(
        query=Query,
        mutation=Mutation,
        extensions=[
            # Limiters are passed as factories: strawberry builds one per operation.
            partial(QueryDepthLimiter, max_depth=10),
            partial(MaxTokensLimiter, max_token_count=2000),
            partial(MaxAliasesLimiter, max_alias_count=15),
        ],
    )
