"""A registrar's CSV through a template (application.intake.grades): what verifies at the bank,
and the row/column each problem is told at. No database: the issuer is an in-memory
Institution, as the bank's verifier only needs a lookup by URI."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.credentials import JWT_CLAIMS, identity_matches, identity_numbers, verify
from application.intake.grades import (
    ACHIEVEMENT_TYPES,
    RESULT_STATUSES,
    RowResult,
    Template,
    TemplateError,
    build,
    credential_id,
    parse_template,
)
from application.issuing import IssuerKey
from application.standards import OB3_SCHEMA
from domain.institution import Institution
from domain.values import InstitutionKind
from tests.builders import standards

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
URI = "https://huadong.example.edu/issuer"
KEY = IssuerKey.ed25519("huadong-2026")
WANG = uuid.UUID("0b7e5d6a-8f43-4c1e-9a6e-2f1d3c4b5a69")
LI = uuid.UUID("5c2f9e1d-3b7a-4d8e-8c6f-1a2b3c4d5e6f")

TEMPLATE = """
[columns]
learner_id = "银行学号"
identity_number = "证件号码"
identity_type = "证件类型"
course_code = "课程代码"
title = "课程名称"
credits = "学分"
grade = "成绩"
completed_on = "结课日期"

[constants]
term = "2024-2025 第一学期"
valid_from = 2025-01-20T09:00:00+08:00
level = 6
kind = "Course"
result_status = "Completed"
issuer_name = "华东大学 Huadong University"
"""
HEADER = "银行学号,证件号码,证件类型,课程代码,课程名称,学分,成绩,结课日期"
ROWS = [
    f"{WANG},110105199003071234,RESIDENT_ID,CS-201,数据结构 Data Structures,3,A-,2025-01-10",
    f"{WANG},110105199003071234,RESIDENT_ID,MA-101,高等数学（上）,5,92,2025/1/12",
    f'{LI},E12345678,PASSPORT,EN-110,"Academic English, Part 1",2.5,pass,2025年1月8日',
]


def _issuer() -> Institution:
    institution = Institution.register(
        id=uuid.uuid4(),
        name="Huadong University",
        kind=InstitutionKind.UNIVERSITY,
        issuer_uri=URI,
        at=datetime(2015, 1, 1, tzinfo=UTC),
    )
    institution.add_key(KEY.jwk, datetime(2015, 1, 1, tzinfo=UTC))
    return institution


ISSUER = _issuer()


def run(csv_text: str, template: str = TEMPLATE, **options: Any) -> list[RowResult]:
    return list(
        build(parse_template(template, **options), io.StringIO(csv_text, newline=""), URI, KEY, NOW)
    )


def csv_of(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def problems(results: list[RowResult]) -> list[str]:
    return [str(p) for r in results for p in r.problems]


def payload(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


# -- what a good CSV becomes ----------------------------------------------------------------------
def test_a_correct_csv_gives_credentials_the_bank_verifies() -> None:
    results = run("\ufeff" + csv_of(*ROWS))  # as Excel saves "CSV UTF-8": with a BOM
    assert problems(results) == []
    assert [(r.row, r.line) for r in results] == [(1, 2), (2, 3), (3, 4)]
    numbers = ["110105199003071234", "110105199003071234", "E12345678"]
    for result, number in zip(results, numbers, strict=True):
        assert result.built is not None
        verified = verify(
            result.built.credential, lambda uri: ISSUER if uri == URI else None, NOW, standards()
        )
        assert verified.issuer is ISSUER
        assert verified.kid == "huadong-2026"
        credential = verified.credential
        # The bank's own identity check: the subject names this learner's document.
        assert identity_matches(identity_numbers(credential), number)
        schema_view = {k: v for k, v in credential.items() if k not in JWT_CLAIMS}
        standards().check_achievement_credential(schema_view)
        line = json.loads(result.built.ndjson())
        assert line == {"learnerId": str(result.built.learner_id), "credential": line["credential"]}
    first = payload(results[0].built.credential)  # type: ignore[union-attr]
    subject = first["credentialSubject"]
    assert first["name"] == subject["achievement"]["name"] == "数据结构 Data Structures"
    assert first["issuer"]["name"] == "华东大学 Huadong University"
    assert first["validFrom"] == "2025-01-20T01:00:00Z"
    assert subject["creditsEarned"] == 3
    assert subject["achievement"]["humanCode"] == "CS-201"
    assert subject["achievement"]["achievementType"] == "Course"
    assert subject["term"] == "2024-2025 第一学期"
    assert subject["activityEndDate"] == "2025-01-10T00:00:00Z"
    assert subject["result"] == [{"type": ["Result"], "value": "A-", "status": "Completed"}]
    assert subject["achievement"]["alignment"][0]["targetCode"] == "6"
    third = payload(results[2].built.credential)["credentialSubject"]  # type: ignore[union-attr]
    assert third["creditsEarned"] == 2.5
    assert third["achievement"]["name"] == "Academic English, Part 1"
    assert third["activityEndDate"] == "2025-01-08T00:00:00Z"


def test_the_ids_are_the_same_whenever_the_csv_is_built() -> None:
    first, again = run(csv_of(*ROWS)), run("\ufeff" + csv_of(*ROWS))
    ids = [r.built.credential_id for r in first if r.built]
    assert ids == [r.built.credential_id for r in again if r.built]
    assert len(set(ids)) == 3
    assert ids[0] == credential_id(URI, "CS-201", "2024-2025 第一学期", WANG)
    for one, other in zip(first, again, strict=True):
        a, b = payload(one.built.credential), payload(other.built.credential)  # type: ignore[union-attr]
        # validFrom is stated, never "now": a second upload is a repeat, not an update.
        assert (a["jti"], a["validFrom"], a["sub"]) == (b["jti"], b["validFrom"], b["sub"])
        assert a["credentialSubject"]["identifier"] == b["credentialSubject"]["identifier"]
    # Another term, course, learner or issuer is another credential.
    assert credential_id(URI, "CS-201", "2025-2026 第一学期", WANG) != ids[0]
    assert credential_id(URI, "CS-202", "2024-2025 第一学期", WANG) != ids[0]
    assert credential_id(URI, "CS-201", "2024-2025 第一学期", LI) != ids[0]
    assert credential_id(URI + "/x", "CS-201", "2024-2025 第一学期", WANG) != ids[0]
    # Written the same up to spaces and full-width forms: the same.
    assert credential_id(URI, " ＣＳ-201 ", "2024-2025  第一学期", WANG) == ids[0]


def test_the_subject_does_not_carry_the_banks_learner_id() -> None:
    (result,) = run(csv_of(ROWS[0]))
    token = result.built.credential  # type: ignore[union-attr]
    assert str(WANG) not in json.dumps(payload(token))


def test_an_encoding_that_kept_the_bom_still_finds_the_first_column() -> None:
    raw = ("\ufeff" + csv_of(ROWS[0])).encode("utf-8").decode("utf-8")  # utf-8, not utf-8-sig
    assert problems(run(raw)) == []


def test_hours_alone_and_a_validity_window() -> None:
    template = TEMPLATE.replace('credits = "学分"', 'hours = "学分"').replace(
        "[constants]", '[constants]\nvalid_until = "2030-01-01"'
    )
    (result,) = run(csv_of(ROWS[0]), template)
    subject = payload(result.built.credential)  # type: ignore[union-attr]
    assert "creditsEarned" not in subject["credentialSubject"]
    assert subject["validUntil"] == "2030-01-01T00:00:00Z"
    hours = subject["credentialSubject"]["achievement"]["alignment"][1]
    assert hours["targetType"] == "ext:LearningHours"


def test_valid_from_from_the_command_line_replaces_the_templates() -> None:
    (result,) = run(csv_of(ROWS[0]), valid_from="2025-02-01T00:00:00Z")
    assert payload(result.built.credential)["validFrom"] == "2025-02-01T00:00:00Z"  # type: ignore[union-attr]


# -- the row and column of each problem -----------------------------------------------------------
def test_a_cell_that_is_not_a_number() -> None:
    bad = ROWS[1].replace(",5,92,", ",abc,92,")
    results = run(csv_of(ROWS[0], bad, ROWS[2]))
    assert problems(results) == ['row 2 (line 3), column "学分" (credits): "abc" is not a number']
    assert [r.built is not None for r in results] == [True, False, True]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("-1", '"-1" is not a non-negative number'),
        ("NaN", '"NaN" is not a number'),
        ("3学分", '"3学分" is not a number'),
    ],
)
def test_credits_that_are_no_amount(cell: str, message: str) -> None:
    bad = ROWS[0].replace(",3,A-,", f",{cell},A-,")
    assert problems(run(csv_of(bad))) == [f'row 1 (line 2), column "学分" (credits): {message}']


def test_full_width_digits_are_numbers() -> None:
    (result,) = run(csv_of(ROWS[0].replace(",3,A-,", ",３.５,A-,")))
    assert payload(result.built.credential)["credentialSubject"]["creditsEarned"] == 3.5  # type: ignore[union-attr]


@pytest.mark.parametrize("cell", ["2025-13-01", "2025-02-30", "10/01/2025", "tomorrow"])
def test_a_date_that_is_no_date(cell: str) -> None:
    bad = ROWS[0].replace("2025-01-10", cell)
    assert problems(run(csv_of(bad))) == [
        f'row 1 (line 2), column "结课日期" (completed_on): "{cell}" is not a date '
        "(write YYYY-MM-DD)"
    ]


def test_learning_that_ends_after_the_credential_is_issued() -> None:
    bad = ROWS[0].replace("2025-01-10", "2025-02-10")
    assert problems(run(csv_of(bad))) == [
        'row 1 (line 2), column "结课日期" (completed_on): 2025-02-10 is after the credential is '
        "issued (2025-01-20T01:00:00Z, valid_from): the bank refuses that"
    ]


def test_every_bad_cell_of_every_row_is_told() -> None:
    bad = "not-a-uuid,,DRIVING_LICENCE,CS-201,,x,A,2025-01-10"
    assert problems(run(csv_of(ROWS[0], bad))) == [
        'row 2 (line 3), column "银行学号" (learner_id): "not-a-uuid" is not a bank learner id '
        "(a UUID)",
        'row 2 (line 3), column "证件号码" (identity_number): empty, and identity_number is '
        "required",
        'row 2 (line 3), column "证件类型" (identity_type): "DRIVING_LICENCE" is not one of '
        "NATIONAL_ID, PASSPORT, RESIDENCE_PERMIT, RESIDENT_ID",
        'row 2 (line 3), column "课程名称" (title): empty, and title is required',
        'row 2 (line 3), column "学分" (credits): "x" is not a number',
    ]


def test_a_row_without_credits_or_hours() -> None:
    bad = ROWS[0].replace(",3,A-,", ",,A-,")
    assert problems(run(csv_of(bad))) == [
        'row 1 (line 2), column "学分" (credits): empty: a row states credits or hours'
    ]


def test_short_and_long_rows() -> None:
    short = ",".join(ROWS[0].split(",")[:6])
    long = ROWS[0] + ",extra"
    assert problems(run(csv_of(short, long))) == [
        'row 1 (line 2), column "成绩" (grade): missing: the row has fewer fields than the header',
        'row 1 (line 2), column "结课日期" (completed_on): missing: the row has fewer fields than '
        "the header",
        "row 2 (line 3): 9 fields, but the header has 8",
    ]


def test_the_same_course_twice_for_a_learner() -> None:
    again = ROWS[0].replace("A-", "B")
    results = run(csv_of(ROWS[0], ROWS[1], again))
    assert problems(results) == ["row 3 (line 4): the same learner, course code and term as row 1"]


def test_lines_are_counted_in_the_file_rows_after_the_header() -> None:
    quoted = ROWS[1].replace("高等数学（上）", '"高等数学\n（上）"')  # a title over two lines
    bad = ROWS[2].replace(",2.5,", ",two,")
    results = run(csv_of(quoted, "", bad))  # and a blank line, which is no row
    assert problems(results) == ['row 2 (line 5), column "学分" (credits): "two" is not a number']
    assert [(r.row, r.line) for r in results] == [(1, 2), (2, 5)]


def test_a_header_without_a_column_the_template_reads() -> None:
    header = HEADER.replace("学分", "credits")
    with pytest.raises(TemplateError) as refused:
        run(csv_of(ROWS[0], header=header))
    (problem,) = refused.value.problems
    assert problem.startswith(
        'the template reads credits from column "学分", which the CSV header does not have'
    )


@pytest.mark.parametrize("text", ["", "\ufeff"])
def test_an_empty_csv(text: str) -> None:
    with pytest.raises(TemplateError, match="the CSV is empty"):
        run(text)


def test_undecodable_text_is_told_with_its_line() -> None:
    data = csv_of(ROWS[0]).encode("gb18030")
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    with pytest.raises(TemplateError, match="not UTF-8 text"):
        list(build(parse_template(TEMPLATE), stream, URI, KEY, NOW))
    # The same bytes read as what they are build.
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="gb18030", newline="")
    assert all(r.built for r in build(parse_template(TEMPLATE), stream, URI, KEY, NOW))


# -- the template ---------------------------------------------------------------------------------
def refusal(template: str, **options: Any) -> list[str]:
    with pytest.raises(TemplateError) as refused:
        parse_template(template, **options)
    return refused.value.problems


def test_unknown_fields_and_sections() -> None:
    template = TEMPLATE.replace("[constants]", '[constants]\nlanguage = "zh"') + "\n[csv]\nx = 1\n"
    template = template.replace('grade = "成绩"', 'grade = "成绩"\nteacher = "教师"')
    found = refusal(template)
    assert found[0] == "unknown template section [csv] (there are [columns] and [constants])"
    assert found[1].startswith('unknown field "teacher" in [columns] (fields: learner_id, ')
    assert found[2].startswith('unknown field "language" in [constants]')
    assert len(found) == 3


def test_required_fields_the_template_does_not_map() -> None:
    template = "\n".join(
        line
        for line in TEMPLATE.splitlines()
        if not line.startswith(("title", "credits", "valid_from", "learner_id"))
    )
    assert refusal(template) == [
        'the template maps no column or constant to "learner_id"',
        'the template maps no column or constant to "title"',
        'the template maps no column or constant to "valid_from" (or give --valid-from)',
        'the template maps no column or constant to "credits" (or "hours")',
    ]


def test_bad_constants() -> None:
    template = (
        TEMPLATE.replace("level = 6", "level = 9")
        .replace('kind = "Course"', 'kind = "Lecture"')
        .replace("2025-01-20T09:00:00+08:00", "2025-01-20T09:00:00")
    )
    assert refusal(template) == [
        '[constants] valid_from: "2025-01-20T09:00:00" needs a timezone (e.g. +08:00 or Z)',
        '[constants] level: "9" is not an EQF level (a whole number from 1 to 8)',
        '[constants] kind: "Lecture" is not an OB 3.0 achievementType (e.g. Course, '
        "Certificate, MicroCredential, or ext:YourOwn)",
    ]


def test_a_field_both_column_and_constant() -> None:
    template = TEMPLATE.replace("[constants]", '[constants]\ntitle = "Same for all"')
    assert refusal(template) == ['"title" is both a column and a constant: choose one']


def test_not_toml() -> None:
    (problem,) = refusal("[columns\n")
    assert problem.startswith("the template is not TOML")


def test_an_issue_date_in_the_future() -> None:
    with pytest.raises(TemplateError, match="is in the future"):
        run(csv_of(ROWS[0]), valid_from="2026-03-02")


def test_the_vocabularies_are_the_shipped_schemas() -> None:
    schema = standards().load(OB3_SCHEMA)["$defs"]
    kinds = schema["Achievement"]["properties"]["achievementType"]["oneOf"][0]["enum"]
    assert set(kinds) == ACHIEVEMENT_TYPES
    assert list(RESULT_STATUSES) == schema["Result"]["properties"]["status"]["enum"]


def test_a_template_is_plain_data() -> None:
    parsed = parse_template(TEMPLATE)
    assert isinstance(parsed, Template)
    assert parsed.columns["credits"] == "学分"
    assert parsed.constants["level"] == 6


# -- property: what a row says is what its credential says ----------------------------------------
TITLE = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1)
    .map(lambda t: " ".join(t.split()))
    .filter(lambda t: 0 < len(t) <= 200)
)
CODE = st.from_regex(r"[A-Z]{2,4}-[0-9]{3}[A-Z]?", fullmatch=True)
CREDITS = st.decimals(min_value=0, max_value=200, places=1, allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(CODE, TITLE, CREDITS), min_size=1, max_size=4, unique_by=lambda r: r[0])
)
def test_the_credential_says_what_the_row_says(rows: list[tuple[str, str, Decimal]]) -> None:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER.split(","))
    for code, title, credits in rows:
        writer.writerow(
            [str(WANG), "110105199003071234", "RESIDENT_ID", code, title, str(credits), "A", ""]
        )
    results = run(out.getvalue())
    assert problems(results) == []
    for (code, title, credits), result in zip(rows, results, strict=True):
        subject = payload(result.built.credential)["credentialSubject"]  # type: ignore[union-attr]
        assert subject["achievement"]["humanCode"] == code
        assert subject["achievement"]["name"] == title
        assert Decimal(str(subject["creditsEarned"])) == credits


# -- the documentation's example is what the code does ---------------------------------------------
def test_the_documented_example_builds() -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "intake-csv.md").read_text(encoding="utf-8")
    template = re.search(r"```toml\n(.*?)```", doc, re.S)
    grades = re.search(r"```csv\n(.*?)```", doc, re.S)
    assert template is not None
    assert grades is not None
    results = list(
        build(parse_template(template[1]), io.StringIO(grades[1], newline=""), URI, KEY, NOW)
    )
    assert problems(results) == []
    titles = [payload(r.built.credential)["name"] for r in results]  # type: ignore[union-attr]
    assert titles == ["数据结构 Data Structures", "高等数学（上）", "Academic English, Part 1"]
    bad = grades[1].replace(",3,A-,", ",abc,A-,").replace("2025/1/12", "2025-13-01")
    bad = bad.replace("5c2f9e1d-3b7a-4d8e-8c6f-1a2b3c4d5e6f", "5c2f9e1d")
    told = problems(
        list(build(parse_template(template[1]), io.StringIO(bad, newline=""), URI, KEY, NOW))
    )
    for line in told:
        assert line in doc
