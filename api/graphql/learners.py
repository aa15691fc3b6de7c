"""Learners: who they are to the API (verification, consents, erasure) and their account."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import strawberry

from api.graphql import authz
from api.graphql.accounts import CreditAccount
from api.graphql.catalogue import Institution, load_institution
from api.graphql.common import IdentityVerification, Node, PageInfo, gid
from api.graphql.context import Info
from api.graphql.errors import ApiError
from domain import values
from projections import enterprise
from projections.catalogue import CatalogueEntry
from projections.enterprise import ConsentRow


@strawberry.type(description="A learner's consent to an enterprise.")
class Consent:
    scope: str = strawberry.field(
        description="OWN (what that organisation issued), TRAINING (enterprise training from "
        "any issuer) or ALL"
    )
    expires_on: date | None
    granted_at: datetime
    organization_id: strawberry.Private[str]

    @classmethod
    def of(cls, row: ConsentRow) -> Consent:
        return cls(
            scope=row.scope,
            expires_on=row.expires_on,
            granted_at=row.granted_at,
            organization_id=row.organization_id,
        )

    @strawberry.field
    async def organization(self, info: Info) -> Institution:
        return await load_institution(info, self.organization_id)


@strawberry.type(description="A person with a lifelong learning account.")
class Learner(Node):
    id: strawberry.ID
    identity_verification: IdentityVerification  # type: ignore[valid-type]
    erased: bool
    merged_into: strawberry.ID | None = strawberry.field(
        default=None,
        description="The same person's account this one was merged into (it took every record; "
        "this one serves audits)",
    )

    @strawberry.field(description="The learner's name; null once erased.")
    async def display_name(self, info: Info) -> str | None:
        bank = info.context.bank
        data = await info.context.run(bank.personal_data, UUID(self.id))
        return None if data is None else str(data["name"])

    @strawberry.field(description="Consents the learner gave (the learner and officers).")
    async def consents(self, info: Info) -> list[Consent]:
        learner_id = UUID(self.id)
        p = info.context.require()
        if not (authz.is_self(p, learner_id) or p.role in authz.READERS):
            raise ApiError("FORBIDDEN", "only the learner and officers see consents")
        rows = await info.context.read(enterprise.consents_of, str(learner_id))
        return [Consent.of(row) for row in rows]

    @strawberry.field
    async def account(self, info: Info) -> CreditAccount:
        learner_id = UUID(self.id)
        scope = await authz.account_access(info, learner_id)
        return CreditAccount(learner_id=learner_id, scope=scope)

    @classmethod
    def of(cls, e: CatalogueEntry) -> Learner:
        return cls(
            id=gid(e.id),
            identity_verification=values.IdentityVerification(e.kind),
            erased=not e.active,
            merged_into=None if not e.detail.get("mergedInto") else gid(e.detail["mergedInto"]),
        )


@strawberry.type
class LearnerEdge:
    cursor: str
    node: Learner


@strawberry.type
class LearnerConnection:
    edges: list[LearnerEdge]
    page_info: PageInfo
