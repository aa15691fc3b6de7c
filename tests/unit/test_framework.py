"""Qualifications frameworks: presets, levels, credit definition."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.framework import CHINA_LIFELONG, EQF, PRESETS, Framework, preset

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_eqf_has_eight_levels_with_ects_credit_definition() -> None:
    assert EQF.max_level == 8
    assert [lv.level for lv in EQF.levels] == list(range(1, 9))
    assert EQF.hours_per_credit_min == Decimal("25")
    assert EQF.hours_per_credit == Decimal("30")
    assert EQF.credits_per_year == Decimal("60")


def test_china_preset_has_seven_levels() -> None:
    assert CHINA_LIFELONG.max_level == 7
    assert [lv.level for lv in CHINA_LIFELONG.levels] == list(range(1, 8))
    assert CHINA_LIFELONG.hours_per_credit == Decimal("10")


@pytest.mark.parametrize("framework", list(PRESETS.values()), ids=list(PRESETS))
def test_every_level_is_named_and_described_in_chinese_and_english(framework: Framework) -> None:
    assert HAN.search(framework.name_zh)
    assert framework.name_en.isascii()
    assert framework.name_en.strip()
    for lv in framework.levels:
        assert lv.name_en.strip()
        assert lv.descriptor_en.strip()
        assert lv.name_en.isascii()
        assert lv.descriptor_en.isascii()
        assert HAN.search(lv.name_zh), lv
        assert HAN.search(lv.descriptor_zh), lv
    assert len({lv.name_en for lv in framework.levels}) == framework.max_level
    assert len({lv.name_zh for lv in framework.levels}) == framework.max_level


def test_presets_by_key() -> None:
    assert preset("eqf") is EQF
    assert preset("cn") is CHINA_LIFELONG
    assert set(PRESETS) == {"eqf", "cn"}


def test_unknown_preset() -> None:
    with pytest.raises(InvalidInput) as info:
        preset("nqf")
    assert info.value.code == "INVALID_INPUT"
    assert "'nqf'" in info.value.message
    assert "cn, eqf" in info.value.message


@pytest.mark.parametrize(("framework", "top"), [(EQF, 8), (CHINA_LIFELONG, 7)])
def test_check_level_bounds(framework: Framework, top: int) -> None:
    assert framework.check_level(1) == 1
    assert framework.check_level(top) == top
    for bad in (0, -1, top + 1):
        with pytest.raises(InvalidInput) as info:
            framework.check_level(bad, "targetLevel")
        assert info.value.code == "INVALID_INPUT"
        assert info.value.field == ("targetLevel",)
        assert f"between 1 and {top}" in info.value.message


@pytest.mark.parametrize("bad", [True, False, 3.0, "3", None, Decimal(3)])
def test_check_level_requires_an_integer(bad: object) -> None:
    with pytest.raises(InvalidInput) as info:
        EQF.check_level(bad)
    assert "must be an integer" in info.value.message


def test_get_level() -> None:
    assert EQF.get_level(6).name_en == "EQF level 6 (bachelor)"
    assert CHINA_LIFELONG.get_level(5).name_zh == "第五级（本科）"
    with pytest.raises(InvalidInput):
        EQF.get_level(9)


@pytest.mark.parametrize(
    ("framework", "hours", "expected"),
    [
        (EQF, "30", "1.00"),
        (EQF, "1800", "60.00"),  # a full-time year
        (EQF, "45", "1.50"),
        (EQF, "29", "0.96"),  # 0.9666... rounded down: credits never overstated
        (EQF, "1", "0.03"),
        (CHINA_LIFELONG, "10", "1.00"),
        (CHINA_LIFELONG, "16", "1.60"),
        (CHINA_LIFELONG, "0.09", "0.00"),
    ],
)
def test_credits_for_hours_rounds_down(framework: Framework, hours: str, expected: str) -> None:
    result = framework.credits_for_hours(Decimal(hours))
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2
