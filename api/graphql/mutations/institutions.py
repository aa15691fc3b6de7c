"""Institutions (administrators): registration, signing keys, suspension."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from api.graphql.catalogue import Institution
from api.graphql.common import InstitutionKind
from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, command, result, shown_as
from domain.credit_schemes import CreditEquivalence, CreditScheme


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
    hours_per_credit: Decimal | None = strawberry.field(
        default=None,
        description="the institution's credit scheme: notional learning hours per one of its "
        "own credits (normalises claimed credits); default: it counts framework credits",
    )


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
class CreditEquivalenceInput:
    native: Decimal = strawberry.field(description="a credit value the institution awards")
    framework: Decimal = strawberry.field(description="what it is worth on the framework")


@strawberry.input(
    description="How an institution's credits compare with the framework's: hours per credit, "
    "or a table (for schemes that are not proportional), for the learning completed from "
    "effectiveFrom (default: all of it). A later declaration takes over from its date."
)
class DeclareCreditSchemeInput:
    institution_id: strawberry.ID
    hours_per_credit: Decimal | None = None
    table: list[CreditEquivalenceInput] | None = None
    effective_from: date | None = None


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
            i.name,
            i.kind,
            i.public_key_jwk,
            i.issuer_uri,
            i.key_valid_from,
            i.key_valid_until,
            i.hours_per_credit,
        ),
        NEW,
    )
    declare_credit_scheme = command(
        "Officers record an institution's credit scheme (normalises the credits it claims).",
        DeclareCreditSchemeInput,
        InstitutionPayload,
        lambda c, ids, i: c.bank.declare_credit_scheme(
            ids.institution_id,
            CreditScheme(
                hours_per_credit=i.hours_per_credit,
                table=tuple(
                    CreditEquivalence(native=r.native, framework=r.framework) for r in i.table or ()
                ),
                effective_from=i.effective_from,
            ),
        ),
        INSTITUTION,
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
