"""Who may do what. Every query and mutation field of the schema has an entry in POLICY, and
resolvers call these checks; a test enumerates the schema against POLICY, so a new field without
a rule fails."""

from __future__ import annotations

from uuid import UUID

from api.auth import Principal, Role
from api.graphql.context import Info
from api.graphql.errors import ApiError
from projections import enterprise

PUBLIC = "public"
# field -> who may call it (ownership rules are enforced by the resolver, named here)
POLICY: dict[str, str] = {
    "Query.node": "public types for anyone; learner data as Query.learner",
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
    "Query.auditReport": "AUDITOR, OFFICER",
    "Query.learner": "LEARNER (self), OFFICER, AUDITOR; ENTERPRISE (consenting employee)",
    "Query.learners": "OFFICER, AUDITOR",
    "Query.organization": "ENTERPRISE (itself), OFFICER, AUDITOR",
    "Mutation.registerInstitution": "ADMIN",
    "Mutation.addInstitutionKey": "ADMIN",
    "Mutation.retireInstitutionKey": "ADMIN",
    "Mutation.suspendInstitution": "ADMIN",
    "Mutation.reactivateInstitution": "ADMIN",
    "Mutation.registerLearner": "OFFICER",
    "Mutation.verifyLearnerIdentity": "OFFICER",
    "Mutation.eraseLearner": "OFFICER",
    "Mutation.depositCredential": "INSTITUTION (the credential's issuer)",
    "Mutation.recognizeOutcome": "OFFICER",
    "Mutation.rejectOutcome": "OFFICER",
    "Mutation.convertCredits": "LEARNER (self), OFFICER",
    "Mutation.redeemQualification": "LEARNER (self), OFFICER",
    "Mutation.revokeOutcome": "INSTITUTION (the issuer), OFFICER",
    "Mutation.grantConsent": "LEARNER (self)",
    "Mutation.revokeConsent": "LEARNER (self)",
    "Mutation.exportTranscript": "LEARNER (self)",
    "Mutation.exportOutcome": "LEARNER (self)",
    "Mutation.defineStandard": "OFFICER",
    "Mutation.createRecognitionRule": "OFFICER",
    "Mutation.amendRecognitionRule": "OFFICER",
    "Mutation.retireRecognitionRule": "OFFICER",
    "Mutation.createConversionRule": "OFFICER; INSTITUTION for an agreement it is the target of",
    "Mutation.amendConversionRule": "OFFICER",
    "Mutation.retireConversionRule": "OFFICER",
    "Mutation.createQualification": "OFFICER",
    "Mutation.amendQualification": "OFFICER",
    "Mutation.retireQualification": "OFFICER",
}

READERS = (Role.OFFICER, Role.AUDITOR)


def is_self(p: Principal, learner_id: UUID) -> bool:
    return p.role is Role.LEARNER and p.subject == str(learner_id)


def subject_is(p: Principal, institution_id: UUID | str) -> bool:
    return p.subject == str(institution_id)


def forbid(message: str) -> ApiError:
    return ApiError("FORBIDDEN", message)


async def account_access(info: Info, learner_id: UUID) -> str:
    """How much of an account the caller may read: "ALL" or "TRAINING" (enterprise scope)."""
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


def require_learner_or(info: Info, learner_id: UUID, *roles: Role) -> Principal:
    p = info.context.require()
    if is_self(p, learner_id) or p.role in roles:
        return p
    raise forbid("only the learner themself (or an officer) may do this")
