"""Contract tests for every Mutation of CONTRACT.graphql: a happy path (the change is visible to
the next query) and error paths (a typed ``errors[0].code``, the result field null, and nothing
stored: the event log's head did not move and a re-query shows the old state), over real HTTP, on
SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from api.auth import Role
from application.issuing import IssuerKey
from tests.api.conftest import (
    INSTITUTION_FIELDS,
    OUTCOME_FIELDS,
    GraphQL,
    Issuer,
    LearnerRef,
    World,
    register_institution,
)

MISSING = "00000000-0000-4000-8000-000000000000"


@contextmanager
def nothing_stored(gql: GraphQL) -> Iterator[None]:
    before = gql.head()
    yield
    assert gql.head() == before, "a refused command stored events"


def refuse(
    gql: GraphQL,
    name: str,
    input_: dict[str, Any],
    token: str | None,
    code: str,
    selection: str = "",
) -> dict[str, Any]:
    """The mutation answers with exactly one UserError ``code``, a null result, and stores
    nothing."""
    with nothing_stored(gql):
        payload = gql.mutate(name, input_, token, selection)
    assert [e["code"] for e in payload["errors"]] == [code], payload
    assert all(e["message"] for e in payload["errors"])
    for key, value in payload.items():
        if key != "errors":
            assert value in (None, []), f"{name} returned {key} with an error"
    return payload


def deny(
    gql: GraphQL,
    name: str,
    input_: dict[str, Any],
    token: str | None,
    code: str = "FORBIDDEN",
    selection: str = "",
) -> None:
    """An authorization failure: a GraphQL error with ``extensions.code`` (or, where the check
    needs the stored data, a UserError), and nothing stored."""
    with nothing_stored(gql):
        reply = gql.mutate_raw(name, input_, token, selection)
    if reply.errors:
        assert reply.code == code, reply.errors
        assert reply.data is None
    else:
        assert [e["code"] for e in reply.data[name]["errors"]] == [code]


def transcript_count(gql: GraphQL, learner: LearnerRef) -> int:
    return int(
        gql(
            "query($id: ID!) { learner(id: $id) { account { transcript { totalCount } } } }",
            {"id": learner.id},
            learner.token,
        ).ok()["learner"]["account"]["transcript"]["totalCount"]
    )


def account(gql: GraphQL, learner: LearnerRef, token: str | None = None) -> dict[str, Any]:
    query = f"""query($id: ID!) {{ learner(id: $id) {{ identityVerification account {{ version
        balance {{ total available redeemed }}
        transcript(first: 100) {{ totalCount edges {{ node {{ {OUTCOME_FIELDS} }} }} }}
        history(first: 100) {{ edges {{ node {{ version type actor data }} }} }} }} }} }}"""
    data = gql(query, {"id": learner.id}, token or learner.token).ok()["learner"]
    result: dict[str, Any] = data["account"]
    result["identityVerification"] = data["identityVerification"]
    result["outcomes"] = {e["node"]["id"]: e["node"] for e in result["transcript"]["edges"]}
    result["events"] = [e["node"] for e in result["history"]["edges"]]
    return result


def progress(gql: GraphQL, world: World, learner: LearnerRef) -> dict[str, Any]:
    return gql(  # type: ignore[no-any-return]
        "query($id: ID!, $q: ID!) { learner(id: $id) { account { progress(qualificationId: $q) "
        "{ met unmet creditsCounted } } } }",
        {"id": learner.id, "q": world.qualification},
        learner.token,
    ).ok()["learner"]["account"]["progress"]


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def part(s: str) -> dict[str, Any]:
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))  # type: ignore[no-any-return]

    header, payload, _ = token.split(".")
    return part(header), part(payload)


# -- registerInstitution ---------------------------------------------------------------------------
def test_register_institution_with_an_rsa_key_and_deposit_with_it(
    gql: GraphQL, world: World
) -> None:
    keys = IssuerKey.rsa()
    payload = gql.mutate(
        "registerInstitution",
        {
            "name": "Open University 开放大学",
            "kind": "OPEN_UNIVERSITY",
            "publicKeyJwk": keys.jwk,
            "keyValidFrom": "2020-01-01T00:00:00Z",
        },
        world.admin,
        INSTITUTION_FIELDS,
    )
    assert payload["errors"] == []
    institution = payload["institution"]
    assert institution["issuerUri"] == f"urn:uuid:{institution['id']}"  # the default issuer id
    assert institution["kind"] == "OPEN_UNIVERSITY"
    assert institution["active"] is True
    again = gql(
        "query($id: ID!) { institution(id: $id) { id name kind active issuerUri } }",
        {"id": institution["id"]},
    ).ok()["institution"]
    assert again == institution
    issuer = Issuer(
        institution["id"], institution["name"], "OPEN_UNIVERSITY", keys, institution["issuerUri"]
    )
    learner = world.learner()
    outcome = world.deposit(learner, issuer, title="RS256 course")
    assert outcome["issuer"]["id"] == issuer.id


def test_register_institution_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    count = len(
        gql("{ institutions(first: 100) { edges { cursor } } }").ok()["institutions"]["edges"]
    )
    good = IssuerKey.ed25519().jwk
    base = {"name": "Dup", "kind": "UNIVERSITY", "publicKeyJwk": good}
    refuse(
        gql,
        "registerInstitution",
        {**base, "issuerUri": world.university.issuer_uri},
        world.admin,
        "INVALID_INPUT",
        INSTITUTION_FIELDS,
    )
    private = {**IssuerKey.ed25519().jwk, "d": "c2VjcmV0"}
    refuse(
        gql,
        "registerInstitution",
        {**base, "publicKeyJwk": private},
        world.admin,
        "INVALID_INPUT",
        INSTITUTION_FIELDS,
    )
    no_kid = {k: v for k, v in good.items() if k != "kid"}
    refuse(
        gql,
        "registerInstitution",
        {**base, "publicKeyJwk": no_kid},
        world.admin,
        "INVALID_INPUT",
        INSTITUTION_FIELDS,
    )
    refuse(
        gql,
        "registerInstitution",
        {**base, "publicKeyJwk": {"kty": "oct", "k": "AAAA", "kid": "hmac"}},
        world.admin,
        "INVALID_INPUT",
        INSTITUTION_FIELDS,
    )
    refuse(
        gql,
        "registerInstitution",
        {**base, "issuerUri": "not a uri"},
        world.admin,
        "INVALID_INPUT",
        INSTITUTION_FIELDS,
    )
    refuse(
        gql,
        "registerInstitution",
        {**base, "publicKeyJwk": "a string"},
        world.admin,
        "INVALID_INPUT",
        INSTITUTION_FIELDS,
    )
    short = {**good, "x": good["x"][:-6]}  # 28 bytes: cannot be an Ed25519 key
    weak = {**IssuerKey.rsa(bits=1024).jwk}
    for key, member in ((short, "x"), (weak, "n")):
        error = refuse(
            gql,
            "registerInstitution",
            {**base, "publicKeyJwk": key},
            world.admin,
            "INVALID_INPUT",
            INSTITUTION_FIELDS,
        )
        assert error["errors"][0]["field"] == ["publicKeyJwk", member]
    deny(gql, "registerInstitution", base, world.officer, selection=INSTITUTION_FIELDS)
    deny(gql, "registerInstitution", base, None, "UNAUTHENTICATED", INSTITUTION_FIELDS)
    after = gql("{ institutions(first: 100) { edges { cursor } } }").ok()["institutions"]["edges"]
    assert len(after) == count


# -- registerLearner -------------------------------------------------------------------------------
LEARNER = "learner { id identityVerification }"


def test_register_learner_then_read_them(gql: GraphQL, world: World) -> None:
    payload = gql.mutate(
        "registerLearner",
        {
            "name": "Li Na 李娜",
            "identityDocumentType": "PASSPORT",
            "identityDocumentNumber": "E99887766",
            "birthDate": "2000-02-29",
        },
        world.officer,
        LEARNER,
    )
    assert payload["errors"] == []
    learner = payload["learner"]
    assert learner["identityVerification"] == "UNVERIFIED"
    seen = gql(
        "query($id: ID!) { learner(id: $id) { id displayName identityVerification "
        "account { version balance { total } transcript { totalCount } } } }",
        {"id": learner["id"]},
        world.officer,
    ).ok()["learner"]
    assert seen == {
        "id": learner["id"],
        "displayName": "Li Na 李娜",
        "identityVerification": "UNVERIFIED",
        "account": {"version": 1, "balance": {"total": "0.00"}, "transcript": {"totalCount": 0}},
    }


def test_register_learner_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    existing = world.learner(verified=False)
    base = {
        "name": "Someone",
        "identityDocumentType": "NATIONAL_ID",
        "identityDocumentNumber": existing.document_number,
        "birthDate": "1990-01-01",
    }
    refuse(gql, "registerLearner", base, world.officer, "DUPLICATE_IDENTITY", LEARNER)
    # the same document written differently is the same document
    spaced = " ".join(existing.document_number.lower())
    refuse(
        gql,
        "registerLearner",
        {**base, "identityDocumentNumber": spaced},
        world.officer,
        "DUPLICATE_IDENTITY",
        LEARNER,
    )
    fresh = {**base, "identityDocumentNumber": "X" + existing.document_number}
    refuse(
        gql,
        "registerLearner",
        {**fresh, "identityDocumentType": "LIBRARY_CARD"},
        world.officer,
        "INVALID_INPUT",
        LEARNER,
    )
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    refuse(
        gql,
        "registerLearner",
        {**fresh, "birthDate": tomorrow},
        world.officer,
        "INVALID_INPUT",
        LEARNER,
    )
    refuse(gql, "registerLearner", {**fresh, "name": "  "}, world.officer, "INVALID_INPUT", LEARNER)
    refuse(
        gql,
        "registerLearner",
        {**fresh, "identityDocumentNumber": "---"},
        world.officer,
        "INVALID_INPUT",
        LEARNER,
    )
    refuse(
        gql,
        "registerLearner",
        {**fresh, "identityDocumentCountry": "ZZ"},
        world.officer,
        "INVALID_INPUT",
        LEARNER,
    )
    # Another country's document with the same number is another person.
    abroad = gql.mutate(
        "registerLearner", {**base, "identityDocumentCountry": "SG"}, world.officer, LEARNER
    )
    assert abroad["errors"] == []
    assert abroad["learner"]["identityVerification"] == "UNVERIFIED"
    deny(gql, "registerLearner", fresh, world.admin, selection=LEARNER)
    deny(
        gql, "registerLearner", fresh, world.institution_token(world.university), selection=LEARNER
    )
    # and the fresh document is still free
    assert gql.mutate("registerLearner", fresh, world.officer, LEARNER)["errors"] == []


# -- verifyLearnerIdentity -------------------------------------------------------------------------
def test_verify_identity_recognises_what_was_waiting(gql: GraphQL, world: World) -> None:
    learner = world.learner(verified=False)
    outcome = world.deposit(learner)
    assert outcome["status"] == "DEPOSITED"  # no recognition before identity is verified
    payload = gql.mutate(
        "verifyLearnerIdentity",
        {"learnerId": learner.id, "method": "ELECTRONIC_ID"},
        world.officer,
        LEARNER,
    )
    assert payload == {
        "learner": {"id": learner.id, "identityVerification": "ELECTRONIC_ID"},
        "errors": [],
    }
    after = account(gql, learner)
    assert after["identityVerification"] == "ELECTRONIC_ID"
    assert after["outcomes"][outcome["id"]]["status"] == "RECOGNIZED"
    assert after["balance"]["total"] == "3.00"


def test_verify_identity_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    learner = world.learner(verified=False)
    refuse(
        gql,
        "verifyLearnerIdentity",
        {"learnerId": learner.id, "method": "UNVERIFIED"},
        world.officer,
        "INVALID_INPUT",
        LEARNER,
    )
    refuse(
        gql,
        "verifyLearnerIdentity",
        {"learnerId": MISSING, "method": "ELECTRONIC_ID"},
        world.officer,
        "NOT_FOUND",
        LEARNER,
    )
    refuse(
        gql,
        "verifyLearnerIdentity",
        {"learnerId": "nope", "method": "ELECTRONIC_ID"},
        world.officer,
        "NOT_FOUND",
        LEARNER,
    )
    deny(
        gql,
        "verifyLearnerIdentity",
        {"learnerId": learner.id, "method": "ELECTRONIC_ID"},
        learner.token,
        selection=LEARNER,
    )
    assert account(gql, learner)["identityVerification"] == "UNVERIFIED"


# -- depositCredential -----------------------------------------------------------------------------
DEPOSIT = f"outcome {{ {OUTCOME_FIELDS} }}"


def test_deposit_credential_is_in_the_next_transcript(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    assert transcript_count(gql, learner) == 0
    credential = world.credential(learner, title="Operating Systems", credits=4, human_code="OS-1")
    payload = gql.mutate(
        "depositCredential",
        {"learnerId": learner.id, "credential": credential},
        world.institution_token(world.university),
        DEPOSIT,
    )
    assert payload["errors"] == []
    outcome = payload["outcome"]
    assert outcome["title"] == "Operating Systems"
    assert outcome["kind"] == "ACADEMIC_COURSE"
    assert outcome["credits"] == "4.00"
    assert outcome["level"] == 6
    assert outcome["issuer"]["id"] == world.university.id
    assert outcome["status"] == "RECOGNIZED"  # the university's rule, at once
    assert outcome["recognizedCredits"] == "4.00"
    assert transcript_count(gql, learner) == 1
    state = account(gql, learner)
    assert state["balance"]["total"] == "4.00"
    assert state["outcomes"][outcome["id"]] == outcome
    deposited = next(e for e in state["events"] if e["type"] == "OutcomeDeposited")
    assert deposited["actor"] == f"institution:{world.university.id}"
    assert deposited["data"]["key_id"] == world.university.keys.kid


def test_deposit_credential_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    learner, stranger = world.learner(), world.learner()
    token = world.institution_token(world.university)
    first = world.credential(learner)
    assert (
        gql.mutate(
            "depositCredential", {"learnerId": learner.id, "credential": first}, token, DEPOSIT
        )["errors"]
        == []
    )
    before = account(gql, learner)
    now = datetime.now(UTC).replace(microsecond=0)
    impostor = IssuerKey.ed25519(kid=world.university.keys.kid)
    unknown = Issuer("-", "Mill", "UNIVERSITY", impostor, "https://mill.example/issuer")
    h, p, s = world.credential(learner).split(".")
    cases = {
        "DUPLICATE_CREDENTIAL": first,
        "IDENTITY_MISMATCH": world.credential(stranger),
        "INVALID_SIGNATURE": f"{h}.{p}.{s[:20]}{'B' if s[20] == 'A' else 'A'}{s[21:]}",
        "UNKNOWN_ISSUER": world.credential(learner, unknown),
        "KEY_NOT_VALID": world.credential(learner, keys=IssuerKey.ed25519()),
        "CREDENTIAL_EXPIRED": world.credential(
            learner, valid_from=now - timedelta(days=90), valid_until=now - timedelta(days=1)
        ),
        "INVALID_CREDENTIAL": "definitely-not-a-credential",
    }
    for code, credential in cases.items():
        refuse(
            gql,
            "depositCredential",
            {"learnerId": learner.id, "credential": credential},
            token,
            code,
            DEPOSIT,
        )
    # a credential the depositing institution did not issue
    refuse(
        gql,
        "depositCredential",
        {"learnerId": learner.id, "credential": world.credential(learner)},
        world.institution_token(world.college),
        "FORBIDDEN",
        DEPOSIT,
    )
    refuse(
        gql,
        "depositCredential",
        {"learnerId": MISSING, "credential": world.credential(learner)},
        token,
        "NOT_FOUND",
        DEPOSIT,
    )
    refuse(
        gql,
        "depositCredential",
        {"learnerId": "x", "credential": world.credential(learner)},
        token,
        "NOT_FOUND",
        DEPOSIT,
    )
    deny(
        gql,
        "depositCredential",
        {"learnerId": learner.id, "credential": world.credential(learner)},
        world.officer,
        selection=DEPOSIT,
    )
    deny(
        gql,
        "depositCredential",
        {"learnerId": learner.id, "credential": world.credential(learner)},
        learner.token,
        selection=DEPOSIT,
    )
    after = account(gql, learner)
    assert after["version"] == before["version"]
    assert after["transcript"]["totalCount"] == 1
    assert after["balance"] == before["balance"]


# -- recognizeOutcome ------------------------------------------------------------------------------
OUTCOME = f"outcome {{ {OUTCOME_FIELDS} }}"


def test_recognize_outcome_as_an_officer_and_by_a_new_rule(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    by_officer = world.deposit(learner, world.mooc, title="Deep Learning", credits=5)
    assert by_officer["status"] == "DEPOSITED"  # no rule for the MOOC platform
    payload = gql.mutate(
        "recognizeOutcome",
        {
            "learnerId": learner.id,
            "outcomeId": by_officer["id"],
            "credits": "2.5",
            "level": 5,
            "category": "elective",
        },
        world.officer,
        OUTCOME,
    )
    assert payload["errors"] == []
    assert payload["outcome"]["status"] == "RECOGNIZED"
    assert payload["outcome"]["recognizedCredits"] == "2.50"
    assert payload["outcome"]["category"] == "elective"
    assert payload["outcome"]["level"] == 5
    assert account(gql, learner)["balance"]["total"] == "2.50"
    # A rule created after the deposit decides when the officer gives no values.
    code = "ML-" + learner.id[:8]
    by_rule = world.deposit(learner, world.mooc, title="ML Ops", credits=3, human_code=code)
    defined = gql.mutate(
        "defineStandard",
        {"code": code, "title": "ML Ops", "level": 4, "credits": "2", "acceptedKinds": ["MOOC"]},
        world.officer,
        "standard { id }",
    )
    assert defined["errors"] == []
    rule = gql.mutate(
        "createRecognitionRule",
        {
            "name": f"MOOC {code}",
            "model": "FRAMEWORK",
            "issuerId": world.mooc.id,
            "kind": "MOOC",
            "standardCode": code,
            "credits": "2",
            "level": 4,
            "category": "elective",
            "validFrom": "2000-01-01",  # reaches back to the learning deposited before it
        },
        world.officer,
        "rule { id version }",
    )["rule"]
    payload = gql.mutate(
        "recognizeOutcome",
        {"learnerId": learner.id, "outcomeId": by_rule["id"]},
        world.officer,
        OUTCOME,
    )
    assert payload["errors"] == []
    assert payload["outcome"]["recognizedCredits"] == "2.00"
    assert payload["outcome"]["recognizedStandard"] == code
    state = account(gql, learner)
    assert state["balance"]["total"] == "4.50"
    last = state["events"][-1]
    assert last["type"] == "OutcomeRecognized"
    assert (last["data"]["rule_id"], last["data"]["rule_version"]) == (rule["id"], 1)


def test_recognize_outcome_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    unverified, verified = world.learner(verified=False), world.learner()
    waiting = world.deposit(unverified, world.mooc)
    no_rule = world.deposit(verified, world.mooc)
    recognized = world.deposit(verified)
    values = {"credits": "1", "level": 4, "category": "elective"}
    refuse(
        gql,
        "recognizeOutcome",
        {"learnerId": unverified.id, "outcomeId": waiting["id"], **values},
        world.officer,
        "IDENTITY_NOT_VERIFIED",
        OUTCOME,
    )
    refuse(
        gql,
        "recognizeOutcome",
        {"learnerId": verified.id, "outcomeId": no_rule["id"]},
        world.officer,
        "RULE_NOT_APPLICABLE",
        OUTCOME,
    )
    refuse(
        gql,
        "recognizeOutcome",
        {"learnerId": verified.id, "outcomeId": no_rule["id"], "credits": "1", "level": 4},
        world.officer,
        "INVALID_INPUT",
        OUTCOME,
    )
    refuse(
        gql,
        "recognizeOutcome",
        {"learnerId": verified.id, "outcomeId": no_rule["id"], **values, "level": 42},
        world.officer,
        "INVALID_INPUT",
        OUTCOME,
    )
    refuse(
        gql,
        "recognizeOutcome",
        {"learnerId": verified.id, "outcomeId": no_rule["id"], **values, "credits": "-1"},
        world.officer,
        "INVALID_INPUT",
        OUTCOME,
    )
    refuse(
        gql,
        "recognizeOutcome",
        {"learnerId": verified.id, "outcomeId": recognized["id"], **values},
        world.officer,
        "INVALID_INPUT",
        OUTCOME,
    )
    refuse(
        gql,
        "recognizeOutcome",
        {"learnerId": verified.id, "outcomeId": MISSING, **values},
        world.officer,
        "NOT_FOUND",
        OUTCOME,
    )
    deny(
        gql,
        "recognizeOutcome",
        {"learnerId": verified.id, "outcomeId": no_rule["id"], **values},
        verified.token,
        selection=OUTCOME,
    )
    state = account(gql, verified)
    assert state["outcomes"][no_rule["id"]]["status"] == "DEPOSITED"
    assert state["balance"]["total"] == "3.00"


# -- convertCredits --------------------------------------------------------------------------------
CONVERTED = "outcomes { id status }"


def test_convert_credits_under_the_agreement(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    source = world.deposit(learner, world.college, title="College Physics", credits=3, eqf_level=5)
    assert (source["status"], source["category"]) == ("RECOGNIZED", "general")
    payload = gql.mutate(
        "convertCredits",
        {
            "learnerId": learner.id,
            "outcomeIds": [source["id"]],
            "conversionRuleId": world.conversion_rule,
        },
        learner.token,
        CONVERTED,
    )
    assert payload == {"outcomes": [{"id": source["id"], "status": "CONVERTED"}], "errors": []}
    state = account(gql, learner)
    assert state["outcomes"][source["id"]]["status"] == "CONVERTED"
    assert state["balance"]["total"] == "1.50"  # 3 x 0.5; the source no longer counts
    converted = state["events"][-1]
    assert converted["type"] == "CreditsConverted"
    assert converted["data"]["rule_id"] == world.conversion_rule
    assert converted["data"]["credits"] == "1.50"
    assert converted["actor"] == f"learner:{learner.id}"


def test_convert_credits_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    university = world.deposit(learner)
    college = world.deposit(learner, world.college, eqf_level=5)
    pending = world.deposit(learner, world.mooc)
    rule = world.conversion_rule
    before = account(gql, learner)

    def convert(ids: list[str], code: str, rule_id: str = rule) -> None:
        refuse(
            gql,
            "convertCredits",
            {"learnerId": learner.id, "outcomeIds": ids, "conversionRuleId": rule_id},
            learner.token,
            code,
            CONVERTED,
        )

    convert([university["id"]], "RULE_NOT_APPLICABLE")  # not from the rule's source
    convert([pending["id"]], "RULE_NOT_APPLICABLE")  # not recognised
    convert([], "INVALID_INPUT")
    convert([college["id"], college["id"]], "INVALID_INPUT")
    convert([MISSING], "NOT_FOUND")
    convert([college["id"]], "NOT_FOUND", MISSING)
    convert([college["id"]], "NOT_FOUND", world.recognition_rule)  # not a conversion rule
    convert([college["id"]], "NOT_FOUND", "garbage")
    other = world.learner()
    deny(
        gql,
        "convertCredits",
        {"learnerId": learner.id, "outcomeIds": [college["id"]], "conversionRuleId": rule},
        other.token,
        selection=CONVERTED,
    )
    assert account(gql, learner) == before


# -- redeemQualification ---------------------------------------------------------------------------
PROGRESS = "progress { met unmet creditsCounted redeemed qualification { id name } }"


def test_redeem_qualification_when_met(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    a, b = world.deposit(learner, title="A"), world.deposit(learner, title="B")
    assert progress(gql, world, learner)["met"] is True
    payload = gql.mutate(
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": world.qualification},
        learner.token,
        PROGRESS,
    )
    assert payload["errors"] == []
    assert payload["progress"]["redeemed"] is True
    assert payload["progress"]["qualification"]["id"] == world.qualification
    state = account(gql, learner)
    assert state["balance"] == {"total": "6.00", "available": "0.00", "redeemed": "6.00"}
    assert {state["outcomes"][o["id"]]["status"] for o in (a, b)} == {"REDEEMED"}
    assert state["events"][-1]["type"] == "CreditsRedeemed"
    # once per qualification
    refuse(
        gql,
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": world.qualification},
        learner.token,
        "INVALID_INPUT",
        PROGRESS,
    )


def test_redeemed_qualification_progress_says_met(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    world.deposit(learner, title="A")
    world.deposit(learner, title="B")
    payload = gql.mutate(
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": world.qualification},
        learner.token,
        PROGRESS,
    )
    assert payload["errors"] == []
    assert (payload["progress"]["met"], payload["progress"]["creditsCounted"]) == (True, "6.00")
    assert progress(gql, world, learner) == {"met": True, "unmet": [], "creditsCounted": "6.00"}


def _amounts(text: str) -> list[Decimal]:
    return [Decimal(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]


def test_redeem_qualification_names_precisely_what_is_unmet(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    world.deposit(learner, world.college, title="General only", credits=4, eqf_level=5)
    expected = progress(gql, world, learner)
    assert expected["met"] is False
    assert expected["creditsCounted"] == "4.00"
    unmet = sorted(expected["unmet"])
    assert len(unmet) == 2, unmet
    assert unmet[0].startswith("category major:")
    assert _amounts(unmet[0]) == [Decimal(0), Decimal(3), Decimal(3)]  # 0 of 3 (3 missing)
    assert unmet[1].startswith("total:")
    assert _amounts(unmet[1]) == [Decimal(4), Decimal(6), Decimal(2)]  # 4 of 6 (2 missing)
    payload = refuse(
        gql,
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": world.qualification},
        learner.token,
        "REQUIREMENTS_NOT_MET",
        PROGRESS,
    )
    message = payload["errors"][0]["message"]
    for item in expected["unmet"]:
        assert item in message
    assert account(gql, learner)["balance"]["redeemed"] == "0.00"
    refuse(
        gql,
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": MISSING},
        learner.token,
        "NOT_FOUND",
        PROGRESS,
    )
    deny(
        gql,
        "redeemQualification",
        {"learnerId": learner.id, "qualificationId": world.qualification},
        world.institution_token(world.university),
        selection=PROGRESS,
    )


# -- revokeOutcome ---------------------------------------------------------------------------------
def test_revoke_outcome_by_its_issuer(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    credential = world.credential(learner, title="Revoked Course")
    outcome = gql.mutate(
        "depositCredential",
        {"learnerId": learner.id, "credential": credential},
        world.institution_token(world.university),
        DEPOSIT,
    )["outcome"]
    kept = world.deposit(learner)
    payload = gql.mutate(
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": outcome["id"], "reason": "academic misconduct"},
        world.institution_token(world.university),
        OUTCOME,
    )
    assert payload["errors"] == []
    assert payload["outcome"]["status"] == "REVOKED"
    state = account(gql, learner)
    assert state["outcomes"][outcome["id"]]["status"] == "REVOKED"
    assert state["outcomes"][kept["id"]]["status"] == "RECOGNIZED"
    assert state["balance"]["total"] == "3.00"
    revoked = state["events"][-1]
    assert revoked["type"] == "OutcomeRevoked"
    assert revoked["data"]["reason"] == "academic misconduct"
    # anyone verifying the original credential now learns it was revoked
    verified = gql(
        "query($c: String!) { verifyCredential(credential: $c) { valid revoked } }",
        {"c": credential},
    ).ok()["verifyCredential"]
    assert verified == {"valid": True, "revoked": True}


def test_revoking_a_converted_source_takes_the_conversion_with_it(
    gql: GraphQL, world: World
) -> None:
    learner = world.learner()
    source = world.deposit(learner, world.college, credits=4, eqf_level=5)
    gql.mutate(
        "convertCredits",
        {
            "learnerId": learner.id,
            "outcomeIds": [source["id"]],
            "conversionRuleId": world.conversion_rule,
        },
        world.officer,
    )
    assert account(gql, learner)["balance"]["total"] == "2.00"
    payload = gql.mutate(
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": source["id"], "reason": "error"},
        world.officer,
        OUTCOME,
    )
    assert payload["errors"] == []
    assert account(gql, learner)["balance"]["total"] == "0.00"


def test_revoke_outcome_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    outcome = world.deposit(learner)
    done = world.deposit(learner)
    issuer = world.institution_token(world.university)
    gql.mutate(
        "revokeOutcome", {"learnerId": learner.id, "outcomeId": done["id"], "reason": "x"}, issuer
    )
    before = account(gql, learner)
    refuse(
        gql,
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": done["id"], "reason": "x"},
        issuer,
        "ALREADY_REVOKED",
        OUTCOME,
    )
    refuse(
        gql,
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": outcome["id"], "reason": "not ours"},
        world.institution_token(world.college),
        "FORBIDDEN",
        OUTCOME,
    )
    refuse(
        gql,
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": MISSING, "reason": "x"},
        issuer,
        "NOT_FOUND",
        OUTCOME,
    )
    refuse(
        gql,
        "revokeOutcome",
        {"learnerId": MISSING, "outcomeId": outcome["id"], "reason": "x"},
        issuer,
        "NOT_FOUND",
        OUTCOME,
    )
    refuse(
        gql,
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": outcome["id"], "reason": "   "},
        issuer,
        "INVALID_INPUT",
        OUTCOME,
    )
    deny(
        gql,
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": outcome["id"], "reason": "mine"},
        learner.token,
        selection=OUTCOME,
    )
    deny(
        gql,
        "revokeOutcome",
        {"learnerId": learner.id, "outcomeId": outcome["id"], "reason": "audit"},
        world.auditor,
        selection=OUTCOME,
    )
    assert account(gql, learner) == before


# -- grantConsent / revokeConsent ------------------------------------------------------------------
EMPLOYEES = """query($id: ID!) { organization(id: $id) { employees(first: 100) {
  edges { node { learner { id } trainingCredits } } } } }"""


def employees(gql: GraphQL, world: World, org: Issuer) -> list[str]:
    conn = gql(EMPLOYEES, {"id": org.id}, world.enterprise_token(org)).ok()["organization"]
    return [e["node"]["learner"]["id"] for e in conn["employees"]["edges"]]


def test_grant_and_revoke_consent(gql: GraphQL, world: World) -> None:
    employer = register_institution(gql, world.admin, "Consent Co", "ENTERPRISE")
    learner = world.learner()
    assert employees(gql, world, employer) == []
    until = (date.today() + timedelta(days=365)).isoformat()
    payload = gql.mutate(
        "grantConsent",
        {
            "learnerId": learner.id,
            "organizationId": employer.id,
            "scope": "ALL",
            "expiresOn": until,
        },
        learner.token,
    )
    assert payload == {"errors": []}
    assert employees(gql, world, employer) == [learner.id]
    token = world.enterprise_token(employer)
    read = "query($id: ID!) { learner(id: $id) { account { balance { total } } } }"
    assert gql(read, {"id": learner.id}, token).ok()["learner"]["account"]["balance"]["total"]
    payload = gql.mutate(
        "revokeConsent", {"learnerId": learner.id, "organizationId": employer.id}, learner.token
    )
    assert payload == {"errors": []}
    assert employees(gql, world, employer) == []
    assert gql(read, {"id": learner.id}, token).code == "FORBIDDEN"


def test_consent_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    base = {"learnerId": learner.id, "organizationId": world.enterprise2.id, "scope": "TRAINING"}
    refuse(
        gql,
        "grantConsent",
        {**base, "organizationId": world.university.id},
        learner.token,
        "INVALID_INPUT",
    )
    refuse(gql, "grantConsent", {**base, "scope": "EVERYTHING"}, learner.token, "INVALID_INPUT")
    refuse(gql, "grantConsent", {**base, "expiresOn": "2001-01-01"}, learner.token, "INVALID_INPUT")
    refuse(gql, "grantConsent", {**base, "organizationId": MISSING}, learner.token, "NOT_FOUND")
    refuse(gql, "grantConsent", {**base, "organizationId": "acme"}, learner.token, "NOT_FOUND")
    deny(gql, "grantConsent", base, world.enterprise_token(world.enterprise2))
    deny(gql, "grantConsent", base, world.officer)
    deny(gql, "grantConsent", base, None, "UNAUTHENTICATED")
    refuse(
        gql,
        "revokeConsent",
        {"learnerId": learner.id, "organizationId": world.enterprise2.id},
        learner.token,
        "NOT_FOUND",
    )
    deny(
        gql,
        "revokeConsent",
        {"learnerId": learner.id, "organizationId": world.enterprise2.id},
        world.learner().token,
    )
    assert learner.id not in employees(gql, world, world.enterprise2)


# -- exportTranscript ------------------------------------------------------------------------------
def test_export_transcript_is_a_signed_clr_anyone_can_verify(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    world.deposit(learner, title="Exported Course")
    payload = gql.mutate("exportTranscript", {"learnerId": learner.id}, learner.token, "credential")
    assert payload["errors"] == []
    token = payload["credential"]
    assert isinstance(token, str)
    assert token.count(".") == 2
    header, claims = jwt_parts(token)
    credential = claims.get("vc", claims)
    assert "ClrCredential" in credential["type"]
    assert "Exported Course" in json.dumps(credential, ensure_ascii=False)
    jwks = httpx.get(world.served.base_url + "/.well-known/jwks.json").json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    verified = gql(
        "query($c: String!) { verifyCredential(credential: $c) { valid issuer revoked "
        "errors { code } } }",
        {"c": token},
    ).ok()["verifyCredential"]
    assert verified["valid"] is True
    assert verified["revoked"] is False
    assert verified["issuer"] == credential["issuer"]["id"]


def test_export_transcript_refusals(gql: GraphQL, world: World) -> None:
    learner, other = world.learner(), world.learner()
    deny(gql, "exportTranscript", {"learnerId": learner.id}, other.token, selection="credential")
    deny(gql, "exportTranscript", {"learnerId": learner.id}, world.officer, selection="credential")
    deny(gql, "exportTranscript", {"learnerId": learner.id}, None, "UNAUTHENTICATED", "credential")
    ghost = world.token(Role.LEARNER, MISSING)
    refuse(gql, "exportTranscript", {"learnerId": MISSING}, ghost, "NOT_FOUND", "credential")
    refuse(gql, "exportTranscript", {"learnerId": "bad"}, learner.token, "NOT_FOUND", "credential")


# -- createRecognitionRule / createConversionRule / createQualification -----------------------
def listed(gql: GraphQL, field: str) -> list[dict[str, Any]]:
    extra = "version name" + (" level" if field == "qualifications" else "")
    conn = gql(f"{{ {field}(first: 100) {{ edges {{ node {{ id {extra} }} }} }} }}").ok()[field]
    return [e["node"] for e in conn["edges"]]


def test_create_recognition_rule(gql: GraphQL, world: World) -> None:
    payload = gql.mutate(
        "createRecognitionRule",
        {
            "name": "Certificates: 2 at level 4",
            "model": "AGREEMENT",
            "kind": "VOCATIONAL_CERTIFICATE",
            "credits": "2",
            "level": 4,
            "category": "elective",
            "validFrom": "2024-01-01",
            "validUntil": "2030-12-31",
        },
        world.officer,
        "rule { id version name model }",
    )
    assert payload["errors"] == []
    rule = payload["rule"]
    assert (rule["version"], rule["model"]) == (1, "AGREEMENT")
    assert {"id": rule["id"], "version": 1, "name": rule["name"]} in listed(gql, "recognitionRules")
    node = gql(
        "query($id: ID!) { node(id: $id) { ... on RecognitionRule { id name model } } }",
        {"id": rule["id"]},
    ).ok()["node"]
    assert node == {"id": rule["id"], "name": "Certificates: 2 at level 4", "model": "AGREEMENT"}


def test_create_recognition_rule_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    before = listed(gql, "recognitionRules")
    base = {"name": "Bad", "model": "FRAMEWORK", "level": 4, "category": "x"}
    sel = "rule { id }"
    refuse(gql, "createRecognitionRule", {**base, "level": 99}, world.officer, "INVALID_INPUT", sel)
    refuse(
        gql, "createRecognitionRule", {**base, "credits": "-3"}, world.officer, "INVALID_INPUT", sel
    )
    refuse(
        gql,
        "createRecognitionRule",
        {**base, "validFrom": "2030-01-01", "validUntil": "2020-01-01"},
        world.officer,
        "INVALID_INPUT",
        sel,
    )
    refuse(
        gql, "createRecognitionRule", {**base, "issuerId": MISSING}, world.officer, "NOT_FOUND", sel
    )
    refuse(
        gql, "createRecognitionRule", {**base, "issuerId": "uni"}, world.officer, "NOT_FOUND", sel
    )
    deny(
        gql, "createRecognitionRule", base, world.institution_token(world.university), selection=sel
    )
    deny(gql, "createRecognitionRule", base, world.admin, selection=sel)
    assert listed(gql, "recognitionRules") == before


CONVERSION = {
    "name": "Framework: level 6 courses to the college",
    "model": "FRAMEWORK",
    "sourceKind": "ACADEMIC_COURSE",
    "targetCode": "TRANSFER-6",
    "targetCategory": "elective",
    "ratio": "0.75",
    "maxCreditsPerLearner": "12",
}


def test_create_conversion_rule_by_an_officer_and_an_agreement_by_its_target(
    gql: GraphQL, world: World
) -> None:
    payload = gql.mutate(
        "createConversionRule",
        {**CONVERSION, "targetInstitutionId": world.college.id},
        world.officer,
        "rule { id version name }",
    )
    assert payload["errors"] == []
    assert payload["rule"] in listed(gql, "conversionRules")
    agreement = {
        **CONVERSION,
        "name": "University agreement",
        "model": "AGREEMENT",
        "sourceInstitutionId": world.college.id,
        "targetInstitutionId": world.university.id,
    }
    university = world.institution_token(world.university)
    fields = "rule { id name inForce awaiting awaitingAcceptanceBy awaitingApproval proposedBy }"
    # Into its own courses: it creates credit, so it states why and an officer approves it.
    refused = gql.mutate("createConversionRule", agreement, university, fields)
    assert [e["field"] for e in refused["errors"]] == [["justification"]]
    payload = gql.mutate(
        "createConversionRule",
        {**agreement, "justification": "the college's syllabus matches ours, 2024 review"},
        university,
        fields,
    )
    assert payload["errors"] == []
    rule = payload["rule"]
    assert rule["name"] == "University agreement"
    assert (rule["inForce"], rule["awaitingApproval"]) == (False, True)
    assert rule["awaitingAcceptanceBy"] == [world.college.id]  # the counterpart
    # Not in force: nobody converts under it yet.
    learner = world.learner()
    source = world.deposit(learner, world.college, credits=4)["id"]
    convert = {"learnerId": learner.id, "outcomeIds": [source], "conversionRuleId": rule["id"]}
    early = gql.mutate("convertCredits", convert, learner.token, "outcomes { id }")
    assert [e["code"] for e in early["errors"]] == ["RULE_NOT_APPLICABLE"]
    # The university cannot accept for the college; the college accepts.
    deny(gql, "acceptConversionRule", {"ruleId": rule["id"]}, university, selection=fields)
    accepted = gql.mutate(
        "acceptConversionRule",
        {"ruleId": rule["id"]},
        world.institution_token(world.college),
        fields,
    )
    assert accepted["rule"]["awaitingAcceptanceBy"] == []
    assert accepted["rule"]["awaiting"] == "awaiting an officer's approval"
    approved = gql.mutate("approveConversionRule", {"ruleId": rule["id"]}, world.officer, fields)
    assert approved["errors"] == []
    assert (approved["rule"]["inForce"], approved["rule"]["awaiting"]) == (True, None)
    done = gql.mutate("convertCredits", convert, learner.token, "outcomes { status }")
    assert done["errors"] == []


def test_create_conversion_rule_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    before = listed(gql, "conversionRules")
    base = {**CONVERSION, "targetInstitutionId": world.college.id}
    sel = "rule { id }"
    refuse(
        gql,
        "createConversionRule",
        {**base, "targetInstitutionId": MISSING},
        world.officer,
        "NOT_FOUND",
        sel,
    )
    refuse(
        gql,
        "createConversionRule",
        {**base, "sourceInstitutionId": MISSING},
        world.officer,
        "NOT_FOUND",
        sel,
    )
    for ratio in ("0", "-1", "1000"):
        refuse(
            gql,
            "createConversionRule",
            {**base, "ratio": ratio},
            world.officer,
            "INVALID_INPUT",
            sel,
        )
    refuse(
        gql,
        "createConversionRule",
        {**base, "maxCreditsPerLearner": "-1"},
        world.officer,
        "INVALID_INPUT",
        sel,
    )
    # an institution proposes only agreements it is a party to
    deny(
        gql,
        "createConversionRule",
        {**base, "model": "AGREEMENT", "sourceInstitutionId": world.mooc.id},
        world.institution_token(world.university),
        selection=sel,
    )
    deny(gql, "createConversionRule", base, world.institution_token(world.college), selection=sel)
    deny(gql, "createConversionRule", base, world.auditor, selection=sel)
    assert listed(gql, "conversionRules") == before


def test_create_qualification(gql: GraphQL, world: World) -> None:
    payload = gql.mutate(
        "createQualification",
        {
            "name": "Bachelor (KR ACBS style)",
            "level": 6,
            "awardingInstitutionId": world.university.id,
            "totalCredits": "140",
            "minimumByCategory": [
                {"category": "major", "credits": "60"},
                {"category": "general", "credits": "30"},
            ],
            "maxConvertedShare": "0.5",
            "maxCreditsPerInstitution": "80",
        },
        world.officer,
        "qualification { id name level awardingInstitution { id } }",
    )
    assert payload["errors"] == []
    qualification = payload["qualification"]
    assert qualification["awardingInstitution"] == {"id": world.university.id}
    assert {
        "id": qualification["id"],
        "version": 1,
        "name": "Bachelor (KR ACBS style)",
        "level": 6,
    } in listed(gql, "qualifications")
    # every learner is assessed against it at once
    learner = world.learner()
    world.deposit(learner)
    unmet = gql(
        "query($id: ID!, $q: ID!) { learner(id: $id) { account { progress("
        "qualificationId: $q) { met unmet } } } }",
        {"id": learner.id, "q": qualification["id"]},
        learner.token,
    ).ok()
    assert unmet["learner"]["account"]["progress"]["met"] is False


def test_create_qualification_refusals_store_nothing(gql: GraphQL, world: World) -> None:
    before = listed(gql, "qualifications")
    base = {
        "name": "Bad",
        "level": 6,
        "awardingInstitutionId": world.university.id,
        "totalCredits": "10",
    }
    sel = "qualification { id }"
    refuse(
        gql,
        "createQualification",
        {**base, "awardingInstitutionId": MISSING},
        world.officer,
        "NOT_FOUND",
        sel,
    )
    refuse(
        gql,
        "createQualification",
        {**base, "totalCredits": "-1"},
        world.officer,
        "INVALID_INPUT",
        sel,
    )
    refuse(gql, "createQualification", {**base, "level": 0}, world.officer, "INVALID_INPUT", sel)
    refuse(
        gql,
        "createQualification",
        {**base, "maxConvertedShare": "1.5"},
        world.officer,
        "INVALID_INPUT",
        sel,
    )
    refuse(
        gql,
        "createQualification",
        {
            **base,
            "minimumByCategory": [
                {"category": "a", "credits": "1"},
                {"category": "a", "credits": "2"},
            ],
        },
        world.officer,
        "INVALID_INPUT",
        sel,
    )
    deny(gql, "createQualification", base, world.admin, selection=sel)
    assert listed(gql, "qualifications") == before


def test_unmet_amounts_are_formatted_as_credits(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    world.deposit(learner, world.college, credits=4, eqf_level=5)
    for item in progress(gql, world, learner)["unmet"]:
        assert not re.search(r"(?<![\d.])\d+(?![\d.])", item.split(":", 1)[1]), item


@pytest.mark.parametrize("value", ["abc", "1e400", "NaN", "Infinity", "0.001"])
def test_decimal_inputs_that_are_not_credits_are_refused(
    gql: GraphQL, world: World, value: str
) -> None:
    """Credits are Decimal strings with at most two places; anything else is refused without
    an internal error, and nothing is stored."""
    with nothing_stored(gql):
        reply = gql.mutate_raw(
            "createQualification",
            {
                "name": "Odd",
                "level": 6,
                "totalCredits": value,
                "awardingInstitutionId": world.university.id,
            },
            world.officer,
            "qualification { id }",
        )
    if reply.errors:
        assert reply.code == "INVALID_INPUT", reply.errors
    else:
        codes = [e["code"] for e in reply.data["createQualification"]["errors"]]
        assert codes == ["INVALID_INPUT"], reply.data


# -- credit schemes and what a credential says of itself (issue 11) -------------------------------
SCHEMES = (
    "institution { id creditSchemes { hoursPerCredit table { native framework } effectiveFrom } }"
)
FACTS = (
    "outcome { id credits frameworkCredits recognizedCredits completedOn issuedAt validUntil "
    "expired passed status }"
)


def test_a_credit_scheme_normalises_and_outcomes_show_what_the_credential_says(
    gql: GraphQL, world: World
) -> None:
    payload = gql.mutate(
        "registerInstitution",
        {
            "name": "Hankuk University",
            "kind": "UNIVERSITY",
            "publicKeyJwk": (keys := IssuerKey.ed25519()).jwk,
            "issuerUri": "https://hankuk.example.ac.kr/issuer",
            "keyValidFrom": "2015-01-01T00:00:00Z",
            "hoursPerCredit": "15",
        },
        world.admin,
        SCHEMES,
    )
    assert payload["errors"] == []
    hankuk = Issuer(
        payload["institution"]["id"],
        "Hankuk",
        "UNIVERSITY",
        keys,
        "https://hankuk.example.ac.kr/issuer",
    )
    assert payload["institution"]["creditSchemes"] == [
        {"hoursPerCredit": "15.00", "table": [], "effectiveFrom": None}
    ]
    rule = gql.mutate(
        "createRecognitionRule",
        {
            "name": "Hankuk courses",
            "model": "FRAMEWORK",
            "issuerId": hankuk.id,
            "level": 6,
            "category": "major",
            "validFrom": "2000-01-01",
            "priority": 5,  # above the standards' rules other tests add to the shared world
        },
        world.officer,
        "rule { id }",
    )
    assert rule["errors"] == []
    learner = world.learner()
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400)
    deposited = gql.mutate(
        "depositCredential",
        {
            "learnerId": learner.id,
            "credential": world.credential(
                learner,
                hankuk,
                credits=3,
                result="A",
                result_status="Completed",
                term="2023-2024学年第一学期",
                valid_until=until,
            ),
        },
        world.institution_token(hankuk),
        FACTS,
    )
    assert deposited["errors"] == [], deposited
    o = deposited["outcome"]
    assert (o["credits"], o["frameworkCredits"], o["recognizedCredits"]) == ("3.00", "1.50", "1.50")
    assert (o["completedOn"], o["passed"], o["expired"], o["status"]) == (
        "2024-01-31",
        True,
        False,
        "RECOGNIZED",
    )
    assert datetime.fromisoformat(o["validUntil"]) == until
    # A later declaration, as a table, from a date; refusals store nothing.
    declared = gql.mutate(
        "declareCreditScheme",
        {
            "institutionId": hankuk.id,
            "table": [{"native": "3", "framework": "2"}, {"native": "1", "framework": "0.5"}],
            "effectiveFrom": "2025-03-01",
        },
        world.officer,
        SCHEMES,
    )
    assert declared["errors"] == []
    assert declared["institution"]["creditSchemes"][1] == {
        "hoursPerCredit": None,
        "table": [
            {"native": "1.00", "framework": "0.50"},
            {"native": "3.00", "framework": "2.00"},
        ],
        "effectiveFrom": "2025-03-01",
    }
    both = {
        "institutionId": hankuk.id,
        "hoursPerCredit": "15",
        "table": [{"native": "3", "framework": "2"}],
    }
    refuse(gql, "declareCreditScheme", both, world.officer, "INVALID_INPUT", SCHEMES)
    refuse(
        gql,
        "declareCreditScheme",
        {"institutionId": hankuk.id},
        world.officer,
        "INVALID_INPUT",
        SCHEMES,
    )
    refuse(
        gql,
        "declareCreditScheme",
        {"institutionId": MISSING, "hoursPerCredit": "15"},
        world.officer,
        "NOT_FOUND",
        SCHEMES,
    )
    deny(gql, "declareCreditScheme", both, world.institution_token(hankuk), selection=SCHEMES)
