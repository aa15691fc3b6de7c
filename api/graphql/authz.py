"""Who may do what. Every Query and Mutation field has a ``Policy`` in POLICY, enforced for every
field by one strawberry permission (``Allowed``), and read by the authorization matrix test.

A policy says which roles may call a field at all: ``anyone``; ``roles`` (every caller of the
role); ``own`` (callers of the role, on what is theirs: the learner themself, the issuing
institution, the consented enterprise). Who owns what the call is about is decided where that is
known: from the arguments (``owner``, before anything runs), or from stored data (the resolver or
the domain; the refusal is then FORBIDDEN as well). A caller no policy lets in gets
UNAUTHENTICATED (no token) or FORBIDDEN, as a GraphQL error, before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from strawberry.permission import BasePermission

from api.auth import Principal, Role
from api.graphql.context import Info
from api.graphql.errors import ApiError
from domain.learner import scope_covers
from projections import enterprise

OFFICER, AUDITOR, ADMIN = Role.OFFICER, Role.AUDITOR, Role.ADMIN
LEARNER, INSTITUTION, ENTERPRISE = Role.LEARNER, Role.INSTITUTION, Role.ENTERPRISE
READERS = (OFFICER, AUDITOR)


def learner_in_input(kwargs: dict[str, Any]) -> Any:
    return kwargs["input"].learner_id


@dataclass(frozen=True)
class Policy:
    anyone: bool = False
    roles: frozenset[Role] = frozenset()
    own: frozenset[Role] = frozenset()
    owner: Callable[[dict[str, Any]], Any] | None = field(default=None, compare=False)
    note: str = ""  # how ownership is decided, for people

    def admits(self, p: Principal) -> bool:
        return self.anyone or p.role in self.roles or p.role in self.own


PUBLIC = Policy(anyone=True)


def only(*roles: Role) -> Policy:
    return Policy(roles=frozenset(roles))


def own(
    owners: tuple[Role, ...], *others: Role, note: str, owner: Callable[..., Any] | None = None
) -> Policy:
    return Policy(roles=frozenset(others), own=frozenset(owners), owner=owner, note=note)


LEARNER_SELF = "the learner themself (learnerId)"
POLICY: dict[str, Policy] = {
    "Query.node": Policy(
        anyone=True, note="public types for anyone; learner data as Query.learner"
    ),
    "Query.viewer": PUBLIC,
    "Query.framework": PUBLIC,
    "Query.institution": PUBLIC,
    "Query.institutions": PUBLIC,
    "Query.qualifications": PUBLIC,
    "Query.qualification": PUBLIC,
    "Query.conversionRules": PUBLIC,
    "Query.recognitionRules": PUBLIC,
    "Query.verifyCredential": PUBLIC,
    "Query.standards": PUBLIC,
    "Query.auditReport": only(AUDITOR, OFFICER),
    "Query.identityFailures": only(OFFICER, AUDITOR),
    "Query.parkedEvents": only(OFFICER, AUDITOR),
    "Query.learner": own(
        (LEARNER, ENTERPRISE),
        OFFICER,
        AUDITOR,
        note="the learner themself; an enterprise whose consent is in force",
    ),
    "Query.learners": only(OFFICER, AUDITOR),
    "Query.organization": own(
        (ENTERPRISE,), OFFICER, AUDITOR, note="the enterprise itself", owner=lambda kw: kw["id"]
    ),
    "Query.intakeJob": own(
        (INSTITUTION,), OFFICER, AUDITOR, note="the institution that uploaded it (by the job)"
    ),
    "Query.institutionLedger": own(
        (INSTITUTION,),
        OFFICER,
        AUDITOR,
        note="the institution itself (institutionId)",
        owner=lambda kw: kw["institution_id"],
    ),
    "Mutation.registerInstitution": only(ADMIN),
    "Mutation.addInstitutionKey": only(ADMIN),
    "Mutation.retireInstitutionKey": only(ADMIN),
    "Mutation.revokeInstitutionKey": only(ADMIN),
    "Mutation.reviewCompromisedKey": only(ADMIN),
    "Mutation.clearOutcomeReview": only(OFFICER),
    "Mutation.suspendInstitution": only(ADMIN),
    "Mutation.reactivateInstitution": only(ADMIN),
    "Mutation.declareCreditScheme": only(OFFICER),
    "Mutation.registerLearner": only(OFFICER),
    "Mutation.verifyLearnerIdentity": only(OFFICER),
    "Mutation.eraseLearner": only(OFFICER),
    "Mutation.mergeLearners": only(OFFICER),
    "Mutation.depositCredential": own((INSTITUTION,), note="the credential's issuer (stored key)"),
    "Mutation.depositStatement": own((INSTITUTION,), note="the statement's platform (stored key)"),
    "Mutation.recognizeOutcome": only(OFFICER),
    "Mutation.rejectOutcome": only(OFFICER),
    "Mutation.convertCredits": own((LEARNER,), OFFICER, note=LEARNER_SELF, owner=learner_in_input),
    "Mutation.redeemQualification": own(
        (LEARNER,), OFFICER, note=LEARNER_SELF, owner=learner_in_input
    ),
    "Mutation.revokeOutcome": own((INSTITUTION,), OFFICER, note="the outcome's issuer (stored)"),
    "Mutation.grantConsent": own((LEARNER,), note=LEARNER_SELF, owner=learner_in_input),
    "Mutation.revokeConsent": own((LEARNER,), note=LEARNER_SELF, owner=learner_in_input),
    "Mutation.exportTranscript": own((LEARNER,), note=LEARNER_SELF, owner=learner_in_input),
    "Mutation.exportOutcome": own((LEARNER,), note=LEARNER_SELF, owner=learner_in_input),
    "Mutation.exportEuropass": own((LEARNER,), note=LEARNER_SELF, owner=learner_in_input),
    "Mutation.defineStandard": only(OFFICER),
    "Mutation.amendStandard": only(OFFICER),
    "Mutation.withdrawStandard": only(OFFICER),
    "Mutation.createRecognitionRule": only(OFFICER),
    "Mutation.amendRecognitionRule": only(OFFICER),
    "Mutation.retireRecognitionRule": only(OFFICER),
    "Mutation.createConversionRule": own(
        (INSTITUTION,), OFFICER, note="an agreement rule it is a party to (source or target)"
    ),
    "Mutation.amendConversionRule": only(OFFICER),
    "Mutation.acceptConversionRule": own(
        (INSTITUTION,), note="a party whose acceptance the agreement awaits (stored)"
    ),
    "Mutation.approveConversionRule": only(OFFICER),
    "Mutation.declineConversionRule": own(
        (INSTITUTION,), OFFICER, note="a party whose acceptance it awaits (stored)"
    ),
    "Mutation.approveDecision": only(OFFICER),
    "Mutation.declineDecision": only(OFFICER),
    "Mutation.reverseConversion": own(
        (LEARNER,), OFFICER, note=LEARNER_SELF, owner=learner_in_input
    ),
    "Mutation.appealDecision": own((LEARNER,), note=LEARNER_SELF, owner=learner_in_input),
    "Mutation.hearAppeal": only(OFFICER),
    "Mutation.applyForPriorLearning": own((LEARNER,), note=LEARNER_SELF, owner=learner_in_input),
    "Mutation.reviewAward": only(OFFICER),
    "Mutation.exportAward": own((LEARNER,), note=LEARNER_SELF, owner=learner_in_input),
    "Mutation.retireConversionRule": only(OFFICER),
    "Mutation.createQualification": only(OFFICER),
    "Mutation.amendQualification": only(OFFICER),
    "Mutation.retireQualification": only(OFFICER),
}


class Allowed(BasePermission):
    """The field's POLICY, for every field: the role, and ownership where the arguments say it.
    (Raises its own typed error: strawberry's would carry no code.)"""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        policy = POLICY[f"{info._raw_info.parent_type.name}.{info.field_name}"]
        p = info.context.principal
        if policy.anyone:
            return True
        if p.anonymous:
            raise ApiError("UNAUTHENTICATED", "a bearer token is required")
        if not policy.admits(p):
            raise forbid(f"role {p.role.value if p.role else '-'} may not do this")
        if p.role in policy.own and p.role not in policy.roles and policy.owner is not None:
            owner = str(policy.owner(kwargs))
            # A malformed id is nobody's: the command refuses it as NOT_FOUND, naming the field.
            if _is_id(owner) and owner != str(p.subject):
                raise forbid(f"only {policy.note} may do this")
        return True


def _is_id(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


ALLOWED = [Allowed]  # permission_classes of every Query and Mutation field


def is_self(p: Principal, learner_id: UUID) -> bool:
    return p.role is Role.LEARNER and p.subject == str(learner_id)


def subject_is(p: Principal, institution_id: UUID | str) -> bool:
    return p.subject == str(institution_id)


def forbid(message: str) -> ApiError:
    return ApiError("FORBIDDEN", message)


def shows(info: Info, scope: str, kind: str, issuer_id: object) -> bool:
    """Whether the caller, reading an account with ``scope``, may see this outcome."""
    return scope_covers(scope, info.context.principal.subject, kind, issuer_id)


async def account_access(info: Info, learner_id: UUID) -> str:
    """How much of an account the caller may read: "ALL", or an enterprise's consent scope
    ("OWN": what it issued; "TRAINING": enterprise training from any issuer)."""
    p = info.context.require()
    if p.role in READERS or is_self(p, learner_id):
        return "ALL"
    if p.role is Role.ENTERPRISE and p.subject:
        scope = await info.context.read(
            enterprise.consent_scope, p.subject, str(learner_id), info.context.today()
        )
        if scope is not None:
            return scope
    raise forbid("this account is not yours to read")
