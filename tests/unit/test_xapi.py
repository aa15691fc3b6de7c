"""Signed xAPI statements (application/xapi.py): the official schema, the signature rule, the
duration and score readings, and every refusal, without a bank (an institution in memory)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application import xapi
from application.issuing import IssuerKey
from domain.errors import DomainError
from domain.institution import Institution
from domain.values import InstitutionKind, OutcomeKind
from tests.builders import sign_statement, standards, xapi_actor, xapi_statement

PLATFORM = "https://lms.example.org"
NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
NUMBER = "110105199003071234"


def platform(
    keys: IssuerKey, kind: InstitutionKind = InstitutionKind.TRAINING_PROVIDER
) -> Institution:
    institution = Institution.register(
        id=uuid.uuid4(),
        name="Learning Platform",
        kind=kind,
        issuer_uri=PLATFORM,
        at=datetime(2015, 1, 1, tzinfo=UTC),
    )
    institution.add_key(keys.jwk, datetime(2015, 1, 1, tzinfo=UTC))
    return institution


def finder(*institutions: Institution) -> Callable[[str], Institution | None]:
    return lambda uri: next((i for i in institutions if i.issuer_uri == uri), None)


def statement(**changes: Any) -> dict[str, Any]:
    return xapi_statement(PLATFORM, xapi_actor(NUMBER), **changes)


def check(submission: Any, *institutions: Institution) -> xapi.VerifiedStatement:
    return xapi.verify(xapi.parse_submission(submission), finder(*institutions), NOW, standards())


def refused(code: str, submission: Any, *institutions: Institution) -> str:
    def run() -> None:
        verified = check(submission, *institutions)
        xapi.identity_numbers(verified.statement)
        xapi.to_outcome(verified)

    with pytest.raises(DomainError) as err:
        run()
    assert err.value.code == code, f"{err.value.code}: {err.value.message}"
    return err.value.message


@pytest.fixture(scope="module")
def rsa() -> IssuerKey:
    return IssuerKey.rsa()


@pytest.fixture(scope="module")
def ed() -> IssuerKey:
    return IssuerKey.ed25519()


# -- the official schema -----------------------------------------------------------------------
def test_the_shipped_xapi_schema_accepts_a_statement_and_refuses_malformed_ones() -> None:
    schema = standards()
    schema.check_xapi_statement(statement())
    missing_verb = statement()
    del missing_verb["verb"]
    bad_attachment = statement()
    bad_attachment["attachments"] = [{"usageType": xapi.SIGNATURE_USAGE}]  # no sha2, length...
    bad_duration = statement()
    bad_duration["result"]["duration"] = 45  # a string in the schema
    for document in (missing_verb, bad_attachment, bad_duration):
        with pytest.raises(DomainError) as err:
            schema.check_xapi_statement(document)
        assert err.value.code == "INVALID_CREDENTIAL"
        assert "xAPI 2.0 schema" in err.value.message


def test_the_schema_is_loaded_from_the_package_not_the_shared_folder() -> None:
    schema = standards()
    assert "xapi" in str(schema.path(xapi_schema := "schemas/xapi/statement-2.0.schema.json"))
    assert "/work/shared" not in str(schema.path(xapi_schema))
    assert schema._schema(xapi_schema) is schema._schema(xapi_schema)  # compiled once


def test_a_schema_invalid_statement_is_refused_even_when_signed(rsa: IssuerKey) -> None:
    document = statement()
    document["verb"] = {"display": {"en": "completed"}}  # a verb without its id
    message = refused("INVALID_CREDENTIAL", sign_statement(document, rsa), platform(rsa))
    assert "xAPI 2.0 schema" in message


# -- a signed statement ---------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_rsa_signed_statements_verify_with_every_xapi_algorithm(rsa: IssuerKey, alg: str) -> None:
    institution = platform(rsa)
    verified = check(json.dumps(sign_statement(statement(), rsa, alg)), institution)
    assert verified.issuer is institution
    assert verified.kid == rsa.kid
    outcome = xapi.to_outcome(verified)
    assert outcome.kind is OutcomeKind.NON_DEGREE_COURSE
    assert outcome.title == "Data Literacy"
    assert (outcome.hours, outcome.credits, outcome.result) == (Decimal("45"), 0, "92")
    assert outcome.completed_on.isoformat() == "2026-01-20"
    assert outcome.passed is True
    assert outcome.credential_id.startswith("https://lms.example.org/courses/data-literacy#")


def test_an_ed25519_platform_key_signs_with_eddsa(ed: IssuerKey) -> None:
    verified = check(sign_statement(statement(), ed), platform(ed))
    assert verified.kid == ed.kid


def test_a_mooc_platform_deposits_moocs(ed: IssuerKey) -> None:
    verified = check(sign_statement(statement(), ed), platform(ed, InstitutionKind.MOOC_PLATFORM))
    assert xapi.to_outcome(verified).kind is OutcomeKind.MOOC


def test_the_platform_may_be_named_as_the_signed_authority(ed: IssuerKey) -> None:
    document = statement()
    del document["context"]
    document["authority"] = {
        "objectType": "Agent",
        "account": {"homePage": PLATFORM, "name": "lrs-client"},
    }
    assert check(sign_statement(document, ed), platform(ed)).kid == ed.kid


def test_what_an_lrs_adds_is_ignored(ed: IssuerKey) -> None:
    """stored and authority (set or overwritten by the LRS), an id and a version it assigns,
    the timestamp written in another zone: not differences."""
    document = statement()
    del document["id"], document["version"]
    submission = sign_statement(document, ed)
    stored = submission["statement"]
    stored["id"] = str(uuid.uuid4())
    stored["version"] = "2.0.0"
    stored["stored"] = "2026-01-21T08:00:00Z"
    stored["authority"] = {"objectType": "Agent", "mbox": "mailto:lrs@example.org"}
    stored["timestamp"] = "2026-01-20T18:00:00+08:00"
    assert check(submission, platform(ed)).kid == ed.kid


def test_two_deposits_of_the_same_learning_have_one_credential_id(ed: IssuerKey) -> None:
    institution = platform(ed)
    first = xapi.to_outcome(check(sign_statement(statement(), ed), institution))
    again = xapi.to_outcome(check(sign_statement(statement(), ed), institution))
    other = xapi_statement(PLATFORM, xapi_actor("110105199003079999"))
    someone_else = xapi.to_outcome(check(sign_statement(other, ed), institution))
    assert first.credential_id == again.credential_id != someone_else.credential_id


# -- refusals --------------------------------------------------------------------------------------
def test_an_unsigned_statement_is_refused(ed: IssuerKey) -> None:
    institution = platform(ed)
    assert "unsigned" in refused("INVALID_CREDENTIAL", {"statement": statement()}, institution)
    assert "unsigned" in refused(
        "INVALID_CREDENTIAL", {"statement": statement(), "signature": "x.y.z"}, institution
    )
    submission = sign_statement(statement(), ed)
    submission["signature"] = ""
    assert "unsigned" in refused("INVALID_CREDENTIAL", submission, institution)


def test_a_signature_attachment_that_is_not_this_jws_is_refused(ed: IssuerKey) -> None:
    institution = platform(ed)
    submission = sign_statement(statement(), ed)
    other = sign_statement(statement(), ed)["signature"]
    assert "sha2" in refused("INVALID_SIGNATURE", {**submission, "signature": other}, institution)
    tampered = copy.deepcopy(submission)
    tampered["statement"]["attachments"][0]["length"] += 1
    assert "length" in refused("INVALID_SIGNATURE", tampered, institution)
    wrong_type = copy.deepcopy(submission)
    wrong_type["statement"]["attachments"][0]["contentType"] = "application/jose"
    assert "contentType" in refused("INVALID_CREDENTIAL", wrong_type, institution)


def test_a_statement_that_is_not_the_one_signed_is_refused(ed: IssuerKey) -> None:
    institution = platform(ed)
    changes: list[Callable[[dict[str, Any]], None]] = [
        lambda s: s["result"].update(duration="PT450H"),
        lambda s: s["object"]["definition"]["name"].update({"en-US": "Nuclear Physics"}),
        lambda s: s.update(id=str(uuid.uuid4())),  # an id signed is kept
        lambda s: s.update(timestamp="2026-01-19T10:00:00Z"),
        lambda s: s["result"].update(success=1),  # true is not 1
        lambda s: s.update(attachments=[*s["attachments"], dict(s["attachments"][0])]),
    ]
    for change in changes:
        submission = sign_statement(statement(), ed)
        change(submission["statement"])
        with pytest.raises(DomainError) as err:
            check(submission, institution)
        assert err.value.code in ("INVALID_SIGNATURE", "INVALID_CREDENTIAL"), err.value.message


def test_a_tampered_payload_breaks_the_signature(ed: IssuerKey) -> None:
    submission = sign_statement(statement(), ed)
    header, payload, signature = submission["signature"].split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["result"]["duration"] = "PT900H"
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    token = f"{header}.{forged_payload}.{signature}"
    submission["signature"] = token
    submission["statement"]["result"]["duration"] = "PT900H"
    attachment = submission["statement"]["attachments"][0]
    attachment.update(sha2=hashlib.sha256(token.encode()).hexdigest(), length=len(token))
    assert "does not hold" in refused("INVALID_SIGNATURE", submission, platform(ed))


def test_keys_are_checked_as_for_credentials(ed: IssuerKey) -> None:
    institution = platform(ed)
    stranger = IssuerKey.ed25519(ed.kid)  # the same kid, another key
    assert "does not hold" in refused(
        "INVALID_SIGNATURE", sign_statement(statement(), stranger), institution
    )
    unknown = IssuerKey.ed25519("not-registered")
    assert "no key" in refused("KEY_NOT_VALID", sign_statement(statement(), unknown), institution)
    compromised = platform(ed)
    compromised.revoke_key(ed.kid, NOW - timedelta(days=400), "leaked", NOW - timedelta(days=1))
    assert "revoked" in refused("KEY_NOT_VALID", sign_statement(statement(), ed), compromised)
    retired = platform(ed)
    retired.retire_key(ed.kid, datetime(2025, 1, 1, tzinfo=UTC))  # before the learning ended
    refused("KEY_NOT_VALID", sign_statement(statement(), ed), retired)


def test_the_algorithm_is_the_registered_keys(rsa: IssuerKey, ed: IssuerKey) -> None:
    submission = sign_statement(statement(), rsa)
    _header, payload, signature = submission["signature"].split(".")
    swapped = json.dumps({"alg": "HS256", "kid": rsa.kid}).encode()
    token = f"{base64.urlsafe_b64encode(swapped).rstrip(b'=').decode()}.{payload}.{signature}"
    forged = {"statement": copy.deepcopy(submission["statement"]), "signature": token}
    forged["statement"]["attachments"][0].update(
        sha2=hashlib.sha256(token.encode()).hexdigest(), length=len(token)
    )
    assert "alg" in refused("INVALID_SIGNATURE", forged, platform(rsa))


def test_an_unregistered_or_suspended_platform_is_refused(ed: IssuerKey) -> None:
    submission = sign_statement(statement(), ed)
    refused("UNKNOWN_ISSUER", submission)
    suspended = platform(ed)
    suspended.suspend("audit")
    refused("UNKNOWN_ISSUER", submission, suspended)
    anonymous = statement()
    del anonymous["context"]
    refused("INVALID_CREDENTIAL", sign_statement(anonymous, ed), platform(ed))


@pytest.mark.parametrize(
    ("verb", "success"),
    [
        ("http://adlnet.gov/expapi/verbs/attempted", True),
        ("http://adlnet.gov/expapi/verbs/failed", None),
        ("http://adlnet.gov/expapi/verbs/experienced", True),
        ("http://adlnet.gov/expapi/verbs/passed", False),
        ("http://adlnet.gov/expapi/verbs/completed", False),
    ],
)
def test_only_completed_and_passed_learning_earns_credit(
    ed: IssuerKey, verb: str, success: bool | None
) -> None:
    document = statement(verb=verb, success=success)
    message = refused("INVALID_CREDENTIAL", sign_statement(document, ed), platform(ed))
    assert "not credited" in message or "never earns credit" in message


def test_passed_is_credited(ed: IssuerKey) -> None:
    document = statement(verb=xapi.PASSED)
    outcome = xapi.to_outcome(check(sign_statement(document, ed), platform(ed)))
    assert outcome.passed is True


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s["result"].pop("duration"), "no duration"),
        (lambda s: s["result"].update(duration="PT2001H"), "more than"),
        (lambda s: s["result"].update(duration="-PT4H"), "not an ISO 8601"),
        (lambda s: s["result"].update(duration="P1Y"), "years or months"),
        (lambda s: s["result"].update(duration="PT0S"), "no learning time"),
        (lambda s: s["result"].update(score={"scaled": 1.5}), "between -1 and 1"),
        (lambda s: s["result"].update(score={"raw": 120, "min": 0, "max": 100}), "outside"),
        (lambda s: s.pop("timestamp"), "no timestamp"),
        (lambda s: s.update(timestamp="2026-05-01T00:00:00Z"), "future"),
        (lambda s: s["object"].update(objectType="StatementRef"), "Activity"),
    ],
)
def test_what_the_statement_states_is_bounded(
    ed: IssuerKey, change: Callable[[dict[str, Any]], Any], words: str
) -> None:
    document = statement()
    change(document)
    message = refused("INVALID_CREDENTIAL", sign_statement(document, ed), platform(ed))
    assert words in message


# -- the learner -----------------------------------------------------------------------------------
def test_the_actor_names_a_learner_by_a_hashed_identity_number() -> None:
    numbers = xapi.identity_numbers(statement())
    from application.credentials import identity_matches

    assert identity_matches(numbers, NUMBER)
    assert not identity_matches(numbers, "110105199003070000")
    unsalted = xapi_statement(PLATFORM, xapi_actor(NUMBER, salt=""))
    unsalted["actor"]["account"]["name"] = unsalted["actor"]["account"]["name"].rstrip("$")
    assert identity_matches(xapi.identity_numbers(unsalted), NUMBER)


@pytest.mark.parametrize(
    "actor",
    [
        {"mbox": "mailto:learner@example.org"},
        {"account": {"homePage": "https://lms.example.org", "name": "u-42"}},
        {"account": {"homePage": xapi.IDENTITY_HOMEPAGE, "name": NUMBER}},  # in clear
        {
            "mbox": "mailto:learner@example.org",
            "account": {"homePage": xapi.IDENTITY_HOMEPAGE, "name": "sha256$" + "0" * 64},
        },
        {"objectType": "Group", "member": []},
    ],
)
def test_an_actor_the_bank_cannot_read_as_a_learner_is_refused(actor: dict[str, Any]) -> None:
    document = statement()
    document["actor"] = actor
    with pytest.raises(DomainError) as err:
        xapi.identity_numbers(document)
    assert err.value.code == "INVALID_CREDENTIAL"


# -- the submission --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    ["", "[]", "not json", {"statement": "{}", "signature": "a.b.c"}, {"statement": {}, "x": 1}],
)
def test_a_malformed_submission_is_refused(value: Any) -> None:
    with pytest.raises(DomainError) as err:
        xapi.parse_submission(value)
    assert err.value.code == "INVALID_CREDENTIAL"


def test_the_evidence_is_canonical_json_of_statement_and_signature(ed: IssuerKey) -> None:
    submission = sign_statement(statement(), ed)
    parsed = xapi.parse_submission(json.dumps(submission, indent=2))
    reordered = xapi.parse_submission(dict(reversed(list(submission.items()))))
    assert parsed.evidence() == reordered.evidence()
    assert json.loads(parsed.evidence()) == submission


# -- durations and scores ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("PT45H", "45"),
        ("PT4H35M59.14S", "4.59"),
        ("PT16559.14S", "4.59"),
        ("P2DT3H", "51"),
        ("P1W", "168"),
        ("PT90M", "1.5"),
        ("PT1,5H", "1.5"),
        ("PT2000H", "2000"),
    ],
)
def test_durations_as_hours(text: str, hours: str) -> None:
    assert xapi.duration_hours(text) == Decimal(hours)


@pytest.mark.parametrize(
    "text",
    ["P", "PT", "P1DT", "PT4H35", "4H", "PT-4H", "P1W1D", "PT1.5H30M", "P1M", "PT٣H", "PT2000.01H"],
)
def test_malformed_or_absurd_durations_are_refused(text: str) -> None:
    with pytest.raises(DomainError) as err:
        xapi.duration_hours(text)
    assert err.value.code == "INVALID_CREDENTIAL"


@given(
    days=st.integers(0, 90),
    hours=st.integers(0, 100),
    minutes=st.integers(0, 600),
    seconds=st.integers(0, 100_000),
)
def test_any_well_formed_duration_reads_as_its_hours(
    days: int, hours: int, minutes: int, seconds: int
) -> None:
    text = f"P{days}DT{hours}H{minutes}M{seconds}S"
    exact = Decimal(days * 24 + hours) + Decimal(minutes) / 60 + Decimal(seconds) / 3600
    if exact > xapi.MAX_STATEMENT_HOURS or exact < Decimal("0.01"):
        with pytest.raises(DomainError):
            xapi.duration_hours(text)
        return
    read = xapi.duration_hours(text)
    assert read <= exact < read + Decimal("0.01")  # rounded down to the hundredth, never up


@given(st.text(max_size=30))
def test_no_text_crashes_the_duration_reader(text: str) -> None:
    code = None
    try:
        hours = xapi.duration_hours(text)
    except DomainError as exc:
        code = exc.code
    else:
        assert Decimal("0.01") <= hours <= xapi.MAX_STATEMENT_HOURS
    assert code in (None, "INVALID_CREDENTIAL")


def test_scores() -> None:
    assert xapi.score({"scaled": 0.95}) == "95"
    assert xapi.score({"raw": 15, "min": 0, "max": 20}) == "75"
    assert xapi.score({"raw": 7}) == "7"
    assert xapi.score(None) is None


def test_the_equivalence_rule_in_isolation() -> None:
    signed = statement()
    received = copy.deepcopy(signed)
    received["attachments"] = [{"usageType": xapi.SIGNATURE_USAGE}]
    received["id"] = signed["id"].upper()  # a UUID in either case
    assert xapi.equivalence_difference(received, signed) is None
    received["result"]["score"]["scaled"] = 0.920  # the same number
    assert xapi.equivalence_difference(received, signed) is None
    received["verb"]["display"] = {"en-US": "finished"}
    assert xapi.equivalence_difference(received, signed) == "verb differs"
