"""Institutions (administrators): registration, signing keys, suspension."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.graphql.catalogue import Institution
from api.graphql.common import InstitutionKind
from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, command, result, shown_as


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
    register_institution = command(
        "Admins register an institution with its first signing key.",
        RegisterInstitutionInput,
        RegisterInstitutionPayload,
        lambda c, ids, i: c.bank.register_institution(
            i.name, i.kind, i.public_key_jwk, i.issuer_uri, i.key_valid_from, i.key_valid_until
        ),
        NEW,
    )
    add_institution_key = command(
        "Admins add a signing key (key rotation).",
        AddInstitutionKeyInput,
        InstitutionPayload,
        lambda c, ids, i: c.bank.add_institution_key(
            ids.institution_id, i.public_key_jwk, i.valid_from, i.valid_until
        ),
        INSTITUTION,
    )
    retire_institution_key = command(
        "Admins retire a key: credentials it signed later fail.",
        RetireInstitutionKeyInput,
        InstitutionPayload,
        lambda c, ids, i: c.bank.retire_institution_key(ids.institution_id, i.kid),
        INSTITUTION,
    )
    suspend_institution = command(
        "Admins suspend an institution: it can no longer deposit.",
        SuspendInstitutionInput,
        InstitutionPayload,
        lambda c, ids, i: c.bank.suspend_institution(ids.institution_id, i.reason),
        INSTITUTION,
    )
    reactivate_institution = command(
        "Admins reactivate a suspended institution.",
        ReactivateInstitutionInput,
        InstitutionPayload,
        lambda c, ids, i: c.bank.reactivate_institution(ids.institution_id),
        INSTITUTION,
    )
