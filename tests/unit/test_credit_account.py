"""CreditAccount: deposits, recognitions, conversions, redemptions, revocations, balance."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.conversion import part_id
from domain.credit_account import CreditAccount
from domain.errors import (
    AlreadyRevoked,
    DuplicateCredential,
    IdentityNotVerified,
    InvalidInput,
    NotFound,
    RequirementsNotMet,
    RuleNotApplicable,
)
from domain.qualification import CategoryMinimum, LevelMinimum, Requirements
from domain.records import Balance
from domain.values import OutcomeKind, OutcomeStatus
from tests.unit.support import (
    MAX_LEVEL,
    NOW,
    TODAY,
    D,
    conversion_rule,
    credential,
    deposit,
    names,
    new_account,
    recognition_rule,
    recognized,
    refused,
    replay,
)


def fresh(account: CreditAccount) -> CreditAccount:
    account.collect_events()
    return account


def officer_recognize(account: CreditAccount, outcome_id: UUID, **kwargs: Any) -> None:
    args: dict[str, Any] = {
        "credits": None,
        "level": None,
        "category": "major",
        "officer": "officer-1",
        "max_level": MAX_LEVEL,
        "identity_verified": True,
        "on": TODAY,
    }
    args.update(kwargs)
    account.recognize_by_officer(outcome_id, **args)


def requirements(total: str, **kwargs: Any) -> Requirements:
    return Requirements(total_credits=D(total), **kwargs).checked(MAX_LEVEL)


def redeem(account: CreditAccount, req: Requirements, qualification_id: UUID | None = None) -> Any:
    return account.redeem(qualification_id or uuid4(), 1, req, uuid4(), NOW)


# -- open -----------------------------------------------------------------------------------------
def test_open_derives_the_id_from_the_learner() -> None:
    learner_id = uuid4()
    account = CreditAccount(learner_id=learner_id)
    assert account.id == CreditAccount.create_id(learner_id)
    assert CreditAccount(learner_id=learner_id).id == account.id
    assert account.learner_id == learner_id
    assert names(account.collect_events()) == ["Opened"]
    assert account.balance() == Balance(
        total=D(0), available=D(0), redeemed=D(0), by_level={}, by_kind={}, by_category={}
    )


# -- deposit --------------------------------------------------------------------------------------
def test_deposit_records_the_verified_credential() -> None:
    account = fresh(new_account())
    issuer, oid = uuid4(), uuid4()
    outcome = account.deposit(
        credential(
            issuer_id=issuer,
            credential_id=" urn:cred:1 ",
            title="  Data Structures ",
            credits="4",
            hours="120",
            level=6,
            standard_code=" CS-201 ",
            result=" A ",
            completed_on=TODAY,  # completed today is not in the future
        ),
        oid,
        NOW,
        MAX_LEVEL,
        actor="inst:fudan",
    )
    assert outcome is account.outcome(oid)
    assert outcome.status is OutcomeStatus.DEPOSITED
    assert (outcome.issuer_id, outcome.credential_id) == (issuer, "urn:cred:1")
    assert (outcome.title, outcome.standard_code, outcome.result) == (
        "Data Structures",
        "CS-201",
        "A",
    )
    assert outcome.credits_claimed == D("4.00")
    assert outcome.hours == D("120.00")
    assert outcome.deposited_at == NOW
    assert outcome.recognized_credits is None
    events = account.collect_events()
    assert names(events) == ["OutcomeDeposited"]
    assert events[0].outcome_id == oid
    assert events[0].credits == D("4.00")
    assert events[0].actor == "inst:fudan"
    assert events[0].key_id == "k1"
    # Deposited is not yet recognised: nothing in the balance.
    assert account.balance().total == 0


def test_deposit_same_credential_twice_is_refused() -> None:
    account = new_account()
    issuer = uuid4()
    deposit(account, issuer_id=issuer, credential_id="urn:cred:1")
    fresh(account)
    with refused(account, DuplicateCredential, "DUPLICATE_CREDENTIAL"):
        deposit(account, issuer_id=issuer, credential_id="urn:cred:1")
    with refused(account, DuplicateCredential, "DUPLICATE_CREDENTIAL"):
        deposit(account, issuer_id=issuer, credential_id="  urn:cred:1\t")
    # The same credential id from another issuer is another credential.
    deposit(account, issuer_id=uuid4(), credential_id="urn:cred:1")
    assert len(account.outcomes) == 2


def test_deposit_refuses_a_revoked_credential_again() -> None:
    account = new_account()
    issuer = uuid4()
    oid = deposit(account, issuer_id=issuer, credential_id="urn:cred:1")
    account.revoke(oid, "forged", "officer-1")
    fresh(account)
    with refused(account, DuplicateCredential, "DUPLICATE_CREDENTIAL"):
        deposit(account, issuer_id=issuer, credential_id="urn:cred:1")


def test_deposit_refuses_a_reused_outcome_id() -> None:
    account = new_account()
    oid = deposit(account)
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        account.deposit(credential(), oid, NOW, MAX_LEVEL)
    assert info.value.field == ("outcomeId",)


def test_deposit_refuses_a_future_completion_date() -> None:
    account = fresh(new_account())
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        deposit(account, completed_on=TODAY + timedelta(days=1))
    assert info.value.field == ("completedOn",)


@pytest.mark.parametrize("level", [0, -1, MAX_LEVEL + 1])
def test_deposit_refuses_a_level_off_the_framework(level: int) -> None:
    account = fresh(new_account())
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        deposit(account, level=level)
    assert info.value.field == ("level",)


def test_deposit_without_level() -> None:
    account = new_account()
    oid = deposit(account, level=None)
    assert account.outcome(oid).level is None


@pytest.mark.parametrize(
    ("given", "expected"), [("2.5", "2.50"), (2.5, "2.50"), (3, "3.00"), (D("0.5"), "0.50")]
)
def test_deposit_parses_credits(given: object, expected: str) -> None:
    account = new_account()
    oid = deposit(account, credits=given)
    assert account.outcome(oid).credits_claimed == D(expected)


@pytest.mark.parametrize(
    "given", ["0", "-1", "1.005", "NaN", "Infinity", "1000.01", float("nan"), "three"]
)
def test_deposit_refuses_bad_credits(given: object) -> None:
    account = fresh(new_account())
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        deposit(account, credits=given)
    assert info.value.field == ("credits",)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": ""}, ("title",)),
        ({"title": "t" * 301}, ("title",)),
        ({"credential_id": "  "}, ("credentialId",)),
        ({"evidence_digest": ""}, ("evidenceDigest",)),
        ({"standard_code": ""}, ("standardCode",)),
        ({"hours": "0"}, ("hours",)),
        ({"hours": "-3"}, ("hours",)),
        ({"result": "A\nB"}, ("result",)),
    ],
)
def test_deposit_refuses_bad_fields(kwargs: dict[str, Any], field: tuple[str]) -> None:
    account = fresh(new_account())
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        deposit(account, **kwargs)
    assert info.value.field == field


def test_deposit_refuses_a_naive_timestamp() -> None:
    account = fresh(new_account())
    with refused(account, InvalidInput, "INVALID_INPUT"):
        deposit(account, at=NOW.replace(tzinfo=None))


# -- recognition by rule --------------------------------------------------------------------------
def test_recognize_by_rule_with_the_rule_credits() -> None:
    account = new_account()
    issuer = uuid4()
    oid = deposit(account, issuer_id=issuer, credits="4", level=5)
    rule = recognition_rule(institution_id=issuer, credits=D("3"), level=6, category="general")
    rule.amend(replace(rule.terms, credits=D("3.5")), MAX_LEVEL)
    fresh(account)
    account.recognize_by_rule(oid, rule.current(), TODAY, identity_verified=True)
    outcome = account.outcome(oid)
    assert outcome.status is OutcomeStatus.RECOGNIZED
    assert (outcome.recognized_credits, outcome.recognized_level, outcome.category) == (
        D("3.50"),
        6,
        "general",
    )
    assert (outcome.rule_id, outcome.rule_version, outcome.recognized_by) == (rule.id, 2, "rule")
    events = account.collect_events()
    assert names(events) == ["OutcomeRecognized"]
    assert (events[0].rule_id, events[0].rule_version) == (rule.id, 2)
    assert account.balance().total == D("3.50")


def test_recognize_by_rule_keeps_the_stated_credits_when_the_rule_has_none() -> None:
    account = new_account()
    oid = deposit(account, credits="4.5")
    account.recognize_by_rule(oid, recognition_rule().current(), TODAY, identity_verified=True)
    assert account.outcome(oid).recognized_credits == D("4.50")


@pytest.mark.parametrize(
    "criteria",
    [
        {"institution_id": uuid4()},
        {"kind": OutcomeKind.MOOC},
        {"standard_code": "CS-999"},
    ],
)
def test_recognize_by_rule_refuses_when_criteria_do_not_match(criteria: dict[str, Any]) -> None:
    account = new_account()
    oid = deposit(account, kind=OutcomeKind.ACADEMIC_COURSE, standard_code="CS-101")
    rule = recognition_rule(**criteria)
    fresh(account)
    with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE") as info:
        account.recognize_by_rule(oid, rule.current(), TODAY, identity_verified=True)
    assert "does not apply" in info.value.message


def test_recognize_by_rule_only_within_the_validity_window() -> None:
    """The window is about when the learning was completed, whenever it is decided."""
    start, end = date(2020, 1, 1), date(2025, 12, 31)
    rule = recognition_rule(valid_from=start, valid_until=end).current()
    account = new_account()
    before, first, last, after = (
        deposit(account, completed_on=day)
        for day in (start - timedelta(days=1), start, end, end + timedelta(days=1))
    )
    fresh(account)
    decided = date(2026, 6, 1)  # after the agreement ended: what it covered is still its own
    with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        account.recognize_by_rule(before, rule, decided, identity_verified=True)
    with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        account.recognize_by_rule(after, rule, decided, identity_verified=True)
    account.recognize_by_rule(first, rule, decided, identity_verified=True)
    account.recognize_by_rule(last, rule, decided, identity_verified=True)
    assert names(account.collect_events()) == ["OutcomeRecognized", "OutcomeRecognized"]


def test_recognize_by_rule_needs_a_verified_identity() -> None:
    account = new_account()
    oid = deposit(account)
    fresh(account)
    with refused(account, IdentityNotVerified, "IDENTITY_NOT_VERIFIED"):
        account.recognize_by_rule(oid, recognition_rule().current(), TODAY, False)


def test_recognize_twice_is_refused() -> None:
    account = new_account()
    oid = deposit(account)
    rule = recognition_rule().current()
    account.recognize_by_rule(oid, rule, TODAY, identity_verified=True)
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        account.recognize_by_rule(oid, rule, TODAY, identity_verified=True)
    assert "RECOGNIZED" in info.value.message
    with refused(account, InvalidInput, "INVALID_INPUT"):
        officer_recognize(account, oid)


def test_recognize_unknown_outcome() -> None:
    account = fresh(new_account())
    with refused(account, NotFound, "NOT_FOUND") as info:
        account.recognize_by_rule(uuid4(), recognition_rule().current(), TODAY, True)
    assert info.value.field == ("outcomeId",)


def test_recognize_a_revoked_outcome_is_refused() -> None:
    account = new_account()
    oid = deposit(account)
    account.revoke(oid, "forged", "officer-1")
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT"):
        account.recognize_by_rule(oid, recognition_rule().current(), TODAY, True)


# -- recognition by an officer --------------------------------------------------------------------
def test_recognize_by_officer_defaults_to_the_credential() -> None:
    account = new_account()
    oid = deposit(account, credits="2.5", level=4)
    fresh(account)
    officer_recognize(account, oid, category=" elective ")
    outcome = account.outcome(oid)
    assert (outcome.recognized_credits, outcome.recognized_level, outcome.category) == (
        D("2.50"),
        4,
        "elective",
    )
    assert (outcome.rule_id, outcome.rule_version, outcome.recognized_by) == (
        None,
        None,
        "officer-1",
    )
    assert names(account.collect_events()) == ["OutcomeRecognized"]


def test_recognize_by_officer_with_stated_terms() -> None:
    account = new_account()
    oid = deposit(account, credits="2.5", level=4)
    officer_recognize(account, oid, credits="2", level=4)
    outcome = account.outcome(oid)
    assert (outcome.recognized_credits, outcome.recognized_level) == (D("2.00"), 4)
    assert (outcome.justification, outcome.approved_by) == (None, None)


@pytest.mark.parametrize(
    ("deposited_level", "kwargs", "field"),
    [
        (None, {}, ("level",)),  # no level anywhere
        (4, {"level": 0}, ("level",)),
        (4, {"level": MAX_LEVEL + 1}, ("level",)),
        (4, {"credits": "0"}, ("credits",)),
        (4, {"credits": "1.234"}, ("credits",)),
        (4, {"category": ""}, ("category",)),
    ],
)
def test_recognize_by_officer_refuses_bad_terms(
    deposited_level: int | None, kwargs: dict[str, Any], field: tuple[str]
) -> None:
    account = new_account()
    oid = deposit(account, level=deposited_level)
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        officer_recognize(account, oid, **kwargs)
    assert info.value.field == field


def test_recognize_by_officer_needs_a_verified_identity() -> None:
    account = new_account()
    oid = deposit(account)
    fresh(account)
    with refused(account, IdentityNotVerified, "IDENTITY_NOT_VERIFIED"):
        officer_recognize(account, oid, identity_verified=False)


# -- rejection ------------------------------------------------------------------------------------
def test_reject_then_recognise() -> None:
    account = new_account()
    oid = deposit(account)
    fresh(account)
    account.reject(oid, " no evidence of assessment ", "officer-2")
    outcome = account.outcome(oid)
    assert outcome.status is OutcomeStatus.REJECTED
    assert outcome.rejection_reason == "no evidence of assessment"
    assert account.balance().total == 0
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        account.reject(oid, "again", "officer-2")
    assert "REJECTED" in info.value.message
    # An appeal: recognition after rejection clears the rejection.
    account.recognize_by_rule(oid, recognition_rule().current(), TODAY, True)
    assert outcome.status is OutcomeStatus.RECOGNIZED
    assert outcome.rejection_reason is None
    events = account.collect_events()
    assert names(events) == ["RecognitionRejected", "OutcomeRecognized"]
    assert events[0].actor == "officer-2"


def test_reject_refusals() -> None:
    account = new_account()
    oid = recognized(account)
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT"):
        account.reject(oid, "late", "officer-2")
    other = deposit(account)
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        account.reject(other, "  ", "officer-2")
    assert info.value.field == ("reason",)
    with refused(account, NotFound, "NOT_FOUND"):
        account.reject(uuid4(), "late", "officer-2")


# -- conversion -----------------------------------------------------------------------------------
def test_convert_moves_sources_into_the_conversion() -> None:
    account = new_account()
    issuer, target = uuid4(), uuid4()
    a = recognized(
        account,
        issuer_id=issuer,
        credits="3",
        level=6,
        category="major",
        standard_code="CS-101",
        completed_on=date(2025, 6, 1),
    )
    b = recognized(
        account,
        issuer_id=issuer,
        credits="4.5",
        level=5,
        category="major",
        kind=OutcomeKind.MOOC,
        completed_on=date(2025, 12, 1),
    )
    keep = recognized(account, credits="2", category="general")
    rule = conversion_rule(
        target_institution_id=target, target_code="SE-200", target_category="core", ratio="0.8"
    )
    fresh(account)
    cid = uuid4()
    conversion = account.convert([a, b], rule.current(), cid, NOW, actor="officer-1")
    assert conversion is account.conversions[str(cid)]
    assert conversion.source_credits == D("7.50")
    assert conversion.credits == D("6.00")  # 7.5 x 0.8
    assert (conversion.rule_id, conversion.rule_version, conversion.ratio) == (
        rule.id,
        1,
        D("0.80"),
    )
    assert conversion.source_ids == (a, b)
    assert (conversion.target_institution_id, conversion.target_code) == (target, "SE-200")
    assert conversion.category == "core"
    assert conversion.level == 5  # the lowest source level: never overstated
    assert conversion.kind is OutcomeKind.MOOC  # the kind of the largest source
    assert conversion.completed_on == date(2025, 12, 1)
    assert conversion.standard_codes == ("CS-101", "SE-200")
    assert conversion.active
    for source in (a, b):
        assert account.outcome(source).status is OutcomeStatus.CONVERTED
        assert account.outcome(source).conversion_id == cid
    assert account.outcome(keep).status is OutcomeStatus.RECOGNIZED
    events = account.collect_events()
    assert names(events) == ["CreditsConverted"]
    assert (events[0].credits, events[0].ratio, events[0].actor) == (
        D("6.00"),
        D("0.80"),
        "officer-1",
    )
    balance = account.balance()
    assert balance.total == D("8.00")  # 6 converted + 2 kept; the 7.5 source credits left
    assert balance.by_category == {"core": D("6.00"), "general": D("2.00")}
    # Each part keeps its source's level: 6 x 3/7.5 at level 6, 6 x 4.5/7.5 at level 5.
    assert balance.by_level == {5: D("3.60"), 6: D("4.40")}


@pytest.mark.parametrize(
    ("source", "ratio", "expected"),
    [
        ("3.33", "0.5", "1.66"),  # 1.665 rounded down
        ("1", "0.33", "0.33"),
        ("2.99", "1.5", "4.48"),  # 4.485 rounded down
        ("7", "10", "70.00"),
        ("0.03", "0.33", "0.00"),  # nothing: refused below
    ],
)
def test_convert_applies_the_ratio_rounding_down(source: str, ratio: str, expected: str) -> None:
    account = new_account()
    oid = recognized(account, credits=source)
    rule = conversion_rule(ratio=ratio).current()
    fresh(account)
    if D(expected) == 0:
        with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
            account.convert([oid], rule, uuid4(), NOW)
        return
    conversion = account.convert([oid], rule, uuid4(), NOW)
    assert conversion.credits == D(expected)
    assert conversion.credits <= conversion.source_credits * conversion.ratio


def test_convert_caps_per_learner_across_conversions() -> None:
    account = new_account()
    a, b, c, d = (recognized(account, credits="3") for _ in range(4))
    rule = conversion_rule(ratio="1", cap="7.5").current()
    fresh(account)
    first = account.convert([a], rule, uuid4(), NOW)
    second = account.convert([b], rule, uuid4(), NOW)
    third = account.convert([c], rule, uuid4(), NOW)  # only 1.5 left under the cap
    assert [x.credits for x in (first, second, third)] == [D("3.00"), D("3.00"), D("1.50")]
    assert account.converted_under(rule.rule_id) == D("7.50")
    fresh(account)
    with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE") as info:
        account.convert([d], rule, uuid4(), NOW)  # the cap is exhausted
    assert "cap 7.50" in info.value.message
    # Another rule has its own cap.
    other = account.convert([d], conversion_rule(cap="1").current(), uuid4(), NOW)
    assert other.credits == D("1.00")


def test_revoking_a_source_frees_the_cap() -> None:
    account = new_account()
    a, b = recognized(account, credits="3"), recognized(account, credits="3")
    rule = conversion_rule(cap="3").current()
    account.convert([a], rule, uuid4(), NOW)
    fresh(account)
    with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        account.convert([b], rule, uuid4(), NOW)
    account.revoke(a, "forged", "officer-1")
    assert account.converted_under(rule.rule_id) == 0
    assert account.convert([b], rule, uuid4(), NOW).credits == D("3.00")


@pytest.mark.parametrize(
    ("outcome_ids", "fragment"),
    [([], "at least one"), (["a", "a"], "listed twice")],
)
def test_convert_refuses_an_empty_or_repeated_list(outcome_ids: list[str], fragment: str) -> None:
    account = new_account()
    oid = recognized(account)
    fresh(account)
    ids = [oid for _ in outcome_ids]
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        account.convert(ids, conversion_rule().current(), uuid4(), NOW)
    assert fragment in info.value.message
    assert info.value.field == ("outcomeIds",)


def test_convert_refuses_outcomes_that_are_not_recognised() -> None:
    account = new_account()
    deposited = deposit(account)
    rejected = deposit(account)
    account.reject(rejected, "no", "officer-1")
    converted = recognized(account)
    account.convert([converted], conversion_rule().current(), uuid4(), NOW)
    redeemed = recognized(account, credits="1", category="x")
    redeem(
        account,
        requirements("1", minimum_by_category=(CategoryMinimum(category="x", credits=D(1)),)),
    )
    assert account.outcome(redeemed).status is OutcomeStatus.REDEEMED
    revoked = recognized(account)
    account.revoke(revoked, "forged", "officer-1")
    ok = recognized(account)
    rule = conversion_rule().current()
    fresh(account)
    for oid in (deposited, rejected, converted, redeemed, revoked):
        status = account.outcome(oid).status.value
        with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE") as info:
            account.convert([ok, oid], rule, uuid4(), NOW)
        assert status in info.value.message
    with refused(account, NotFound, "NOT_FOUND"):
        account.convert([ok, uuid4()], rule, uuid4(), NOW)


def test_convert_refuses_when_criteria_do_not_match() -> None:
    account = new_account()
    fudan = uuid4()
    a = recognized(account, issuer_id=fudan)
    b = recognized(account, issuer_id=uuid4())
    rule = conversion_rule(institution_id=fudan).current()
    fresh(account)
    with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE") as info:
        account.convert([a, b], rule, uuid4(), NOW)
    assert str(b) in info.value.message
    account.convert([a], rule, uuid4(), NOW)


def test_convert_only_within_the_rule_window() -> None:
    start, end = date(2026, 1, 1), date(2026, 6, 30)
    rule = conversion_rule(valid_from=start, valid_until=end).current()
    account = new_account()
    ids = [recognized(account, completed_on=date(2025, 1, 1)) for _ in range(4)]
    at = datetime.combine(start, NOW.timetz())
    fresh(account)
    with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        account.convert([ids[0]], rule, uuid4(), at - timedelta(days=1))
    with refused(account, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        account.convert([ids[0]], rule, uuid4(), at.replace(month=7, day=1))
    account.convert([ids[0]], rule, uuid4(), at)  # first day
    account.convert([ids[1]], rule, uuid4(), at.replace(month=6, day=30, hour=23))  # last day


def test_convert_refuses_a_reused_id() -> None:
    account = new_account()
    a, b = recognized(account), recognized(account)
    rule = conversion_rule().current()
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        account.convert([b], rule, a, NOW)  # an outcome's id
    assert info.value.field == ("conversionId",)
    cid = uuid4()
    account.convert([a], rule, cid, NOW)
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT"):
        account.convert([b], rule, cid, NOW)


# -- redemption -----------------------------------------------------------------------------------
def test_redeem_when_requirements_are_met() -> None:
    account = new_account()
    a = recognized(account, credits="4", category="major", completed_on=date(2025, 1, 1))
    b = recognized(account, credits="3", category="general", completed_on=date(2025, 2, 1))
    spare = recognized(account, credits="5", category="elective", completed_on=date(2025, 3, 1))
    req = requirements("7", minimum_by_category=(CategoryMinimum(category="major", credits=D(4)),))
    qid, rid = uuid4(), uuid4()
    fresh(account)
    redemption = account.redeem(qid, 3, req, rid, NOW, actor="learner")
    assert redemption is account.redemptions[str(rid)]
    assert (redemption.qualification_id, redemption.qualification_version) == (qid, 3)
    assert redemption.allocations == {str(a): D("4.00"), str(b): D("3.00")}
    assert redemption.credits_counted == D("7.00")
    assert redemption.flags == []
    assert account.outcome(a).status is OutcomeStatus.REDEEMED
    assert account.outcome(b).redemption_id == rid
    assert account.outcome(spare).status is OutcomeStatus.RECOGNIZED
    events = account.collect_events()
    assert names(events) == ["CreditsRedeemed"]
    assert events[0].allocations == {str(a): D("4.00"), str(b): D("3.00")}
    balance = account.balance()
    assert (balance.total, balance.available, balance.redeemed) == (D(12), D(5), D(7))


def test_redeem_refuses_unmet_requirements_with_precise_messages() -> None:
    account = new_account()
    recognized(account, credits="4", category="major", level=5, standard_code="CS-101")
    recognized(account, credits="2", category="general", level=6)
    req = requirements(
        "10",
        minimum_by_category=(
            CategoryMinimum(category="major", credits=D(5)),
            CategoryMinimum(category="general", credits=D(2)),
        ),
        minimum_at_level=(LevelMinimum(level=6, credits=D(3)),),
        required_standards=("CS-101", "CS-102"),
    )
    fresh(account)
    with refused(account, RequirementsNotMet, "REQUIREMENTS_NOT_MET") as info:
        redeem(account, req)
    assert info.value.unmet == [
        "total: 6.00 of 10.00 credits counted (4.00 missing)",
        "category major: 4.00 of 5.00 credits (1.00 missing)",
        "level 6 or above: 2.00 of 3.00 credits (1.00 missing)",
        "required standard CS-102: not held",
    ]
    assert info.value.message.startswith("requirements not met: total: 6.00 of 10.00")
    assert account.redemptions == {}


def test_redeem_same_qualification_twice_is_refused() -> None:
    account = new_account()
    for _ in range(4):
        recognized(account, credits="3")
    qid = uuid4()
    redeem(account, requirements("6"), qid)
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        redeem(account, requirements("6"), qid)
    assert info.value.field == ("qualificationId",)


def test_spent_holdings_are_not_reused() -> None:
    account = new_account()
    a, b = recognized(account, credits="3"), recognized(account, credits="3")
    redeem(account, requirements("6"))
    fresh(account)
    with refused(account, RequirementsNotMet, "REQUIREMENTS_NOT_MET") as info:
        redeem(account, requirements("3"))
    assert info.value.unmet == ["total: 0.00 of 3.00 credits counted (3.00 missing)"]
    assert account.assess(requirements("3")).allocations == {}
    c = recognized(account, credits="3")
    redemption = redeem(account, requirements("3"))
    assert set(redemption.allocations) == {str(c)}
    assert {a, b}.isdisjoint(UUID(k) for k in redemption.allocations)


def test_redeem_a_conversion() -> None:
    account = new_account()
    a, b = recognized(account, credits="3"), recognized(account, credits="3")
    cid = uuid4()
    account.convert(
        [a, b], conversion_rule(ratio="0.5", target_category="core").current(), cid, NOW
    )
    req = requirements("3", minimum_by_category=(CategoryMinimum(category="core", credits=D(3)),))
    redemption = redeem(account, req)
    assert redemption.allocations == {
        str(part_id(cid, a)): D("1.50"),
        str(part_id(cid, b)): D("1.50"),
    }
    assert account.conversions[str(cid)].redemption_id == redemption.id
    assert account.outcome(a).status is OutcomeStatus.CONVERTED  # the sources stay converted
    assert account.balance().redeemed == D("3.00")


def test_redeem_refuses_a_reused_id() -> None:
    account = new_account()
    a = recognized(account, credits="3")
    fresh(account)
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        account.redeem(uuid4(), 1, requirements("3"), a, NOW)
    assert info.value.field == ("redemptionId",)


# -- revocation -----------------------------------------------------------------------------------
def test_revoke_removes_the_outcome_from_the_balance() -> None:
    account = new_account()
    a, b = recognized(account, credits="3"), recognized(account, credits="2")
    fresh(account)
    assert account.revoke(a, " issuer withdrew it ", "inst:fudan") == ()
    assert account.outcome(a).status is OutcomeStatus.REVOKED
    assert account.outcome(a).revoked_reason == "issuer withdrew it"
    assert account.balance().total == D("2.00")
    events = account.collect_events()
    assert names(events) == ["OutcomeRevoked"]
    assert (events[0].cancelled_conversions, events[0].flagged_redemptions) == ((), ())
    assert events[0].actor == "inst:fudan"
    assert account.outcome(b).status is OutcomeStatus.RECOGNIZED


def test_revoke_twice_is_refused() -> None:
    account = new_account()
    a = deposit(account)
    account.revoke(a, "forged", "officer-1")
    fresh(account)
    with refused(account, AlreadyRevoked, "ALREADY_REVOKED") as info:
        account.revoke(a, "forged", "officer-1")
    assert info.value.field == ("outcomeId",)


def test_revoke_refusals() -> None:
    account = new_account()
    a = deposit(account)
    fresh(account)
    with refused(account, NotFound, "NOT_FOUND"):
        account.revoke(uuid4(), "forged", "officer-1")
    with refused(account, InvalidInput, "INVALID_INPUT") as info:
        account.revoke(a, "", "officer-1")
    assert info.value.field == ("reason",)


def test_revoke_cascades_to_conversions_and_returns_the_other_sources() -> None:
    account = new_account()
    a, b, c = (recognized(account, credits="3") for _ in range(3))
    rule = conversion_rule(ratio="1").current()
    ab, solo = uuid4(), uuid4()
    account.convert([a, b], rule, ab, NOW)
    account.convert([c], rule, solo, NOW)
    assert account.balance().total == D("9.00")
    fresh(account)
    assert account.revoke(a, "forged", "officer-1") == ()
    events = account.collect_events()
    assert events[0].cancelled_conversions == (ab,)
    assert account.conversions[str(ab)].cancelled_because == a
    assert not account.conversions[str(ab)].active
    assert account.conversions[str(solo)].active
    assert account.outcome(a).status is OutcomeStatus.REVOKED
    assert account.outcome(b).status is OutcomeStatus.RECOGNIZED
    assert account.outcome(b).conversion_id is None
    assert account.outcome(c).status is OutcomeStatus.CONVERTED
    # b is back as recognised credits; the 6 converted credits fell away.
    assert account.balance().total == D("6.00")
    assert {h.id for h in account.holdings()} == {b, part_id(solo, c)}
    # b can be converted again; revoking b later cancels nothing more.
    again = account.convert([b], rule, uuid4(), NOW)
    account.revoke(c, "forged", "officer-1")
    assert not account.conversions[str(solo)].active
    assert account.conversions[str(again.id)].active


def test_revoking_a_source_of_a_cancelled_conversion_cancels_only_its_active_one() -> None:
    account = new_account()
    a, b, c = (recognized(account, credits="3") for _ in range(3))
    rule = conversion_rule(ratio="1").current()
    first, second = uuid4(), uuid4()
    account.convert([a, b], rule, first, NOW)
    account.revoke(a, "forged", "officer-1")  # cancels first; b is back
    account.convert([b, c], rule, second, NOW)
    fresh(account)
    account.revoke(b, "forged", "officer-1")
    events = account.collect_events()
    assert events[0].cancelled_conversions == (second,)  # not the already cancelled first
    assert account.conversions[str(first)].cancelled_because == a
    assert account.conversions[str(second)].cancelled_because == b
    assert account.outcome(c).status is OutcomeStatus.RECOGNIZED
    assert account.balance().total == D("3.00")


def test_revoke_flags_redemptions_that_relied_on_the_outcome() -> None:
    account = new_account()
    a, b = recognized(account, credits="3"), recognized(account, credits="3")
    other = recognized(account, credits="3", category="other")
    r1 = redeem(
        account,
        requirements("6", minimum_by_category=(CategoryMinimum(category="major", credits=D(6)),)),
    )
    r2 = redeem(
        account,
        requirements("3", minimum_by_category=(CategoryMinimum(category="other", credits=D(3)),)),
    )
    assert set(r1.allocations) == {str(a), str(b)}
    assert set(r2.allocations) == {str(other)}
    fresh(account)
    assert account.revoke(a, "forged", "officer-1") == (r1.id,)
    assert r1.flags == [f"outcome {a} revoked: forged"]
    assert r2.flags == []
    events = account.collect_events()
    assert events[0].flagged_redemptions == (r1.id,)
    balance = account.balance()
    assert (balance.total, balance.redeemed, balance.available) == (D(6), D(6), D(0))


def test_revoke_flags_redemptions_that_relied_on_a_cancelled_conversion() -> None:
    account = new_account()
    a, b = recognized(account, credits="3"), recognized(account, credits="3")
    cid = uuid4()
    account.convert([a, b], conversion_rule(target_category="core").current(), cid, NOW)
    redemption = redeem(
        account,
        requirements("6", minimum_by_category=(CategoryMinimum(category="core", credits=D(6)),)),
    )
    assert set(redemption.allocations) == {str(part_id(cid, a)), str(part_id(cid, b))}
    fresh(account)
    assert account.revoke(b, "forged", "officer-1") == (redemption.id,)
    events = account.collect_events()
    assert events[0].cancelled_conversions == (cid,)
    assert events[0].flagged_redemptions == (redemption.id,)
    assert redemption.flags == [f"outcome {b} revoked: forged"]
    # The other source stays spent by the flagged redemption until it is reviewed: it must not
    # be redeemable a second time meanwhile.
    assert account.outcome(a).status is OutcomeStatus.REDEEMED
    assert account.outcome(a).redemption_id == redemption.id
    balance = account.balance()
    assert (balance.total, balance.redeemed, balance.available) == (D(3), D(3), D(0))


# -- balance and status ---------------------------------------------------------------------------
def test_balance_by_level_kind_and_category() -> None:
    account = new_account()
    recognized(account, credits="3", level=6, category="major")
    recognized(account, credits="2", level=5, category="general", kind=OutcomeKind.MOOC)
    recognized(
        account, credits="1.5", level=5, category="major", kind=OutcomeKind.ENTERPRISE_TRAINING
    )
    deposit(account, credits="9")  # deposited only: not counted
    rejected = deposit(account, credits="9")
    account.reject(rejected, "no", "officer-1")
    balance = account.balance()
    assert balance.total == D("6.50")
    assert balance.available == D("6.50")
    assert balance.redeemed == 0
    assert balance.by_level == {6: D("3.00"), 5: D("3.50")}
    assert balance.by_kind == {
        OutcomeKind.ACADEMIC_COURSE: D("3.00"),
        OutcomeKind.MOOC: D("2.00"),
        OutcomeKind.ENTERPRISE_TRAINING: D("1.50"),
    }
    assert balance.by_category == {"major": D("4.50"), "general": D("2.00")}
    redeem(
        account,
        requirements("2", minimum_by_category=(CategoryMinimum(category="general", credits=D(2)),)),
    )
    balance = account.balance()
    assert (balance.total, balance.available, balance.redeemed) == (D("6.5"), D("4.5"), D(2))
    assert balance.total == balance.available + balance.redeemed


def test_outcome_status_transitions() -> None:
    account = new_account()
    oid = deposit(account)
    outcome = account.outcome(oid)
    seen = [outcome.status]
    account.reject(oid, "incomplete", "officer-1")
    seen.append(outcome.status)
    officer_recognize(account, oid)
    seen.append(outcome.status)
    cid = uuid4()
    account.convert([oid], conversion_rule(target_category="core").current(), cid, NOW)
    seen.append(outcome.status)
    redeem(account, requirements("3"))
    seen.append(outcome.status)  # its conversion is redeemed; the outcome stays converted
    account.revoke(oid, "forged", "officer-1")
    seen.append(outcome.status)
    assert seen == [
        OutcomeStatus.DEPOSITED,
        OutcomeStatus.REJECTED,
        OutcomeStatus.RECOGNIZED,
        OutcomeStatus.CONVERTED,
        OutcomeStatus.CONVERTED,
        OutcomeStatus.REVOKED,
    ]
    direct = recognized(account)
    redeem(account, requirements("3"))
    assert account.outcome(direct).status is OutcomeStatus.REDEEMED
    account.revoke(direct, "forged", "officer-1")
    assert account.outcome(direct).status is OutcomeStatus.REVOKED


def test_replay_rebuilds_the_same_account() -> None:
    account = new_account()
    a, b, c = (recognized(account, credits="3") for _ in range(3))
    deposit(account)
    account.convert([a, b], conversion_rule(ratio="0.5").current(), uuid4(), NOW)
    redeem(account, requirements("3"))
    account.revoke(a, "forged", "officer-1")
    events = account.collect_events()
    rebuilt = replay(events)
    assert isinstance(rebuilt, CreditAccount)
    assert rebuilt.id == account.id
    assert rebuilt.version == account.version == len(events)
    assert rebuilt.outcomes == account.outcomes
    assert rebuilt.conversions == account.conversions
    assert rebuilt.redemptions == account.redemptions
    assert rebuilt.balance() == account.balance()
    assert rebuilt.outcome(c) == account.outcome(c)


# -- conversion options ---------------------------------------------------------------------------
def test_conversion_options_say_what_a_conversion_would_close() -> None:
    account = new_account()
    recognized(account, credits="4", category="elective")
    account.collect_events()
    rule = conversion_rule(target_category="core").current()
    req = requirements("3", minimum_by_category=(CategoryMinimum(category="core", credits=D(3)),))
    [option] = account.conversion_options([rule], req, NOW.date())
    assert option.rule_id == rule.rule_id
    assert option.credits > 0
    assert option.unmet_before
    assert not option.unmet_after
    assert account.collect_events() == []  # options never change the account
    balance = account.balance()
    assert balance.by_category.get("core") is None


def test_conversion_options_leave_out_no_ops_and_put_what_closes_most_first() -> None:
    """Before: an option that changed nothing (countedChange 0.00) was listed first."""
    account = new_account()
    recognized(account, credits="4", category="major")
    same = conversion_rule(target_category="major").current()  # major -> major, 1:1: a no-op
    core = conversion_rule(target_category="core").current()  # closes the core minimum
    half = conversion_rule(target_category="core", ratio="0.5").current()  # progress only
    req = requirements("3", minimum_by_category=(CategoryMinimum(category="core", credits=D(3)),))
    options = account.conversion_options([same, half, core], req, NOW.date())
    # half would count 2 of the 4 credits and unmeet the total: a loss, never recommended.
    assert [o.rule_id for o in options] == [core.rule_id]
    assert options[0].closes == ("category core",)
    assert options[0].opens == ()
    assert all(not o.changes_nothing for o in options)


def test_conversion_options_skip_rules_out_of_window_or_without_sources() -> None:
    account = new_account()
    recognized(account, credits="4")
    out_of_window = conversion_rule(valid_until=NOW.date() - timedelta(days=1)).current()
    req = requirements("3")
    assert account.conversion_options([out_of_window], req, NOW.date()) == []
    empty = new_account()
    assert empty.conversion_options([conversion_rule().current()], req, NOW.date()) == []
