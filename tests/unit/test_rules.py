"""Recognition and conversion rules: versioned terms, validity windows, criteria."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.errors import InvalidInput, RuleNotApplicable
from domain.rules import (
    ConversionRule,
    OutcomeCriteria,
    RecognitionRule,
    RuleVersion,
)
from domain.values import OutcomeKind, RuleModel
from tests.unit.support import (
    MAX_LEVEL,
    TODAY,
    conversion_rule,
    names,
    recognition_rule,
    recognition_terms,
    refused,
    replay,
)

FROM, UNTIL = date(2025, 9, 1), date(2026, 8, 31)


# -- recognition rules ----------------------------------------------------------------------------
def test_create_recognition_rule_normalises_terms() -> None:
    rule = RecognitionRule.create(
        name=" Python MOOC ",
        model=RuleModel.FRAMEWORK,
        terms=recognition_terms(
            kind=OutcomeKind.MOOC,
            standard_code=" CS-101 ",
            credits=Decimal("2.5"),
            category=" elective ",
            level=5,
        ),
        max_level=MAX_LEVEL,
        today=TODAY,
    )
    assert rule.name == "Python MOOC"
    assert rule.rule_version == 1
    assert not rule.retired
    assert rule.terms.credits == Decimal("2.50")
    assert rule.terms.category == "elective"
    assert rule.terms.criteria.standard_code == "CS-101"
    assert names(rule.collect_events()) == ["Created"]
    current = rule.current()
    assert current == RuleVersion(
        rule_id=rule.id, version=1, name="Python MOOC", model=RuleModel.FRAMEWORK, terms=rule.terms
    )


def test_recognition_rule_may_keep_the_stated_credits() -> None:
    assert recognition_rule(credits=None).terms.credits is None


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (recognition_terms(level=0), ("level",)),
        (recognition_terms(level=MAX_LEVEL + 1), ("level",)),
        (recognition_terms(credits=Decimal("0")), ("credits",)),
        (recognition_terms(credits=Decimal("1.234")), ("credits",)),
        (recognition_terms(category=""), ("category",)),
        (recognition_terms(category="c" * 51), ("category",)),
        (recognition_terms(standard_code="  "), ("standardCode",)),
        (recognition_terms(valid_from=UNTIL, valid_until=FROM), ("validUntil",)),
    ],
)
def test_create_recognition_rule_refuses_bad_terms(terms: object, field: tuple[str]) -> None:
    with pytest.raises(InvalidInput) as info:
        RecognitionRule.create(
            name="r",
            model=RuleModel.FRAMEWORK,
            terms=terms,
            max_level=MAX_LEVEL,  # type: ignore[arg-type]
            today=TODAY,
        )
    assert info.value.code == "INVALID_INPUT"
    assert info.value.field == field


def test_create_recognition_rule_refuses_a_bad_name() -> None:
    with pytest.raises(InvalidInput) as info:
        RecognitionRule.create(
            name="",
            model=RuleModel.FRAMEWORK,
            terms=recognition_terms(),
            max_level=MAX_LEVEL,
            today=TODAY,
        )
    assert info.value.field == ("name",)


def test_amend_increments_the_version() -> None:
    rule = recognition_rule(credits=Decimal("3"))
    rule.collect_events()
    rule.amend(recognition_terms(credits=Decimal("4")), MAX_LEVEL)
    assert rule.rule_version == 2
    assert rule.terms.credits == Decimal("4.00")
    rule.amend(recognition_terms(credits=Decimal("4"), valid_from=FROM), MAX_LEVEL)
    assert rule.rule_version == 3
    assert rule.current().version == 3
    events = rule.collect_events()
    assert names(events) == ["Amended", "Amended"]
    assert events[0].terms.credits == Decimal("4.00")


def test_amend_with_identical_terms_is_refused() -> None:
    rule = recognition_rule(credits=Decimal("3"), category="major")
    rule.collect_events()
    with refused(rule, InvalidInput, "INVALID_INPUT") as info:
        # Equal once normalised: "3" == "3.00", " major " == "major".
        rule.amend(recognition_terms(credits=Decimal("3.00"), category=" major "), MAX_LEVEL)
    assert "changes nothing" in info.value.message


def test_amend_validates_terms() -> None:
    rule = recognition_rule()
    rule.collect_events()
    with refused(rule, InvalidInput, "INVALID_INPUT"):
        rule.amend(recognition_terms(level=99), MAX_LEVEL)


def test_retire_then_amend_retire_current_are_refused() -> None:
    rule = recognition_rule()
    rule.retire()
    assert rule.retired
    assert names(rule.collect_events()) == ["Created", "Retired"]
    with refused(rule, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        rule.amend(recognition_terms(level=4), MAX_LEVEL)
    with refused(rule, RuleNotApplicable, "RULE_NOT_APPLICABLE") as info:
        rule.retire()
    assert "already retired" in info.value.message
    with refused(rule, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        rule.current()


# -- conversion rules -----------------------------------------------------------------------------
def test_create_conversion_rule() -> None:
    source, target = uuid4(), uuid4()
    rule = conversion_rule(
        model=RuleModel.AGREEMENT,
        institution_id=source,
        target_institution_id=target,
        ratio="0.5",
        cap="30",
        target_code=" MATH-1 ",
        target_category=" general ",
    )
    terms = rule.terms
    assert terms.ratio == Decimal("0.50")
    assert terms.max_credits_per_learner == Decimal("30.00")
    assert (terms.target_code, terms.target_category) == ("MATH-1", "general")
    assert terms.criteria.institution_id == source
    assert rule.current().model is RuleModel.AGREEMENT
    # Proposed by an officer, it came into force when both institutions accepted.
    assert names(rule.collect_events()) == ["Created", "Proposed", "Accepted", "Accepted"]
    assert (rule.awaiting_parties, rule.needs_approval) == ([], False)


def test_agreement_rule_needs_the_source_institution() -> None:
    with pytest.raises(InvalidInput) as info:
        conversion_rule(model=RuleModel.AGREEMENT)
    assert info.value.code == "INVALID_INPUT"
    assert info.value.field == ("sourceInstitutionId",)
    # A framework rule may apply to any institution.
    assert conversion_rule(model=RuleModel.FRAMEWORK).terms.criteria.institution_id is None


def test_agreement_rule_amendment_cannot_drop_the_source_institution() -> None:
    source = uuid4()
    rule = conversion_rule(model=RuleModel.AGREEMENT, institution_id=source)
    rule.collect_events()
    with refused(rule, InvalidInput, "INVALID_INPUT"):
        rule.amend(replace(rule.terms, criteria=OutcomeCriteria()))


@pytest.mark.parametrize("ratio", ["0.01", "1", "2.5", "10"])
def test_ratio_within_bounds(ratio: str) -> None:
    assert conversion_rule(ratio=ratio).terms.ratio == Decimal(ratio)


@pytest.mark.parametrize("ratio", ["0", "-1", "10.01", "11", "0.005", "NaN"])
def test_ratio_out_of_bounds(ratio: str) -> None:
    with pytest.raises(InvalidInput) as info:
        conversion_rule(ratio=ratio)
    assert info.value.code == "INVALID_INPUT"
    assert info.value.field == ("ratio",)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cap": "0"}, ("maxCreditsPerLearner",)),
        ({"cap": "-5"}, ("maxCreditsPerLearner",)),
        ({"target_code": ""}, ("targetCode",)),
        ({"target_category": " "}, ("targetCategory",)),
        ({"valid_from": UNTIL, "valid_until": FROM}, ("validUntil",)),
    ],
)
def test_conversion_terms_are_checked(kwargs: dict[str, object], field: tuple[str]) -> None:
    with pytest.raises(InvalidInput) as info:
        conversion_rule(**kwargs)
    assert info.value.field == field


def test_conversion_rule_amend_and_retire() -> None:
    rule = conversion_rule(ratio="1")
    rule.collect_events()
    with refused(rule, InvalidInput, "INVALID_INPUT"):
        rule.amend(replace(rule.terms, ratio=Decimal("1.00")))
    with refused(rule, InvalidInput, "INVALID_INPUT"):
        rule.amend(replace(rule.terms, ratio=Decimal("20")))
    rule.amend(replace(rule.terms, ratio=Decimal("0.8")))
    assert (rule.rule_version, rule.terms.ratio) == (2, Decimal("0.80"))
    rule.retire()
    rule.collect_events()
    with refused(rule, RuleNotApplicable, "RULE_NOT_APPLICABLE"):
        rule.amend(replace(rule.terms, ratio=Decimal("0.5")))


def test_rules_replay() -> None:
    rule = conversion_rule(ratio="1")
    rule.amend(replace(rule.terms, ratio=Decimal("0.5")))
    rule.retire()
    rebuilt = replay(rule.collect_events())
    assert isinstance(rebuilt, ConversionRule)
    assert (rebuilt.rule_version, rebuilt.terms, rebuilt.retired) == (2, rule.terms, True)


# -- validity windows -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "applies"),
    [
        (date(2025, 8, 31), False),
        (FROM, True),
        (date(2026, 1, 15), True),
        (UNTIL, True),
        (date(2026, 9, 1), False),
    ],
)
def test_check_applicable_inclusive_window(day: date, applies: bool) -> None:
    for rule in (
        recognition_rule(valid_from=FROM, valid_until=UNTIL),
        conversion_rule(valid_from=FROM, valid_until=UNTIL),
    ):
        version = rule.current()
        if applies:
            version.check_applicable(day)
        else:
            with pytest.raises(RuleNotApplicable) as info:
                version.check_applicable(day)
            assert info.value.code == "RULE_NOT_APPLICABLE"
            assert str(day) in info.value.message


def test_a_new_rule_reaches_back_only_as_far_as_it_says() -> None:
    """Without validFrom a rule governs the learning completed from the day it is created."""
    created = recognition_rule(valid_from=None, today=TODAY).current()
    assert created.terms.valid_from == TODAY
    created.check_applicable(TODAY)
    with pytest.raises(RuleNotApplicable, match="does not cover"):
        created.check_applicable(TODAY - timedelta(days=1))
    recognition_rule(valid_from=date(1990, 1, 1)).current().check_applicable(date(1990, 1, 1))
    recognition_rule(valid_from=FROM).current().check_applicable(date(2999, 1, 1))
    with pytest.raises(RuleNotApplicable):
        recognition_rule(valid_until=UNTIL).current().check_applicable(date(2999, 1, 1))
    with pytest.raises(InvalidInput):  # created today, ending before today: say when it starts
        recognition_rule(valid_from=None, valid_until=TODAY - timedelta(days=1))


def test_each_version_governs_the_learning_completed_while_it_was_in_force() -> None:
    rule = recognition_rule(valid_from=date(2020, 1, 1), credits=Decimal(3))
    rule.amend(
        recognition_terms(valid_from=date(2020, 1, 1), credits=Decimal(4)), MAX_LEVEL, None, FROM
    )
    versions = {d: rule.version_on(d) for d in (date(2019, 6, 1), date(2025, 8, 31), FROM)}
    assert {d: v and (v.version, v.terms.credits) for d, v in versions.items()} == {
        date(2019, 6, 1): (1, Decimal(3)),  # version 1's window still has to admit the day
        date(2025, 8, 31): (1, Decimal(3)),
        FROM: (2, Decimal(4)),
    }
    # An explicit retroactive amendment reaches back as far as it says.
    rule.amend(
        recognition_terms(valid_from=date(2020, 1, 1), credits=Decimal(5)),
        MAX_LEVEL,
        date(2024, 1, 1),
        TODAY,
    )
    assert [rule.version_on(d).version for d in (date(2023, 1, 1), date(2024, 1, 1), TODAY)] == [  # type: ignore[union-attr]
        1,
        3,
        3,
    ]
    assert [(v.version, v.effective_from) for v in rule.versions] == [
        (1, None),
        (2, FROM),
        (3, date(2024, 1, 1)),
    ]
    rule.retire()
    assert rule.version_on(TODAY) is None


def test_one_day_window() -> None:
    version = recognition_rule(valid_from=FROM, valid_until=FROM).current()
    version.check_applicable(FROM)
    with pytest.raises(RuleNotApplicable):
        version.check_applicable(date(2025, 9, 2))


# -- criteria -------------------------------------------------------------------------------------
def test_criteria_matching() -> None:
    fudan, other = uuid4(), uuid4()
    any_outcome = OutcomeCriteria()
    assert any_outcome.matches(other, OutcomeKind.MOOC, None)
    assert any_outcome.specificity == 0

    by_institution = OutcomeCriteria(institution_id=fudan)
    assert by_institution.matches(fudan, OutcomeKind.MOOC, "X")
    assert not by_institution.matches(other, OutcomeKind.MOOC, "X")
    assert by_institution.specificity == 1

    by_kind_and_code = OutcomeCriteria(kind=OutcomeKind.MOOC, standard_code="CS-101")
    assert by_kind_and_code.matches(other, OutcomeKind.MOOC, "CS-101")
    assert not by_kind_and_code.matches(other, OutcomeKind.ACADEMIC_COURSE, "CS-101")
    assert not by_kind_and_code.matches(other, OutcomeKind.MOOC, "CS-102")
    assert not by_kind_and_code.matches(other, OutcomeKind.MOOC, None)
    assert by_kind_and_code.specificity == 2

    exact = OutcomeCriteria(
        institution_id=fudan, kind=OutcomeKind.ACADEMIC_COURSE, standard_code="MATH-1"
    )
    assert exact.matches(fudan, OutcomeKind.ACADEMIC_COURSE, "MATH-1")
    assert not exact.matches(other, OutcomeKind.ACADEMIC_COURSE, "MATH-1")
    assert exact.specificity == 3


def test_specificity_orders_matching_rules() -> None:
    fudan = uuid4()
    rules = [
        OutcomeCriteria(),
        OutcomeCriteria(kind=OutcomeKind.ACADEMIC_COURSE),
        OutcomeCriteria(
            institution_id=fudan, kind=OutcomeKind.ACADEMIC_COURSE, standard_code="MATH-1"
        ),
        OutcomeCriteria(institution_id=fudan, kind=OutcomeKind.ACADEMIC_COURSE),
        OutcomeCriteria(standard_code="MATH-2"),  # does not match
    ]
    matching = [c for c in rules if c.matches(fudan, OutcomeKind.ACADEMIC_COURSE, "MATH-1")]
    best = max(matching, key=lambda c: c.specificity)
    assert best == OutcomeCriteria(
        institution_id=fudan, kind=OutcomeKind.ACADEMIC_COURSE, standard_code="MATH-1"
    )
    assert sorted(c.specificity for c in matching) == [0, 1, 2, 3]


@pytest.mark.parametrize("terms", [None, "terms", {"criteria": None}])
def test_conversion_terms_of_the_wrong_type_are_invalid_input(terms: object) -> None:
    """Found by the command fuzzer once the application stopped validating terms itself: the
    agreement check read ``terms.criteria`` before the terms were validated."""
    with pytest.raises(InvalidInput):
        ConversionRule.create(name="x", model=RuleModel.AGREEMENT, terms=terms)  # type: ignore[arg-type]
    rule = conversion_rule(RuleModel.AGREEMENT, institution_id=uuid4())
    with pytest.raises(InvalidInput):
        rule.amend(terms)  # type: ignore[arg-type]
