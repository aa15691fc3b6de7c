"""GraphQL object types (names as in CONTRACT.graphql)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import strawberry

from api.auth import Role as AuthRole
from api.graphql.context import Info
from api.graphql.errors import ApiError
from domain import values
from domain.credit_account import Balance as DomainBalance
from domain.credit_account import CreditAccount as DomainAccount
from domain.framework import Framework as DomainFramework
from domain.institution import Institution as DomainInstitution
from domain.learner import Learner as DomainLearner

Role = strawberry.enum(AuthRole, name="Role")
InstitutionKind = strawberry.enum(values.InstitutionKind, name="InstitutionKind")
OutcomeKind = strawberry.enum(values.OutcomeKind, name="OutcomeKind")
OutcomeStatus = strawberry.enum(values.OutcomeStatus, name="OutcomeStatus")
IdentityVerification = strawberry.enum(values.IdentityVerification, name="IdentityVerification")
RuleModel = strawberry.enum(values.RuleModel, name="RuleModel")


@strawberry.interface(description="An object with a globally unique id.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="Who the bearer token says the caller is.")
class Viewer:
    role: Role | None  # type: ignore[valid-type]
    subject: strawberry.ID | None


@strawberry.type
class FrameworkLevel:
    level: int
    name: str = strawberry.field(description="English name")
    name_zh: str = strawberry.field(description="Chinese name (名称)")
    descriptor: str
    descriptor_zh: str


@strawberry.type(description="The active qualifications framework.")
class Framework:
    name: str
    name_zh: str
    hours_per_credit: Decimal = strawberry.field(
        description="notional learning hours per credit, used to convert hours into credits"
    )
    hours_per_credit_min: Decimal
    levels: list[FrameworkLevel]

    @classmethod
    def of(cls, f: DomainFramework) -> Framework:
        return cls(
            name=f.name_en, name_zh=f.name_zh, hours_per_credit=f.hours_per_credit,
            hours_per_credit_min=f.hours_per_credit_min,
            levels=[
                FrameworkLevel(level=lv.level, name=lv.name_en, name_zh=lv.name_zh,
                               descriptor=lv.descriptor_en, descriptor_zh=lv.descriptor_zh)
                for lv in f.levels
            ],
        )  # fmt: skip


@strawberry.type(description="An issuing or accepting institution, or an enterprise.")
class Institution(Node):
    id: strawberry.ID
    name: str
    kind: InstitutionKind  # type: ignore[valid-type]
    active: bool
    issuer_uri: str

    @classmethod
    def of(cls, i: DomainInstitution) -> Institution:
        return cls(
            id=strawberry.ID(str(i.id)), name=i.name, kind=i.kind, active=i.active,
            issuer_uri=i.issuer_uri,
        )  # fmt: skip


@strawberry.type
class InstitutionEdge:
    cursor: str
    node: Institution


@strawberry.type
class InstitutionConnection:
    edges: list[InstitutionEdge]
    page_info: PageInfo


@strawberry.type
class LevelCredits:
    level: int
    credits: Decimal


@strawberry.type
class KindCredits:
    kind: OutcomeKind  # type: ignore[valid-type]
    credits: Decimal


@strawberry.type
class CategoryCredits:
    category: str
    credits: Decimal


@strawberry.type(description="Recognised and converted credits held; redeemed ones are spent.")
class Balance:
    total: Decimal
    available: Decimal
    redeemed: Decimal
    by_level: list[LevelCredits]
    by_kind: list[KindCredits]
    by_category: list[CategoryCredits]

    @classmethod
    def of(cls, b: DomainBalance) -> Balance:
        q = values.CREDIT_QUANTUM
        return cls(
            total=b.total.quantize(q), available=b.available.quantize(q),
            redeemed=b.redeemed.quantize(q),
            by_level=[LevelCredits(level=k, credits=v) for k, v in sorted(b.by_level.items())],
            by_kind=[KindCredits(kind=k, credits=v)
                     for k, v in sorted(b.by_kind.items(), key=lambda kv: kv[0].value)],
            by_category=[CategoryCredits(category=k, credits=v)
                         for k, v in sorted(b.by_category.items())],
        )  # fmt: skip


@strawberry.type(description="A learner's lifelong credit account.")
class CreditAccount:
    learner_id: strawberry.Private[UUID]
    version: int
    balance: Balance

    @classmethod
    def of(cls, a: DomainAccount) -> CreditAccount:
        return cls(learner_id=a.learner_id, version=a.version, balance=Balance.of(a.balance()))


@strawberry.type(description="A person with a lifelong learning account.")
class Learner(Node):
    id: strawberry.ID
    identity_verification: IdentityVerification  # type: ignore[valid-type]
    sealed: strawberry.Private[str | None]

    @strawberry.field(description="The learner's name; null once erased.")
    async def display_name(self, info: Info) -> str | None:
        bank = info.context.bank
        data = await info.context.run(bank.vault.open, UUID(self.id), self.sealed)
        return None if data is None else str(data["name"])

    @strawberry.field
    async def account(self, info: Info) -> CreditAccount:
        account = await info.context.run(info.context.bank.account, UUID(self.id))
        return CreditAccount.of(account)

    @classmethod
    def of(cls, learner: DomainLearner) -> Learner:
        return cls(
            id=strawberry.ID(str(learner.id)),
            identity_verification=learner.verification,
            sealed=learner.sealed_personal_data,
        )


def parse_id(value: str, field: str = "id") -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ApiError("INVALID_INPUT", f"{field} is not a valid id") from None
