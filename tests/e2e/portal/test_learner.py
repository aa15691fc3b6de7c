"""The learner's pages in a browser, on the demo world: Wang Fang's balance, timeline and
progress toward the demo bachelor; her transcript and one credential downloaded and found valid
on the public verify page; a consent given and withdrawn (and what the enterprise sees
meanwhile); another learner refused; officers and consenting enterprises reading the record
within what the API lets them; the page in Chinese."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.portal.conftest import Demo, Portal

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

WANG, LI = "Wang Fang 王芳", "Li Wei 李伟"
BACHELOR = "Bachelor of Engineering (Computer Science) 工学学士（计算机科学）"
LIANHUA = "Lianhua Technology Training Centre 联华科技培训中心"


def token(demo: Demo, who: str) -> str:
    return demo.links[who].split("#token=")[1]


def api(demo: Demo, who: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(
        demo.base + "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token(demo, who)}"},
        timeout=30,
    )
    body = answer.json()
    assert not body.get("errors"), body
    return dict(body["data"])


@pytest.fixture(scope="module")
def ids(demo: Demo) -> dict[str, str]:
    """The demo's ids, as the API gives them: each signed-in party's own, the bachelor's."""
    viewer = "{ viewer { subject } }"
    found = {
        who: api(demo, label, viewer, {})["viewer"]["subject"]
        for who, label in (
            (WANG, "learner Wang Fang"),
            (LI, "learner Li Wei"),
            (LIANHUA, "enterprise Lianhua Training"),
        )
    }
    qualifications = api(demo, "officer", "{ qualifications { edges { node { id name } } } }", {})
    (bachelor,) = (
        e["node"]["id"]
        for e in qualifications["qualifications"]["edges"]
        if e["node"]["name"] == BACHELOR
    )
    return found | {BACHELOR: bachelor}


def figure(value: str) -> str:
    """A Decimal as the English page writes it ("35.50" -> "35.5")."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def section(page: Page, heading: str) -> Any:
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, level=2))


def test_balance_timeline_and_progress_toward_the_bachelor(
    portal: Portal, demo: Demo, ids: dict[str, str]
) -> None:
    me, bachelor = ids[WANG], ids[BACHELOR]
    page = portal.sign_in("learner Wang Fang")
    assert page.url.endswith("/app/learner")
    expect(page.get_by_role("heading", level=1)).to_have_text(WANG)

    # The figures are the API's own, for the same caller.
    record = api(
        demo,
        "learner Wang Fang",
        "query($me: ID!) { learner(id: $me) { account { balance { total byLevel { level credits }"
        " byCategory { category credits } } } } }",
        {"me": me},
    )["learner"]["account"]["balance"]
    expect(page.locator(".learner-figures")).to_contain_text(figure(record["total"]))
    levels = page.get_by_role("table", name="Credits by framework level")
    for row in record["byLevel"]:
        expect(
            levels.get_by_role("row").filter(has_text=f"{row['level']} · EQF level")
        ).to_contain_text(figure(row["credits"]))
    expect(levels).to_contain_text("EQF level 6 (bachelor)")
    categories = page.get_by_role("table", name="Credits by category")
    for row in record["byCategory"]:
        expect(categories.get_by_role("row", name=re.compile(row["category"]))).to_contain_text(
            figure(row["credits"])
        )
    expect(page.get_by_role("img", name="Credits by framework level")).to_be_visible()

    # The timeline, newest first: the certificate deposited, recognised, then converted.
    timeline = section(page, "Timeline").locator("ol.timeline > li")
    expect(timeline.last).to_contain_text("Account opened")
    certificate = timeline.filter(has_text="Network Engineer certificate 网络工程师")
    expect(certificate).to_have_count(3)
    expect(certificate.nth(0)).to_contain_text("Converted")
    expect(certificate.nth(0)).to_contain_text("4 credits became 3 credits of CS-NET-201")
    expect(certificate.nth(1)).to_contain_text("Recognised")
    expect(certificate.nth(1)).to_contain_text("EQF level 4")
    expect(certificate.nth(2)).to_contain_text("Credential deposited")
    expect(certificate.nth(2)).to_contain_text("completed 1 Sept 2023")
    recognised = timeline.filter(has_text="Recognised").filter(has_text="Data Structures 数据结构")
    expect(recognised).to_contain_text("EQF level 6 (bachelor)")
    deposits = api(
        demo,
        "learner Wang Fang",
        "query($me: ID!) { learner(id: $me) { account { transcript { totalCount } } } }",
        {"me": me},
    )["learner"]["account"]["transcript"]["totalCount"]
    expect(timeline.filter(has=page.locator(".badge.deposited"))).to_have_count(deposits)
    # The transcript: the converted certificate has nothing left.
    outcomes = page.get_by_role("table", name="Every learning outcome deposited, with its status")
    converted = outcomes.get_by_role("row", name=re.compile("Network Engineer certificate"))
    expect(converted).to_contain_text("Converted")
    expect(converted).to_contain_text("0 left")
    portal.accessible("learner")

    # Progress toward the bachelor, picked from the list.
    page.get_by_label("Qualification", exact=True).select_option(
        label=f"{BACHELOR} · EQF level 6 (bachelor)"
    )
    page.get_by_role("button", name="Show progress").click()
    assert f"qualification={bachelor}" in page.url
    progress = section(page, "Progress toward a qualification")
    expect(progress.get_by_role("heading", level=3, name=BACHELOR)).to_be_visible()
    found = api(
        demo,
        "learner Wang Fang",
        "query($me: ID!, $q: ID!) { learner(id: $me) { account { progress(qualificationId: $q)"
        " { met unmet } studyPlan(qualificationId: $q) { creditsToEarn } } } }",
        {"me": me, "q": bachelor},
    )["learner"]["account"]
    assert not found["progress"]["met"]
    table = progress.get_by_role("table", name="Each requirement: met, or what is missing")
    for line in found["progress"]["unmet"]:  # "category major: 23.50 of 60.00 credits (...)"
        name, have, need = re.match(r"(.+?): ([\d.]+) of ([\d.]+)", line).groups()  # type: ignore[union-attr]
        label = {"total": "Total credits"}.get(name, name.capitalize())
        row = table.get_by_role("row", name=re.compile(f"^{re.escape(label)}"))
        expect(row).to_contain_text(figure(need))
        expect(row).to_contain_text(figure(have))
        missing = figure(str(Decimal(need) - Decimal(have)))
        expect(row).to_contain_text(f"{missing} credits missing")
    expect(
        progress.get_by_role("img", name=re.compile("Credits counted toward each"))
    ).to_be_visible()
    expect(progress.get_by_role("heading", name="Study plan")).to_be_visible()
    to_earn = figure(found["studyPlan"]["creditsToEarn"])
    expect(progress).to_contain_text(f"At least {to_earn} more credits are needed.")
    expect(
        progress.get_by_role("table", name="The most that can count, term by term")
    ).to_be_visible()
    expect(progress.get_by_role("heading", name="Conversions that would help")).to_be_visible()
    portal.accessible("learner-progress")

    # A qualification that is not there: said in its section, the rest of the page stands.
    page = portal.open("/app/learner?qualification=00000000-0000-4000-8000-000000000000")
    expect(section(page, "Progress toward a qualification").get_by_role("alert")).to_contain_text(
        "no such qualification"
    )
    expect(page.get_by_role("table", name="Credits by framework level")).to_be_visible()
    portal.accessible("learner-progress-refused")


def test_the_transcript_and_a_credential_download_and_verify(portal: Portal) -> None:
    page = portal.sign_in("learner Wang Fang")
    sharing = section(page, "Share your record")
    qr = sharing.get_by_role("img", name=re.compile("^QR code of the verify page address"))
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    link = sharing.locator("#verify-link")
    expect(link).to_have_text(re.compile(r"^http://.+/app/verify$"))

    with page.expect_download() as started:
        sharing.get_by_role("button", name="Download the signed transcript").click()
    download = started.value
    assert download.suggested_filename.startswith("transcript-")
    assert download.suggested_filename.endswith(".jwt")
    transcript = Path(download.path()).read_text()
    assert transcript.count(".") == 2, transcript[:200]  # a compact VC-JWT

    with page.expect_download() as started:
        page.get_by_role(
            "button", name="Download the credential for Data Structures 数据结构"
        ).click()
    credential = Path(started.value.path()).read_text()
    assert credential.count(".") == 2
    assert credential != transcript

    for name, text in (("verify-transcript", transcript), ("verify-outcome", credential)):
        page = portal.open("/app/learner")
        page.locator("#verify-link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Verify a credential")
        page.locator("#credential").fill(text)
        page.get_by_role("button", name=re.compile("^Verify$")).click()
        expect(page.get_by_role("heading", level=2, name="Valid")).to_be_visible()
        expect(page.get_by_role("table")).to_contain_text("ExternalProofProbe")
        portal.accessible(name)


def test_a_consent_given_and_withdrawn(portal: Portal, demo: Demo, ids: dict[str, str]) -> None:
    me, lianhua = ids[WANG], ids[LIANHUA]
    as_lianhua = {"creditbank_session": token(demo, "enterprise Lianhua Training")}

    def lianhua_opens_her_record() -> httpx.Response:
        return httpx.get(f"{demo.base}/app/learners/{me}", cookies=as_lianhua, timeout=30)

    assert lianhua_opens_her_record().status_code == 403
    page = portal.sign_in("learner Wang Fang")
    consents = section(page, "Consents")
    expect(consents).to_contain_text("You have not given any organisation consent.")
    try:
        # A refusal is said next to the form.
        consents.get_by_label("Organisation", exact=True).select_option(label=LIANHUA)
        consents.get_by_label("Until (optional)").fill("2020-01-01")
        consents.get_by_role("button", name="Give consent").click()
        consents = section(page, "Consents")
        expect(consents.get_by_role("alert")).to_contain_text("expiresOn is in the past")
        portal.accessible("learner-consent-refused")

        consents.get_by_label("Organisation", exact=True).select_option(label=LIANHUA)
        consents.get_by_label("Enterprise training, from any issuer").check()
        consents.get_by_label("Until (optional)").fill("2030-12-31")
        consents.get_by_role("button", name="Give consent").click()
        expect(page.get_by_role("status")).to_have_text("The consent was granted.")
        row = (
            section(page, "Consents")
            .get_by_role("table", name="Consents given")
            .get_by_role("row", name=re.compile("Lianhua"))
        )
        expect(row).to_contain_text("Enterprise training, from any issuer")
        expect(row).to_contain_text("31 Dec 2030")
        portal.accessible("learner-consent-granted")

        # The enterprise now opens her record, within the scope: her training only (none).
        seen = lianhua_opens_her_record()
        assert seen.status_code == 200, seen.text[:500]
        assert "No learning outcome is recorded yet." in seen.text
        assert "Data Structures" not in seen.text
        assert "Credits held" not in seen.text

        row.get_by_role("button", name=f"Withdraw the consent given to {LIANHUA}").click()
        expect(page.get_by_role("status")).to_have_text("The consent was revoked.")
        expect(section(page, "Consents")).to_contain_text(
            "You have not given any organisation consent."
        )
        portal.accessible("learner-consent-revoked")
        assert lianhua_opens_her_record().status_code == 403
    finally:  # the demo world as the other tests know it, whatever happened above
        httpx.post(
            demo.base + "/graphql",
            json={
                "query": "mutation($i: RevokeConsentInput!) { revokeConsent(input: $i) "
                "{ errors { code } } }",
                "variables": {"i": {"learnerId": me, "organizationId": lianhua}},
            },
            headers={"Authorization": f"Bearer {token(demo, 'learner Wang Fang')}"},
            timeout=30,
        )


def test_another_learner_cannot_open_her_record(
    portal: Portal, demo: Demo, ids: dict[str, str]
) -> None:
    portal.sign_in("learner Li Wei")
    answer = portal.page.goto(f"{demo.base}/app/learners/{ids[WANG]}")
    assert answer is not None
    assert answer.status == 403
    page = portal.page
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not do that")
    expect(page.get_by_role("alert")).to_contain_text("this account is not yours to read")
    expect(page.get_by_text(WANG)).to_have_count(0)
    portal.accessible("learner-forbidden")
    # Her own page is hers.
    page = portal.open("/app/learner")
    expect(page.get_by_role("heading", level=1)).to_have_text(LI)
    expect(page.get_by_role("table", name="Credits by kind of learning")).to_contain_text(
        "Enterprise training"
    )
    portal.accessible("learner-li-wei")


def test_officers_read_any_record_and_enterprises_their_consented_scope(
    portal: Portal, ids: dict[str, str]
) -> None:
    portal.sign_in("officer")
    page = portal.open(f"/app/learners/{ids[WANG]}")
    expect(page.get_by_role("heading", level=1)).to_have_text(WANG)
    expect(page.get_by_role("table", name="Credits by framework level")).to_be_visible()
    expect(section(page, "Consents")).to_contain_text("No consent is in force.")
    expect(page.get_by_role("button", name=re.compile("^Download"))).to_have_count(0)
    expect(page.get_by_role("button", name="Give consent")).to_have_count(0)
    portal.accessible("learner-as-officer")

    # Li Wei consented to Lianhua for enterprise training: that, and nothing else.
    portal.sign_in("enterprise Lianhua Training")
    page = portal.open(f"/app/learners/{ids[LI]}")
    expect(page.get_by_role("heading", level=1)).to_have_text(LI)
    outcomes = page.get_by_role("table", name="Every learning outcome deposited, with its status")
    expect(outcomes).to_contain_text("Cloud Operations Bootcamp 云运维训练营")
    expect(outcomes).not_to_contain_text("Python Programming")
    expect(page.get_by_role("heading", name="Balance")).to_have_count(0)
    expect(page.get_by_role("heading", name="Consents")).to_have_count(0)
    portal.accessible("learner-as-enterprise")


def test_the_record_in_chinese(portal_zh: Portal) -> None:
    page = portal_zh.sign_in("learner Wang Fang")
    expect(page.get_by_role("heading", level=1)).to_have_text(WANG)
    expect(page.get_by_role("heading", level=2, name="余额")).to_be_visible()
    levels = page.get_by_role("table", name="按资历框架等级统计的学分")
    expect(levels).to_contain_text("欧洲资历框架第6级（学士）")
    expect(levels).to_contain_text("欧洲资历框架第5级（短期高等教育）")
    expect(levels).not_to_contain_text("EQF level")
    expect(page.get_by_role("table", name="已存入的全部学习成果及其状态")).to_contain_text("已认定")
    page.get_by_label("资格", exact=True).select_option(
        label=f"{BACHELOR} · 欧洲资历框架第6级（学士）"
    )
    page.get_by_role("button", name="查看进度").click()
    expect(page.get_by_role("table", name="每项要求：已满足，或尚缺什么")).to_contain_text(
        "第6级及以上"
    )
    portal_zh.accessible("learner-zh")
