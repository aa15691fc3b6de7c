"""The enterprise's page in a browser: its consenting employees' training by period and category,
with the charts, the table and the CSV download; only consenting learners ever appear (a learner
who consents appears, one who revokes is gone, the others never do); a spreadsheet formula in a
name is neutralised in the CSV; a learner, and another enterprise, are refused readably.

The demo's Li Wei consented to Lianhua Training (scope TRAINING). The test that changes consents
does it on a learner of its own, registered through the API, and revokes the consent at the end,
so the demo world the other tests read stays as it is.
"""

from __future__ import annotations

import csv
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from api.auth import Role
from application.issuing import Achievement, IssuerKey, achievement_credential, sign_vc_jwt
from tests.e2e.portal.conftest import Demo, Portal

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

LIANHUA = "lianhua-training"
LI_WEI = "Li Wei 李伟"
WANG_FANG = "Wang Fang 王芳"
# A name a spreadsheet would run as a formula if the CSV gave it as it is.
FORMULA_NAME = '=HYPERLINK("http://evil.example/","Zhao Lei") 赵磊'


@pytest.fixture(scope="module")
def world(demo: Demo) -> dict[str, Any]:
    """The ids the demo printed."""
    return demo.world


def employee_of_our_own(demo: Demo, world: dict[str, Any]) -> tuple[str, str]:
    """A verified learner named like a formula, with a Lianhua training completed in 2024 (60
    hours, 1.5 credits): (learner id, their token)."""
    number = f"T{uuid.uuid4().hex[:10].upper()}"
    officer = demo.token("officer")
    learner = demo.graphql(
        officer,
        """mutation($input: RegisterLearnerInput!) {
             registerLearner(input: $input) { learner { id } errors { code message } } }""",
        input={
            "name": FORMULA_NAME,
            "identityDocumentType": "PASSPORT",
            "identityDocumentNumber": number,
            "birthDate": "1994-03-08",
        },
    )["registerLearner"]["learner"]["id"]
    demo.graphql(
        officer,
        """mutation($input: VerifyLearnerIdentityInput!) {
             verifyLearnerIdentity(input: $input) { errors { code message } } }""",
        input={"learnerId": learner, "method": "DOCUMENT_CHECKED"},
    )
    key = IssuerKey.load(Path(world["signingKeys"]) / f"{LIANHUA}.pem")
    credential = achievement_credential(
        Achievement(
            issuer_uri=f"https://{LIANHUA}.example.edu.cn/issuer",
            issuer_name="Lianhua Technology Training Centre",
            document_number=number,
            subject_id=f"urn:uuid:{learner}",
            title="Kubernetes Administration 容器编排管理",
            credits=Decimal("1.5"),
            hours=Decimal(60),
            achievement_type="CertificateOfCompletion",
            result="pass",
            completed_on=date(2024, 11, 20),
            valid_from=datetime(2024, 11, 21, 9, tzinfo=UTC),
        )
    )
    outcome = demo.graphql(
        demo.mint(Role.INSTITUTION, world["institutions"][LIANHUA]),
        """mutation($input: DepositCredentialInput!) {
             depositCredential(input: $input) {
               outcome { id status } errors { code message } } }""",
        input={"learnerId": learner, "credential": sign_vc_jwt(credential, key)},
    )["depositCredential"]["outcome"]
    assert outcome["status"] == "RECOGNIZED", outcome
    return learner, demo.mint(Role.LEARNER, learner)


def consent(demo: Demo, world: dict[str, Any], learner: str, token: str, given: bool) -> None:
    lianhua = world["institutions"][LIANHUA]
    if given:
        demo.graphql(
            token,
            """mutation($input: GrantConsentInput!) {
                 grantConsent(input: $input) { errors { code message } } }""",
            input={"learnerId": learner, "organizationId": lianhua, "scope": "TRAINING"},
        )
    else:
        demo.graphql(
            token,
            """mutation($input: RevokeConsentInput!) {
                 revokeConsent(input: $input) { errors { code message } } }""",
            input={"learnerId": learner, "organizationId": lianhua},
        )


def download_csv(page: Page) -> tuple[str, list[list[str]]]:
    """The page's CSV download: (its file name, its rows, header first)."""
    with page.expect_download() as started:
        page.get_by_role("link", name="Download CSV").click()
    download = started.value
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")  # the BOM: spreadsheets then read the names as UTF-8
    return download.suggested_filename, list(csv.reader(text[1:].splitlines()))


def table_rows(page: Page, caption: str) -> list[list[str]]:
    table = page.locator("table", has=page.locator("caption", has_text=caption))
    return [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]


def test_enterprise_sees_its_consenting_employees_training_and_downloads_it(
    portal: Portal, world: dict[str, Any]
) -> None:
    page = portal.sign_in("enterprise Lianhua Training")
    assert page.url.endswith("/app/enterprise")
    expect(page.get_by_role("heading", level=1)).to_have_text("Employees' training")
    expect(page.locator(".lead")).to_contain_text("Lianhua Technology Training Centre")
    # Li Wei's two trainings of 2025: 2 credits / 60 hours in May, 0.5 / 15 in August.
    charts = page.locator("svg.bars")
    expect(charts).to_have_count(2)
    expect(page.get_by_role("img", name="Training credits by year")).to_contain_text("2.5")
    expect(page.get_by_role("img", name="Training hours by year")).to_contain_text("75 h")
    period = "Training of consenting employees, by period of completion and category"
    assert table_rows(page, period) == [["2025", "elective", "1", "2.5", "75"]]
    employees = "Each consenting employee's training in the period"
    assert table_rows(page, employees) == [[LI_WEI, "2.5", "75"]]
    expect(page.locator("main")).not_to_contain_text("Wang Fang")  # she gave no consent
    # Each employee's name opens their record, as far as the consent lets the enterprise read it.
    li_wei = world["learners"][LI_WEI]
    expect(page.get_by_role("link", name=LI_WEI)).to_have_attribute(
        "href", f"/app/learners/{li_wei}"
    )
    portal.accessible("enterprise")

    name, rows = download_csv(page)
    assert re.fullmatch(r"training-lianhua-technology-training-centre-\d{4}-\d{2}-\d{2}\.csv", name)
    assert rows == [
        ["learner_id", "name", "period", "category", "credits", "hours"],
        [li_wei, LI_WEI, "2025", "elective", "2.50", "75.00"],
    ]

    # By month, from June: only the August training.
    page.get_by_label("Group by").select_option("month")
    page.get_by_label("From (month)").fill("2025-06")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="Training credits by month")).to_contain_text("0.5")
    assert table_rows(page, period) == [["2025-08", "elective", "1", "0.5", "15"]]
    assert table_rows(page, employees) == [[LI_WEI, "0.5", "15"]]
    portal.accessible("enterprise-by-month")
    _, rows = download_csv(page)
    assert rows[1:] == [[li_wei, LI_WEI, "2025-08", "elective", "0.50", "15.00"]]


def test_only_consenting_learners_appear_and_a_formula_in_a_name_stays_text(
    portal: Portal, demo: Demo, world: dict[str, Any]
) -> None:
    zhao, token = employee_of_our_own(demo, world)
    page = portal.sign_in("enterprise Lianhua Training")
    expect(page.locator("main")).not_to_contain_text("Zhao Lei")  # no consent yet
    _, rows = download_csv(page)
    assert {row[0] for row in rows[1:]} == {world["learners"][LI_WEI]}
    wang = world["learners"][WANG_FANG]
    assert all(wang not in row for row in rows)

    consent(demo, world, zhao, token, given=True)
    try:
        portal.open("/app/enterprise")
        employees = "Each consenting employee's training in the period"
        assert sorted(table_rows(page, employees)) == sorted(
            [[LI_WEI, "2.5", "75"], [FORMULA_NAME, "1.5", "60"]]
        )
        expect(page.get_by_role("img", name="Training credits by year")).to_contain_text("2024")
        portal.accessible("enterprise-two-employees")
        _, rows = download_csv(page)
        assert rows[1:] == [
            [zhao, "'" + FORMULA_NAME, "2024", "elective", "1.50", "60.00"],
            [world["learners"][LI_WEI], LI_WEI, "2025", "elective", "2.50", "75.00"],
        ]
    finally:
        consent(demo, world, zhao, token, given=False)

    portal.open("/app/enterprise")  # the consent revoked: gone from the page and the CSV
    expect(page.locator("main")).not_to_contain_text("Zhao Lei")
    _, rows = download_csv(page)
    assert [row[0] for row in rows[1:]] == [world["learners"][LI_WEI]]


def test_a_learner_and_another_enterprise_are_refused_readably(
    portal: Portal, demo: Demo, world: dict[str, Any]
) -> None:
    page = portal.sign_in("learner Wang Fang")
    answer = page.goto(demo.base + "/app/enterprise")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not do that")
    expect(page.get_by_role("alert")).to_contain_text("may not do this")
    expect(page.get_by_role("alert")).to_contain_text("FORBIDDEN")
    portal.accessible("enterprise-refused")
    answer = page.goto(demo.base + "/app/enterprise/training.csv")
    assert answer is not None
    assert answer.status == 403
    assert answer.headers["content-type"].startswith("text/html")

    other = httpx.get(
        demo.base + "/app/enterprise/training.csv",
        params={"id": world["institutions"]["huadong-university"]},
        cookies={"creditbank_session": demo.token("enterprise Lianhua Training")},
        timeout=30,
    )
    assert other.status_code == 403
    assert "only the enterprise itself may do this" in other.text
    assert "learner_id" not in other.text


def test_the_page_in_chinese_and_a_malformed_period(portal_zh: Portal) -> None:
    page = portal_zh.sign_in("enterprise Lianhua Training")
    expect(page.get_by_role("heading", level=1)).to_have_text("员工培训")
    expect(page.get_by_role("img", name="按年统计的培训学分")).to_be_visible()
    expect(page.get_by_role("link", name="下载 CSV")).to_be_visible()
    portal_zh.accessible("enterprise-zh")
    answer = page.goto(portal_zh.demo.base + "/app/enterprise?from=2025-13")
    assert answer is not None
    assert answer.status == 400
    expect(page.get_by_role("alert")).to_contain_text("期间为月份，格式为 YYYY-MM")


def test_an_auditor_chooses_an_enterprise_and_reads_its_report(portal: Portal) -> None:
    page = portal.sign_in("auditor")
    portal.open("/app/enterprise")
    expect(page.get_by_role("heading", level=1)).to_have_text("Employees' training")
    portal.accessible("enterprise-choose")
    page.get_by_role("link", name=re.compile("Lianhua Technology Training Centre")).click()
    expect(page.locator(".lead")).to_contain_text("Lianhua Technology Training Centre")
    employees = "Each consenting employee's training in the period"
    assert table_rows(page, employees) == [[LI_WEI, "2.5", "75"]]
    _, rows = download_csv(page)  # the same enterprise's, not the auditor's
    assert [row[1] for row in rows[1:]] == [LI_WEI]
