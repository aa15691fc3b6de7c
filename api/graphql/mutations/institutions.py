"""Institutions (administrators): registration, signing keys, suspension."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from api.graphql.catalogue import Institution
from api.graphql.common import InstitutionKind
from api.graphql.context import Info
from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, Ids, mutate, mutation, result, shown_as
from application.bank import CreditBank


@strawberry.input
class RegisterInstitutionInput:
    name: str
    kind: InstitutionKind  # type: ignore[valid-type]
    public_key_jwk: JSON = strawberry.field(
        description="public JWK (OKP Ed25519, or RSA of 2048 bits or more) with a kid; "
        "credentials it signs carry that kid in their header"
    )
    issuer_uri: str | None = strawberry.field(
        default=None,
        description="the issuer.id its credentials carry; defaults to urn:uuid:<institution id>",
    )
    key_valid_from: datetime | None = strawberry.field(
        default=None,
        description="when the first key started signing (an institution joining with years of "
        "credentials behind it); default: now",
    )
    key_valid_until: datetime | None = None


@strawberry.type
class RegisterInstitutionPayload:
    institution: Institution | None = None
    errors: list[UserError]


@strawberry.input
class AddInstitutionKeyInput:
    institution_id: strawberry.ID
    public_key_jwk: JSON
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@strawberry.input
class RetireInstitutionKeyInput:
    institution_id: strawberry.ID
    kid: str


@strawberry.input
class SuspendInstitutionInput:
    institution_id: strawberry.ID
    reason: str


@strawberry.input
class ReactivateInstitutionInput:
    institution_id: strawberry.ID


@strawberry.type
class InstitutionPayload:
    institution: Institution | None = None
    errors: list[UserError]


NEW = Back("institution", shown_as(Institution), result)
INSTITUTION = Back("institution", shown_as(Institution), lambda ids, _: ids.institution_id)


@strawberry.type
class InstitutionMutations:
    @mutation(description="Admins register an institution with its first signing key.")
    async def register_institution(
        self, info: Info, input: RegisterInstitutionInput
    ) -> RegisterInstitutionPayload:
        def command(bank: CreditBank, ids: Ids) -> UUID:
            i = input
            jwk: Any = i.public_key_jwk  # a JSON object: the domain checks its shape
            since, until = i.key_valid_from, i.key_valid_until
            return bank.register_institution(i.name, i.kind, jwk, i.issuer_uri, since, until)

        return await mutate(info, RegisterInstitutionPayload, input, command, NEW)

    @mutation(description="Admins add a signing key (key rotation).")
    async def add_institution_key(
        self, info: Info, input: AddInstitutionKeyInput
    ) -> InstitutionPayload:
        def command(bank: CreditBank, ids: Ids) -> str:
            i = input
            jwk: Any = i.public_key_jwk  # a JSON object: the domain checks its shape
            return bank.add_institution_key(ids.institution_id, jwk, i.valid_from, i.valid_until)

        return await mutate(info, InstitutionPayload, input, command, INSTITUTION)

    @mutation(description="Admins retire a key: credentials it signed later fail.")
    async def retire_institution_key(
        self, info: Info, input: RetireInstitutionKeyInput
    ) -> InstitutionPayload:
        def command(bank: CreditBank, ids: Ids) -> None:
            bank.retire_institution_key(ids.institution_id, input.kid)

        return await mutate(info, InstitutionPayload, input, command, INSTITUTION)

    @mutation(description="Admins suspend an institution: it can no longer deposit.")
    async def suspend_institution(
        self, info: Info, input: SuspendInstitutionInput
    ) -> InstitutionPayload:
        def command(bank: CreditBank, ids: Ids) -> None:
            bank.suspend_institution(ids.institution_id, input.reason)

        return await mutate(info, InstitutionPayload, input, command, INSTITUTION)

    @mutation(description="Admins reactivate a suspended institution.")
    async def reactivate_institution(
        self, info: Info, input: ReactivateInstitutionInput
    ) -> InstitutionPayload:
        def command(bank: CreditBank, ids: Ids) -> None:
            bank.reactivate_institution(ids.institution_id)

        return await mutate(info, InstitutionPayload, input, command, INSTITUTION)
