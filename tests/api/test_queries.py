"""Contract tests for every Query field of CONTRACT.graphql: a happy path and an error path each,
over real HTTP, on SQLite and PostgreSQL.

Query errors are GraphQL errors whose ``extensions.code`` is one of the contract's codes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from api.auth import Role
from tests.api.conftest import GraphQL, Issuer, LearnerRef, World

LEARNER_RECORD = """
query Record($id: ID!, $q: ID!, $first: Int, $after: String) {
  learner(id: $id) {
    id displayName identityVerification
    account {
      version
      balance { total available redeemed byLevel { level credits } byKind { kind credits }
                byCategory { category credits } }
      transcript(first: $first, after: $after) {
        totalCount
        edges { cursor node { id credentialId title kind level credits recognizedCredits
                              category status completedOn depositedAt issuer { id name } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
      progress(qualificationId: $q) { met unmet creditsCounted qualification { id name } }
      history(first: 50) { edges { cursor node { version type at actor data hash } }
                           pageInfo { hasNextPage endCursor } }
    }
  }
}
"""


def record(gql: GraphQL, world: World, learner: LearnerRef, **variables: Any) -> Any:
    return gql(
        LEARNER_RECORD, {"id": learner.id, "q": world.qualification, **variables}, learner.token
    ).ok()["learner"]


# -- viewer ----------------------------------------------------------------------------------------
def test_viewer_names_the_bearer(gql: GraphQL, world: World) -> None:
    token = world.token(Role.INSTITUTION, world.university.id)
    assert gql("{ viewer { role subject } }", token=token).ok()["viewer"] == {
        "role": "INSTITUTION",
        "subject": world.university.id,
    }
    assert gql("{ viewer { role subject } }").ok()["viewer"] == {"role": None, "subject": None}


def test_viewer_with_a_token_from_another_key_is_unauthenticated(
    gql: GraphQL, world: World
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from api.auth import TokenService

    foreign = TokenService(Ed25519PrivateKey.generate()).issue(Role.ADMIN, "root")
    reply = gql("{ viewer { role subject } }", token=foreign)
    assert reply.status == 401
    assert reply.code == "UNAUTHENTICATED"
    assert reply.data is None


# -- framework -------------------------------------------------------------------------------------
def test_framework_is_public_with_its_levels(gql: GraphQL) -> None:
    framework = gql("{ framework { name hoursPerCredit levels { level name } } }").ok()["framework"]
    assert framework["name"]
    assert float(framework["hoursPerCredit"]) > 0
    assert [lv["level"] for lv in framework["levels"]] == list(range(1, 9))  # EQF: 8 levels
    assert all(lv["name"] for lv in framework["levels"])


def test_framework_unknown_field_is_a_validation_error(gql: GraphQL) -> None:
    reply = gql("{ framework { name creditsPerHour } }")
    assert reply.status == 200
    assert reply.data is None
    assert reply.code == "INVALID_INPUT"
    assert "creditsPerHour" in reply.errors[0]["message"]


# -- institutions and institution ------------------------------------------------------------------
INSTITUTIONS = """
query($first: Int, $after: String, $kind: InstitutionKind) {
  institutions(first: $first, after: $after, kind: $kind) {
    edges { cursor node { id name kind active issuerUri } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def walk(gql: GraphQL, first: int, kind: str | None = None) -> list[dict[str, Any]]:
    pages, after = [], None
    while True:
        conn = gql(INSTITUTIONS, {"first": first, "after": after, "kind": kind}).ok()
        conn = conn["institutions"]
        pages.append(conn)
        assert len(conn["edges"]) <= first
        if conn["edges"]:
            assert conn["pageInfo"]["startCursor"] == conn["edges"][0]["cursor"]
            assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            return pages
        after = conn["pageInfo"]["endCursor"]


def test_institutions_paginate_with_cursors_and_filter_by_kind(gql: GraphQL, world: World) -> None:
    everything = gql(INSTITUTIONS, {"first": 100}).ok()["institutions"]
    all_ids = [e["node"]["id"] for e in everything["edges"]]
    assert not everything["pageInfo"]["hasNextPage"]
    for ours in (world.university, world.college, world.mooc, world.enterprise):
        assert ours.id in all_ids
    # Pages of 2: every institution exactly once, in the same (registration) order.
    pages = walk(gql, 2)
    paged = [e["node"]["id"] for p in pages for e in p["edges"]]
    assert paged == all_ids
    assert all(p["pageInfo"]["hasNextPage"] for p in pages[:-1])
    # A page of exactly the remaining size says there is no next page.
    first_two = gql(INSTITUTIONS, {"first": 2}).ok()["institutions"]
    rest = gql(
        INSTITUTIONS, {"first": len(all_ids) - 2, "after": first_two["pageInfo"]["endCursor"]}
    ).ok()["institutions"]
    assert [e["node"]["id"] for e in rest["edges"]] == all_ids[2:]
    assert rest["pageInfo"]["hasNextPage"] is False
    # kind filter
    enterprises = [e["node"] for p in walk(gql, 1, "ENTERPRISE") for e in p["edges"]]
    assert {n["id"] for n in enterprises} >= {world.enterprise.id, world.enterprise2.id}
    assert {n["kind"] for n in enterprises} == {"ENTERPRISE"}
    assert world.university.id not in {n["id"] for n in enterprises}
    # first: 0 is an empty page that still tells whether there is more
    empty = gql(INSTITUTIONS, {"first": 0}).ok()["institutions"]
    assert empty["edges"] == []
    assert empty["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("variables", "why"),
    [
        ({"first": -1}, "negative"),
        ({"first": 101}, "over 100"),
        ({"after": "not a cursor!"}, "garbage cursor"),
        ({"after": "eyJ4Ijox"}, "foreign cursor"),
    ],
)
def test_institutions_reject_bad_paging_arguments(
    gql: GraphQL, world: World, variables: dict[str, Any], why: str
) -> None:
    reply = gql(INSTITUTIONS, variables)
    assert reply.code == "INVALID_INPUT", why
    assert reply.data is None  # the connection is non-null: the error nulls the whole answer


def test_institutions_reject_an_unknown_kind(gql: GraphQL) -> None:
    reply = gql(INSTITUTIONS, {"kind": "CASTLE"})
    assert reply.code == "INVALID_INPUT"
    assert reply.data is None


def test_institution_by_id(gql: GraphQL, world: World) -> None:
    found = gql(
        "query($id: ID!) { institution(id: $id) { id name kind active issuerUri } }",
        {"id": world.university.id},
    ).ok()["institution"]
    assert found == {
        "id": world.university.id,
        "name": world.university.name,
        "kind": "UNIVERSITY",
        "active": True,
        "issuerUri": world.university.issuer_uri,
    }
    unknown = gql(
        "query($id: ID!) { institution(id: $id) { id } }",
        {"id": "00000000-0000-4000-8000-000000000000"},
    ).ok()
    assert unknown == {"institution": None}


def test_institution_with_an_invalid_id_is_invalid_input(gql: GraphQL) -> None:
    reply = gql('{ institution(id: "not-an-id") { id } }')
    assert reply.code == "INVALID_INPUT"
    assert reply.data == {"institution": None}


# -- learner ---------------------------------------------------------------------------------------
def test_learner_reads_their_whole_record(gql: GraphQL, world: World) -> None:
    learner = world.learner(name="Zhang San 张三")
    a = world.deposit(learner, title="Algorithms", credits=4)
    b = world.deposit(learner, world.college, title="College English", credits=2, eqf_level=5)
    c = world.deposit(learner, world.mooc, title="Intro to ML", credits=1.5, eqf_level=5)
    me = record(gql, world, learner, first=10)
    assert me["id"] == learner.id
    assert me["displayName"] == "Zhang San 张三"
    assert me["identityVerification"] == "DOCUMENT_CHECKED"
    account = me["account"]
    # Opened, 3 deposits, 2 recognitions by rule (university, college); the MOOC has no rule.
    assert account["version"] == 6
    balance = account["balance"]
    assert (balance["total"], balance["available"], balance["redeemed"]) == ("6.00", "6.00", "0.00")
    assert balance["byLevel"] == [{"level": 5, "credits": "2.00"}, {"level": 6, "credits": "4.00"}]
    assert balance["byKind"] == [{"kind": "ACADEMIC_COURSE", "credits": "6.00"}]
    assert sorted(balance["byCategory"], key=lambda x: x["category"]) == [
        {"category": "general", "credits": "2.00"},
        {"category": "major", "credits": "4.00"},
    ]
    transcript = account["transcript"]
    assert transcript["totalCount"] == 3
    nodes = [e["node"] for e in transcript["edges"]]
    assert [n["id"] for n in nodes] == [a["id"], b["id"], c["id"]]  # oldest deposit first
    assert [n["status"] for n in nodes] == ["RECOGNIZED", "RECOGNIZED", "DEPOSITED"]
    assert nodes[0]["issuer"] == {"id": world.university.id, "name": world.university.name}
    assert nodes[2]["kind"] == "MOOC"
    assert nodes[2]["credits"] == "1.50"
    assert nodes[2]["recognizedCredits"] is None
    assert nodes[0]["recognizedCredits"] == "4.00"
    assert nodes[0]["category"] == "major"
    progress = account["progress"]
    assert progress == {
        "met": True,
        "unmet": [],
        "creditsCounted": "6.00",
        "qualification": {"id": world.qualification, "name": "Certificate in Testing"},
    }
    history = [e["node"] for e in account["history"]["edges"]]
    assert [h["version"] for h in history] == [1, 2, 3, 4, 5, 6]
    assert [h["type"] for h in history] == [
        "Opened",
        "OutcomeDeposited",
        "OutcomeRecognized",
        "OutcomeDeposited",
        "OutcomeRecognized",
        "OutcomeDeposited",
    ]
    assert history[1]["actor"] == f"institution:{world.university.id}"
    assert history[2]["data"]["rule_id"] == world.recognition_rule
    assert history[2]["data"]["rule_version"] == 1
    assert all(h["hash"] for h in history)


def test_learner_transcript_pages_and_filters(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    ids = [world.deposit(learner, title=f"Course {i}")["id"] for i in range(5)]
    mooc = world.deposit(learner, world.mooc, title="A MOOC")["id"]
    query = """query($id: ID!, $first: Int, $after: String, $status: OutcomeStatus,
                     $kind: OutcomeKind) {
      learner(id: $id) { account { transcript(first: $first, after: $after, status: $status,
                                              kind: $kind) {
        totalCount edges { cursor node { id status kind } }
        pageInfo { hasNextPage hasPreviousPage endCursor } } } } }"""

    def page(**v: Any) -> Any:
        return gql(query, {"id": learner.id, **v}, learner.token).ok()["learner"]["account"][
            "transcript"
        ]

    seen, after = [], None
    while True:
        p = page(first=2, after=after)
        assert p["totalCount"] == 6
        seen += [e["node"]["id"] for e in p["edges"]]
        assert p["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not p["pageInfo"]["hasNextPage"]:
            break
        after = p["pageInfo"]["endCursor"]
    assert seen == [*ids, mooc]
    recognized = page(status="RECOGNIZED")
    assert recognized["totalCount"] == 5
    assert {e["node"]["status"] for e in recognized["edges"]} == {"RECOGNIZED"}
    moocs = page(kind="MOOC")
    assert [e["node"]["id"] for e in moocs["edges"]] == [mooc]
    assert moocs["totalCount"] == 1
    assert page(kind="MOOC", status="RECOGNIZED") == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None},
    }


def test_learner_as_of_version_and_moment(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    world.deposit(learner, credits=3)
    middle = datetime.now(UTC)
    world.deposit(learner, credits=2)
    query = """query($id: ID!, $v: Int, $at: DateTime) { learner(id: $id) { account {
        version
        v: asOf(version: $v) { version at balance { total } outcomes { id status credits } }
        t: asOf(at: $at) { version balance { total } outcomes { id } } } } }"""
    account = gql(query, {"id": learner.id, "v": 3, "at": middle.isoformat()}, learner.token).ok()[
        "learner"
    ]["account"]
    assert account["version"] == 5
    assert account["v"]["version"] == 3
    assert account["v"]["balance"]["total"] == "3.00"
    assert [o["status"] for o in account["v"]["outcomes"]] == ["RECOGNIZED"]
    assert account["t"]["version"] == 3
    assert account["t"]["balance"]["total"] == "3.00"
    # before the account existed / at version 2 (deposited, not yet recognised)
    v2 = gql(
        query, {"id": learner.id, "v": 2, "at": datetime.now(UTC).isoformat()}, learner.token
    ).ok()["learner"]["account"]
    assert v2["v"]["balance"]["total"] == "0.00"
    assert [o["status"] for o in v2["v"]["outcomes"]] == ["DEPOSITED"]
    assert v2["t"]["version"] == 5


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ("version: 99", "NOT_FOUND"),
        ("version: 0", "NOT_FOUND"),
        ('version: 1, at: "2026-01-01T00:00:00Z"', "INVALID_INPUT"),
        ("", "INVALID_INPUT"),
        ('at: "2000-01-01T00:00:00Z"', "NOT_FOUND"),
        ('at: "2026-01-01T00:00:00"', "INVALID_INPUT"),
    ],
)
def test_learner_as_of_errors(gql: GraphQL, world: World, args: str, code: str) -> None:
    learner = world.learner(verified=False)
    reply = gql(
        f'{{ learner(id: "{learner.id}") {{ account {{ asOf({args}) {{ version }} }} }} }}',
        token=learner.token,
    )
    assert reply.code == code, reply.errors
    assert reply.data == {"learner": None} or reply.data is None


def test_learner_reading_someone_else_is_forbidden(gql: GraphQL, world: World) -> None:
    owner, other = world.learner(), world.learner()
    world.deposit(owner)
    reply = gql(LEARNER_RECORD, {"id": owner.id, "q": world.qualification}, other.token)
    assert reply.code == "FORBIDDEN"
    assert reply.data == {"learner": None}
    assert owner.name not in reply.text
    anonymous = gql(LEARNER_RECORD, {"id": owner.id, "q": world.qualification})
    assert anonymous.code == "UNAUTHENTICATED"
    assert anonymous.data == {"learner": None}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ learner(id: "nope") { id } }', "INVALID_INPUT"),
        (
            '{ learner(id: "%(id)s") { account { progress(qualificationId: "x") { met } } } }',
            "INVALID_INPUT",
        ),
        (
            '{ learner(id: "%(id)s") { account { progress(qualificationId: '
            '"00000000-0000-4000-8000-000000000000") { met } } } }',
            "NOT_FOUND",
        ),
        (
            '{ learner(id: "%(id)s") { account { transcript(after: "%%%%") { totalCount } } } }',
            "INVALID_INPUT",
        ),
        (
            '{ learner(id: "%(id)s") { account { history(first: 101) { edges { cursor } } } } }',
            "INVALID_INPUT",
        ),
    ],
)
def test_learner_argument_errors(gql: GraphQL, world: World, query: str, code: str) -> None:
    learner = world.learner(verified=False)
    reply = gql(query % {"id": learner.id}, token=learner.token)
    assert reply.code == code, reply.errors


def test_unknown_learner_is_null_for_an_officer(gql: GraphQL, world: World) -> None:
    reply = gql(
        '{ learner(id: "00000000-0000-4000-8000-000000000000") { id } }', token=world.officer
    )
    assert reply.ok() == {"learner": None}


# -- qualifications, conversionRules --------------------------------------------------------------
@pytest.mark.parametrize("field", ["qualifications", "conversionRules"])
def test_catalogue_lists_paginate(gql: GraphQL, world: World, field: str) -> None:
    extra = "name level awardingInstitution { id }" if field == "qualifications" else "version name"
    query = (
        f"query($first: Int, $after: String) {{ {field}(first: $first, after: $after) "
        f"{{ edges {{ cursor node {{ id {extra} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
    everything = gql(query, {"first": 100}).ok()[field]["edges"]
    expected = world.qualification if field == "qualifications" else world.conversion_rule
    node = next(e["node"] for e in everything if e["node"]["id"] == expected)
    if field == "qualifications":
        assert node == {
            "id": expected,
            "name": "Certificate in Testing",
            "level": 6,
            "awardingInstitution": {"id": world.university.id},
        }
    else:
        assert node == {
            "id": expected,
            "version": 1,
            "name": "College courses -> university general",
        }
    seen, after = [], None
    while True:
        conn = gql(query, {"first": 1, "after": after}).ok()[field]
        seen += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [e["node"]["id"] for e in everything]


@pytest.mark.parametrize("field", ["qualifications", "conversionRules"])
@pytest.mark.parametrize("args", ["first: -5", "first: 1000", 'after: "@@"'])
def test_catalogue_lists_reject_bad_arguments(gql: GraphQL, field: str, args: str) -> None:
    reply = gql(f"{{ {field}({args}) {{ edges {{ cursor }} }} }}")
    assert reply.code == "INVALID_INPUT"
    assert reply.data is None


# -- organization ----------------------------------------------------------------------------------
def test_organization_sees_consenting_employees_training(gql: GraphQL, world: World) -> None:
    # A fresh enterprise, so the employee list is exactly ours.
    from tests.api.conftest import register_institution

    employer = register_institution(gql, world.admin, "Fresh Employer", "ENTERPRISE")
    staff, outsider = world.learner(), world.learner()
    world.deposit(staff, employer, title="Safety Training", credits=2, achievement_type="Badge")
    world.deposit(staff, title="A university course", credits=3)
    world.deposit(outsider, employer, title="Safety Training", credits=1)
    world.consent(staff, employer, "TRAINING")
    query = """query($id: ID!) { organization(id: $id) { id name employees(first: 10) {
        edges { cursor node { learner { id } trainingCredits trainingHours } }
        pageInfo { hasNextPage } } } }"""
    token = world.enterprise_token(employer)
    org = gql(query, {"id": employer.id}, token).ok()["organization"]
    assert org["id"] == employer.id
    assert org["name"] == "Fresh Employer"
    employees = [e["node"] for e in org["employees"]["edges"]]
    assert [e["learner"]["id"] for e in employees] == [staff.id]  # not the outsider
    # Enterprise training is not recognised by any rule here: 0 recognised credits; the VC-JWT
    # carries no hours. The university course is outside the TRAINING scope.
    assert employees[0]["trainingCredits"] == "0.00"
    assert employees[0]["trainingHours"] == "0.00"
    assert org["employees"]["pageInfo"]["hasNextPage"] is False
    # the enterprise sees the employee's training, and only that
    transcript = gql(
        "query($id: ID!) { learner(id: $id) { account { transcript(kind: ENTERPRISE_TRAINING) "
        "{ totalCount edges { node { title } } } } } }",
        {"id": staff.id},
        token,
    ).ok()["learner"]["account"]["transcript"]
    assert transcript["totalCount"] == 1
    assert transcript["edges"][0]["node"]["title"] == "Safety Training"
    whole = gql(
        "query($id: ID!) { learner(id: $id) { account { balance { total } } } }",
        {"id": staff.id},
        token,
    )
    assert whole.code == "FORBIDDEN"
    assert "university course" not in whole.text


def test_organization_of_another_enterprise_is_forbidden(gql: GraphQL, world: World) -> None:
    query = "query($id: ID!) { organization(id: $id) { name employees { edges { cursor } } } }"
    reply = gql(query, {"id": world.enterprise.id}, world.enterprise_token(world.enterprise2))
    assert reply.code == "FORBIDDEN"
    assert reply.data == {"organization": None}
    learner = world.learner()
    assert gql(query, {"id": world.enterprise.id}, learner.token).code == "FORBIDDEN"
    assert gql(query, {"id": world.enterprise.id}).code == "UNAUTHENTICATED"
    assert gql('{ organization(id: "x") { name } }', token=world.officer).code == "INVALID_INPUT"
    # not an enterprise: nothing to see
    assert gql(query, {"id": world.university.id}, world.officer).ok() == {"organization": None}


# -- node ------------------------------------------------------------------------------------------
NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Institution { name kind } ... on Qualification { name level }
  ... on ConversionRule { version name } ... on Outcome { title status }
  ... on Learner { identityVerification } } }"""


def test_node_resolves_every_kind_of_object(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    outcome = world.deposit(learner, title="Node Course")
    assert gql(NODE, {"id": world.university.id}).ok()["node"] == {
        "__typename": "Institution",
        "id": world.university.id,
        "name": world.university.name,
        "kind": "UNIVERSITY",
    }
    assert gql(NODE, {"id": world.qualification}).ok()["node"]["__typename"] == "Qualification"
    assert gql(NODE, {"id": world.conversion_rule}).ok()["node"] == {
        "__typename": "ConversionRule",
        "id": world.conversion_rule,
        "version": 1,
        "name": "College courses -> university general",
    }
    assert gql(NODE, {"id": world.recognition_rule}).ok()["node"]["__typename"] == (
        "RecognitionRule"
    )
    assert gql(NODE, {"id": outcome["id"]}, learner.token).ok()["node"] == {
        "__typename": "Outcome",
        "id": outcome["id"],
        "title": "Node Course",
        "status": "RECOGNIZED",
    }
    assert gql(NODE, {"id": learner.id}, learner.token).ok()["node"] == {
        "__typename": "Learner",
        "id": learner.id,
        "identityVerification": "DOCUMENT_CHECKED",
    }
    assert gql(NODE, {"id": "00000000-0000-4000-8000-000000000000"}).ok() == {"node": None}


def test_node_guards_learner_data(gql: GraphQL, world: World) -> None:
    owner, other = world.learner(), world.learner()
    outcome = world.deposit(owner, title="Private Course")
    for target in (owner.id, outcome["id"]):
        forbidden = gql(NODE, {"id": target}, other.token)
        assert forbidden.code == "FORBIDDEN"
        assert forbidden.data == {"node": None}
        assert "Private Course" not in forbidden.text
        assert gql(NODE, {"id": target}).code == "UNAUTHENTICATED"
    assert gql(NODE, {"id": "42"}).code == "INVALID_INPUT"


# -- verifyCredential ------------------------------------------------------------------------------
VERIFY = """query($c: String!) { verifyCredential(credential: $c) {
  valid issuer revoked errors { code message field } } }"""


def test_verify_credential_accepts_a_genuine_one(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    result = gql(VERIFY, {"c": world.credential(learner)}).ok()["verifyCredential"]
    assert result == {
        "valid": True,
        "issuer": world.university.issuer_uri,
        "revoked": False,
        "errors": [],
    }


def test_verify_credential_rejects_forgeries(gql: GraphQL, world: World) -> None:
    from application.issuing import IssuerKey

    learner = world.learner()
    genuine = world.credential(learner)
    header, payload, signature = genuine.split(".")
    tampered_sig = f"{header}.{payload}.{'A' * len(signature)}"
    # the right kid, the wrong private key: an impostor signing in the university's name
    impostor = IssuerKey.ed25519(kid=world.university.keys.kid)
    wrong_key = world.credential(learner, keys=impostor)
    expired = world.credential(
        learner,
        valid_from=datetime.now(UTC) - timedelta(days=400),
        valid_until=datetime.now(UTC) - timedelta(days=1),
    )
    cases = {
        tampered_sig: "INVALID_SIGNATURE",
        wrong_key: "INVALID_SIGNATURE",
        "not.a.jwt": "INVALID_CREDENTIAL",
        "": "INVALID_CREDENTIAL",
        expired: "CREDENTIAL_EXPIRED",
    }
    stranger = Issuer("-", "Diploma Mill", "UNIVERSITY", impostor, "https://mill.example/issuer")
    cases[world.credential(learner, stranger)] = "UNKNOWN_ISSUER"
    for credential, code in cases.items():
        result = gql(VERIFY, {"c": credential}).ok()["verifyCredential"]
        assert result["valid"] is False, code
        assert result["issuer"] is None
        assert [e["code"] for e in result["errors"]] == [code], result


def test_an_enterprise_sees_only_the_consented_scope(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    course = world.deposit(learner, title="University course")
    training = world.deposit(learner, world.enterprise, title="Forklift Safety")
    world.consent(learner, world.enterprise, "TRAINING")
    token = world.enterprise_token(world.enterprise)
    node = "query($id: ID!) { node(id: $id) { id ... on Outcome { title } } }"
    assert gql(node, {"id": training["id"]}, token).ok()["node"]["title"] == "Forklift Safety"
    hidden = gql(node, {"id": course["id"]}, token)
    assert hidden.code == "FORBIDDEN"
    assert "University course" not in hidden.text
    account = "query($id: ID!) { learner(id: $id) { account { %s } } }"
    for outside in (
        "transcript(kind: ACADEMIC_COURSE) { totalCount }",
        "history { edges { cursor } }",
        "asOf(version: 1) { version }",
        "version",
        f'progress(qualificationId: "{world.qualification}") {{ met }}',
    ):
        reply = gql(account % outside, {"id": learner.id}, token)
        assert reply.code == "FORBIDDEN", outside
        assert reply.data == {"learner": None}


def test_as_of_accepts_any_timezone(gql: GraphQL, world: World) -> None:
    learner = world.learner()
    world.deposit(learner)
    shanghai = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).isoformat()
    query = (
        "query($id: ID!, $at: DateTime) { learner(id: $id) { account { version "
        "asOf(at: $at) { version } } } }"
    )
    account = gql(query, {"id": learner.id, "at": shanghai}, learner.token).ok()["learner"][
        "account"
    ]
    assert account["asOf"]["version"] == account["version"] == 3
