"""What the issuing tools (``creditbank sign``, the demo, ``intake build``) put in an OB 3.0
credential's achievement: a definition every recipient shares, whose criteria say what earns
it, never what one recipient did."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from application.issuing import Achievement, achievement_credential
from application.standards import Standards

UNIVERSITY = "https://university.example"


def issued(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "issuer_uri": UNIVERSITY,
        "document_number": "110101199003077777",
        "title": "Computer Networks",
        "credits": 4,
        "human_code": "CS-301",
    }
    return achievement_credential(Achievement(**{**fields, **changes}))


def achievement(credential: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = credential["credentialSubject"]["achievement"]
    return found


@given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
def test_one_course_is_one_achievement_whoever_earned_it(first: str, second: str) -> None:
    one = issued(document_number=first, result="A")
    other = issued(document_number=second, result="C", credits=3)
    assert achievement(one)["id"] == achievement(other)["id"]
    assert achievement(one)["id"].startswith(f"{UNIVERSITY}/achievements/")
    assert one["id"] != other["id"]  # two credentials, one achievement


def test_another_course_issuer_or_kind_is_another_achievement() -> None:
    ids = {
        achievement(issued())["id"],
        achievement(issued(human_code="CS-302"))["id"],
        achievement(issued(issuer_uri="https://college.example"))["id"],
        achievement(issued(achievement_type="Certificate"))["id"],
        achievement(issued(human_code=None))["id"],  # no code: the title names it
        achievement(issued(human_code=None, title="Operating Systems"))["id"],
    }
    assert len(ids) == 6


def test_the_criteria_say_what_earns_it_and_the_result_what_happened() -> None:
    failed = issued(result="F", result_status="Failed")
    passed = issued(result="A", result_status="Completed")
    assert achievement(failed)["criteria"] == achievement(passed)["criteria"]
    assert "Passed" not in achievement(failed)["criteria"]["narrative"]
    assert failed["credentialSubject"]["result"] == [
        {"type": ["Result"], "value": "F", "status": "Failed"}
    ]


def test_what_is_issued_validates_against_the_ob3_schema() -> None:
    standards = Standards()
    for credential in (issued(), issued(human_code=None, result_status="Failed", result="F")):
        standards.check_achievement_credential(credential)
