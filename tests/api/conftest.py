"""API test fixtures: the real app served over HTTP, on SQLite and on PostgreSQL.

``served`` runs ``create_app(settings)`` under uvicorn in a background thread of this process, on a
socket bound to a free port, with a fresh data dir and a fresh database (a new SQLite file, or a
new PostgreSQL schema) per test module and engine. Tests talk to it only through HTTP.

``world`` then registers, through GraphQL mutations as ADMIN and OFFICER, two universities with
real Ed25519 keys, two enterprises, a recognition rule, a conversion rule and a qualification, and
hands out helpers to open learners and deposit signed Open Badges 3.0 VC-JWTs (tests/factories).
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.auth import Role
from application.issuing import IssuerKey, sign_vc_jwt
from application.settings import Settings
from tests.builders import CredentialSpec, achievement_credential

CONTRACT = Path(__file__).resolve().parent / "contract" / "CONTRACT.graphql"  # copies: README
CONTRACT_2 = CONTRACT.with_name("CONTRACT-2.graphql")
ROOT = Path(__file__).resolve().parents[2]

# What must never reach a response body: internals of Python, SQL and the drivers.
LEAK_MARKERS = (
    "Traceback",
    'File "/',
    "sqlite3.",
    "psycopg",
    "SELECT ",
    "INSERT INTO",
    "DELETE FROM",
    "IntegrityError",
    "OperationalError",
    "eventsourcing.",
)

USER_ERROR = "errors { code message field }"


# -- the HTTP client -------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    text: str

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    @property
    def code(self) -> str | None:
        """``errors[0].extensions.code`` of a GraphQL (query-level) error, else None."""
        errors = self.errors
        return (errors[0].get("extensions") or {}).get("code") if errors else None

    def ok(self) -> Any:
        assert self.status == 200, self.text
        assert not self.errors, self.errors
        return self.data


def assert_no_leak(text: str) -> None:
    for marker in LEAK_MARKERS:
        assert marker not in text, f"response leaks internals ({marker!r}): {text[:500]}"


class GraphQL:
    """A tiny GraphQL-over-HTTP client: POSTs JSON, checks nothing internal leaked, returns it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        allow_internal: bool = False,
    ) -> Reply:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = self.http.post("/graphql", json=body, headers=sent)
        return self.reply(response, allow_internal=allow_internal)

    @staticmethod
    def reply(response: httpx.Response, allow_internal: bool = False) -> Reply:
        assert_no_leak(response.text)
        payload = response.json()
        if not allow_internal:
            internal = [
                e
                for e in payload.get("errors") or []
                if (e.get("extensions") or {}).get("code") == "INTERNAL"
            ]
            assert not internal, f"the server failed internally: {internal}"
        return Reply(response.status_code, payload, response.text)

    def mutate(
        self, name: str, input_: dict[str, Any], token: str | None, selection: str = ""
    ) -> dict[str, Any]:
        """Runs ``name(input: $input) { selection errors {...} }`` and returns the payload; a
        GraphQL-level error fails the test (use ``mutate_raw`` to look at those)."""
        reply = self.mutate_raw(name, input_, token, selection)
        assert reply.status == 200, reply.text
        assert not reply.errors, reply.errors
        payload: dict[str, Any] = reply.data[name]
        return payload

    def mutate_raw(
        self, name: str, input_: dict[str, Any], token: str | None, selection: str = ""
    ) -> Reply:
        type_name = name[0].upper() + name[1:] + "Input"
        query = (
            f"mutation M($input: {type_name}!) {{ {name}(input: $input) "
            f"{{ {selection} {USER_ERROR} }} }}"
        )
        return self(query, {"input": input_}, token)

    def position(self) -> int:
        """The projections' position (/readyz)."""
        return int(self.http.get("/readyz").json()["projectionPosition"])

    def head(self) -> int:
        """The event log's head (projection position + lag): it moves whenever anything is
        stored, so an unchanged head proves a refused command stored nothing."""
        ready = self.http.get("/readyz").json()
        return int(ready["projectionPosition"]) + int(ready["projectionLag"])

    def close(self) -> None:
        self.http.close()


# -- the served app --------------------------------------------------------------------------------
@dataclass
class Served:
    engine: str
    base_url: str
    settings: Settings
    app: Any
    gql: GraphQL
    _tokens: dict[tuple[Role, str | None], str] = field(default_factory=dict)

    def token(self, role: Role, subject: str | None = None) -> str:
        key = (role, subject)
        if key not in self._tokens:
            self._tokens[key] = self.app.state.tokens.issue(role, subject)
        return self._tokens[key]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class ThreadedServer:
    """uvicorn in a background thread of this process, on a socket we bound (no port races)."""

    def __init__(self, app: Any) -> None:
        self.sock = _free_socket()
        self.port = int(self.sock.getsockname()[1])
        config = uvicorn.Config(
            app, lifespan="on", log_level="warning", access_log=False, timeout_keep_alive=30
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="api-server", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise AssertionError("the server thread exited during start-up")
            if self.server.started:
                try:
                    if httpx.get(self.base_url + "/readyz", timeout=2).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.05)
        raise AssertionError("the server did not become ready")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@contextmanager
def pg_schema(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema in the run's throw-away database, dropped afterwards."""
    import psycopg

    schema = f"api_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{postgres_url}?schema={schema}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def serve(engine: str, data_dir: Path, database_url: str | None) -> Iterator[Served]:
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="api-test-" + uuid.uuid4().hex,
        snapshot_interval=5,
        checkpoint_interval=0,
    )
    app = create_app(settings)
    server = ThreadedServer(app)
    server.start()
    client = GraphQL(server.base_url)
    try:
        yield Served(engine, server.base_url, settings, app, client)
    finally:
        client.close()
        server.stop()


ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@contextmanager
def served_on(engine: str, request: pytest.FixtureRequest, tmp: Path) -> Iterator[Served]:
    if engine == "sqlite":
        with serve(engine, tmp / "data", None) as s:
            yield s
        return
    with (
        pg_schema(request.getfixturevalue("postgres_url")) as url,
        serve(engine, tmp / "data", url) as s,
    ):
        yield s


@pytest.fixture(scope="module", params=ENGINES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The app served over HTTP with a fresh data dir and database, per module and engine."""
    with served_on(request.param, request, tmp_path_factory.mktemp("api")) as s:
        yield s


@pytest.fixture(scope="module")
def gql(served: Served) -> GraphQL:
    return served.gql


# -- the world -------------------------------------------------------------------------------------
KEYS_SINCE = "2020-01-01T00:00:00Z"

INSTITUTION_FIELDS = "institution { id name kind active issuerUri }"


@dataclass
class Issuer:
    id: str
    name: str
    kind: str
    keys: IssuerKey
    issuer_uri: str


@dataclass
class LearnerRef:
    id: str
    name: str
    document_number: str
    token: str


@dataclass
class World:
    served: Served
    gql: GraphQL
    admin: str
    officer: str
    auditor: str
    university: Issuer  # recognition rule: its academic courses -> major credits at level 6
    college: Issuer  # recognition rule: its academic courses -> general credits at level 5
    mooc: Issuer  # no rule: an officer recognises its outcomes
    enterprise: Issuer  # learners consent to it
    enterprise2: Issuer  # nobody consents to it
    recognition_rule: str
    college_rule: str
    conversion_rule: str  # college courses -> university GEN-TRANSFER, ratio 0.5, cap 10
    qualification: str  # 6 credits, at least 3 major, awarded by the university

    def token(self, role: Role, subject: str | None = None) -> str:
        return self.served.token(role, subject)

    def institution_token(self, issuer: Issuer) -> str:
        """Depositing and revoking take an INSTITUTION token, enterprises included (POLICY)."""
        return self.served.token(Role.INSTITUTION, issuer.id)

    def enterprise_token(self, issuer: Issuer) -> str:
        return self.served.token(Role.ENTERPRISE, issuer.id)

    def learner(self, verified: bool = True, name: str | None = None) -> LearnerRef:
        number = f"D{uuid.uuid4().int % 10**15:015d}"
        name = name or f"Learner {number[-6:]}"
        payload = self.gql.mutate(
            "registerLearner",
            {
                "name": name,
                "identityDocumentType": "NATIONAL_ID",
                "identityDocumentNumber": number,
                "birthDate": "1995-05-17",
            },
            self.officer,
            "learner { id identityVerification }",
        )
        assert payload["errors"] == [], payload
        learner_id = payload["learner"]["id"]
        if verified:
            verified_payload = self.gql.mutate(
                "verifyLearnerIdentity",
                {"learnerId": learner_id, "method": "DOCUMENT_CHECKED"},
                self.officer,
                "learner { id identityVerification }",
            )
            assert verified_payload["errors"] == [], verified_payload
        return LearnerRef(learner_id, name, number, self.token(Role.LEARNER, learner_id))

    def credential(self, learner: LearnerRef, issuer: Issuer | None = None, **spec: Any) -> str:
        issuer = issuer or self.university
        keys = spec.pop("keys", issuer.keys)
        document_number = spec.pop("document_number", learner.document_number)
        spec.setdefault("valid_from", datetime.now(UTC).replace(microsecond=0) - timedelta(days=30))
        credential = achievement_credential(
            CredentialSpec(issuer_uri=issuer.issuer_uri, document_number=document_number, **spec)
        )
        return sign_vc_jwt(credential, keys)

    def deposit(
        self, learner: LearnerRef, issuer: Issuer | None = None, **spec: Any
    ) -> dict[str, Any]:
        """Deposits a fresh signed credential as its issuer; returns the outcome."""
        issuer = issuer or self.university
        payload = self.gql.mutate(
            "depositCredential",
            {"learnerId": learner.id, "credential": self.credential(learner, issuer, **spec)},
            self.institution_token(issuer),
            f"outcome {{ {OUTCOME_FIELDS} }}",
        )
        assert payload["errors"] == [], payload
        outcome: dict[str, Any] = payload["outcome"]
        return outcome

    def consent(
        self, learner: LearnerRef, organization: Issuer | None = None, scope: str = "TRAINING"
    ) -> None:
        organization = organization or self.enterprise
        payload = self.gql.mutate(
            "grantConsent",
            {"learnerId": learner.id, "organizationId": organization.id, "scope": scope},
            learner.token,
        )
        assert payload["errors"] == [], payload


OUTCOME_FIELDS = (
    "id credentialId title kind level credits recognizedCredits category status completedOn "
    "depositedAt recognizedStandard standardVersion supersededBy issuer { id name }"
)


def register_institution(
    gql: GraphQL, admin: str, name: str, kind: str, keys: IssuerKey | None = None
) -> Issuer:
    keys = keys or IssuerKey.ed25519()
    slug = uuid.uuid4().hex[:8]
    uri = f"https://{slug}.example.edu/issuer"
    payload = gql.mutate(
        "registerInstitution",
        {
            "name": name,
            "kind": kind,
            "publicKeyJwk": keys.jwk,
            "issuerUri": uri,
            "keyValidFrom": KEYS_SINCE,
        },
        admin,
        INSTITUTION_FIELDS,
    )
    assert payload["errors"] == [], payload
    institution = payload["institution"]
    assert institution["issuerUri"] == uri
    return Issuer(institution["id"], name, kind, keys, uri)


def build_world(served: Served) -> World:
    gql = served.gql
    admin = served.token(Role.ADMIN, "root")
    officer = served.token(Role.OFFICER, "officer-1")
    auditor = served.token(Role.AUDITOR, "auditor-1")
    university = register_institution(gql, admin, "Test University 测试大学", "UNIVERSITY")
    college = register_institution(gql, admin, "Test Junior College", "JUNIOR_COLLEGE")
    mooc = register_institution(gql, admin, "Test MOOC Platform", "MOOC_PLATFORM")
    enterprise = register_institution(gql, admin, "Acme Training 培训", "ENTERPRISE")
    enterprise2 = register_institution(gql, admin, "Other Corp", "ENTERPRISE")

    def rule(name: str, issuer: Issuer, level: int, category: str) -> str:
        payload = gql.mutate(
            "createRecognitionRule",
            {
                "name": name,
                "model": "FRAMEWORK",
                "issuerId": issuer.id,
                "kind": "ACADEMIC_COURSE",
                "level": level,
                "category": category,
                "validFrom": "2000-01-01",
            },
            officer,
            "rule { id version name model }",
        )
        assert payload["errors"] == [], payload
        return str(payload["rule"]["id"])

    recognition_rule = rule("University courses: major at 6", university, 6, "major")
    college_rule = rule("College courses: general at 5", college, 5, "general")
    conversion = gql.mutate(
        "createConversionRule",
        {
            "name": "College courses -> university general",
            "model": "AGREEMENT",
            "sourceInstitutionId": college.id,
            "sourceKind": "ACADEMIC_COURSE",
            "targetInstitutionId": university.id,
            "targetCode": "GEN-TRANSFER",
            "targetCategory": "general",
            "ratio": "0.5",
            "maxCreditsPerLearner": "10",
        },
        officer,
        "rule { id version name }",
    )
    assert conversion["errors"] == [], conversion
    # The agreement binds the college and the university: each accepts it.
    for party in (college, university):
        accepted = gql.mutate(
            "acceptConversionRule",
            {"ruleId": conversion["rule"]["id"]},
            served.token(Role.INSTITUTION, party.id),
            "rule { inForce awaiting }",
        )
        assert accepted["errors"] == [], accepted
    assert accepted["rule"] == {"inForce": True, "awaiting": None}
    qualification = gql.mutate(
        "createQualification",
        {
            "name": "Certificate in Testing",
            "level": 6,
            "awardingInstitutionId": university.id,
            "totalCredits": "6",
            "minimumByCategory": [{"category": "major", "credits": "3"}],
        },
        officer,
        "qualification { id name level }",
    )
    assert qualification["errors"] == [], qualification
    return World(
        served,
        gql,
        admin,
        officer,
        auditor,
        university,
        college,
        mooc,
        enterprise,
        enterprise2,
        recognition_rule,
        college_rule,
        conversion["rule"]["id"],
        qualification["qualification"]["id"],
    )


@pytest.fixture(scope="module")
def world(served: Served) -> World:
    return build_world(served)
