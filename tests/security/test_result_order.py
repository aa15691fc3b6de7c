"""Finding 10, results by identifier: a Data Integrity proof signs an RDF graph, where
``result`` is a set, so reordering it after signing keeps the proof valid; the bank read the
first element and stored "F" instead of "A". It now chooses by identifier. Both engines."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from application.issuing import sign_data_integrity
from application.outcome_mapping import to_outcome
from tests.builders import World, standards


def graded(credential: dict[str, Any], results: list[dict[str, Any]], **described: str) -> None:
    subject = credential["credentialSubject"]
    subject["achievement"]["resultDescription"] = [
        {
            "id": f"urn:example:rd:{name}",
            "type": ["ResultDescription"],
            "name": name,
            "resultType": kind,
        }
        for name, kind in described.items()
    ]
    subject["result"] = results


def result(value: str, described: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"type": ["Result"], "value": value}
    if described is not None:
        found["resultDescription"] = f"urn:example:rd:{described}"
    return found


def test_reordering_results_changes_neither_the_proof_nor_the_grade(trust: World) -> None:
    bank = trust.bank
    uni, wang = trust.issuer(), trust.learner()
    credential = trust.credential(uni, wang)
    graded(
        credential,
        [result("A", "grade"), result("F", "attendance")],
        grade="LetterGrade",
        attendance="ext:Attendance",
    )
    signed = sign_data_integrity(
        credential, uni.keys, standards(), datetime(2026, 1, 1, tzinfo=UTC)
    )
    reordered = copy.deepcopy(signed)
    reordered["credentialSubject"]["result"].reverse()

    grades = set()
    for document in (signed, reordered):
        verified = bank.verify_credential(json.dumps(document))  # the proof holds either way
        grades.add(to_outcome(verified, bank.framework).result)
    assert grades == {"A"}
    outcome_id = bank.deposit_credential(wang.id, json.dumps(reordered))
    assert bank.account(wang.id).outcome(outcome_id).result == "A"


def test_results_tied_to_no_description_count_only_when_they_agree(trust: World) -> None:
    bank = trust.bank
    uni, wang = trust.issuer(), trust.learner()
    for results, expected in (
        ([result("B")], "B"),
        ([result("B"), result("B")], "B"),
        ([result("A"), result("F")], None),  # which is the grade? no order can tell
        ([result("F"), result("A")], None),
        # Two values in the same place (the same description) are just as ambiguous.
        ([result("A", "grade"), result("F", "grade")], None),
        ([result("F", "grade"), result("A", "grade"), result("B", "attendance")], None),
    ):
        credential = trust.credential(uni, wang)
        graded(credential, results, grade="LetterGrade", attendance="ext:Attendance")
        signed = sign_data_integrity(
            credential, uni.keys, standards(), datetime(2026, 1, 1, tzinfo=UTC)
        )
        verified = bank.verify_credential(json.dumps(signed))
        assert to_outcome(verified, bank.framework).result == expected
