"""Safety limits and hostile input over HTTP: query depth, aliases, tokens and page sizes; request
size; malformed tokens; unknown fields; invalid ids. Every refusal carries a code, leaks no data
and no internals (the client checks every body for tracebacks and SQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from api.auth import AUDIENCE, ISSUER, Role
from api.graphql.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from tests.api.conftest import GraphQL, World, assert_no_leak

DEEP = """query($org: ID!) { organization(id: $org) { employees { edges { node { learner {
  account { transcript { edges { node { issuer { keys { kid } } } } } } } } } } } }"""  # depth 12


def test_query_deeper_than_the_limit_is_refused_without_data(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    world.deposit(learner, world.enterprise)
    world.consent(learner, world.enterprise, "ALL")
    token = world.enterprise_token(world.enterprise)
    assert MAX_DEPTH == 10
    reply = gql(DEEP, {"org": world.enterprise.id}, token)
    assert reply.status == 200
    assert reply.code == "INVALID_INPUT"
    assert reply.data is None
    assert "depth" in reply.errors[0]["message"]
    assert learner.id not in reply.text
    # the same data, within depth 10, is served
    shallow = """query($org: ID!) { organization(id: $org) { employees { edges { node {
      learner { account { transcript { totalCount } } } } } } } }"""
    data = gql(shallow, {"org": world.enterprise.id}, token).ok()
    assert data["organization"]["employees"]["edges"]


def test_fragments_do_not_hide_depth(gql: GraphQL, world: World) -> None:
    query = """query($org: ID!) { organization(id: $org) { ...E } }
      fragment E on Organization { employees { edges { node { ...L } } } }
      fragment L on EmployeeTraining { learner { account { transcript { edges { node {
        issuer { keys { kid } } } } } } } }"""
    reply = gql(query, {"org": world.enterprise.id}, world.enterprise_token(world.enterprise))
    assert reply.code == "INVALID_INPUT"
    assert reply.data is None


def test_aliases_over_the_limit_are_refused(gql: GraphQL) -> None:
    assert MAX_ALIASES == 15
    ok = "{ " + " ".join(f"a{i}: framework {{ name }}" for i in range(15)) + " }"
    assert len(gql(ok).ok()) == 15
    too_many = "{ " + " ".join(f"a{i}: framework {{ name }}" for i in range(16)) + " }"
    reply = gql(too_many)
    assert reply.code == "INVALID_INPUT"
    assert reply.data is None


def test_tokens_over_the_limit_are_refused(gql: GraphQL) -> None:
    assert MAX_TOKENS == 2000
    query = "{ framework { " + " ".join(["name"] * 2100) + " } }"
    reply = gql(query)
    assert reply.code == "INVALID_INPUT"
    assert reply.data is None
    assert "2000 tokens" in reply.errors[0]["message"]


PAGES = {
    "institutions": "{ institutions(first: 101) { edges { cursor } } }",
    "qualifications": "{ qualifications(first: 101) { edges { cursor } } }",
    "conversionRules": "{ conversionRules(first: 101) { edges { cursor } } }",
    "recognitionRules": "{ recognitionRules(first: 101) { edges { cursor } } }",
    "learners": "{ learners(first: 101) { edges { cursor } } }",
    "transcript": '{ learner(id: "%(learner)s") { account { transcript(first: 101) '
    "{ totalCount } } } }",
    "history": '{ learner(id: "%(learner)s") { account { history(first: 101) '
    "{ edges { cursor } } } } }",
    "employees": '{ organization(id: "%(org)s") { employees(first: 101) { edges { cursor } } } }',
}


@pytest.mark.parametrize("connection", PAGES)
def test_first_over_100_is_refused(gql: GraphQL, world: World, connection: str) -> None:
    learner = world.learner()
    world.deposit(learner)
    query = PAGES[connection] % {"learner": learner.id, "org": world.enterprise.id}
    reply = gql(query, token=world.officer)
    assert reply.code == "INVALID_INPUT", reply.body
    assert "at most 100" in reply.errors[0]["message"]
    assert learner.id not in json.dumps(reply.data)  # nothing of the page comes back
    ok = gql(query.replace("101", "100"), token=world.officer)
    assert not ok.errors


# -- request size ----------------------------------------------------------------------------------
def test_a_body_over_one_mebibyte_is_413(served: Any) -> None:
    body = json.dumps({"query": "{ viewer { role } }", "variables": {"x": "a" * (1024 * 1024)}})
    response = httpx.post(
        served.base_url + "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert_no_leak(response.text)


def test_a_chunked_body_over_one_mebibyte_is_413(served: Any) -> None:
    """Without Content-Length (chunked transfer), the size is counted as the body arrives."""

    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ viewer { role } }", "variables": {"x": "'
        for _ in range(1100):
            yield b"a" * 1024
        yield b'"}}'

    response = httpx.post(
        served.base_url + "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_a_chunked_body_under_the_limit_is_served(served: Any) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ viewer { role } }", "variables": {"x": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}}'

    response = httpx.post(
        served.base_url + "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"role": None}}}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b'[{"query": "{ viewer { role } }"}]', "application/json"),
        (b'{"query": 42}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"query=x", "text/plain"),
    ],
)
def test_malformed_requests_fail_cleanly(served: Any, content: bytes, content_type: str) -> None:
    response = httpx.post(
        served.base_url + "/graphql", content=content, headers={"content-type": content_type}
    )
    assert 400 <= response.status_code < 500, response.text
    assert_no_leak(response.text)


def test_mutations_are_not_accepted_over_get(served: Any, world: World) -> None:
    query = (
        'mutation { registerLearner(input: {name: "X", identityDocumentType: "PASSPORT", '
        'identityDocumentNumber: "G1", birthDate: "1990-01-01"}) { errors { code } } }'
    )
    before = served.gql.head()
    response = httpx.get(
        served.base_url + "/graphql",
        params={"query": query},
        headers={"Authorization": f"Bearer {world.officer}", "Accept": "application/json"},
    )
    assert 400 <= response.status_code < 500
    assert_no_leak(response.text)
    assert served.gql.head() == before


# -- tokens ----------------------------------------------------------------------------------------
def _signed(served: Any, claims: dict[str, Any], **kw: Any) -> str:
    key = served.app.state.tokens._key  # the data dir's own key: only the claims are wrong
    now = datetime.now(UTC)
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=1),
        "role": "OFFICER",
        "sub": "x",
    }
    merged = {k: v for k, v in {**base, **claims}.items() if v is not None}
    return jwt.encode(merged, key, algorithm="EdDSA", **kw)


def _public_bytes(served: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    public = served.app.state.tokens._public
    return bytes(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def bad_headers(served: Any) -> dict[str, dict[str, str]]:
    good = served.token(Role.OFFICER, "x")
    return {
        "garbage": {"Authorization": "Bearer not-a-token"},
        "truncated": {"Authorization": f"Bearer {good[:-10]}"},
        "tampered": {"Authorization": f"Bearer {good[:-4]}AAAA"},
        "wrong scheme": {"Authorization": f"Basic {good}"},
        "scheme only": {"Authorization": "Bearer"},
        "expired": {
            "Authorization": "Bearer "
            + _signed(
                served,
                {
                    "exp": datetime.now(UTC) - timedelta(minutes=5),
                    "iat": datetime.now(UTC) - timedelta(hours=2),
                    "nbf": datetime.now(UTC) - timedelta(hours=2),
                },
            )
        },
        "wrong audience": {"Authorization": "Bearer " + _signed(served, {"aud": "someone-else"})},
        "wrong issuer": {"Authorization": "Bearer " + _signed(served, {"iss": "evil"})},
        "unknown role": {"Authorization": "Bearer " + _signed(served, {"role": "GOD"})},
        "no role": {"Authorization": "Bearer " + _signed(served, {"role": None})},
        "no expiry": {"Authorization": "Bearer " + _signed(served, {"exp": None})},
        "alg none": {
            "Authorization": "Bearer "
            + jwt.encode(
                {
                    "iss": ISSUER,
                    "aud": AUDIENCE,
                    "role": "ADMIN",
                    "sub": "x",
                    "exp": datetime.now(UTC) + timedelta(hours=1),
                },
                "",
                algorithm="none",
            )
        },
        "hmac with the public key": {
            "Authorization": "Bearer "
            + jwt.encode(
                {
                    "iss": ISSUER,
                    "aud": AUDIENCE,
                    "role": "ADMIN",
                    "sub": "x",
                    "exp": datetime.now(UTC) + timedelta(hours=1),
                },
                _public_bytes(served),
                algorithm="HS256",
            )
        },
        "non-ascii": {"Authorization": "Bearer t\u00f6ken"},
    }


BAD_TOKENS = [
    "garbage",
    "truncated",
    "tampered",
    "wrong scheme",
    "scheme only",
    "expired",
    "wrong audience",
    "wrong issuer",
    "unknown role",
    "no role",
    "no expiry",
    "alg none",
    "hmac with the public key",
    "non-ascii",
]


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_malformed_tokens_are_401_unauthenticated(served: Any, case: str) -> None:
    headers = bad_headers(served)[case]
    for query in ("{ viewer { role } }", "{ framework { name } }"):  # even for public fields
        response = httpx.post(
            served.base_url + "/graphql",
            json={"query": query},
            headers={k.encode(): v.encode() for k, v in headers.items()},
        )
        assert response.status_code == 401, (case, response.text)
        body = response.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert_no_leak(response.text)


# -- unknown fields and invalid ids ----------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "{ viewer { password } }",
        "{ nope }",
        "{ learner { id } }",
        "{ framework(x: 1) { name } }",
        "mutation { dropEverything }",
        "subscription { viewer { role } }",
        "{ institutions(kind: CASTLE) { edges { cursor } } }",
    ],
)
def test_invalid_documents_are_validation_errors_with_a_code(gql: GraphQL, query: str) -> None:
    reply = gql(query)
    assert reply.status == 200
    assert reply.data is None
    assert reply.errors
    assert all((e.get("extensions") or {}).get("code") == "INVALID_INPUT" for e in reply.errors)


QUERY_IDS = [
    '{ learner(id: "%s") { id } }',
    '{ institution(id: "%s") { id } }',
    '{ qualification(id: "%s") { id } }',
    '{ organization(id: "%s") { id } }',
    '{ node(id: "%s") { id } }',
]


@pytest.mark.parametrize("query", QUERY_IDS)
@pytest.mark.parametrize("bad", ["", "1", "not-a-uuid", "' OR 1=1 --", "x" * 500])
def test_invalid_ids_in_queries_are_invalid_input(
    gql: GraphQL, world: World, query: str, bad: str
) -> None:
    reply = gql(query % bad.replace('"', ""), token=world.officer)
    assert reply.code == "INVALID_INPUT", reply.body
    assert list(reply.data.values()) == [None]


def test_invalid_qualification_id_in_progress_is_invalid_input(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    reply = gql(
        f'{{ learner(id: "{learner.id}") {{ account {{ progress(qualificationId: "q1") '
        "{ met } } } }",
        token=learner.token,
    )
    assert reply.code == "INVALID_INPUT"


# Each mutation with an id in its input, tried with a malformed id: NOT_FOUND naming the field.
MUTATION_IDS: dict[str, tuple[str, dict[str, Any], str]] = {
    "verifyLearnerIdentity": (
        "officer",
        {"learnerId": "BAD", "method": "ELECTRONIC_ID"},
        "learnerId",
    ),
    "depositCredential": ("institution", {"learnerId": "BAD", "credential": "x"}, "learnerId"),
    "recognizeOutcome": ("officer", {"learnerId": "BAD", "outcomeId": "BAD"}, "learnerId"),
    "convertCredits": (
        "officer",
        {"learnerId": "{learner}", "outcomeIds": ["BAD"], "conversionRuleId": "{rule}"},
        "outcomeIds",
    ),
    "redeemQualification": (
        "officer",
        {"learnerId": "{learner}", "qualificationId": "BAD"},
        "qualificationId",
    ),
    "revokeOutcome": (
        "officer",
        {"learnerId": "{learner}", "outcomeId": "BAD", "reason": "r"},
        "outcomeId",
    ),
    "grantConsent": (
        "learner",
        {"learnerId": "{learner}", "organizationId": "BAD", "scope": "ALL"},
        "organizationId",
    ),
    "revokeConsent": (
        "learner",
        {"learnerId": "{learner}", "organizationId": "BAD"},
        "organizationId",
    ),
    "exportTranscript": ("learner", {"learnerId": "BAD"}, "learnerId"),
    "createRecognitionRule": (
        "officer",
        {"name": "r", "model": "FRAMEWORK", "issuerId": "BAD", "level": 3, "category": "c"},
        "issuerId",
    ),
    "createConversionRule": (
        "officer",
        {
            "name": "r",
            "model": "FRAMEWORK",
            "targetInstitutionId": "BAD",
            "targetCode": "T",
            "targetCategory": "c",
            "ratio": "1",
        },
        "targetInstitutionId",
    ),
    "createQualification": (
        "officer",
        {"name": "q", "level": 3, "awardingInstitutionId": "BAD", "totalCredits": "10"},
        "awardingInstitutionId",
    ),
}


@pytest.mark.parametrize("name", MUTATION_IDS)
def test_invalid_ids_in_mutations_are_not_found(gql: GraphQL, world: World, name: str) -> None:
    who, raw, field = MUTATION_IDS[name]
    learner = world.learner()
    input_ = json.loads(
        json.dumps(raw).replace("{learner}", learner.id).replace("{rule}", world.conversion_rule)
    )
    token = {
        "officer": world.officer,
        "learner": learner.token,
        "institution": world.institution_token(world.university),
    }[who]
    if name == "exportTranscript":
        token = world.token(Role.LEARNER, "BAD")
    before = gql.head()
    payload = gql.mutate(name, input_, token)
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"], payload
    assert payload["errors"][0]["field"] == [field]
    assert gql.head() == before


# -- free-form JSON input --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "junk",
    [
        pytest.param("nested", id="nested-500-deep"),
        pytest.param("large", id="500KB-member"),
        pytest.param("object", id="object-member"),
    ],
)
def test_a_public_key_jwk_is_a_small_flat_object(served: Any, world: World, junk: str) -> None:
    """publicKeyJwk is the one JSON-scalar input. A member nested 500 deep used to be stored, and
    then every projection stopped on it for good (RecursionError serialising the catalogue row):
    every later mutation waited 5 s and answered a null result with no error, and /readyz went
    to 503. Now it is refused at the API, nothing is stored, and the views keep up."""
    from application.issuing import IssuerKey

    value: Any = {
        "nested": json.loads("[" * 500 + "]" * 500),
        "large": "a" * 500_000,
        "object": {"x": "y"},
    }[junk]
    jwk = {**IssuerKey.ed25519().jwk, "x-extra": value}
    gql = served.gql
    before = gql.head()
    payload = gql.mutate(
        "registerInstitution",
        {"name": "Junk JWK", "kind": "UNIVERSITY", "publicKeyJwk": jwk},
        world.admin,
        "institution { id }",
    )
    assert [e["code"] for e in payload["errors"]] == ["INVALID_INPUT"]
    assert payload["errors"][0]["field"] == ["publicKeyJwk"]
    assert gql.head() == before
    ready = httpx.get(served.base_url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["projectionLag"] == 0
    # and a key with the standard array members is still accepted, and projected
    fine = {**IssuerKey.rsa().jwk, "key_ops": ["verify"], "use": "sig", "alg": "RS256"}
    ok = gql.mutate(
        "registerInstitution",
        {"name": "Fine JWK", "kind": "UNIVERSITY", "publicKeyJwk": fine},
        world.admin,
        "institution { id name }",
    )
    assert ok["errors"] == []
    assert ok["institution"]["name"] == "Fine JWK"


def test_a_forged_numeric_cursor_is_invalid_input_not_an_internal_error(
    gql: GraphQL, world: World
) -> None:
    import base64

    huge = base64.urlsafe_b64encode(str(10**30).encode()).decode().rstrip("=")
    for query in ("qualifications", "conversionRules", "institutions"):
        reply = gql(f'{{ {query}(first: 1, after: "{huge}") {{ edges {{ cursor }} }} }}')
        assert reply.code == "INVALID_INPUT"


def test_several_operations_need_an_operation_name(gql: GraphQL, world: World) -> None:
    """GraphQL spec §6.1: before, the first of several operations ran when none was named."""
    document = (
        "query A { framework { name } } "
        'mutation B { eraseLearner(input: {learnerId: "x"}) { errors { code } } }'
    )
    reply = gql(document, token=world.officer)
    assert reply.data is None
    assert reply.errors[0]["extensions"]["code"] == "INVALID_INPUT"
    assert "operationName" in reply.errors[0]["message"]
    named = gql.http.post("/graphql", json={"query": document, "operationName": "A"}).json()
    assert named == {"data": {"framework": {"name": named["data"]["framework"]["name"]}}}
    single = gql("query Only { framework { name } }")
    assert single.errors == []


def test_readyz_fails_while_the_standards_are_missing(served: Any, tmp_path: Any) -> None:
    """A bank built without its standards material says so at /readyz (503, UNAVAILABLE) instead
    of answering ready and blaming every credential."""
    from application.standards import Standards

    http = httpx.Client(base_url=served.base_url, timeout=10)
    assert http.get("/readyz").status_code == 200
    service = served.app.state.running
    healthy = service.bank.standards_material
    service.bank.standards_material = Standards(tmp_path)
    try:
        answer = http.get("/readyz")
    finally:
        service.bank.standards_material = healthy
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "misconfigured"
    assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert "manifest.json" in body["errors"][0]["message"]
