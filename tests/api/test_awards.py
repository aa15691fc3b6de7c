"""Awards through the API, on both engines (issue 13): a redemption spends exactly what it
counts and returns the award; revoking credit under it puts it under review; an officer
reaffirms or rescinds it; a standing award exports as a signed OB 3.0 credential whose status
flips when it is rescinded; the account's past states show conversions, awards and progress
under the qualification version in force then."""

from __future__ import annotations

import json
from typing import Any

import jwt

from api.auth import Role
from tests.api.conftest import GraphQL, LearnerRef, World
from tests.trust.test_exports import CLR_AC_SCHEMA, CLR_SCHEMA, OB3_SCHEMA, schema_errors

AWARD = (
    "id status awardedAt creditsCounted qualificationVersion underReviewBecause "
    "reviews { decision reason by } qualification { name }"
)


def account(gql: GraphQL, learner: LearnerRef, token: str, selection: str) -> Any:
    return gql(
        f"query($id: ID!) {{ learner(id: $id) {{ account {{ {selection} }} }} }}",
        {"id": learner.id},
        token,
    ).ok()["learner"]["account"]


def awarded(gql: GraphQL, world: World) -> tuple[LearnerRef, list[str], dict[str, Any]]:
    """A learner with three 4-credit major courses who redeems the world's 6-credit
    certificate."""
    learner = world.learner()
    courses = [
        world.deposit(learner, credits=4, title=f"Course {i}", human_code=f"C-{i}")["id"]
        for i in range(3)
    ]
    redeemed = gql.mutate(
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": world.qualification},
        learner.token,
        f"progress {{ met creditsCounted redeemed award {{ id status }} }} award {{ {AWARD} }}",
    )
    assert redeemed["errors"] == [], redeemed
    return learner, courses, redeemed


def test_a_redemption_returns_its_award_and_spends_exactly_what_it_counts(
    gql: GraphQL, world: World
) -> None:
    learner, _, redeemed = awarded(gql, world)
    award = redeemed["award"]
    assert (award["status"], award["creditsCounted"], award["qualificationVersion"]) == (
        "STANDING",
        "6.00",
        1,
    )
    assert award["qualification"] == {"name": "Certificate in Testing"}
    assert redeemed["progress"] == {
        "met": True,
        "creditsCounted": "6.00",
        "redeemed": True,
        "award": {"id": award["id"], "status": "STANDING"},
    }
    seen = account(
        gql, learner, learner.token, f"balance {{ total available redeemed }} awards {{ {AWARD} }}"
    )
    assert seen["balance"] == {"total": "12.00", "available": "6.00", "redeemed": "6.00"}
    assert seen["awards"] == [award]
    node = gql(
        "query($id: ID!) { node(id: $id) { id ... on Award { status } } }",
        {"id": award["id"]},
        learner.token,
    ).ok()
    assert node["node"] == {"id": award["id"], "status": "STANDING"}
    stranger = world.learner()
    hidden = gql("query($id: ID!) { node(id: $id) { id } }", {"id": award["id"]}, stranger.token)
    assert [e["extensions"]["code"] for e in hidden.errors] == ["FORBIDDEN"]


def test_revoked_credit_puts_an_award_under_review_and_an_officer_decides(
    gql: GraphQL, world: World
) -> None:
    learner = world.learner()
    first, second = (
        world.deposit(learner, credits=3, title=f"Course {i}", human_code=f"C-{i}")["id"]
        for i in range(2)
    )
    redeemed = gql.mutate(
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": world.qualification},
        learner.token,
        "award { id }",
    )
    award_id = redeemed["award"]["id"]
    spare = world.deposit(learner, credits=3, title="Course 2", human_code="C-2")["id"]
    course = first
    gql.mutate(
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": course, "reason": "forged"},
        world.officer,
        "outcome { id }",
    )
    seen = account(
        gql,
        learner,
        learner.token,
        f"awards {{ {AWARD} }} "
        f'progress(qualificationId: "{world.qualification}") {{ met unmet notes redeemed }}',
    )
    [award] = seen["awards"]
    assert award["status"] == "UNDER_REVIEW"
    assert award["underReviewBecause"] == [f"outcome {course} revoked: forged"]
    assert seen["progress"]["redeemed"] is True
    assert seen["progress"]["notes"][0] == f"award under review: outcome {course} revoked: forged"
    review = {"learnerId": learner.id, "awardId": award_id, "decision": "REAFFIRM", "reason": "ok"}
    # The learner cannot review their own award; an officer can.
    refused = gql.mutate_raw("reviewAward", review, learner.token, "award { id }")
    assert [e["extensions"]["code"] for e in refused.errors] == ["FORBIDDEN"]
    # Reaffirmed: re-assessed on what remains, the spare course taking the revoked one's place.
    reaffirmed = gql.mutate("reviewAward", review, world.officer, f"award {{ {AWARD} }}")
    assert reaffirmed["errors"] == []
    assert reaffirmed["award"]["status"] == "STANDING"
    assert reaffirmed["award"]["reviews"] == [
        {"decision": "REAFFIRM", "reason": "ok", "by": "officer:officer-1"}
    ]
    balance = account(gql, learner, learner.token, "balance { total redeemed }")["balance"]
    assert balance == {"total": "6.00", "redeemed": "6.00"}
    assert spare  # counted now
    gql.mutate(
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": second, "reason": "forged"},
        world.officer,
        "outcome { id }",
    )
    head = gql.head()
    # 3 credits cannot meet 6: reaffirming is refused and changes nothing.
    not_met = gql.mutate("reviewAward", review, world.officer, "award { status }")
    assert [e["code"] for e in not_met["errors"]] == ["REQUIREMENTS_NOT_MET"]
    assert "no longer met" in not_met["errors"][0]["message"]
    assert not_met["award"] is None
    assert gql.head() == head
    rescind = {**review, "decision": "RESCIND", "reason": "credit forged"}
    rescinded = gql.mutate("reviewAward", rescind, world.officer, f"award {{ {AWARD} }}")
    assert rescinded["award"]["status"] == "RESCINDED"
    seen = account(
        gql,
        learner,
        learner.token,
        "balance { redeemed available } "
        f'progress(qualificationId: "{world.qualification}") {{ met redeemed award {{ status }} }}',
    )
    assert seen["balance"]["redeemed"] == "0.00"  # released
    assert seen["progress"] == {"met": False, "redeemed": False, "award": {"status": "RESCINDED"}}
    exported = gql.mutate(
        "exportAward", {"learnerId": learner.id, "awardId": award_id}, learner.token, "credential"
    )
    assert [e["code"] for e in exported["errors"]] == ["RULE_NOT_APPLICABLE"]


def test_an_exported_award_is_a_valid_signed_credential_revoked_when_rescinded(
    gql: GraphQL, world: World
) -> None:
    learner, _, redeemed = awarded(gql, world)
    award_id = redeemed["award"]["id"]
    request = {"learnerId": learner.id, "awardId": award_id}
    other = world.learner()
    forbidden = gql.mutate_raw("exportAward", request, other.token, "credential")
    assert [e["extensions"]["code"] for e in forbidden.errors] == ["FORBIDDEN"]
    token = gql.mutate("exportAward", request, learner.token, "credential")["credential"]
    published = gql.http.get("/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(token)
    (jwk,) = [k for k in published["keys"] if k["kid"] == header["kid"]]
    payload = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"])
    credential = {k: v for k, v in payload.items() if k not in ("iss", "jti", "nbf", "sub")}
    assert schema_errors(OB3_SCHEMA, credential) == []
    achievement = credential["credentialSubject"]["achievement"]
    assert (achievement["name"], achievement["achievementType"]) == (
        "Certificate in Testing",
        "Diploma",
    )
    assert credential["credentialSubject"]["creditsEarned"] == 6.0
    verify = "query($c: String!) { verifyCredential(credential: $c) { valid revoked } }"
    assert gql(verify, {"c": token}).ok()["verifyCredential"] == {"valid": True, "revoked": False}
    gql.mutate(
        "reviewAward",
        {**request, "decision": "RESCIND", "reason": "issued in error"},
        world.officer,
        "award { status }",
    )
    assert gql(verify, {"c": token}).ok()["verifyCredential"] == {"valid": True, "revoked": True}
    # The transcript lists awards only while they stand.
    clr = gql.mutate("exportTranscript", {"learnerId": learner.id}, learner.token, "credential")
    body = jwt.decode(clr["credential"], options={"verify_signature": False})
    names = [a["name"] for a in body["credentialSubject"]["achievement"]]
    assert "Certificate in Testing" not in names
    assert json.dumps(body).count("isPartOf") == 0


def test_the_transcript_links_conversions_and_awards(gql: GraphQL, world: World) -> None:
    learner, _, _ = awarded(gql, world)
    source = world.deposit(learner, world.college, credits=4, title="College course")["id"]
    converted = gql.mutate(
        "convertCredits",
        {
            "learnerId": learner.id,
            "outcomeIds": [source],
            "conversionRuleId": world.conversion_rule,
        },
        learner.token,
        "outcomes { id }",
    )
    assert converted["errors"] == []
    clr = gql.mutate("exportTranscript", {"learnerId": learner.id}, learner.token, "credential")
    document = jwt.decode(clr["credential"], options={"verify_signature": False})
    credential = {k: v for k, v in document.items() if k not in ("iss", "jti", "nbf", "sub")}
    assert schema_errors(CLR_SCHEMA, credential) == []  # associations and all
    for inner in credential["credentialSubject"]["verifiableCredential"]:
        assert schema_errors(CLR_AC_SCHEMA, inner) == []
    subject = credential["credentialSubject"]
    kinds = sorted(a["associationType"] for a in subject["association"])
    assert kinds.count("replacedBy") == 1  # the college course, by its conversion
    assert kinds.count("isPartOf") == 2  # the two courses the certificate counted
    names = {a["name"] for a in subject["achievement"]}
    assert "Certificate in Testing" in names
    assert any(n.startswith("GEN-TRANSFER") for n in names)
    ids = {a["id"] for a in subject["achievement"]}
    assert all({a["sourceId"], a["targetId"]} <= ids for a in subject["association"])


def test_the_past_shows_awards_conversions_and_progress_as_they_stood(
    gql: GraphQL, world: World
) -> None:
    # A qualification of its own (the world's is shared by this module's tests).
    own = gql.mutate(
        "createQualification",
        {
            "name": "Certificate in Time",
            "level": 6,
            "awardingInstitutionId": world.university.id,
            "totalCredits": "6",
        },
        world.officer,
        "qualification { id }",
    )["qualification"]["id"]
    learner = world.learner()
    for i in range(2):
        world.deposit(learner, credits=4, title=f"Course {i}", human_code=f"T-{i}")
    award_id = gql.mutate(
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": own},
        learner.token,
        "award { id }",
    )["award"]["id"]
    version = account(gql, learner, world.auditor, "version")["version"]
    # The certificate's requirements change after the award: the past keeps the old terms.
    amended = gql.mutate(
        "amendQualification",
        {"qualificationId": own, "totalCredits": "20"},
        world.officer,
        "qualification { version }",
    )
    assert amended["errors"] == [], amended
    past = (
        f"asOf(version: {version}) {{ version awards {{ id status }} conversions {{ id }} "
        f'progress(qualificationId: "{own}") {{ qualificationVersion met '
        "creditsCounted award { id } } }"
    )
    seen = account(gql, learner, world.auditor, past)["asOf"]
    assert seen["awards"] == [{"id": award_id, "status": "STANDING"}]
    assert seen["conversions"] == []
    assert seen["progress"] == {
        "qualificationVersion": 1,
        "met": True,
        "creditsCounted": "6.00",
        "award": {"id": award_id},
    }
    before = (
        f"asOf(version: {version - 1}) {{ awards {{ id }} "
        f'progress(qualificationId: "{own}") {{ qualificationVersion met }} }}'
    )
    assert account(gql, learner, world.auditor, before)["asOf"] == {
        "awards": [],
        "progress": {"qualificationVersion": 1, "met": True},
    }
    terms = (
        "query($id: ID!, $v: Int) { qualification(id: $id, version: $v) { version requirements } }"
    )
    first = gql(terms, {"id": own, "v": 1}, None).ok()["qualification"]
    now = gql(terms, {"id": own, "v": None}, None).ok()["qualification"]
    assert (first["version"], first["requirements"]["total_credits"]) == (1, "6.00")
    assert (now["version"], now["requirements"]["total_credits"]) == (2, "20.00")
    missing = gql(terms, {"id": own, "v": 3}, None).ok()["qualification"]
    assert missing is None
    rules = gql(
        "{ conversionRules(first: 5) { edges { node { versions { version terms } } } } }",
        None,
        world.auditor,
    ).ok()["conversionRules"]["edges"]
    assert rules[0]["node"]["versions"][0]["version"] == 1
    assert world.token(Role.AUDITOR)  # the auditor read all of it


def test_a_pathway_counts_an_earned_award_again(gql: GraphQL, world: World) -> None:
    """A diploma that the world's certificate stacks into counts its award's credits again
    (progress notes how much), and requires it."""
    created = gql.mutate(
        "createQualification",
        {
            "name": "Diploma in Testing",
            "level": 6,
            "awardingInstitutionId": world.university.id,
            "totalCredits": "10",
            "stacksFrom": [{"qualificationId": world.qualification, "required": True}],
        },
        world.officer,
        "qualification { id }",
    )
    assert created["errors"] == [], created
    diploma = created["qualification"]["id"]
    learner = world.learner()
    for i in range(2):
        world.deposit(learner, credits=5, title=f"Course {i}", human_code=f"P-{i}")
    progress = f'progress(qualificationId: "{diploma}") {{ met unmet notes creditsCounted }}'
    before = account(gql, learner, learner.token, progress)["progress"]
    assert before["unmet"] == ["award Certificate in Testing: not held"]
    gql.mutate(
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": world.qualification},
        learner.token,
        "award { id }",
    )
    after = account(gql, learner, learner.token, f"balance {{ redeemed }} {progress}")
    assert after["balance"] == {"redeemed": "6.00"}
    assert after["progress"] == {
        "met": True,
        "unmet": [],
        "notes": ["award Certificate in Testing: 6.00 credits counted again"],
        "creditsCounted": "10.00",
    }
