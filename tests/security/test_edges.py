"""Finding 10, the API's edges: text the stores cannot hold, security headers, production mode
(no GraphiQL, no introspection) and anonymous verifyCredential's size cap and rate limit.

Every request goes over HTTP to the real app (tests/api/conftest.py), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import Role
from application.issuing import sign_data_integrity
from application.settings import Settings
from tests.api.conftest import (
    GraphQL,
    Reply,
    Served,
    ThreadedServer,
    World,
    assert_no_leak,
)
from tests.builders import CredentialSpec, achievement_credential, standards

EMPLOYEES = """query($id: ID!, $after: String, $from: String) { organization(id: $id) {
  employees(first: 5, after: $after, periodFrom: $from) { edges { cursor } } } }"""
VERIFY = """query($c: String!) { verifyCredential(credential: $c) {
  valid errors { code message field } } }"""


def post_raw(served: Served, body: dict[str, Any], token: str | None = None) -> Reply:
    """POSTs ``body`` as ASCII JSON: lone surrogates travel as ``\\ud800`` escapes, as a client
    in another language would send them (httpx's own encoder refuses to)."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = served.gql.http.post(
        "/graphql", content=json.dumps(body, ensure_ascii=True), headers=headers
    )
    return GraphQL.reply(response)


@contextmanager
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with caplog.at_level(logging.WARNING):
        yield
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


# -- a) NUL and unpaired surrogates ----------------------------------------------------------------
def test_nul_in_an_inline_argument_is_invalid_input(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    token = world.enterprise_token(world.enterprise)
    gql = world.gql
    org = world.enterprise.id
    arguments = [
        'after: "x\\u0000y"',
        'periodFrom: "2024\\u0000"',
        'after: "AA"',  # the cursor is base64: "AA" decodes to a NUL byte
        'after: "\\ud800"',  # a lone surrogate escape in the document
    ]
    queries = [
        f'{{ organization(id: "{org}") {{ employees({a}) {{ edges {{ cursor }} }} }} }}'
        for a in arguments
    ]
    with no_tracebacks(caplog):
        for query in queries:
            reply = gql(query, token=token)
            assert reply.code == "INVALID_INPUT", (query, reply.body)
            assert reply.data in (None, {"organization": None}), reply.body


@pytest.mark.parametrize(
    "variables",
    [
        {"after": "x\u0000y"},
        {"from": "2024-01\u0000"},
        {"after": "\ud800"},
        {"from": "\udfff2024"},
    ],
    ids=["nul-after", "nul-periodFrom", "surrogate-after", "surrogate-periodFrom"],
)
def test_nul_or_surrogate_in_a_variable_is_invalid_input(
    world: World, variables: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    token = world.enterprise_token(world.enterprise)
    body = {"query": EMPLOYEES, "variables": {"id": world.enterprise.id, **variables}}
    with no_tracebacks(caplog):
        reply = post_raw(world.served, body, token)
    assert reply.status == 400, reply.body
    assert reply.code == "INVALID_INPUT"
    assert "NUL" in reply.errors[0]["message"]


@pytest.mark.parametrize(
    ("mutation", "input_"),
    [
        (
            "defineStandard",
            {
                "code": "S-1",
                "title": "Ledger\ud800",
                "level": 4,
                "credits": "3",
                "acceptedKinds": ["MOOC"],
            },
        ),
        (
            "defineStandard",
            {
                "code": "S-2",
                "title": "Ledger\u0000",
                "level": 4,
                "credits": "3",
                "acceptedKinds": ["MOOC"],
            },
        ),
        (
            "registerInstitution",  # publicKeyJwk is a JSON scalar: its keys count too
            {
                "name": "Null U",
                "kind": "UNIVERSITY",
                "issuerUri": "https://n.example/i",
                "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x\u0000": "AA"},
            },
        ),
    ],
    ids=["surrogate-title", "nul-title", "nul-in-json-key"],
)
def test_unsafe_text_in_a_mutation_stores_nothing(
    world: World, mutation: str, input_: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    gql = world.gql
    token = world.officer if mutation == "defineStandard" else world.admin
    type_name = mutation[0].upper() + mutation[1:] + "Input"
    query = (
        f"mutation M($input: {type_name}!) {{ {mutation}(input: $input) {{ errors {{ code }} }} }}"
    )
    head = gql.head()
    with no_tracebacks(caplog):
        reply = post_raw(world.served, {"query": query, "variables": {"input": input_}}, token)
    assert reply.status == 400, reply.body
    assert reply.code == "INVALID_INPUT"
    assert gql.head() == head  # nothing was stored


@pytest.mark.parametrize("title", ["Ledger\\u0000", "Ledger\\ud800", "\\udc00"])
def test_unsafe_text_written_in_the_document_stores_nothing(
    world: World, title: str, caplog: pytest.LogCaptureFixture
) -> None:
    gql = world.gql
    code = "S-" + uuid.uuid4().hex[:6].upper()
    query = (
        f'mutation {{ defineStandard(input: {{code: "{code}", title: "{title}", level: 4, '
        'credits: "3", acceptedKinds: [MOOC]}) { standard { id } errors { code } } }'
    )
    head = gql.head()
    with no_tracebacks(caplog):
        reply = gql(query, token=world.officer)
    assert reply.code == "INVALID_INPUT", reply.body
    assert reply.data is None
    assert gql.head() == head


DEPOSIT = """mutation($i: DepositCredentialInput!) { depositCredential(input: $i) {
  outcome { id } errors { code message } } }"""


def data_integrity_credential(world: World, learner: Any, title: str) -> str:
    """The learner's credential from the university with an eddsa-rdfc-2022 proof, as JSON text
    (``json.dumps``' ASCII escapes: what reaches the bank is ``"\\u0000"``, not the character)."""
    spec = CredentialSpec(
        issuer_uri=world.university.issuer_uri,
        document_number=learner.document_number,
        title=title,
        valid_from=datetime.now(UTC).replace(microsecond=0) - timedelta(days=30),
    )
    signed = sign_data_integrity(
        achievement_credential(spec), world.university.keys, standards(), datetime.now(UTC)
    )
    return json.dumps(signed)


@pytest.mark.parametrize("title", ["Net\u0000works", "Net\ud800works"], ids=["nul", "surrogate"])
@pytest.mark.parametrize("form", ["vc-jwt", "data-integrity"])
def test_unsafe_text_inside_a_credential_is_a_typed_refusal(
    world: World, title: str, form: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Inside a credential, NUL and a lone surrogate are JSON escapes within a string argument
    (or base64 in a JWT), which the request-body check cannot see: a VC-JWT titled
    "Net\\ud800works" failed at save with an encoding error (INTERNAL, a traceback). The
    credential's own JSON is checked as it is decoded."""
    learner = world.learner()
    if form == "vc-jwt":
        credential = world.credential(learner, title=title)
    elif "\ud800" not in title:
        credential = data_integrity_credential(world, learner, title)
    else:  # no proof can be made over it (it has no UTF-8 form): a signed one, altered
        document = json.loads(data_integrity_credential(world, learner, "Networks"))
        document["name"] = title
        credential = json.dumps(document)
    head = world.gql.head()
    with no_tracebacks(caplog):
        deposited = world.gql(
            DEPOSIT,
            {"i": {"learnerId": learner.id, "credential": credential}},
            token=world.institution_token(world.university),
        ).ok()["depositCredential"]
        verified = world.gql(VERIFY, {"c": credential}).ok()["verifyCredential"]  # anonymous
    assert deposited["outcome"] is None
    assert [e["code"] for e in deposited["errors"]] == ["INVALID_CREDENTIAL"], deposited
    assert "NUL" in deposited["errors"][0]["message"]
    assert verified["valid"] is False
    assert [e["code"] for e in verified["errors"]] == ["INVALID_CREDENTIAL"], verified
    assert "NUL" in verified["errors"][0]["message"]
    assert world.gql.head() == head  # nothing stored


# -- b) security headers ---------------------------------------------------------------------------
def check_common(headers: httpx.Headers) -> None:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_every_response_carries_the_security_headers(served: Served) -> None:
    http = served.gql.http
    responses = [
        http.get("/healthz"),
        http.get("/.well-known/jwks.json"),
        http.post("/graphql", json={"query": "{ framework { name } }"}),
        http.post("/graphql", content=b"x" * (2 * 1024 * 1024)),  # 413 from the body limit
        http.get("/nowhere"),
    ]
    for response in responses:
        check_common(response.headers)
        csp = response.headers["content-security-policy"]
        assert csp.startswith("default-src 'none'"), csp
        assert "script-src" not in csp  # an API answer runs nothing
        assert "strict-transport-security" not in response.headers  # http: no HSTS
    assert responses[3].status_code == 413


def test_graphiql_page_gets_a_csp_that_admits_only_its_own_code(served: Served) -> None:
    page = served.gql.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    check_common(page.headers)
    csp = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'"
    assert "unsafe-inline" not in csp["script-src"]
    assert "unsafe-eval" not in csp["script-src"]
    assert csp["script-src"].startswith("'self' 'sha256-")
    assert csp["connect-src"] == "'self'"


# -- apps with other settings ----------------------------------------------------------------------
@contextmanager
def app_with(tmp: Path, **overrides: Any) -> Iterator[tuple[str, Any]]:
    settings = Settings(
        data_dir=tmp,
        secret_key="edges-" + uuid.uuid4().hex,
        checkpoint_interval=0,
        **overrides,
    )
    app = create_app(settings)
    server = ThreadedServer(app)
    server.start()
    try:
        yield server.base_url, app
    finally:
        server.stop()


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    with app_with(
        tmp_path_factory.mktemp("prod"), env="production", public_url="https://bank.example"
    ) as served:
        yield served


def test_production_has_no_graphiql_and_no_introspection(production: tuple[str, Any]) -> None:
    base, _ = production
    with httpx.Client(base_url=base, timeout=30) as http:
        page = http.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        assert http.get("/static/graphiql/graphiql@3.8.3/graphiql.min.js").status_code == 404
        for query in ("{ __schema { types { name } } }", '{ __type(name: "Query") { name } }'):
            reply = GraphQL.reply(http.post("/graphql", json={"query": query}))
            assert reply.code == "INVALID_INPUT", reply.body
            assert reply.data is None
            assert "introspection" in reply.errors[0]["message"].lower()
        ok = GraphQL.reply(http.post("/graphql", json={"query": "{ framework { __typename } }"}))
        assert ok.ok() == {"framework": {"__typename": "Framework"}}
        # https public URL: browsers are told to keep to https
        assert http.get("/healthz").headers["strict-transport-security"].startswith("max-age=")


def test_development_keeps_introspection(served: Served) -> None:
    reply = served.gql("{ __schema { queryType { name } } }")
    assert reply.ok() == {"__schema": {"queryType": {"name": "Query"}}}


# -- f) anonymous verifyCredential -----------------------------------------------------------------
def test_anonymous_verification_is_capped_in_size(world: World) -> None:
    gql = world.gql
    learner = world.learner()
    genuine = world.credential(learner)
    padded = genuine + " " * (70 * 1024)  # a 70 KB document
    anonymous = gql(VERIFY, {"c": padded}).ok()["verifyCredential"]
    assert anonymous["valid"] is False
    assert [e["code"] for e in anonymous["errors"]] == ["INVALID_INPUT"], anonymous
    assert "at most" in anonymous["errors"][0]["message"]
    # a caller with a token keeps the body limit only: the document is verified
    signed_in = gql(VERIFY, {"c": padded}, world.officer).ok()["verifyCredential"]
    assert [e["code"] for e in signed_in["errors"]] != ["INVALID_INPUT"], signed_in
    small = gql(VERIFY, {"c": genuine}).ok()["verifyCredential"]
    assert small == {"valid": True, "errors": []}


def test_anonymous_verification_is_rate_limited_per_address(tmp_path: Path) -> None:
    with app_with(tmp_path / "data", verify_anonymous_per_minute=5) as (base, app):
        gql = GraphQL(base)
        try:
            codes = [
                [
                    e["code"]
                    for e in gql(VERIFY, {"c": "not a credential"}).ok()["verifyCredential"][
                        "errors"
                    ]
                ]
                for _ in range(5)
            ]
            assert all(c == ["INVALID_CREDENTIAL"] for c in codes), codes
            response = gql.http.post("/graphql", json={"query": VERIFY, "variables": {"c": "x"}})
            assert_no_leak(response.text)
            refused = response.json()["data"]["verifyCredential"]
            assert [e["code"] for e in refused["errors"]] == ["RATE_LIMITED"], refused
            assert 1 <= int(response.headers["retry-after"]) <= 61
            # callers with a token are not counted against the address
            token = app.state.tokens.issue(Role.OFFICER, "o-1")
            for _ in range(3):
                result = gql(VERIFY, {"c": "x"}, token).ok()["verifyCredential"]
                assert [e["code"] for e in result["errors"]] == ["INVALID_CREDENTIAL"]
        finally:
            gql.close()
