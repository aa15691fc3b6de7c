"""Signed xAPI statements deposited into accounts (both engines): a non-formal outcome whose
credits the framework gives for its hours, recognised only within a rule's bounds, counted once;
unsigned, tampered and wrongly signed statements refused with nothing stored."""

from __future__ import annotations

import copy
import hashlib
from decimal import Decimal
from typing import Any

import pytest

from application.bank import CreditBank
from application.issuing import IssuerKey
from application.xapi import parse_submission
from domain.errors import DomainError
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import InstitutionKind, OutcomeKind, OutcomeStatus, RuleModel
from tests.builders import (
    NOW,
    SINCE,
    Issuer,
    Learner,
    World,
    sign_statement,
    xapi_actor,
    xapi_statement,
)

PLATFORM = "https://lms.example.org"


@pytest.fixture
def world(bank: CreditBank, clock: Any, settings: Any) -> World:
    clock.now = NOW
    return World(bank, clock, settings)


@pytest.fixture
def lms(world: World) -> Issuer:
    return world.issuer(
        "Open Learning Platform",
        keys=IssuerKey.rsa(),
        kind=InstitutionKind.TRAINING_PROVIDER,
        uri=PLATFORM,
    )


def bounded_rule(world: World, lms: Issuer, max_credits: str = "1") -> None:
    world.bank.create_recognition_rule(
        "platform courses",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            valid_from=SINCE,
            criteria=OutcomeCriteria(institution_id=lms.id, kind=OutcomeKind.NON_DEGREE_COURSE),
            level=4,
            category="elective",
            max_credits=Decimal(max_credits),
        ),
    )


def signed(lms: Issuer, learner: Learner, **changes: Any) -> dict[str, Any]:
    return sign_statement(
        xapi_statement(PLATFORM, xapi_actor(learner.document_number), **changes), lms.keys
    )


def refused(world: World, code: str, learner: Learner, submission: Any, **kw: Any) -> str:
    before = world.stored(learner)
    with pytest.raises(DomainError) as err:
        world.bank.deposit_statement(learner.id, submission, **kw)
    assert err.value.code == code, f"{err.value.code}: {err.value.message}"
    assert world.stored(learner) == before
    return err.value.message


def test_a_signed_statement_becomes_a_non_formal_outcome_recognised_within_the_rule(
    world: World, lms: Issuer
) -> None:
    bank = world.bank
    bounded_rule(world, lms, max_credits="1")
    learner = world.learner()
    long = signed(lms, learner, duration="PT45H")
    short = signed(lms, learner, duration="PT15H", activity_id=f"{PLATFORM}/courses/sql")
    long_id = bank.deposit_statement(learner.id, long, actor="lms", by_institution=lms.id)
    short_id = bank.deposit_statement(learner.id, short, actor="lms", by_institution=lms.id)

    account = bank.account(learner.id)
    big, small = account.outcome(long_id), account.outcome(short_id)
    assert big.kind is OutcomeKind.NON_DEGREE_COURSE
    assert big.title == "Data Literacy"
    assert (big.hours, big.credits_claimed, big.result) == (Decimal("45"), Decimal(0), "92")
    # Credits from hours through the framework, bounded by the rule when recognised.
    assert big.framework_credits == bank.framework.credits_for_hours(Decimal(45)) > 1
    assert big.status is OutcomeStatus.RECOGNIZED
    assert big.recognized_credits == Decimal(1)
    assert small.framework_credits == bank.framework.credits_for_hours(Decimal(15))
    assert small.recognized_credits == min(Decimal(1), small.framework_credits)
    assert big.completed_on.isoformat() == "2026-01-20"
    assert big.key_id == lms.kid
    evidence = parse_submission(long).evidence()
    assert big.evidence_digest == "sha256:" + hashlib.sha256(evidence).hexdigest()


def test_without_a_rule_the_outcome_waits_for_an_officer(world: World, lms: Issuer) -> None:
    learner = world.learner()
    outcome_id = world.bank.deposit_statement(learner.id, signed(lms, learner))
    outcome = world.bank.account(learner.id).outcome(outcome_id)
    assert outcome.status is OutcomeStatus.DEPOSITED
    assert outcome.recognized_credits is None


def test_the_same_statement_twice_counts_once(world: World, lms: Issuer) -> None:
    bounded_rule(world, lms)
    learner = world.learner()
    submission = signed(lms, learner)
    world.bank.deposit_statement(learner.id, submission)
    refused(world, "DUPLICATE_CREDENTIAL", learner, submission)
    again = copy.deepcopy(submission)
    again["statement"]["stored"] = "2026-02-01T00:00:00Z"  # as another LRS returns it
    refused(world, "DUPLICATE_CREDENTIAL", learner, again)
    counted = [o for o in world.bank.account(learner.id).outcomes.values()]
    assert len(counted) == 1


def test_unsigned_tampered_and_wrongly_signed_statements_store_nothing(
    world: World, lms: Issuer
) -> None:
    learner = world.learner()
    statement = xapi_statement(PLATFORM, xapi_actor(learner.document_number))
    refused(world, "INVALID_CREDENTIAL", learner, {"statement": statement})
    tampered = signed(lms, learner)
    tampered["statement"]["result"]["duration"] = "PT1500H"
    refused(world, "INVALID_SIGNATURE", learner, tampered)
    impostor = IssuerKey.rsa(lms.kid)  # the platform's kid, someone else's key
    wrong = sign_statement(statement, impostor)
    assert "does not hold" in refused(world, "INVALID_SIGNATURE", learner, wrong)
    unknown = sign_statement(statement, IssuerKey.ed25519("unregistered"))
    refused(world, "KEY_NOT_VALID", learner, unknown)
    failed = signed(lms, learner, verb="http://adlnet.gov/expapi/verbs/failed", success=False)
    refused(world, "INVALID_CREDENTIAL", learner, failed)


def test_a_revoked_platform_key_verifies_nothing(world: World, lms: Issuer) -> None:
    learner = world.learner()
    world.bank.revoke_institution_key(lms.id, lms.kid, NOW, "leaked")
    refused(world, "KEY_NOT_VALID", learner, signed(lms, learner))


def test_a_statement_about_someone_else_is_told_last(world: World, lms: Issuer) -> None:
    learner, other = world.learner(), world.learner()
    about_other = signed(lms, other)
    refused(world, "IDENTITY_MISMATCH", learner, about_other, by_institution=lms.id)
    # Otherwise refused: the refusal is that, never the identity.
    unsigned = {"statement": xapi_statement(PLATFORM, xapi_actor(other.document_number))}
    refused(world, "INVALID_CREDENTIAL", learner, unsigned)
    world.bank.deposit_statement(other.id, about_other)  # its own learner takes it


def test_a_platform_deposits_only_what_it_signed(world: World, lms: Issuer) -> None:
    other = world.issuer("Another Platform")
    learner = world.learner()
    refused(world, "FORBIDDEN", learner, signed(lms, learner), by_institution=other.id)


def test_statements_enter_through_an_upload_like_credentials(world: World, lms: Issuer) -> None:
    """A platform's upload (POST /intake) may carry statements: one a line, with the answer
    deposit_statement gives; the same upload again is answered the same and changes nothing
    (a statement the account holds is held, as a credential line is, where depositStatement
    says DUPLICATE_CREDENTIAL); another learner's account holding it is still a refusal."""
    import json

    from application.intake.jobs import IntakeStore
    from application.intake.lines import Upload
    from application.intake.worker import IntakeWorker

    learner = world.learner()
    good = signed(lms, learner)
    unsigned = {"statement": good["statement"]}
    body = "".join(
        json.dumps({"learnerId": str(learner.id), **item}) + "\n" for item in (good, unsigned)
    )
    store = IntakeStore(world.bank.database)

    def uploaded(text: str) -> list[tuple[int, str | None, str | None, str | None]]:
        upload = Upload(store, lms.id, f"institution:{lms.id}", world.bank.now())
        upload.feed(text.encode())
        job_id = upload.finish()
        IntakeWorker(world.bank, store).run_until_idle()
        return store.results(job_id)

    results = uploaded(body)
    assert [(n, result) for n, result, _code, _o in results] == [(1, "ACCEPTED"), (2, "REFUSED")]
    assert results[1][2] == "INVALID_CREDENTIAL"
    assert len(world.bank.account(learner.id).outcomes) == 1
    position = world.bank.recorder.max_notification_id()
    assert uploaded(body) == results  # the same outcome, held: nothing written
    assert world.bank.recorder.max_notification_id() == position
    refused(world, "DUPLICATE_CREDENTIAL", learner, good)  # one statement alone still says so
    someone = world.learner()
    elsewhere = uploaded(json.dumps({"learnerId": str(someone.id), **good}) + "\n")
    with pytest.raises(DomainError) as alone:
        world.bank.deposit_statement(someone.id, good, by_institution=lms.id)
    assert [(result, code) for _n, result, code, _o in elsewhere] == [("REFUSED", alone.value.code)]
