"""Finding 6: after a key is stolen, credentials signed with it and backdated to before its
retirement still verified and deposited. ``revokeInstitutionKey`` (CONTRACT-2) makes the key
verify nothing from then on, and puts what it may have signed since the compromise under review.
Service level on both engines (the clock is the test's), then the mutation over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application.bank import CreditBank
from domain.errors import DomainError
from tests.api.conftest import World as ApiWorld
from tests.api.conftest import register_institution
from tests.builders import World


def refused(action: Any) -> str:
    with pytest.raises(DomainError) as err:
        action()
    return str(err.value.code)


def everything(bank: CreditBank, *learners: Any) -> list[tuple[UUID, UUID]]:
    """The candidates the API reads from the views: here, every outcome of these learners."""
    return [(lr.id, UUID(o)) for lr in learners for o in bank.account(lr.id).outcomes]


def test_a_revoked_key_verifies_nothing_whatever_date_is_claimed(trust: World) -> None:
    bank, clock = trust.bank, trust.clock
    uni, wang = trust.issuer(), trust.learner()
    kid = uni.keys.kid
    genuine = bank.deposit_credential(wang.id, trust.token(uni, wang))
    bank.recognize_outcome(wang.id, genuine, "officer-1", Decimal(3), 6, "major")

    # The key is stolen; the thief signs credentials, one backdated to before the theft.
    stolen_at = clock.now + timedelta(days=1)
    clock.now += timedelta(days=5)
    backdated = bank.deposit_credential(
        wang.id, trust.token(uni, wang, valid_from=stolen_at - timedelta(days=60))
    )
    recent = bank.deposit_credential(
        wang.id, trust.token(uni, wang, valid_from=stolen_at + timedelta(days=1))
    )
    for forged in (backdated, recent):
        bank.recognize_outcome(wang.id, forged, "officer-1", Decimal(3), 6, "major")
    assert bank.account(wang.id).balance().total == Decimal(9)

    bank.revoke_institution_key(uni.id, kid, stolen_at, "private key found on a paste site")
    # Nothing verifies with it any more, whatever date the credential claims.
    for claimed in (stolen_at - timedelta(days=400), stolen_at, clock.now):
        forged_again = trust.token(uni, wang, valid_from=claimed)
        assert refused(lambda t=forged_again: bank.deposit_credential(wang.id, t)) == (
            "KEY_NOT_VALID"
        )
        assert refused(lambda t=forged_again: bank.verify_credential(t)) == "KEY_NOT_VALID"

    # What it may have signed since the theft goes under review; the genuine outcome does not.
    questioned = bank.review_compromised(uni.id, kid, everything(bank, wang), "admin:root")
    assert sorted(map(str, questioned)) == sorted(map(str, (backdated, recent)))
    account = bank.account(wang.id)
    assert account.outcome(genuine).under_review is None
    assert all(account.outcome(o).under_review for o in (backdated, recent))
    assert account.balance().total == Decimal(3)  # frozen, not destroyed
    # Reviewing again changes nothing.
    assert bank.review_compromised(uni.id, kid, everything(bank, wang), "admin:root") == []
    assert bank.account(wang.id).version == account.version

    # An officer checked one with the institution's registrar: it counts again.
    bank.clear_outcome_review(wang.id, backdated, "confirmed by the registrar", "officer-2")
    assert bank.account(wang.id).balance().total == Decimal(6)
    # A later sweep leaves what an officer found genuine alone.
    assert bank.review_compromised(uni.id, kid, everything(bank, wang), "admin:root") == []
    assert (
        refused(lambda: bank.clear_outcome_review(wang.id, backdated, "again", "officer-2"))
        == "INVALID_INPUT"
    )
    # Revoking twice, or a key compromised in the future, is refused.
    assert refused(lambda: bank.revoke_institution_key(uni.id, kid, stolen_at, "x")) == (
        "KEY_NOT_VALID"
    )


def test_an_outcome_under_review_waits_for_an_officer_and_its_conversions_stop_counting(
    trust: World,
) -> None:
    bank, clock = trust.bank, trust.clock
    college, uni, wang = trust.issuer("College"), trust.issuer("University"), trust.learner()
    rule = trust.transfer(college, uni)
    converted = bank.deposit_credential(wang.id, trust.token(college, wang))
    waiting = bank.deposit_credential(wang.id, trust.token(college, wang))
    spare = bank.deposit_credential(wang.id, trust.token(college, wang))
    for recognised in (converted, spare):
        bank.recognize_outcome(wang.id, recognised, "officer-1", Decimal(3), 6, "major")
    bank.convert_credits(wang.id, [converted], rule)
    assert bank.account(wang.id).balance().total == Decimal(6)

    bank.revoke_institution_key(college.id, college.keys.kid, clock.now - timedelta(days=90), "x")
    bank.review_compromised(college.id, college.keys.kid, everything(bank, wang), "admin:root")
    assert bank.account(wang.id).balance().total == Decimal(0)  # the conversion is frozen too
    # Nothing is built on it meanwhile: no conversion, and no option offering one.
    assert refused(lambda: bank.convert_credits(wang.id, [spare], rule)) == "RULE_NOT_APPLICABLE"
    code = refused(
        lambda: bank.recognize_outcome(wang.id, waiting, "officer-1", Decimal(3), 6, "major")
    )
    assert code == "RULE_NOT_APPLICABLE"
    bank.clear_outcome_review(wang.id, converted, "checked", "officer-2")
    assert bank.account(wang.id).balance().total == Decimal(3)
    bank.clear_outcome_review(wang.id, spare, "checked", "officer-2")
    assert bank.convert_credits(wang.id, [spare], rule)
    assert bank.account(wang.id).balance().total == Decimal(6)


def test_retirement_keeps_verifying_what_was_signed_before_it(trust: World) -> None:
    """Rotation is not compromise: a credential signed before the key was retired still
    deposits afterwards (the learner may deposit it years later)."""
    bank, clock = trust.bank, trust.clock
    uni, wang = trust.issuer(), trust.learner()
    signed = trust.token(uni, wang, valid_from=clock.now - timedelta(days=10))
    bank.retire_institution_key(uni.id, uni.keys.kid)
    clock.now += timedelta(days=30)
    assert bank.deposit_credential(wang.id, signed)
    later = trust.token(uni, wang, valid_from=clock.now)
    assert refused(lambda: bank.deposit_credential(wang.id, later)) == "KEY_NOT_VALID"


def test_revoke_institution_key_over_http(world: ApiWorld) -> None:
    gql, admin, officer = world.gql, world.admin, world.officer
    issuer = register_institution(gql, admin, "Leaky University", "UNIVERSITY")
    learner = world.learner()
    genuine = world.deposit(learner, issuer)
    compromised_at = datetime.now(UTC)
    forged = world.deposit(learner, issuer, valid_from=compromised_at - timedelta(days=60))

    payload = gql.mutate(
        "revokeInstitutionKey",
        {
            "institutionId": issuer.id,
            "kid": issuer.keys.kid,
            "compromisedAt": compromised_at.isoformat(),
            "reason": "key leaked",
        },
        admin,
        "institution { keys { kid revokedAt compromisedAt revocationReason } } underReview",
    )
    assert payload["errors"] == [], payload
    (key,) = payload["institution"]["keys"]
    assert key["revokedAt"]
    assert key["compromisedAt"]
    assert key["revocationReason"] == "key leaked"
    assert payload["underReview"] == [forged["id"]]

    # Nothing verifies or deposits with it any more, however it is dated.
    backdated = world.credential(learner, issuer, valid_from=compromised_at - timedelta(days=90))
    refusal = gql.mutate(
        "depositCredential",
        {"learnerId": learner.id, "credential": backdated},
        world.institution_token(issuer),
    )
    assert [e["code"] for e in refusal["errors"]] == ["KEY_NOT_VALID"]
    verified = gql(
        "query($c: String!) { verifyCredential(credential: $c) { valid errors { code } } }",
        {"c": backdated},
    ).ok()
    assert verified["verifyCredential"] == {"valid": False, "errors": [{"code": "KEY_NOT_VALID"}]}

    outcome = "outcome { id underReview }"
    shown = gql(
        "query($id: ID!) { node(id: $id) { ... on Outcome { id underReview } } }",
        {"id": forged["id"]},
        token=officer,
    ).ok()
    assert "compromised" in shown["node"]["underReview"]
    # Only an officer clears it; the learner cannot.
    args = {"learnerId": learner.id, "outcomeId": forged["id"], "reason": "checked"}
    denied = gql.mutate_raw("clearOutcomeReview", args, learner.token, outcome)
    assert denied.code == "FORBIDDEN"
    cleared = gql.mutate("clearOutcomeReview", args, officer, outcome)
    assert cleared == {"errors": [], "outcome": {"id": forged["id"], "underReview": None}}
    untouched = gql.mutate(
        "clearOutcomeReview", {**args, "outcomeId": genuine["id"]}, officer, outcome
    )
    assert [e["code"] for e in untouched["errors"]] == ["INVALID_INPUT"]
    # Looking again (after a replay of parked events, say) finds nothing new.
    again = gql.mutate(
        "reviewCompromisedKey",
        {"institutionId": issuer.id, "kid": issuer.keys.kid},
        admin,
        "underReview",
    )
    assert again == {"errors": [], "underReview": []}
