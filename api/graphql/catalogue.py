"""Public reference data: the framework, institutions, rules, qualifications, standards."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Self, cast
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from api.graphql.common import InstitutionKind, Node, OutcomeKind, PageInfo, RuleModel, gid
from api.graphql.context import Info
from domain import values
from domain.framework import Framework as DomainFramework
from projections import catalogue
from projections.base import plain
from projections.catalogue import CatalogueEntry


@strawberry.type
class FrameworkLevel:
    level: int
    name: str = strawberry.field(description="English name")
    name_zh: str = strawberry.field(description="Chinese name 名称")
    descriptor: str = strawberry.field(description="English level descriptor")
    descriptor_zh: str = strawberry.field(description="Chinese level descriptor 等级描述")


@strawberry.type(description="The active qualifications framework.")
class Framework:
    name: str
    name_zh: str
    hours_per_credit: Decimal = strawberry.field(
        description="notional learning hours one credit stands for (hours convert at this rate)"
    )
    hours_per_credit_min: Decimal = strawberry.field(
        description="lower bound of the framework's stated range (ECTS: 25-30 h)"
    )
    credits_per_year: Decimal
    levels: list[FrameworkLevel]

    @classmethod
    def of(cls, f: DomainFramework) -> Framework:
        return cls(
            name=f.name_en,
            name_zh=f.name_zh,
            hours_per_credit=f.hours_per_credit,
            hours_per_credit_min=f.hours_per_credit_min,
            credits_per_year=f.credits_per_year,
            levels=[
                FrameworkLevel(
                    level=lv.level,
                    name=lv.name_en,
                    name_zh=lv.name_zh,
                    descriptor=lv.descriptor_en,
                    descriptor_zh=lv.descriptor_zh,
                )
                for lv in f.levels
            ],
        )


@strawberry.type(description="A public signing key of an institution.")
class SigningKey:
    kid: str
    algorithm: str
    public_key_jwk: JSON
    valid_from: str
    valid_until: str | None
    retired_at: str | None
    revoked_at: str | None = strawberry.field(
        default=None,
        description="revoked as compromised: it verifies nothing since, whatever date a "
        "credential claims",
    )
    compromised_at: str | None = strawberry.field(
        default=None,
        description="from when it is known compromised (its outcomes signed or "
        "deposited since went under review)",
    )
    revocation_reason: str | None = None


@strawberry.type(description="A row of a credit table: native credits and their framework value.")
class CreditEquivalence:
    native: Decimal
    framework: Decimal


@strawberry.type(
    description="How an institution's credits compare with the framework's, for the learning "
    "completed from effectiveFrom (null: all of it) until a later declaration takes over."
)
class CreditScheme:
    hours_per_credit: Decimal | None
    table: list[CreditEquivalence]
    effective_from: date | None

    @classmethod
    def of(cls, s: dict[str, Any]) -> CreditScheme:
        return cls(
            hours_per_credit=None
            if s["hours_per_credit"] is None
            else Decimal(s["hours_per_credit"]),
            table=[
                CreditEquivalence(native=Decimal(r["native"]), framework=Decimal(r["framework"]))
                for r in s["table"]
            ],
            effective_from=None
            if s["effective_from"] is None
            else date.fromisoformat(s["effective_from"]),
        )


@strawberry.type(description="An issuing or accepting institution, or an enterprise.")
class Institution(Node):
    id: strawberry.ID
    name: str
    kind: InstitutionKind  # type: ignore[valid-type]
    active: bool
    issuer_uri: str
    keys: list[SigningKey] = strawberry.field(description="Registered public keys, with validity.")
    credit_schemes: list[CreditScheme] = strawberry.field(
        description="Its credit schemes as declared, oldest first (none: it counts framework "
        "credits)."
    )

    @classmethod
    def of(cls, e: CatalogueEntry) -> Institution:
        keys = [
            SigningKey(
                kid=k["kid"],
                algorithm=k["algorithm"],
                public_key_jwk=k["public_jwk"],
                valid_from=k["valid_from"],
                valid_until=k["valid_until"],
                retired_at=k["retired_at"],
                revoked_at=k.get("revoked_at"),
                compromised_at=k.get("compromised_at"),
                revocation_reason=k.get("revocation_reason"),
            )
            for k in e.detail.get("keys", [])
        ]
        return cls(
            id=gid(e.id),
            name=e.name,
            kind=values.InstitutionKind(e.kind),
            active=e.active,
            issuer_uri=e.detail["issuerUri"],
            keys=keys,
            credit_schemes=[CreditScheme.of(s) for s in e.detail.get("creditSchemes", [])],
        )


@strawberry.type
class InstitutionEdge:
    cursor: str
    node: Institution


@strawberry.type
class InstitutionConnection:
    edges: list[InstitutionEdge]
    page_info: PageInfo


async def load_institution(info: Info, institution_id: str) -> Institution:
    entry = await info.context.loader("institutions", catalogue.read_entries).load(institution_id)
    return Institution.of(entry)


@strawberry.type(description="A qualification credits can be redeemed toward.")
class Qualification(Node):
    id: strawberry.ID
    name: str
    level: int
    version: int = strawberry.field(description="version of the requirements")
    active: bool
    requirements: JSON = strawberry.field(
        description="total, minimum by category and at level, required standards, caps"
    )
    awarding_institution_id: strawberry.Private[str]

    @strawberry.field
    async def awarding_institution(self, info: Info) -> Institution:
        return await load_institution(info, self.awarding_institution_id)

    @classmethod
    def of(cls, e: CatalogueEntry) -> Qualification:
        return cls(
            id=gid(e.id),
            name=e.name,
            level=e.detail["level"],
            version=e.version,
            active=e.active,
            requirements=e.detail["requirements"],
            awarding_institution_id=e.detail["awardingInstitutionId"],
        )


@strawberry.type
class QualificationEdge:
    cursor: str
    node: Qualification


@strawberry.type
class QualificationConnection:
    edges: list[QualificationEdge]
    page_info: PageInfo


@strawberry.interface(
    description="A versioned rule of the catalogue: every decision cites a version."
)
class Rule(Node):
    id: strawberry.ID
    version: int
    name: str
    model: RuleModel  # type: ignore[valid-type]
    active: bool
    terms: JSON = strawberry.field(
        description="criteria, value or target, ratio, cap and validity window, by the rule's kind"
    )

    @classmethod
    def of(cls, e: CatalogueEntry) -> Self:
        return cls(
            id=gid(e.id),
            version=e.version,
            name=e.name,
            model=values.RuleModel(e.kind),
            active=e.active,
            terms=e.detail["terms"],
        )

    @strawberry.field(
        description="Every version of its terms, oldest first: what each decision citing a "
        "version applied (from when it took effect; null: from the start)."
    )
    async def versions(self, info: Info) -> list[RuleTermsVersion]:
        bank = info.context.bank
        load = bank.conversion_rule if isinstance(self, ConversionRule) else bank.recognition_rule
        rule = await info.context.run(load, UUID(str(self.id)))
        return [
            RuleTermsVersion(
                version=v.version, effective_from=v.effective_from, terms=plain(v.terms)
            )
            for v in rule.versions
        ]


@strawberry.type(description="One version of a rule's terms.")
class RuleTermsVersion:
    version: int
    effective_from: date | None
    terms: JSON


@strawberry.type(
    description="Moves recognised credits into a target institution's scheme (a ratio), or "
    "grants a target course for the learning it names (a course equivalence: terms."
    "target_credits and target_level). In force once the institutions it binds accepted it "
    "and, if it creates credit, an officer other than its proposer approved it."
)
class ConversionRule(Rule):
    governance: strawberry.Private[dict[str, Any]]

    @classmethod
    def of(cls, e: CatalogueEntry) -> Self:
        return cls(
            id=gid(e.id),
            version=e.version,
            name=e.name,
            model=values.RuleModel(e.kind),
            active=e.active,
            terms=e.detail["terms"],
            governance=e.detail.get("governance") or {},
        )

    @strawberry.field(description="It converts now (accepted, approved, not retired).")
    def in_force(self) -> bool:
        return self.active and not self.governance.get("awaiting")

    @strawberry.field(description="Why it is not in force yet (null: it is, or it is retired).")
    def awaiting(self) -> str | None:
        return cast(str | None, self.governance.get("awaiting"))

    @strawberry.field(description="The institutions whose acceptance it awaits.")
    def awaiting_acceptance_by(self) -> list[strawberry.ID]:
        return [gid(p) for p in self.governance.get("awaitingParties", [])]

    @strawberry.field(description="It creates credit and awaits an officer's approval.")
    def awaiting_approval(self) -> bool:
        return bool(self.governance.get("needsApproval"))

    @strawberry.field
    def proposed_by(self) -> str | None:
        return cast(str | None, self.governance.get("proposedBy"))

    @strawberry.field(description="The officer who approved a rule that creates credit.")
    def approved_by(self) -> str | None:
        return cast(str | None, self.governance.get("approvedBy"))

    @strawberry.field
    def justification(self) -> str | None:
        return cast(str | None, self.governance.get("justification"))


@strawberry.type
class ConversionRuleEdge:
    cursor: str
    node: ConversionRule


@strawberry.type
class ConversionRuleConnection:
    edges: list[ConversionRuleEdge]
    page_info: PageInfo


@strawberry.type(
    description="A recognition rule: which deposited outcomes it recognises automatically, and "
    "at what value on the framework."
)
class RecognitionRule(Rule):
    pass


@strawberry.type
class RecognitionRuleEdge:
    cursor: str
    node: RecognitionRule


@strawberry.type
class RecognitionRuleConnection:
    edges: list[RecognitionRuleEdge]
    page_info: PageInfo


@strawberry.type(
    description="A learning-outcome standard of the catalogue that framework rules cite."
)
class OutcomeStandard(Node):
    id: strawberry.ID
    code: str
    title: str
    level: int
    credits: Decimal
    accepted_kinds: list[OutcomeKind]  # type: ignore[valid-type]
    active: bool
    version: int = strawberry.field(description="The current version's number.")
    accepted_issuer_ids: list[strawberry.ID] = strawberry.field(
        description="The current version accepts only these issuers (empty: any)."
    )
    accepted_issuer_kinds: list[InstitutionKind] = strawberry.field(  # type: ignore[valid-type]
        description="The current version accepts only issuers of these kinds (empty: any)."
    )
    pass_mark: PassMark | None = strawberry.field(
        description="What counts as a pass (null: any result the credential does not mark failed)."
    )
    withdrawn_on: date | None = strawberry.field(
        description="Nothing completed on or after this day is recognised against it."
    )
    versions: list[StandardVersion]

    @classmethod
    def of(cls, e: CatalogueEntry) -> OutcomeStandard:
        versions = [StandardVersion.of(v) for v in e.detail.get("versions", [])]
        current = versions[-1] if versions else None
        withdrawn = e.detail.get("withdrawnOn")
        return cls(
            id=gid(e.id),
            code=str(e.kind),
            title=e.name,
            level=int(e.detail["level"]),
            credits=Decimal(e.detail["credits"]),
            accepted_kinds=[values.OutcomeKind(k) for k in e.detail["acceptedKinds"]],
            active=e.active,
            version=current.version if current else 1,
            accepted_issuer_ids=current.accepted_issuer_ids if current else [],
            accepted_issuer_kinds=current.accepted_issuer_kinds if current else [],
            pass_mark=current.pass_mark if current else None,
            withdrawn_on=None if withdrawn is None else date.fromisoformat(withdrawn),
            versions=versions,
        )


@strawberry.type(description="What counts as a pass: one of the results, or a score of at least.")
class PassMark:
    passing_results: list[str]
    minimum_score: Decimal | None


@strawberry.type(
    description="A version of a standard: it measures the learning completed from effectiveFrom "
    "(null: all of it) until a later version takes over."
)
class StandardVersion:
    version: int
    effective_from: date | None
    title: str
    level: int
    credits: Decimal
    accepted_kinds: list[OutcomeKind]  # type: ignore[valid-type]
    accepted_issuer_ids: list[strawberry.ID]
    accepted_issuer_kinds: list[InstitutionKind]  # type: ignore[valid-type]
    pass_mark: PassMark | None

    @classmethod
    def of(cls, v: dict[str, Any]) -> StandardVersion:
        t, mark = v["terms"], v["terms"]["pass_mark"]
        return cls(
            version=int(v["version"]),
            effective_from=None
            if v["effective_from"] is None
            else date.fromisoformat(v["effective_from"]),
            title=t["title"],
            level=int(t["level"]),
            credits=Decimal(t["credits"]),
            accepted_kinds=[values.OutcomeKind(k) for k in t["accepted_kinds"]],
            accepted_issuer_ids=[gid(i) for i in t["accepted_issuers"]],
            accepted_issuer_kinds=[values.InstitutionKind(k) for k in t["accepted_issuer_kinds"]],
            pass_mark=None
            if mark is None
            else PassMark(
                passing_results=list(mark["results"]),
                minimum_score=None
                if mark["minimum_score"] is None
                else Decimal(mark["minimum_score"]),
            ),
        )


@strawberry.type
class OutcomeStandardEdge:
    cursor: str
    node: OutcomeStandard


@strawberry.type
class OutcomeStandardConnection:
    edges: list[OutcomeStandardEdge]
    page_info: PageInfo
