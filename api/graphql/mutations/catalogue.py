"""The catalogue (officers): standards, recognition and conversion rules, qualifications; an
institution may also publish an agreement rule into its own scheme."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import strawberry

from api.auth import Role
from api.graphql import authz
from api.graphql.catalogue import ConversionRule, OutcomeStandard, Qualification, RecognitionRule
from api.graphql.common import InstitutionKind, OutcomeKind, RuleModel, input_id
from api.graphql.context import Context
from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, Ids, command, result, shown_as
from domain import values
from domain.qualification import (
    CategoryMinimum,
    KindMaximum,
    LevelMinimum,
    Requirements,
    Stacking,
)
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.standard import PassMark, StandardTerms


# -- inputs: the terms are one set of fields, shared by create and amend ------------------------
@strawberry.input
class RecognitionTermsFields:
    issuer_id: strawberry.ID | None = None
    kind: OutcomeKind | None = None  # type: ignore[valid-type]
    standard_code: str | None = None
    credits: Decimal | None = None
    level: int
    category: str
    valid_from: date | None = strawberry.field(
        default=None,
        description="The earliest completion date it governs; null on creation: the day it is "
        "created (a rule reaches back only as far as it says)",
    )
    valid_until: date | None = strawberry.field(
        default=None, description="The latest completion date it governs"
    )
    max_credits: Decimal | None = strawberry.field(
        default=None,
        description="The most one outcome is recognised for (hours-only learning, notably).",
    )
    priority: int | None = strawberry.field(
        default=None,
        description="Of two rules covering the same outcomes, the higher decides; rules that "
        "overlap with other terms and the same priority are refused (RULE_CONFLICT), unless "
        "one is strictly more specific.",
    )

    def terms(self) -> RecognitionTerms:
        issuer = input_id(self.issuer_id, "issuerId") if self.issuer_id else None
        return RecognitionTerms(
            criteria=OutcomeCriteria(
                institution_id=issuer, kind=self.kind, standard_code=self.standard_code
            ),
            credits=self.credits,
            level=self.level,
            category=self.category,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            max_credits=self.max_credits,
            priority=self.priority or 0,
        )


@strawberry.input
class NewRuleFields:
    name: str
    model: RuleModel  # type: ignore[valid-type]


@strawberry.input
class RuleFields:
    rule_id: strawberry.ID


# Inputs list the fields of their first base first: what names the rule, then its terms.
@strawberry.input
class CreateRecognitionRuleInput(NewRuleFields, RecognitionTermsFields):
    pass


@strawberry.input
class AmendRecognitionRuleInput(RuleFields, RecognitionTermsFields):
    effective_from: date | None = strawberry.field(
        default=None,
        description="The new version governs the learning completed from this day (null: "
        "today; earlier: an explicit retroactive amendment); earlier learning keeps the "
        "version in force when it was completed.",
    )


@strawberry.input
class ConversionTermsFields:
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
    target_credits: Decimal | None = strawberry.field(
        default=None,
        description="A course equivalence: the target course's credits, granted once whatever "
        "the sources (with targetLevel; ratio 1)",
    )
    target_level: int | None = strawberry.field(
        default=None, description="A course equivalence: the target course's framework level"
    )
    priority: int | None = strawberry.field(
        default=None,
        description="Of two rules into the same target covering the same outcomes, the higher "
        "governs; equal priorities are refused (RULE_CONFLICT)",
    )
    justification: str | None = strawberry.field(
        default=None,
        description="Required when the rule creates credit (a ratio above 1, or an "
        "institution's rule into its own courses): an officer other than its proposer approves",
    )

    def terms(self) -> ConversionTerms:
        source = self.source_institution_id
        return ConversionTerms(
            criteria=OutcomeCriteria(
                institution_id=input_id(source, "sourceInstitutionId") if source else None,
                kind=self.source_kind,
                standard_code=self.source_standard_code,
            ),
            target_institution_id=input_id(self.target_institution_id, "targetInstitutionId"),
            target_code=self.target_code,
            target_category=self.target_category,
            ratio=self.ratio,
            max_credits_per_learner=self.max_credits_per_learner,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            target_credits=self.target_credits,
            target_level=self.target_level,
            priority=self.priority or 0,
        )


@strawberry.input
class CreateConversionRuleInput(NewRuleFields, ConversionTermsFields):
    pass


@strawberry.input
class AmendConversionRuleInput(RuleFields, ConversionTermsFields):
    pass


@strawberry.input
class RetireRuleInput(RuleFields):
    pass


@strawberry.input
class AcceptConversionRuleInput(RuleFields):
    pass


@strawberry.input
class ApproveConversionRuleInput(RuleFields):
    pass


@strawberry.input
class DeclineConversionRuleInput(RuleFields):
    reason: str


@strawberry.input
class CategoryMinimumInput:
    category: str
    credits: Decimal


@strawberry.input
class LevelMinimumInput:
    level: int
    credits: Decimal


@strawberry.input
class KindMaximumInput:
    kind: OutcomeKind  # type: ignore[valid-type]
    credits: Decimal


@strawberry.input
class StackingInput:
    qualification_id: strawberry.ID
    counts_again: bool = strawberry.field(
        default=True, description="the credits its award counted count here again"
    )
    required: bool = strawberry.field(default=False, description="its award must be held")


@strawberry.input
class RequirementsFields:
    total_credits: Decimal
    minimum_by_category: list[CategoryMinimumInput] | None = None
    max_converted_share: Decimal | None = strawberry.field(
        default=None,
        description="0..1: the largest share of the total that may come from conversions",
    )
    max_credits_per_institution: Decimal | None = None
    minimum_at_level: list[LevelMinimumInput] | None = None
    required_standards: list[str] | None = None
    max_credits_per_year: Decimal | None = strawberry.field(
        default=None, description="per academic year of the bank's calendar"
    )
    max_credits_per_semester: Decimal | None = strawberry.field(
        default=None, description="per term of the bank's calendar"
    )
    min_level_share: Decimal | None = strawberry.field(
        default=None,
        description="0..1 of the total at the qualification's level - 1 or above (default: "
        "the bank's setting, 0.5)",
    )
    min_credits_from_awarding: Decimal | None = strawberry.field(
        default=None, description="earned at the awarding institution itself (not converted)"
    )
    max_credits_by_kind: list[KindMaximumInput] | None = strawberry.field(
        default=None, description="at most so many credits from one kind of source"
    )
    stacks_from: list[StackingInput] | None = strawberry.field(
        default=None,
        description="qualifications that stack into this one (a certificate into its diploma)",
    )

    def requirements(self) -> Requirements:
        return Requirements(
            total_credits=self.total_credits,
            minimum_by_category=tuple(
                CategoryMinimum(category=m.category, credits=m.credits)
                for m in self.minimum_by_category or ()
            ),
            minimum_at_level=tuple(
                LevelMinimum(level=m.level, credits=m.credits) for m in self.minimum_at_level or ()
            ),
            required_standards=tuple(self.required_standards or ()),
            max_converted_share=self.max_converted_share,
            max_credits_per_institution=self.max_credits_per_institution,
            max_credits_per_year=self.max_credits_per_year,
            max_credits_per_semester=self.max_credits_per_semester,
            min_level_share=self.min_level_share,
            min_credits_from_awarding=self.min_credits_from_awarding,
            max_credits_by_kind=tuple(
                KindMaximum(kind=values.OutcomeKind(m.kind), credits=m.credits)
                for m in self.max_credits_by_kind or ()
            ),
            stacks_from=tuple(
                Stacking(
                    qualification_id=input_id(m.qualification_id, "stacksFrom"),
                    counts_again=m.counts_again,
                    required=m.required,
                )
                for m in self.stacks_from or ()
            ),
        )


@strawberry.input
class NewQualificationFields:
    name: str
    level: int
    awarding_institution_id: strawberry.ID


@strawberry.input
class QualificationFields:
    qualification_id: strawberry.ID


@strawberry.input
class CreateQualificationInput(NewQualificationFields, RequirementsFields):
    pass


@strawberry.input
class AmendQualificationInput(QualificationFields, RequirementsFields):
    pass


@strawberry.input
class RetireQualificationInput(QualificationFields):
    pass


@strawberry.input
class StandardTermsFields:
    title: str
    level: int
    credits: Decimal
    accepted_kinds: list[OutcomeKind]  # type: ignore[valid-type]
    accepted_issuer_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these issuers' outcomes meet it (none: any issuer)."
    )
    accepted_issuer_kinds: list[InstitutionKind] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only outcomes of issuers of these kinds (none: any kind)."
    )
    passing_results: list[str] | None = strawberry.field(
        default=None, description='Results that count as a pass ("P", "Pass", "A"...).'
    )
    minimum_score: Decimal | None = strawberry.field(
        default=None, description="A numeric result of at least this is a pass."
    )
    effective_from: date | None = strawberry.field(
        default=None,
        description="For the learning completed from this day (define: null for all of it; "
        "amend: null for today, earlier for an explicit retroactive amendment).",
    )

    def terms(self) -> StandardTerms:
        mark = None
        if self.passing_results is not None or self.minimum_score is not None:
            mark = PassMark(
                results=tuple(self.passing_results or ()), minimum_score=self.minimum_score
            )
        return StandardTerms(
            title=self.title,
            level=self.level,
            credits=self.credits,
            accepted_kinds=tuple(self.accepted_kinds),
            accepted_issuers=tuple(
                input_id(i, "acceptedIssuerIds") for i in self.accepted_issuer_ids or ()
            ),
            accepted_issuer_kinds=tuple(self.accepted_issuer_kinds or ()),
            pass_mark=mark,
        )


@strawberry.input
class DefineStandardInput(StandardTermsFields):
    code: str


@strawberry.input
class AmendStandardInput(StandardTermsFields):
    standard_id: strawberry.ID


@strawberry.input
class WithdrawStandardInput:
    standard_id: strawberry.ID
    effective_on: date | None = strawberry.field(
        default=None,
        description="Nothing completed from this day (null: today) is recognised against it; "
        "what was completed before keeps counting.",
    )


# -- payloads -------------------------------------------------------------------------------------
@strawberry.type
class DefineStandardPayload:
    standard: OutcomeStandard | None = None
    errors: list[UserError]


@strawberry.type
class StandardPayload:
    standard: OutcomeStandard | None = None
    errors: list[UserError]


@strawberry.type
class CreateRecognitionRulePayload:
    rule: RecognitionRule | None = None
    errors: list[UserError]


@strawberry.type
class RecognitionRulePayload:
    rule: RecognitionRule | None = None
    errors: list[UserError]


@strawberry.type
class CreateConversionRulePayload:
    rule: ConversionRule | None = None
    errors: list[UserError]


@strawberry.type
class ConversionRulePayload:
    rule: ConversionRule | None = None
    errors: list[UserError]


@strawberry.type
class CreateQualificationPayload:
    qualification: Qualification | None = None
    errors: list[UserError]


@strawberry.type
class QualificationPayload:
    qualification: Qualification | None = None
    errors: list[UserError]


NEW_STANDARD = Back("standard", shown_as(OutcomeStandard), result)
STANDARD = Back("standard", shown_as(OutcomeStandard), lambda ids, _: ids.standard_id)
NEW_RECOGNITION = Back("rule", shown_as(RecognitionRule), result)
RECOGNITION = Back("rule", shown_as(RecognitionRule), lambda ids, _: ids.rule_id)
NEW_CONVERSION = Back("rule", shown_as(ConversionRule), result)
CONVERSION = Back("rule", shown_as(ConversionRule), lambda ids, _: ids.rule_id)
NEW_QUALIFICATION = Back("qualification", shown_as(Qualification), result)
QUALIFICATION = Back("qualification", shown_as(Qualification), lambda ids, _: ids.qualification_id)


def _institution(c: Context) -> UUID | None:
    p = c.principal
    return input_id(p.subject or "", "subject") if p.role is Role.INSTITUTION else None


def _create_conversion_rule(c: Context, ids: Ids, i: CreateConversionRuleInput) -> UUID:
    if c.principal.role is Role.INSTITUTION and i.model is not values.RuleModel.AGREEMENT:
        # who may do what: a GraphQL error, like every other refusal of the caller
        raise authz.forbid("institutions propose agreement rules they are a party to")
    return c.bank.create_conversion_rule(
        i.name,
        i.model,
        i.terms(),
        proposed_by=c.principal.actor,
        proposer_institution=_institution(c),
        justification=i.justification,
    )


def _accept_conversion_rule(c: Context, ids: Ids, i: AcceptConversionRuleInput) -> None:
    institution = _institution(c)
    assert institution is not None  # the policy admits institutions only
    c.bank.accept_conversion_rule(ids.rule_id, institution, c.principal.actor)


def _define_standard(c: Context, ids: Ids, i: DefineStandardInput) -> UUID:
    t = i.terms()
    return c.bank.define_standard(
        i.code,
        t.title,
        t.level,
        t.credits,
        t.accepted_kinds,
        accepted_issuers=t.accepted_issuers,
        accepted_issuer_kinds=t.accepted_issuer_kinds,
        pass_mark=t.pass_mark,
        effective_from=i.effective_from,
    )


@strawberry.type
class CatalogueMutations:
    define_standard = command(
        "Officers add a learning-outcome standard to the catalogue.",
        DefineStandardInput,
        DefineStandardPayload,
        _define_standard,
        NEW_STANDARD,
    )
    amend_standard = command(
        "Officers amend a standard: a new version, for the learning completed from its "
        "effectiveFrom.",
        AmendStandardInput,
        StandardPayload,
        lambda c, ids, i: c.bank.amend_standard(ids.standard_id, i.terms(), i.effective_from),
        STANDARD,
    )
    withdraw_standard = command(
        "Officers withdraw a standard: nothing completed from effectiveOn is recognised "
        "against it.",
        WithdrawStandardInput,
        StandardPayload,
        lambda c, ids, i: c.bank.withdraw_standard(ids.standard_id, i.effective_on),
        STANDARD,
    )
    create_recognition_rule = command(
        "Officers create a recognition rule (version 1).",
        CreateRecognitionRuleInput,
        CreateRecognitionRulePayload,
        lambda c, ids, i: c.bank.create_recognition_rule(i.name, i.model, i.terms()),
        NEW_RECOGNITION,
    )
    amend_recognition_rule = command(
        "Officers amend a recognition rule: a new version.",
        AmendRecognitionRuleInput,
        RecognitionRulePayload,
        lambda c, ids, i: c.bank.amend_recognition_rule(ids.rule_id, i.terms(), i.effective_from),
        RECOGNITION,
    )
    retire_recognition_rule = command(
        "Officers retire a recognition rule.",
        RetireRuleInput,
        RecognitionRulePayload,
        lambda c, ids, i: c.bank.retire_recognition_rule(ids.rule_id),
        RECOGNITION,
    )
    create_conversion_rule = command(
        "Officers create conversion rules; an institution may propose an agreement rule it is "
        "a party to. It is in force once every institution it binds accepted it and, if it "
        "creates credit, an officer other than its proposer approved it.",
        CreateConversionRuleInput,
        CreateConversionRulePayload,
        _create_conversion_rule,
        NEW_CONVERSION,
    )
    amend_conversion_rule = command(
        "Officers amend a conversion rule: a new version, proposed again (the institutions it "
        "binds accept it again; one that creates credit is approved again).",
        AmendConversionRuleInput,
        ConversionRulePayload,
        lambda c, ids, i: c.bank.amend_conversion_rule(
            ids.rule_id, i.terms(), c.principal.actor, i.justification
        ),
        CONVERSION,
    )
    accept_conversion_rule = command(
        "An institution the agreement binds accepts it (it is in force once every party has, "
        "and an officer approved it if it creates credit).",
        AcceptConversionRuleInput,
        ConversionRulePayload,
        _accept_conversion_rule,
        CONVERSION,
    )
    approve_conversion_rule = command(
        "An officer other than its proposer approves a rule that creates credit.",
        ApproveConversionRuleInput,
        ConversionRulePayload,
        lambda c, ids, i: c.bank.approve_conversion_rule(ids.rule_id, c.principal.actor),
        CONVERSION,
    )
    decline_conversion_rule = command(
        "An officer, or an institution whose acceptance it awaits, declines a rule not yet in "
        "force: it is retired.",
        DeclineConversionRuleInput,
        ConversionRulePayload,
        lambda c, ids, i: c.bank.decline_conversion_rule(
            ids.rule_id, c.principal.actor, i.reason, _institution(c)
        ),
        CONVERSION,
    )
    retire_conversion_rule = command(
        "Officers retire a conversion rule.",
        RetireRuleInput,
        ConversionRulePayload,
        lambda c, ids, i: c.bank.retire_conversion_rule(ids.rule_id),
        CONVERSION,
    )
    create_qualification = command(
        "Officers create a qualification and its requirements.",
        CreateQualificationInput,
        CreateQualificationPayload,
        lambda c, ids, i: c.bank.create_qualification(
            i.name, i.level, ids.awarding_institution_id, i.requirements()
        ),
        NEW_QUALIFICATION,
    )
    amend_qualification = command(
        "Officers amend a qualification's requirements: a new version.",
        AmendQualificationInput,
        QualificationPayload,
        lambda c, ids, i: c.bank.amend_qualification(ids.qualification_id, i.requirements()),
        QUALIFICATION,
    )
    retire_qualification = command(
        "Officers retire a qualification.",
        RetireQualificationInput,
        QualificationPayload,
        lambda c, ids, i: c.bank.retire_qualification(ids.qualification_id),
        QUALIFICATION,
    )
