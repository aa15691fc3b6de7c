"""Mutations: one ``input``, a payload with the result and ``errors`` (empty on success).

Each resolver checks who may call it, runs the command in the threadpool, waits until the views
include what it saved (read-your-writes), and reads the result back from the views. A refused
command (a domain error) becomes a typed ``UserError``; nothing was stored.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from api.auth import Role
from api.graphql import authz
from api.graphql.catalogue import (
    ConversionRule,
    Institution,
    OutcomeStandard,
    Qualification,
    RecognitionRule,
)
from api.graphql.common import (
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    RuleModel,
    input_id,
)
from api.graphql.common import credits as to_credits
from api.graphql.context import Info
from api.graphql.errors import UserError, user_error
from api.graphql.learners import Learner, Outcome, QualificationProgress
from domain import values
from domain.errors import DomainError, InvalidInput
from domain.learner import DOCUMENT_TYPES
from domain.qualification import CategoryMinimum, LevelMinimum, Requirements
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from projections import catalogue, progress, transcript

P = TypeVar("P")


async def attempt(payload: Callable[..., P], action: Callable[[], Awaitable[dict[str, Any]]]) -> P:
    try:
        fields = await action()
    except DomainError as exc:
        return payload(errors=[user_error(exc)])
    return payload(errors=[], **fields)


async def _entry(info: Info, entry_id: UUID) -> Any:
    found = await info.context.read(catalogue.read_entries, [str(entry_id)])
    entry = found.get(str(entry_id))
    return None if entry is None else entry[:7]


async def _institution(info: Info, institution_id: UUID) -> dict[str, Any]:
    """The payload field of the institution mutations, read back from the catalogue."""
    entry = await _entry(info, institution_id)
    return {"institution": entry and Institution.of(entry)}


async def _learner(info: Info, learner_id: UUID) -> dict[str, Any]:
    entry = await _entry(info, learner_id)
    return {"learner": entry and Learner.of_entry(entry)}


async def _outcome(info: Info, outcome_id: UUID) -> Outcome | None:
    found = await info.context.read(transcript.read_outcomes, [str(outcome_id)])
    row = found.get(str(outcome_id))
    return None if row is None else Outcome.of_row(row)


# -- inputs and payloads (contract names) -------------------------------------------------------
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
    key_valid_from: datetime | None = None
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


@strawberry.input
class RegisterLearnerInput:
    name: str
    identity_document_type: str = strawberry.field(
        description="one of " + ", ".join(sorted(DOCUMENT_TYPES)) + " (case-insensitive)"
    )
    identity_document_number: str = strawberry.field(
        description="as printed; compared without spaces, dashes or case"
    )
    birth_date: date


@strawberry.type
class RegisterLearnerPayload:
    learner: Learner | None = None
    errors: list[UserError]


@strawberry.input
class VerifyLearnerIdentityInput:
    learner_id: strawberry.ID
    method: IdentityVerification  # type: ignore[valid-type]


@strawberry.type
class VerifyLearnerIdentityPayload:
    learner: Learner | None = None
    errors: list[UserError]


@strawberry.input
class EraseLearnerInput:
    learner_id: strawberry.ID


@strawberry.type
class EraseLearnerPayload:
    errors: list[UserError]


@strawberry.input(
    description="credential: an Open Badges 3.0 AchievementCredential as compact VC-JWT, or as "
    "JSON with a Data Integrity proof."
)
class DepositCredentialInput:
    learner_id: strawberry.ID
    credential: str


@strawberry.type
class DepositCredentialPayload:
    outcome: Outcome | None = None
    errors: list[UserError]


@strawberry.input
class RecognizeOutcomeInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID
    credits: Decimal | None = None
    level: int | None = None
    category: str | None = None


@strawberry.type
class RecognizeOutcomePayload:
    outcome: Outcome | None = None
    errors: list[UserError]


@strawberry.input
class RejectOutcomeInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID
    reason: str


@strawberry.type
class RejectOutcomePayload:
    outcome: Outcome | None = None
    errors: list[UserError]


@strawberry.input
class ConvertCreditsInput:
    learner_id: strawberry.ID
    outcome_ids: list[strawberry.ID]
    conversion_rule_id: strawberry.ID


@strawberry.type
class ConvertCreditsPayload:
    outcomes: list[Outcome] = strawberry.field(default_factory=list)
    errors: list[UserError]


@strawberry.input
class RedeemQualificationInput:
    learner_id: strawberry.ID
    qualification_id: strawberry.ID


@strawberry.type
class RedeemQualificationPayload:
    progress: QualificationProgress | None = None
    errors: list[UserError]


@strawberry.input
class RevokeOutcomeInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID
    reason: str


@strawberry.type
class RevokeOutcomePayload:
    outcome: Outcome | None = None
    errors: list[UserError]


@strawberry.input(description="scope: TRAINING (enterprise-training outcomes only) or ALL")
class GrantConsentInput:
    learner_id: strawberry.ID
    organization_id: strawberry.ID
    scope: str = strawberry.field(
        description="TRAINING: the enterprise-training outcomes only; ALL: the whole record"
    )
    expires_on: date | None = strawberry.field(
        default=None, description="the last day the consent holds (default: until revoked)"
    )


@strawberry.type
class GrantConsentPayload:
    errors: list[UserError]


@strawberry.input
class RevokeConsentInput:
    learner_id: strawberry.ID
    organization_id: strawberry.ID


@strawberry.type
class RevokeConsentPayload:
    errors: list[UserError]


@strawberry.input
class ExportTranscriptInput:
    learner_id: strawberry.ID


@strawberry.input
class ExportOutcomeInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID


@strawberry.type(
    description="credential: a CLR 2.0 ClrCredential signed by the bank, as compact VC-JWT."
)
class ExportTranscriptPayload:
    credential: str | None = None
    errors: list[UserError]


@strawberry.input
class CreateRecognitionRuleInput:
    name: str
    model: RuleModel  # type: ignore[valid-type]
    issuer_id: strawberry.ID | None = None
    kind: OutcomeKind | None = None  # type: ignore[valid-type]
    standard_code: str | None = None
    credits: Decimal | None = None
    level: int
    category: str
    valid_from: date | None = None
    valid_until: date | None = None


@strawberry.type
class CreateRecognitionRulePayload:
    rule: RecognitionRule | None = None
    errors: list[UserError]


@strawberry.input
class AmendRecognitionRuleInput:
    rule_id: strawberry.ID
    issuer_id: strawberry.ID | None = None
    kind: OutcomeKind | None = None  # type: ignore[valid-type]
    standard_code: str | None = None
    credits: Decimal | None = None
    level: int
    category: str
    valid_from: date | None = None
    valid_until: date | None = None


@strawberry.input
class RetireRuleInput:
    rule_id: strawberry.ID


@strawberry.type
class RecognitionRulePayload:
    rule: RecognitionRule | None = None
    errors: list[UserError]


@strawberry.input
class CreateConversionRuleInput:
    name: str
    model: RuleModel  # type: ignore[valid-type]
    source_institution_id: strawberry.ID | None = None
    source_kind: OutcomeKind | None = None  # type: ignore[valid-type]
    source_standard_code: str | None = None
    target_institution_id: strawberry.ID
    target_code: str
    target_category: str
    ratio: Decimal
    max_credits_per_learner: Decimal | None = None
    valid_from: date | None = None
    valid_until: date | None = None


@strawberry.type
class CreateConversionRulePayload:
    rule: ConversionRule | None = None
    errors: list[UserError]


@strawberry.input
class AmendConversionRuleInput:
    rule_id: strawberry.ID
    source_institution_id: strawberry.ID | None = None
    source_kind: OutcomeKind | None = None  # type: ignore[valid-type]
    source_standard_code: str | None = None
    target_institution_id: strawberry.ID
    target_code: str
    target_category: str
    ratio: Decimal
    max_credits_per_learner: Decimal | None = None
    valid_from: date | None = None
    valid_until: date | None = None


@strawberry.type
class ConversionRulePayload:
    rule: ConversionRule | None = None
    errors: list[UserError]


@strawberry.input
class CategoryMinimumInput:
    category: str
    credits: Decimal


@strawberry.input
class LevelMinimumInput:
    level: int
    credits: Decimal


@strawberry.input
class CreateQualificationInput:
    name: str
    level: int
    awarding_institution_id: strawberry.ID
    total_credits: Decimal
    minimum_by_category: list[CategoryMinimumInput] | None = None
    max_converted_share: Decimal | None = strawberry.field(
        default=None,
        description="0..1: the largest share of the total that may come from conversions",
    )
    max_credits_per_institution: Decimal | None = None
    minimum_at_level: list[LevelMinimumInput] | None = None
    required_standards: list[str] | None = None
    max_credits_per_year: Decimal | None = None


@strawberry.type
class CreateQualificationPayload:
    qualification: Qualification | None = None
    errors: list[UserError]


@strawberry.input
class AmendQualificationInput:
    qualification_id: strawberry.ID
    total_credits: Decimal
    minimum_by_category: list[CategoryMinimumInput] | None = None
    max_converted_share: Decimal | None = None
    max_credits_per_institution: Decimal | None = None
    minimum_at_level: list[LevelMinimumInput] | None = None
    required_standards: list[str] | None = None
    max_credits_per_year: Decimal | None = None


@strawberry.input
class RetireQualificationInput:
    qualification_id: strawberry.ID


@strawberry.type
class QualificationPayload:
    qualification: Qualification | None = None
    errors: list[UserError]


@strawberry.input
class DefineStandardInput:
    code: str
    title: str
    level: int
    credits: Decimal
    accepted_kinds: list[OutcomeKind]  # type: ignore[valid-type]


@strawberry.type
class DefineStandardPayload:
    standard: OutcomeStandard | None = None
    errors: list[UserError]


def _recognition_terms(i: Any) -> RecognitionTerms:
    return RecognitionTerms(
        criteria=OutcomeCriteria(
            input_id(i.issuer_id, "issuerId") if i.issuer_id else None, i.kind, i.standard_code
        ),
        credits=i.credits,
        level=i.level,
        category=i.category,
        valid_from=i.valid_from,
        valid_until=i.valid_until,
    )


def _conversion_terms(i: Any) -> ConversionTerms:
    return ConversionTerms(
        criteria=OutcomeCriteria(
            input_id(i.source_institution_id, "sourceInstitutionId")
            if i.source_institution_id
            else None,
            i.source_kind,
            i.source_standard_code,
        ),
        target_institution_id=input_id(i.target_institution_id, "targetInstitutionId"),
        target_code=i.target_code,
        target_category=i.target_category,
        ratio=i.ratio,
        max_credits_per_learner=i.max_credits_per_learner,
        valid_from=i.valid_from,
        valid_until=i.valid_until,
    )


def _requirements(i: Any) -> Requirements:
    return Requirements(
        total_credits=i.total_credits,
        minimum_by_category=tuple(
            CategoryMinimum(m.category, m.credits) for m in i.minimum_by_category or ()
        ),
        minimum_at_level=tuple(LevelMinimum(m.level, m.credits) for m in i.minimum_at_level or ()),
        required_standards=tuple(i.required_standards or ()),
        max_converted_share=i.max_converted_share,
        max_credits_per_institution=i.max_credits_per_institution,
        max_credits_per_year=i.max_credits_per_year,
    )


MAX_JWK_CHARS = 16 * 1024


def _jwk(value: Any) -> Any:
    """A public JWK is a flat JSON object of string members (arrays of strings for key_ops and
    x5c), of bounded size: the JSON scalar would otherwise let one request store megabytes, or
    nesting deeper than the views can serialise (which stops every projection)."""

    def member(v: Any) -> bool:
        return isinstance(v, str) or (isinstance(v, list) and all(isinstance(i, str) for i in v))

    if not isinstance(value, dict) or not all(member(v) for v in value.values()):
        raise InvalidInput(
            "publicKeyJwk must be a JSON object of string members", ("publicKeyJwk",)
        )
    if len(json.dumps(value)) > MAX_JWK_CHARS:
        raise InvalidInput("publicKeyJwk is too large", ("publicKeyJwk",))
    return value


def _moment(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidInput(f"{field} needs a timezone", (field,))
    return value


@strawberry.type
class Mutation:
    # -- institutions (admins) --------------------------------------------------------------------
    @strawberry.mutation(description="Admins register an institution with its first signing key.")
    async def register_institution(
        self,
        info: Info,
        input: RegisterInstitutionInput,
    ) -> RegisterInstitutionPayload:
        info.context.require(Role.ADMIN)

        async def act() -> dict[str, Any]:
            institution_id = await info.context.command(
                info.context.bank.register_institution,
                input.name,
                input.kind,
                _jwk(input.public_key_jwk),
                input.issuer_uri,
                _moment(input.key_valid_from, "keyValidFrom"),
                _moment(input.key_valid_until, "keyValidUntil"),
            )
            return await _institution(info, institution_id)

        return await attempt(RegisterInstitutionPayload, act)

    @strawberry.mutation(description="Admins add a signing key (key rotation).")
    async def add_institution_key(
        self,
        info: Info,
        input: AddInstitutionKeyInput,
    ) -> InstitutionPayload:
        info.context.require(Role.ADMIN)

        async def act() -> dict[str, Any]:
            institution_id = input_id(input.institution_id, "institutionId")
            await info.context.command(
                info.context.bank.add_institution_key,
                institution_id,
                _jwk(input.public_key_jwk),
                _moment(input.valid_from, "validFrom"),
                _moment(input.valid_until, "validUntil"),
            )
            return await _institution(info, institution_id)

        return await attempt(InstitutionPayload, act)

    @strawberry.mutation(description="Admins retire a key: credentials it signed later fail.")
    async def retire_institution_key(
        self,
        info: Info,
        input: RetireInstitutionKeyInput,
    ) -> InstitutionPayload:
        info.context.require(Role.ADMIN)

        async def act() -> dict[str, Any]:
            institution_id = input_id(input.institution_id, "institutionId")
            await info.context.command(
                info.context.bank.retire_institution_key, institution_id, input.kid
            )
            return await _institution(info, institution_id)

        return await attempt(InstitutionPayload, act)

    @strawberry.mutation(description="Admins suspend an institution: it can no longer deposit.")
    async def suspend_institution(
        self,
        info: Info,
        input: SuspendInstitutionInput,
    ) -> InstitutionPayload:
        info.context.require(Role.ADMIN)

        async def act() -> dict[str, Any]:
            institution_id = input_id(input.institution_id, "institutionId")
            await info.context.command(
                info.context.bank.suspend_institution, institution_id, input.reason
            )
            return await _institution(info, institution_id)

        return await attempt(InstitutionPayload, act)

    @strawberry.mutation(description="Admins reactivate a suspended institution.")
    async def reactivate_institution(
        self,
        info: Info,
        input: ReactivateInstitutionInput,
    ) -> InstitutionPayload:
        info.context.require(Role.ADMIN)

        async def act() -> dict[str, Any]:
            institution_id = input_id(input.institution_id, "institutionId")
            await info.context.command(info.context.bank.reactivate_institution, institution_id)
            return await _institution(info, institution_id)

        return await attempt(InstitutionPayload, act)

    # -- learners (officers) ----------------------------------------------------------------------
    @strawberry.mutation(description="Officers open a learner's account.")
    async def register_learner(
        self,
        info: Info,
        input: RegisterLearnerInput,
    ) -> RegisterLearnerPayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            learner_id = await info.context.command(
                info.context.bank.register_learner,
                input.name,
                input.identity_document_type,
                input.identity_document_number,
                input.birth_date,
            )
            return await _learner(info, learner_id)

        return await attempt(RegisterLearnerPayload, act)

    @strawberry.mutation(description="Officers record how a learner's identity was verified.")
    async def verify_learner_identity(
        self,
        info: Info,
        input: VerifyLearnerIdentityInput,
    ) -> VerifyLearnerIdentityPayload:
        p = info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            await info.context.command(
                info.context.bank.verify_learner_identity, learner_id, input.method, p.actor
            )
            return await _learner(info, learner_id)

        return await attempt(VerifyLearnerIdentityPayload, act)

    @strawberry.mutation(description="Officers erase a learner's personal data (crypto-shredding).")
    async def erase_learner(
        self,
        info: Info,
        input: EraseLearnerInput,
    ) -> EraseLearnerPayload:
        p = info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            await info.context.command(info.context.bank.erase_learner, learner_id, p.actor)
            return {}

        return await attempt(EraseLearnerPayload, act)

    # -- the account ----------------------------------------------------------------------------
    @strawberry.mutation(description="An institution deposits a credential it issued.")
    async def deposit_credential(
        self,
        info: Info,
        input: DepositCredentialInput,
    ) -> DepositCredentialPayload:
        p = info.context.require(Role.INSTITUTION)

        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            institution_id = input_id(p.subject or "", "subject")
            outcome_id = await info.context.command(
                info.context.bank.deposit_credential,
                learner_id,
                input.credential,
                p.actor,
                institution_id,
            )
            return {"outcome": await _outcome(info, outcome_id)}

        return await attempt(DepositCredentialPayload, act)

    @strawberry.mutation(
        description="Officers recognise an outcome: by the applicable rule when no values are "
        "given, else with the credits, level and category given."
    )
    async def recognize_outcome(
        self,
        info: Info,
        input: RecognizeOutcomeInput,
    ) -> RecognizeOutcomePayload:
        p = info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            outcome_id = input_id(input.outcome_id, "outcomeId")
            await info.context.command(
                info.context.bank.recognize_outcome,
                learner_id,
                outcome_id,
                p.actor,
                input.credits,
                input.level,
                input.category,
            )
            return {"outcome": await _outcome(info, outcome_id)}

        return await attempt(RecognizeOutcomePayload, act)

    @strawberry.mutation(description="Officers reject an outcome's recognition, with a reason.")
    async def reject_outcome(
        self,
        info: Info,
        input: RejectOutcomeInput,
    ) -> RejectOutcomePayload:
        p = info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            outcome_id = input_id(input.outcome_id, "outcomeId")
            await info.context.command(
                info.context.bank.reject_outcome, learner_id, outcome_id, input.reason, p.actor
            )
            return {"outcome": await _outcome(info, outcome_id)}

        return await attempt(RejectOutcomePayload, act)

    @strawberry.mutation(description="The learner (or an officer) converts outcomes under a rule.")
    async def convert_credits(
        self,
        info: Info,
        input: ConvertCreditsInput,
    ) -> ConvertCreditsPayload:
        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            p = authz.require_learner_or(info, learner_id, Role.OFFICER)
            outcome_ids = [input_id(o, "outcomeIds") for o in input.outcome_ids]
            await info.context.command(
                info.context.bank.convert_credits,
                learner_id,
                outcome_ids,
                input_id(input.conversion_rule_id, "conversionRuleId"),
                p.actor,
            )
            outcomes = [await _outcome(info, o) for o in outcome_ids]
            return {"outcomes": [o for o in outcomes if o is not None]}

        return await attempt(ConvertCreditsPayload, act)

    @strawberry.mutation(
        description="The learner (or an officer) redeems credits for a qualification."
    )
    async def redeem_qualification(
        self,
        info: Info,
        input: RedeemQualificationInput,
    ) -> RedeemQualificationPayload:
        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            p = authz.require_learner_or(info, learner_id, Role.OFFICER)
            qualification_id = input_id(input.qualification_id, "qualificationId")
            await info.context.command(
                info.context.bank.redeem_qualification, learner_id, qualification_id, p.actor
            )
            row = await info.context.read(
                progress.read_progress, str(learner_id), str(qualification_id)
            )
            if row is None:
                return {}
            met, unmet, notes, counted, redeemed = row
            return {
                "progress": QualificationProgress(
                    met=met,
                    unmet=unmet,
                    notes=notes,
                    credits_counted=to_credits(counted),
                    redeemed=redeemed,
                    qualification_id=str(qualification_id),
                )
            }

        return await attempt(RedeemQualificationPayload, act)

    @strawberry.mutation(description="The issuer (or an officer) revokes an outcome.")
    async def revoke_outcome(
        self,
        info: Info,
        input: RevokeOutcomeInput,
    ) -> RevokeOutcomePayload:
        p = info.context.require(Role.INSTITUTION, Role.OFFICER)

        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            outcome_id = input_id(input.outcome_id, "outcomeId")
            by = input_id(p.subject or "", "subject") if p.role is Role.INSTITUTION else None
            await info.context.command(
                info.context.bank.revoke_outcome,
                learner_id,
                outcome_id,
                input.reason,
                p.actor,
                by,
            )
            return {"outcome": await _outcome(info, outcome_id)}

        return await attempt(RevokeOutcomePayload, act)

    # -- consents (the learner) ------------------------------------------------------------------
    @strawberry.mutation(description="The learner lets an enterprise see their training.")
    async def grant_consent(
        self,
        info: Info,
        input: GrantConsentInput,
    ) -> GrantConsentPayload:
        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            authz.require_learner_or(info, learner_id)
            scope = values.parse_enum(values.ConsentScope, input.scope, "scope")
            await info.context.command(
                info.context.bank.grant_consent,
                learner_id,
                input_id(input.organization_id, "organizationId"),
                scope,
                input.expires_on,
            )
            return {}

        return await attempt(GrantConsentPayload, act)

    @strawberry.mutation(description="The learner withdraws an enterprise's consent.")
    async def revoke_consent(
        self,
        info: Info,
        input: RevokeConsentInput,
    ) -> RevokeConsentPayload:
        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            authz.require_learner_or(info, learner_id)
            await info.context.command(
                info.context.bank.revoke_consent,
                learner_id,
                input_id(input.organization_id, "organizationId"),
            )
            return {}

        return await attempt(RevokeConsentPayload, act)

    @strawberry.mutation(
        description="The learner exports their record as a signed CLR 2.0 credential."
    )
    async def export_transcript(
        self,
        info: Info,
        input: ExportTranscriptInput,
    ) -> ExportTranscriptPayload:
        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            authz.require_learner_or(info, learner_id)
            exporter = info.context.exporter
            if exporter is None:
                raise InvalidInput("transcript export is not configured on this service")
            token = await info.context.run(exporter.export_transcript, learner_id)
            return {"credential": token}

        return await attempt(ExportTranscriptPayload, act)

    @strawberry.mutation(
        description="The learner exports one recognised outcome as an OB 3.0 AchievementCredential."
    )
    async def export_outcome(
        self,
        info: Info,
        input: ExportOutcomeInput,
    ) -> ExportTranscriptPayload:
        async def act() -> dict[str, Any]:
            learner_id = input_id(input.learner_id, "learnerId")
            authz.require_learner_or(info, learner_id)
            exporter = info.context.exporter
            if exporter is None:
                raise InvalidInput("export is not configured on this service")
            token = await info.context.run(
                exporter.export_outcome, learner_id, input_id(input.outcome_id, "outcomeId")
            )
            return {"credential": token}

        return await attempt(ExportTranscriptPayload, act)

    # -- rules and qualifications (officers) -------------------------------------------------------
    @strawberry.mutation(description="Officers add a learning-outcome standard to the catalogue.")
    async def define_standard(
        self,
        info: Info,
        input: DefineStandardInput,
    ) -> DefineStandardPayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            standard_id = await info.context.command(
                info.context.bank.define_standard,
                input.code,
                input.title,
                input.level,
                input.credits,
                tuple(input.accepted_kinds),
            )
            entry = await _entry(info, standard_id)
            return {"standard": entry and OutcomeStandard.of(entry)}

        return await attempt(DefineStandardPayload, act)

    @strawberry.mutation(description="Officers create a recognition rule (version 1).")
    async def create_recognition_rule(
        self,
        info: Info,
        input: CreateRecognitionRuleInput,
    ) -> CreateRecognitionRulePayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            rule_id = await info.context.command(
                info.context.bank.create_recognition_rule,
                input.name,
                input.model,
                _recognition_terms(input),
            )
            entry = await _entry(info, rule_id)
            return {"rule": entry and RecognitionRule.of(entry)}

        return await attempt(CreateRecognitionRulePayload, act)

    @strawberry.mutation(description="Officers amend a recognition rule: a new version.")
    async def amend_recognition_rule(
        self,
        info: Info,
        input: AmendRecognitionRuleInput,
    ) -> RecognitionRulePayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            rule_id = input_id(input.rule_id, "ruleId")
            await info.context.command(
                info.context.bank.amend_recognition_rule, rule_id, _recognition_terms(input)
            )
            entry = await _entry(info, rule_id)
            return {"rule": entry and RecognitionRule.of(entry)}

        return await attempt(RecognitionRulePayload, act)

    @strawberry.mutation(description="Officers retire a recognition rule.")
    async def retire_recognition_rule(
        self,
        info: Info,
        input: RetireRuleInput,
    ) -> RecognitionRulePayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            rule_id = input_id(input.rule_id, "ruleId")
            await info.context.command(info.context.bank.retire_recognition_rule, rule_id)
            entry = await _entry(info, rule_id)
            return {"rule": entry and RecognitionRule.of(entry)}

        return await attempt(RecognitionRulePayload, act)

    @strawberry.mutation(
        description="Officers create conversion rules; an institution may publish an agreement "
        "rule into its own scheme."
    )
    async def create_conversion_rule(
        self,
        info: Info,
        input: CreateConversionRuleInput,
    ) -> CreateConversionRulePayload:
        p = info.context.require(Role.OFFICER, Role.INSTITUTION)

        async def act() -> dict[str, Any]:
            terms = _conversion_terms(input)
            if p.role is Role.INSTITUTION and not (
                input.model is values.RuleModel.AGREEMENT
                and authz.subject_is(p, terms.target_institution_id)
            ):
                raise authz.forbid("institutions publish agreement rules into their own scheme")
            rule_id = await info.context.command(
                info.context.bank.create_conversion_rule, input.name, input.model, terms
            )
            entry = await _entry(info, rule_id)
            return {"rule": entry and ConversionRule.of(entry)}

        return await attempt(CreateConversionRulePayload, act)

    @strawberry.mutation(description="Officers amend a conversion rule: a new version.")
    async def amend_conversion_rule(
        self,
        info: Info,
        input: AmendConversionRuleInput,
    ) -> ConversionRulePayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            rule_id = input_id(input.rule_id, "ruleId")
            await info.context.command(
                info.context.bank.amend_conversion_rule, rule_id, _conversion_terms(input)
            )
            entry = await _entry(info, rule_id)
            return {"rule": entry and ConversionRule.of(entry)}

        return await attempt(ConversionRulePayload, act)

    @strawberry.mutation(description="Officers retire a conversion rule.")
    async def retire_conversion_rule(
        self,
        info: Info,
        input: RetireRuleInput,
    ) -> ConversionRulePayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            rule_id = input_id(input.rule_id, "ruleId")
            await info.context.command(info.context.bank.retire_conversion_rule, rule_id)
            entry = await _entry(info, rule_id)
            return {"rule": entry and ConversionRule.of(entry)}

        return await attempt(ConversionRulePayload, act)

    @strawberry.mutation(description="Officers create a qualification and its requirements.")
    async def create_qualification(
        self,
        info: Info,
        input: CreateQualificationInput,
    ) -> CreateQualificationPayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            qualification_id = await info.context.command(
                info.context.bank.create_qualification,
                input.name,
                input.level,
                input_id(input.awarding_institution_id, "awardingInstitutionId"),
                _requirements(input),
            )
            entry = await _entry(info, qualification_id)
            return {"qualification": entry and Qualification.of(entry)}

        return await attempt(CreateQualificationPayload, act)

    @strawberry.mutation(
        description="Officers amend a qualification's requirements: a new version."
    )
    async def amend_qualification(
        self,
        info: Info,
        input: AmendQualificationInput,
    ) -> QualificationPayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            qualification_id = input_id(input.qualification_id, "qualificationId")
            await info.context.command(
                info.context.bank.amend_qualification, qualification_id, _requirements(input)
            )
            entry = await _entry(info, qualification_id)
            return {"qualification": entry and Qualification.of(entry)}

        return await attempt(QualificationPayload, act)

    @strawberry.mutation(description="Officers retire a qualification.")
    async def retire_qualification(
        self,
        info: Info,
        input: RetireQualificationInput,
    ) -> QualificationPayload:
        info.context.require(Role.OFFICER)

        async def act() -> dict[str, Any]:
            qualification_id = input_id(input.qualification_id, "qualificationId")
            await info.context.command(info.context.bank.retire_qualification, qualification_id)
            entry = await _entry(info, qualification_id)
            return {"qualification": entry and Qualification.of(entry)}

        return await attempt(QualificationPayload, act)
