"""Authorization: every Query and Mutation field has a POLICY entry, and every field is tried by
every kind of caller over HTTP, expecting exactly what POLICY says.

Callers: anonymous; a LEARNER on their own record and on someone else's; an INSTITUTION that issued
the outcome in question and one that did not; an ENTERPRISE the learner consented to and one they
did not; an OFFICER, an AUDITOR and an ADMIN. Each field's ``Policy`` is read as it is enforced:
``anyone`` is everyone; a role in ``roles`` is every caller of that role; a role in ``own`` is only
the owning caller of that role (the learner themself, the issuing institution, the consented
enterprise).
A refusal is ``UNAUTHENTICATED`` for anonymous callers and ``FORBIDDEN`` otherwise, and stores
nothing; an allowed call may still fail for a business reason, never for an authorization one.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from api.auth import Role
from api.graphql.authz import POLICY, Policy
from api.graphql.schema import build_schema
from application.issuing import IssuerKey
from tests.api.conftest import GraphQL, Issuer, LearnerRef, World, register_institution
from tests.builders import sign_statement, xapi_actor, xapi_statement

PRINCIPALS = (
    "anonymous",
    "learner:self",
    "learner:other",
    "institution:issuer",
    "institution:other",
    "enterprise:consented",
    "enterprise:other",
    "officer",
    "auditor",
    "admin",
)
VARIANTS = {
    "LEARNER": ("learner:self", "learner:other"),
    "INSTITUTION": ("institution:issuer", "institution:other"),
    "ENTERPRISE": ("enterprise:consented", "enterprise:other"),
    "OFFICER": ("officer",),
    "AUDITOR": ("auditor",),
    "ADMIN": ("admin",),
}
AUTH_CODES = {"FORBIDDEN", "UNAUTHENTICATED"}
# Query.node serves public objects to anyone and learner data as Query.learner does: both tried.
NODE_AS_LEARNER = "Query.node(learner)"


def allowed_by(policy: Policy) -> frozenset[str]:
    """Which callers a field's Policy lets in (for ``own`` roles, the owner only)."""
    if policy.anyone:
        return frozenset(PRINCIPALS)
    allowed = {variant for role in policy.roles for variant in VARIANTS[role.value]}
    allowed |= {VARIANTS[role.value][0] for role in policy.own if role not in policy.roles}
    return frozenset(allowed)


def expected_access(field: str) -> frozenset[str]:
    if field == "Query.node":
        return frozenset(PRINCIPALS)  # asked about an institution: a public type
    if field == NODE_AS_LEARNER:
        return allowed_by(POLICY["Query.learner"])
    return allowed_by(POLICY[field])


def served_fields() -> list[str]:
    schema = build_schema()._schema
    assert schema.query_type is not None
    fields = [f"Query.{f}" for f in schema.query_type.fields]
    fields += [f"Mutation.{f}" for f in schema.mutation_type.fields]  # type: ignore[union-attr]
    return sorted(fields)


FIELDS = [*served_fields(), NODE_AS_LEARNER]


# -- POLICY covers the schema exactly --------------------------------------------------------------
def test_every_served_field_has_a_policy_and_every_policy_a_field(gql: GraphQL) -> None:
    schema = gql("{ __schema { queryType { fields { name } } mutationType { fields { name } } } }")
    types = schema.ok()["__schema"]
    served = {f"Query.{f['name']}" for f in types["queryType"]["fields"]}
    served |= {f"Mutation.{f['name']}" for f in types["mutationType"]["fields"]}
    assert not served - POLICY.keys(), (
        f"fields without a POLICY entry: {sorted(served - POLICY.keys())}"
    )
    assert not POLICY.keys() - served, (
        f"POLICY names missing fields: {sorted(POLICY.keys() - served)}"
    )
    for field, policy in POLICY.items():
        assert allowed_by(policy), field  # nobody at all may call it: a mistake


def test_auditors_never_change_anything_and_admins_only_manage_institutions() -> None:
    mutations = [f for f in POLICY if f.startswith("Mutation.")]
    assert all("auditor" not in expected_access(f) for f in mutations)
    admin = {f for f in mutations if "admin" in expected_access(f)}
    assert admin == {
        "Mutation.registerInstitution",
        "Mutation.addInstitutionKey",
        "Mutation.retireInstitutionKey",
        "Mutation.revokeInstitutionKey",
        "Mutation.reviewCompromisedKey",
        "Mutation.suspendInstitution",
        "Mutation.reactivateInstitution",
    }
    assert all(expected_access(f) == {"admin"} for f in admin)  # and nobody else does that


# -- the cast --------------------------------------------------------------------------------------
@dataclass
class Cast:
    world: World
    learner: LearnerRef  # the record everything is about
    other: LearnerRef
    outcome: str  # issued by world.university, recognised
    pending: str  # a MOOC outcome waiting for recognition
    consent_to_revoke: Issuer  # an enterprise the learner consented to, for revokeConsent
    target: Issuer  # an institution for the admin's key and status mutations
    target_kid: str
    recognition_rule: str
    conversion_rule: str
    qualification: str
    standard: str  # for amendStandard
    serial: Any

    def token(self, principal: str) -> str | None:
        w = self.world
        return {
            "anonymous": None,
            "learner:self": self.learner.token,
            "learner:other": self.other.token,
            "institution:issuer": w.token(Role.INSTITUTION, w.university.id),
            "institution:other": w.token(Role.INSTITUTION, w.college.id),
            "enterprise:consented": w.token(Role.ENTERPRISE, w.enterprise.id),
            "enterprise:other": w.token(Role.ENTERPRISE, w.enterprise2.id),
            "officer": w.officer,
            "auditor": w.auditor,
            "admin": w.admin,
        }[principal]

    def n(self) -> int:
        return int(next(self.serial))


@pytest.fixture(scope="module")
def cast(gql: GraphQL, world: World) -> Cast:
    learner, other = world.learner(), world.learner()
    outcome = world.deposit(learner)["id"]
    pending = world.deposit(learner, world.mooc)["id"]
    world.consent(learner, world.enterprise, "TRAINING")
    third = register_institution(gql, world.admin, "Consent To Revoke Ltd", "ENTERPRISE")
    world.consent(learner, third, "TRAINING")
    keys = IssuerKey.ed25519()
    target = register_institution(gql, world.admin, "Key Target College", "ADULT_COLLEGE", keys)
    rule = gql.mutate(
        "createRecognitionRule",
        {
            "name": "to amend",
            "model": "AGREEMENT",
            "standardCode": "NO-MATCH",
            "level": 3,
            "category": "x",
            "priority": -1,  # it overlaps the world's rules: below them
        },
        world.officer,
        "rule { id }",
    )["rule"]["id"]
    conversion = gql.mutate(
        "createConversionRule",
        {
            **CONVERSION,
            "sourceInstitutionId": world.college.id,
            "targetInstitutionId": world.university.id,
        },
        world.officer,
        "rule { id }",
    )["rule"]["id"]
    qualification = gql.mutate(
        "createQualification",
        {
            "name": "to amend",
            "level": 5,
            "awardingInstitutionId": world.college.id,
            "totalCredits": "30",
        },
        world.officer,
        "qualification { id }",
    )["qualification"]["id"]
    standard = gql.mutate(
        "defineStandard",
        {
            "code": "MX-AMEND",
            "title": "to amend",
            "level": 4,
            "credits": "3",
            "acceptedKinds": ["MOOC"],
        },
        world.officer,
        "standard { id }",
    )["standard"]["id"]
    made = Cast(
        world,
        learner,
        other,
        outcome,
        pending,
        third,
        target,
        keys.kid,
        rule,
        conversion,
        qualification,
        standard,
        itertools.count(1),
    )
    intake_job(made)
    return made


CONVERSION = {
    "name": "matrix agreement",
    "model": "AGREEMENT",
    "sourceStandardCode": "NO-MATCH",
    "targetCode": "M-1",
    "targetCategory": "elective",
    "ratio": "0.5",
}


# -- one request per field -------------------------------------------------------------------------
Case = Callable[[Cast], tuple[str, dict[str, Any]]]


def query(text: str) -> Case:
    return lambda c: (
        text,
        {
            "learner": c.learner.id,
            "outcome": c.outcome,
            "university": c.world.university.id,
            "enterprise": c.world.enterprise.id,
            "qualification": c.world.qualification,
        },
    )


def mutation(
    name: str, make_input: Callable[[Cast], dict[str, Any]], type_name: str | None = None
) -> Case:
    type_name = type_name or name[0].upper() + name[1:] + "Input"
    text = f"mutation($input: {type_name}!) {{ {name}(input: $input) {{ errors {{ code }} }} }}"
    return lambda c: (text, {"input": make_input(c)})


def signed_statement(c: Cast) -> dict[str, Any]:
    """A statement the university signed as a learning platform, about the learner (a new
    activity each time: a repeat would be a duplicate)."""
    w = c.world
    statement = xapi_statement(
        w.university.issuer_uri,
        xapi_actor(c.learner.document_number),
        activity_id=f"https://lms.example.org/activities/matrix-{c.n()}",
    )
    signed = sign_statement(statement, w.university.keys)
    return {
        "learnerId": c.learner.id,
        "statement": json.dumps(signed["statement"]),
        "signature": signed["signature"],
    }


def intake_job(c: Cast) -> str:
    """A job the university uploaded (one line), made once per module and worked to its end
    before any case runs (a case must find the store as it left it)."""
    if not hasattr(c, "intake_job"):
        w = c.world
        token = w.token(Role.INSTITUTION, w.university.id)
        answer = httpx.post(
            w.served.base_url + "/intake",
            content=json.dumps({"learnerId": c.other.id, "credential": w.credential(c.other)}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        job = answer.json()["id"]
        for _ in range(300):
            state = w.gql("query($id: ID!) { intakeJob(id: $id) { state } }", {"id": job}, token)
            if state.ok()["intakeJob"]["state"] == "DONE":
                break
            time.sleep(0.05)
        c.intake_job = job  # type: ignore[attr-defined]
    return str(c.intake_job)  # type: ignore[attr-defined]


def awaiting_university(c: Cast) -> str:
    """An agreement the college proposed, awaiting the university's acceptance only."""
    w = c.world
    return str(
        w.gql.mutate(
            "createConversionRule",
            {
                **CONVERSION,
                "sourceInstitutionId": w.college.id,
                "targetInstitutionId": w.university.id,
                "targetCode": f"ACC-{c.n()}",
            },
            w.token(Role.INSTITUTION, w.college.id),
            "rule { id }",
        )["rule"]["id"]
    )


def fresh_learner(c: Cast, verified: bool) -> str:
    return c.world.learner(verified=verified).id


def fresh_standard(c: Cast) -> str:
    """A standard of its own for each call that may withdraw it."""
    defined = c.world.gql.mutate(
        "defineStandard",
        {
            "code": f"MX-W-{c.n()}",
            "title": "to withdraw",
            "level": 4,
            "credits": "3",
            "acceptedKinds": ["MOOC"],
        },
        c.world.officer,
        "standard { id }",
    )
    return str(defined["standard"]["id"])


CASES: dict[str, Case] = {
    "Query.node": query("query($university: ID!) { node(id: $university) { id } }"),
    NODE_AS_LEARNER: query("query($learner: ID!) { node(id: $learner) { id } }"),
    "Query.viewer": query("{ viewer { role } }"),
    "Query.framework": query("{ framework { name } }"),
    "Query.institution": query("query($university: ID!) { institution(id: $university) { id } }"),
    "Query.institutions": query("{ institutions(first: 1) { edges { cursor } } }"),
    "Query.qualification": query(
        "query($qualification: ID!) { qualification(id: $qualification) { id } }"
    ),
    "Query.qualifications": query("{ qualifications(first: 1) { edges { cursor } } }"),
    "Query.conversionRules": query("{ conversionRules(first: 1) { edges { cursor } } }"),
    "Query.recognitionRules": query("{ recognitionRules(first: 1) { edges { cursor } } }"),
    "Query.standards": query("{ standards(first: 1) { edges { cursor } } }"),
    "Query.verifyCredential": query('{ verifyCredential(credential: "x.y.z") { valid } }'),
    "Query.auditReport": query("{ auditReport { ok } }"),
    "Query.identityFailures": query("{ identityFailures { at institutionId learnerId } }"),
    "Query.parkedEvents": query("{ parkedEvents { notificationId error } }"),
    "Query.learner": query(
        "query($learner: ID!) { learner(id: $learner) { id identityVerification } }"
    ),
    "Query.learners": query("{ learners(first: 1) { edges { cursor } } }"),
    "Query.organization": query(
        "query($enterprise: ID!) { organization(id: $enterprise) { id name } }"
    ),
    "Query.intakeJob": lambda c: (
        "query($id: ID!) { intakeJob(id: $id) { id state total } }",
        {"id": intake_job(c)},
    ),
    "Query.institutionLedger": query(
        "query($university: ID!) { institutionLedger(institutionId: $university, first: 1) "
        "{ totalCount edges { node { id status } } } }"
    ),
    "Mutation.registerInstitution": mutation(
        "registerInstitution",
        lambda c: {
            "name": f"Matrix {c.n()}",
            "kind": "TRAINING_PROVIDER",
            "publicKeyJwk": IssuerKey.ed25519().jwk,
            "issuerUri": f"https://m{uuid.uuid4().hex[:10]}.example/issuer",
        },
    ),
    "Mutation.addInstitutionKey": mutation(
        "addInstitutionKey",
        lambda c: {"institutionId": c.target.id, "publicKeyJwk": IssuerKey.ed25519().jwk},
    ),
    "Mutation.retireInstitutionKey": mutation(
        "retireInstitutionKey", lambda c: {"institutionId": c.target.id, "kid": c.target_kid}
    ),
    "Mutation.revokeInstitutionKey": mutation(
        "revokeInstitutionKey",
        lambda c: {
            "institutionId": c.target.id,
            "kid": c.target_kid,
            "compromisedAt": "2026-01-01T00:00:00Z",
            "reason": "matrix",
        },
    ),
    "Mutation.reviewCompromisedKey": mutation(
        "reviewCompromisedKey", lambda c: {"institutionId": c.target.id, "kid": c.target_kid}
    ),
    "Mutation.clearOutcomeReview": mutation(
        "clearOutcomeReview",
        lambda c: {"learnerId": c.learner.id, "outcomeId": c.outcome, "reason": "matrix"},
    ),
    "Mutation.suspendInstitution": mutation(
        "suspendInstitution", lambda c: {"institutionId": c.target.id, "reason": "matrix"}
    ),
    "Mutation.reactivateInstitution": mutation(
        "reactivateInstitution", lambda c: {"institutionId": c.target.id}
    ),
    "Mutation.declareCreditScheme": mutation(
        "declareCreditScheme",
        lambda c: {"institutionId": c.target.id, "hoursPerCredit": str(10 + uuid.uuid4().int % 50)},
    ),
    "Mutation.mergeLearners": mutation(
        "mergeLearners",
        lambda c: {
            "survivorId": fresh_learner(c, verified=True),
            "duplicateId": fresh_learner(c, verified=False),
            "reason": "one person, two accounts",
        },
    ),
    "Mutation.registerLearner": mutation(
        "registerLearner",
        lambda c: {
            "name": "Matrix",
            "identityDocumentType": "PASSPORT",
            "identityDocumentNumber": f"M{uuid.uuid4().int % 10**12}",
            "birthDate": "1999-09-09",
        },
    ),
    "Mutation.verifyLearnerIdentity": mutation(
        "verifyLearnerIdentity",
        lambda c: {"learnerId": fresh_learner(c, verified=False), "method": "DOCUMENT_CHECKED"},
    ),
    "Mutation.eraseLearner": mutation(
        "eraseLearner", lambda c: {"learnerId": fresh_learner(c, verified=False)}
    ),
    "Mutation.depositCredential": mutation(
        "depositCredential",
        lambda c: {"learnerId": c.learner.id, "credential": c.world.credential(c.learner)},
    ),
    "Mutation.depositStatement": mutation("depositStatement", signed_statement),
    "Mutation.recognizeOutcome": mutation(
        "recognizeOutcome",
        lambda c: {
            "learnerId": c.learner.id,
            "outcomeId": c.outcome,
            "credits": "1",
            "level": 4,
            "category": "x",
        },
    ),
    "Mutation.rejectOutcome": mutation(
        "rejectOutcome",
        lambda c: {"learnerId": c.learner.id, "outcomeId": c.pending, "reason": "matrix"},
    ),
    "Mutation.convertCredits": mutation(
        "convertCredits",
        lambda c: {
            "learnerId": c.learner.id,
            "outcomeIds": [c.outcome],
            "conversionRuleId": c.world.conversion_rule,
        },
    ),
    "Mutation.redeemQualification": mutation(
        "redeemQualification",
        lambda c: {"learnerId": c.learner.id, "qualificationId": c.world.qualification},
    ),
    "Mutation.revokeOutcome": mutation(
        "revokeOutcome",
        lambda c: {"learnerId": c.learner.id, "outcomeId": c.outcome, "reason": "matrix"},
    ),
    "Mutation.grantConsent": mutation(
        "grantConsent",
        lambda c: {
            "learnerId": c.learner.id,
            "organizationId": c.world.enterprise.id,
            "scope": "TRAINING",
        },
    ),
    "Mutation.revokeConsent": mutation(
        "revokeConsent",
        lambda c: {"learnerId": c.learner.id, "organizationId": c.consent_to_revoke.id},
    ),
    "Mutation.exportTranscript": mutation(
        "exportTranscript", lambda c: {"learnerId": c.learner.id}
    ),
    "Mutation.exportOutcome": mutation(
        "exportOutcome", lambda c: {"learnerId": c.learner.id, "outcomeId": c.outcome}
    ),
    "Mutation.exportEuropass": mutation(
        "exportEuropass", lambda c: {"learnerId": c.learner.id, "format": "JSON_LD"}
    ),
    "Mutation.createRecognitionRule": mutation(
        "createRecognitionRule",
        lambda c: {
            "name": f"matrix {c.n()}",
            "model": "FRAMEWORK",
            "standardCode": "NO-MATCH",
            "level": 3,
            "category": "x",
            "priority": -1,  # it overlaps the world's rules: below them
        },
    ),
    "Mutation.amendRecognitionRule": mutation(
        "amendRecognitionRule",
        lambda c: {
            "ruleId": c.recognition_rule,
            "standardCode": f"NO-MATCH-{c.n()}",
            "level": 3,
            "category": "x",
        },
    ),
    "Mutation.retireRecognitionRule": mutation(
        "retireRecognitionRule", lambda c: {"ruleId": c.recognition_rule}, "RetireRuleInput"
    ),
    "Mutation.createConversionRule": mutation(
        "createConversionRule",
        lambda c: {
            **CONVERSION,
            "name": f"matrix {c.n()}",
            # The university is a party, the college ("institution:other") is not.
            "sourceInstitutionId": c.world.mooc.id,
            "targetInstitutionId": c.world.university.id,
            "targetCode": f"MX-{c.n()}",
            "justification": "matrix",  # the university's rule into its own courses
        },
    ),
    "Mutation.amendConversionRule": mutation(
        "amendConversionRule",
        lambda c: {
            **{k: v for k, v in CONVERSION.items() if k not in ("name", "model")},
            "ruleId": c.conversion_rule,
            "sourceInstitutionId": c.world.college.id,
            "targetInstitutionId": c.world.university.id,
            "targetCode": f"M-{c.n()}",
        },
    ),
    "Mutation.acceptConversionRule": mutation(
        "acceptConversionRule", lambda c: {"ruleId": awaiting_university(c)}
    ),
    "Mutation.approveConversionRule": mutation(
        "approveConversionRule", lambda c: {"ruleId": str(uuid.uuid4())}
    ),
    "Mutation.declineConversionRule": mutation(
        "declineConversionRule", lambda c: {"ruleId": awaiting_university(c), "reason": "matrix"}
    ),
    "Mutation.approveDecision": mutation(
        "approveDecision",
        lambda c: {"learnerId": c.learner.id, "decisionId": str(uuid.uuid4())},
    ),
    "Mutation.declineDecision": mutation(
        "declineDecision",
        lambda c: {"learnerId": c.learner.id, "decisionId": str(uuid.uuid4()), "reason": "x"},
    ),
    "Mutation.reverseConversion": mutation(
        "reverseConversion",
        lambda c: {"learnerId": c.learner.id, "conversionId": str(uuid.uuid4())},
    ),
    "Mutation.appealDecision": mutation(
        "appealDecision",
        lambda c: {"learnerId": c.learner.id, "outcomeId": c.outcome, "grounds": "matrix"},
    ),
    "Mutation.hearAppeal": mutation(
        "hearAppeal",
        lambda c: {
            "learnerId": c.learner.id,
            "outcomeId": c.outcome,
            "upheld": False,
            "reason": "matrix",
        },
    ),
    "Mutation.applyForPriorLearning": mutation(
        "applyForPriorLearning",
        lambda c: {
            "learnerId": c.learner.id,
            "title": "Bookkeeping at work",
            "completedOn": "2024-06-30",
            "description": "ten years of ledgers",
            "evidence": [{"description": "employer letter"}],
        },
    ),
    "Mutation.reviewAward": mutation(
        "reviewAward",
        lambda c: {
            "learnerId": c.learner.id,
            "awardId": str(uuid.uuid4()),
            "decision": "RESCIND",
            "reason": "matrix",
        },
    ),
    "Mutation.exportAward": mutation(
        "exportAward", lambda c: {"learnerId": c.learner.id, "awardId": str(uuid.uuid4())}
    ),
    "Mutation.retireConversionRule": mutation(
        "retireConversionRule", lambda c: {"ruleId": c.conversion_rule}, "RetireRuleInput"
    ),
    "Mutation.defineStandard": mutation(
        "defineStandard",
        lambda c: {
            "code": f"MX-{c.n()}",
            "title": "matrix standard",
            "level": 4,
            "credits": "3",
            "acceptedKinds": ["MOOC"],
        },
    ),
    "Mutation.amendStandard": mutation(
        "amendStandard",
        lambda c: {
            "standardId": c.standard,
            "title": f"matrix standard, version {c.n()}",
            "level": 4,
            "credits": "3",
            "acceptedKinds": ["MOOC"],
        },
    ),
    "Mutation.withdrawStandard": mutation(
        "withdrawStandard", lambda c: {"standardId": fresh_standard(c)}
    ),
    "Mutation.createQualification": mutation(
        "createQualification",
        lambda c: {
            "name": f"matrix {c.n()}",
            "level": 4,
            "awardingInstitutionId": c.world.college.id,
            "totalCredits": "10",
        },
    ),
    "Mutation.amendQualification": mutation(
        "amendQualification",
        lambda c: {"qualificationId": c.qualification, "totalCredits": str(30 + c.n())},
    ),
    "Mutation.retireQualification": mutation(
        "retireQualification", lambda c: {"qualificationId": c.qualification}
    ),
}


def refusal(reply: Any, field: str) -> str | None:
    """The authorization code of a refusal (GraphQL error or UserError), else None."""
    codes = [(e.get("extensions") or {}).get("code") for e in reply.errors]
    name = field.split(".", 1)[1].split("(")[0]
    payload = (reply.data or {}).get(name)
    if field.startswith("Mutation.") and isinstance(payload, dict):
        codes += [e["code"] for e in payload.get("errors") or []]
    found = [c for c in codes if c in AUTH_CODES]
    return found[0] if found else None


def test_the_matrix_covers_every_served_field() -> None:
    assert sorted(set(FIELDS) - CASES.keys()) == [], "add a CASES entry for the new field(s)"
    assert sorted(CASES.keys() - set(FIELDS)) == [], "CASES names fields the schema lost"


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("field", FIELDS)
def test_access(gql: GraphQL, cast: Cast, field: str, principal: str) -> None:
    if field not in CASES:
        pytest.fail(f"no authorization case for {field}: add one to CASES")
    text, variables = CASES[field](cast)
    before = gql.head()
    reply = gql(text, variables, cast.token(principal))
    assert reply.status == 200, reply.text
    code = refusal(reply, field)
    if principal in expected_access(field):
        assert code is None, f"{principal} should be allowed {field}: {reply.body}"
        if field.startswith("Query."):
            assert reply.data is not None
    else:
        expected = "UNAUTHENTICATED" if principal == "anonymous" else "FORBIDDEN"
        assert code == expected, f"{principal} should get {expected} on {field}: {reply.body}"
        assert gql.head() == before, f"a refused {field} stored events"


def test_matrix_size() -> None:
    """fields x callers, per database (reported by the suite)."""
    assert len(FIELDS) * len(PRINCIPALS) >= 40 * 10
