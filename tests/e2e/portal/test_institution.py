"""The institution's and the administrator's pages in a browser.

The institution (Huadong University) sees its profile, keys and agreements; deposits a credential
it signed (uploaded as a file), sees the outcome's id and status and finds it at the top of its
ledger, and revokes it from the ledger's row; a duplicate deposit and a revocation of another
issuer's outcome are refused readably; its ledger filters by status and pages to older entries;
it accepts one agreement waiting for it and declines another. The administrator
suspends and reactivates an institution; an officer sees the list without the forms, and the
bank refuses a suspension the officer posts.

Everything a test changes is its own: a learner it registers, rules that match no outcome (the one
accepted is retired again), an institution it registers; the demo world the other tests read
stays as it is.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
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

HUADONG = "huadong-university"
CENTRE = "skills-centre"


@pytest.fixture(scope="module")
def world(demo: Demo) -> dict[str, Any]:
    """The ids the demo printed."""
    return demo.world


def sign_in_with(portal: Portal, token: str) -> Page:
    """Signs in by pasting a token on the sign-in page (a user without a printed link)."""
    page = portal.open("/app/login")
    page.locator("#token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    return page


def a_learner(demo: Demo) -> tuple[str, str]:
    """A learner of the test's own, identity checked: (id, passport number)."""
    number = f"T{uuid.uuid4().hex[:10].upper()}"
    officer = demo.token("officer")
    learner = demo.graphql(
        officer,
        """mutation($input: RegisterLearnerInput!) {
             registerLearner(input: $input) { learner { id } errors { code message } } }""",
        input={
            "name": "Sun Yue 孙悦",
            "identityDocumentType": "PASSPORT",
            "identityDocumentNumber": number,
            "birthDate": "1999-09-09",
        },
    )["registerLearner"]["learner"]["id"]
    demo.graphql(
        officer,
        """mutation($input: VerifyLearnerIdentityInput!) {
             verifyLearnerIdentity(input: $input) { errors { code message } } }""",
        input={"learnerId": learner, "method": "DOCUMENT_CHECKED"},
    )
    return str(learner), number


def huadong_course(
    world: dict[str, Any], learner: str, number: str, title: str = "Computer Graphics 计算机图形学"
) -> str:
    """A course Huadong University signed with its demo key (its rule recognises it: 3 major
    credits at EQF 6)."""
    credential = achievement_credential(
        Achievement(
            issuer_uri=f"https://{HUADONG}.example.edu.cn/issuer",
            issuer_name="Huadong University 华东大学",
            document_number=number,
            subject_id=f"urn:uuid:{learner}",
            title=title,
            credits=Decimal(3),
            eqf_level=6,
            result="A",
            valid_from=datetime(2025, 1, 20, 12, tzinfo=UTC),
        )
    )
    return sign_vc_jwt(credential, IssuerKey.load(Path(world["signingKeys"]) / f"{HUADONG}.pem"))


def total(demo: Demo, world: dict[str, Any], learner: str) -> str:
    data = demo.graphql(
        demo.mint(Role.LEARNER, learner),
        "query($id: ID!) { learner(id: $id) { account { balance { total } } } }",
        id=learner,
    )
    return str(data["learner"]["account"]["balance"]["total"])


def test_institution_deposits_a_credential_and_revokes_it(
    portal: Portal, demo: Demo, world: dict[str, Any], tmp_path: Path
) -> None:
    learner, number = a_learner(demo)
    credential = huadong_course(world, learner, number)
    signed = tmp_path / "computer-graphics.jwt"
    signed.write_text(credential)

    page = portal.sign_in("institution Huadong University")
    assert page.url.endswith("/app/institution")
    expect(page.get_by_role("heading", level=1)).to_have_text("Huadong University 华东大学")
    keys = page.locator("table", has=page.locator("caption", has_text="public keys"))
    expect(keys).to_contain_text("huadong-university-2015")
    expect(keys).to_contain_text("In use")
    agreements = page.locator("table", has=page.locator("caption", has_text="you are a party"))
    expect(agreements).to_contain_text("Lianhua cloud training → Huadong CS-CLOUD-210")
    expect(agreements).to_contain_text("In force")
    portal.accessible("institution")

    # The deposit: the signed file uploaded.
    deposit = page.locator("section[aria-labelledby='deposit-h']")
    deposit.get_by_label("Learner id").fill(learner)
    deposit.get_by_label("Or upload its file").set_input_files(signed)
    deposit.get_by_role("button", name="Deposit").click()
    done = page.get_by_role("status")
    expect(done).to_contain_text("The credential was deposited.")
    expect(done).to_contain_text("Recognised")
    outcome = page.locator("#deposited-outcome").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", outcome)
    assert total(demo, world, learner) == "3.00"
    revoke = page.locator("section#revoke")
    expect(revoke.get_by_label("Outcome id")).to_have_value(outcome)  # the deposit's answer
    # The newest entry of its ledger: what it just deposited, to whom, recognised.
    newest = ledger_rows(page).first
    expect(newest.get_by_role("rowheader")).to_have_text("Computer Graphics 计算机图形学")
    expect(newest).to_contain_text(learner)
    expect(newest).to_contain_text("Recognised")
    expect(newest.locator("td.num")).to_have_text("3")
    portal.accessible("institution-deposited")

    # The page afresh: the revocation form is empty until the ledger's row fills it in.
    portal.open("/app/institution")
    revoke = page.locator("section#revoke")
    expect(revoke.get_by_label("Outcome id")).to_have_value("")
    row = ledger_rows(page).filter(has=page.get_by_role("rowheader", name="Computer Graphics"))
    row.filter(has_text=learner).get_by_role("link", name="Revoke…").click()
    expect(revoke.get_by_label("Learner id")).to_have_value(learner)
    expect(revoke.get_by_label("Outcome id")).to_have_value(outcome)
    revoke.get_by_label("Reason").fill("issued in error: the exam was annulled")
    revoke.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("The outcome was revoked.")
    assert total(demo, world, learner) == "0.00"
    newest = ledger_rows(page).first
    expect(newest).to_contain_text(learner)
    expect(newest).to_contain_text("Revoked")
    expect(newest.get_by_role("link", name="Revoke…")).to_have_count(0)  # nothing left to revoke
    verified = demo.graphql(
        None,
        "query($c: String!) { verifyCredential(credential: $c) { revoked } }",
        c=credential,
    )
    assert verified["verifyCredential"]["revoked"] is True

    # The same credential again: refused, readably, and the form keeps what was given.
    deposit = page.locator("section[aria-labelledby='deposit-h']")
    deposit.get_by_label("Learner id").fill(learner)
    deposit.get_by_label("Signed credential").fill(credential)
    with page.expect_response(lambda r: r.url.endswith("/app/institution/deposit")) as posted:
        deposit.get_by_role("button", name="Deposit").click()
    assert posted.value.status == 400
    refused = page.locator("section[aria-labelledby='deposit-h']").get_by_role("alert")
    expect(refused).to_contain_text("this credential was already deposited")
    expect(refused).to_contain_text("DUPLICATE_CREDENTIAL")
    expect(page.locator("#deposit-learner")).to_have_value(learner)
    portal.accessible("institution-refused")

    # Another issuer's outcome (the skills centre's certificate of Wang Fang): not Huadong's.
    revoke = page.locator("section#revoke")
    revoke.get_by_label("Learner id").fill(world["learners"]["Wang Fang 王芳"])
    revoke.get_by_label("Outcome id").fill(
        world["outcomes"]["Wang Fang 王芳: Network Engineer certificate 网络工程师"]
    )
    revoke.get_by_label("Reason").fill("not ours to revoke")
    with page.expect_response(lambda r: r.url.endswith("/app/institution/revoke")) as posted:
        revoke.get_by_role("button", name="Revoke").click()
    assert posted.value.status == 403
    refused = page.locator("section#revoke").get_by_role("alert")
    expect(refused).to_contain_text("only the issuer or an officer can revoke an outcome")


def test_institution_uploads_a_semester_and_follows_its_job(
    portal: Portal, demo: Demo, world: dict[str, Any], tmp_path: Path
) -> None:
    learner, number = a_learner(demo)
    lines = [
        json.dumps({"learnerId": learner, "credential": huadong_course(world, learner, number, t)})
        for t in ("Operating Systems 操作系统", "Compilers 编译原理")
    ]
    lines.append('{"learnerId": "not json')
    semester = tmp_path / "autumn.ndjson"
    semester.write_text("\n".join(lines) + "\n", encoding="utf-8")

    page = portal.sign_in("institution Huadong University")
    section = page.locator("section#intake")
    section.get_by_label("The upload (NDJSON)").set_input_files(semester)
    section.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url(re.compile(r"/app/institution\?job=[0-9a-f-]{36}"))
    job_id = page.url.split("job=")[1].split("#")[0]
    facts = page.locator("#intake-job")
    for _ in range(50):  # the worker runs in the background: refresh until it is done
        if "DONE" in facts.inner_text():
            break
        page.wait_for_timeout(200)
        portal.open(f"/app/institution?job={job_id}")
    expect(facts).to_contain_text("DONE")
    expect(facts).to_contain_text("3 / 3")
    expect(page.locator("section#intake progress")).to_have_attribute("value", "3")
    refused = page.locator("section#intake table")
    expect(refused).to_contain_text("INVALID_INPUT")
    expect(refused.locator("tbody tr")).to_have_count(1)
    assert total(demo, world, learner) == "6.00"  # both courses, recognised by the rule
    portal.accessible("institution-intake")

    # The job found again by its id, as the API's answer gives it.
    portal.open("/app/institution")
    section = page.locator("section#intake")
    section.get_by_label("Job id").fill(job_id)
    section.get_by_role("button", name="Show the job").click()
    expect(page.locator("#intake-job")).to_contain_text("DONE")


def ledger_rows(page: Page) -> Any:
    return page.locator("section#ledger tbody tr")


DEPOSIT = """mutation($input: DepositCredentialInput!) {
  depositCredential(input: $input) { outcome { id status } errors { code message } }
}"""


def test_institution_ledger_filters_by_status_and_pages_to_older_entries(
    portal: Portal, portal_zh: Portal, demo: Demo, world: dict[str, Any]
) -> None:
    learner, number = a_learner(demo)
    huadong = demo.mint(Role.INSTITUTION, world["institutions"][HUADONG])
    mark = uuid.uuid4().hex[:6].upper()
    titles = [f"Ledger {mark} course {n:02d}" for n in range(1, 22)]  # one more than a page
    outcomes = [
        demo.graphql(
            huadong,
            DEPOSIT,
            input={"learnerId": learner, "credential": huadong_course(world, learner, number, t)},
        )["depositCredential"]["outcome"]["id"]
        for t in titles
    ]
    demo.graphql(
        huadong,
        """mutation($input: RevokeOutcomeInput!) {
             revokeOutcome(input: $input) { errors { code message } } }""",
        input={"learnerId": learner, "outcomeId": outcomes[0], "reason": "issued in error"},
    )

    page = portal.sign_in("institution Huadong University")
    rows = ledger_rows(page)
    expect(rows).to_have_count(20)  # newest first: the last 20 deposited
    expect(rows.first.get_by_role("rowheader")).to_have_text(titles[-1])
    expect(rows.last.get_by_role("rowheader")).to_have_text(titles[1])
    expect(page.get_by_role("link", name="Back to the newest")).to_have_count(0)
    page.get_by_role("link", name="More (older entries)").click()
    expect(rows.first.get_by_role("rowheader")).to_have_text(titles[0])
    expect(rows.first).to_contain_text("Revoked")
    portal.accessible("institution-ledger-older")
    page.get_by_role("link", name="Back to the newest").click()
    expect(rows.first.get_by_role("rowheader")).to_have_text(titles[-1])

    ledger = page.locator("section#ledger")
    ledger.get_by_label("Status").select_option(label="Revoked")
    ledger.get_by_role("button", name="Show").click()
    expect(ledger.get_by_label("Status")).to_have_value("REVOKED")
    expect(ledger.get_by_role("rowheader", name=titles[0])).to_have_count(1)
    expect(ledger.get_by_role("rowheader", name=titles[1])).to_have_count(0)
    for badge in ledger.locator("tbody .badge").all():
        expect(badge).to_have_text("Revoked")
    expect(ledger.locator("caption")).to_contain_text("(Revoked)")
    portal.accessible("institution-ledger-revoked")

    zh = portal_zh.sign_in("institution Huadong University")
    expect(zh.get_by_role("heading", name="您的台账")).to_be_visible()
    expect(ledger_rows(zh).first.get_by_role("rowheader")).to_have_text(titles[-1])
    expect(ledger_rows(zh).first).to_contain_text("已认定")
    expect(zh.get_by_role("link", name="更多（较早的记录）")).to_be_visible()
    portal_zh.accessible("institution-ledger-zh")


RULE = """mutation($input: CreateConversionRuleInput!) {
  createConversionRule(input: $input) { rule { id awaitingAcceptanceBy } errors { code message } }
}"""


def test_institution_accepts_and_declines_agreements_waiting_for_it(
    portal: Portal, demo: Demo, world: dict[str, Any]
) -> None:
    huadong, centre = world["institutions"][HUADONG], world["institutions"][CENTRE]
    proposer = demo.mint(Role.INSTITUTION, centre)
    mark = uuid.uuid4().hex[:6].upper()
    rules = {}
    for answer in ("accept", "decline"):
        name = f"Portal {answer} {mark}: certificate → Huadong elective"
        rule = demo.graphql(
            proposer,
            RULE,
            input={
                "name": name,
                "model": "AGREEMENT",
                "sourceInstitutionId": centre,
                "sourceKind": "VOCATIONAL_CERTIFICATE",
                # a standard no outcome meets: the rule can convert nothing of anyone's
                "sourceStandardCode": f"PORTAL-{mark}-{answer.upper()}",
                "targetInstitutionId": huadong,
                "targetCode": f"PT-{mark}-{answer.upper()}",
                "targetCategory": "elective",
                "ratio": "0.5",
            },
        )["createConversionRule"]["rule"]
        assert rule["awaitingAcceptanceBy"] == [huadong]
        rules[answer] = (rule["id"], name)
    try:
        page = portal.sign_in("institution Huadong University")
        expect(page.locator("main")).to_contain_text("2 agreements wait for your answer.")

        def row(answer: str) -> Any:
            return page.locator("tr", has=page.get_by_role("rowheader", name=rules[answer][1]))

        expect(row("accept")).to_contain_text("waits for your answer")
        expect(row("accept")).to_contain_text("National Vocational Skills Certification Centre")
        portal.accessible("institution-agreements")
        row("accept").get_by_role("button", name="Accept").click()
        expect(page.get_by_role("status")).to_contain_text("You accepted the agreement.")
        expect(row("accept")).to_contain_text("In force")
        expect(row("accept").get_by_role("button")).to_have_count(0)

        row("decline").get_by_label("Reason for declining").fill("no such course at Huadong")
        row("decline").get_by_role("button", name="Decline").click()
        expect(page.get_by_role("status")).to_contain_text("You declined the agreement.")
        expect(row("decline")).to_contain_text("Retired or declined")
        expect(row("decline").get_by_role("button")).to_have_count(0)
        expect(page.locator("main")).not_to_contain_text("wait for your answer")
    finally:  # the accepted rule retired again: the demo's conversion options stay as they were
        demo.graphql(
            demo.token("officer"),
            """mutation($input: RetireRuleInput!) {
                 retireConversionRule(input: $input) { errors { code message } } }""",
            input={"ruleId": rules["accept"][0]},
        )


def test_a_non_institution_is_refused_the_institution_page(portal: Portal, demo: Demo) -> None:
    page = portal.sign_in("enterprise Lianhua Training")
    answer = page.goto(demo.base + "/app/institution")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("alert")).to_contain_text("this page is for institutions")
    portal.accessible("institution-refused-enterprise")


def test_admin_suspends_and_reactivates_an_institution(
    portal: Portal, demo: Demo, world: dict[str, Any]
) -> None:
    admin = demo.mint(Role.ADMIN, "demo-admin")
    college = demo.graphql(
        admin,
        """mutation($input: RegisterInstitutionInput!) {
             registerInstitution(input: $input) { institution { id } errors { code message } } }""",
        input={
            "name": "Minhang Adult College 闵行成人学院",
            "kind": "ADULT_COLLEGE",
            "publicKeyJwk": IssuerKey.ed25519(f"minhang-{uuid.uuid4().hex[:6]}").jwk,
        },
    )["registerInstitution"]["institution"]["id"]

    page = sign_in_with(portal, admin)
    assert page.url.endswith("/app/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Institutions")
    overview = page.locator("table", has=page.locator("caption", has_text="registered")).first
    for name in ("Huadong University", "Pudong Junior College", "Lianhua Technology"):
        expect(overview).to_contain_text(name)
    line = overview.locator("tr", has_text="Minhang Adult College")
    expect(line).to_contain_text("Adult college")
    expect(line).to_contain_text("Active")
    portal.accessible("admin")

    card = page.locator(f"#institution-{college}")
    card.locator("summary", has_text="Suspend this institution").click()
    card.get_by_label(re.compile("^Reason for suspending")).fill("accreditation lapsed")
    card.get_by_role("button", name="Suspend").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Minhang Adult College 闵行成人学院 is suspended"
    )
    expect(overview.locator("tr", has_text="Minhang Adult College")).to_contain_text("Suspended")
    state = "query($id: ID!) { institution(id: $id) { active } }"
    assert demo.graphql(None, state, id=college)["institution"]["active"] is False
    portal.accessible("admin-suspended")

    page.locator(f"#institution-{college}").get_by_role("button", name="Reactivate").click()
    expect(page.get_by_role("status")).to_contain_text("is active again")
    expect(overview.locator("tr", has_text="Minhang Adult College")).to_contain_text("Active")
    assert demo.graphql(None, state, id=college)["institution"]["active"] is True


def test_an_officer_sees_the_list_but_the_bank_refuses_its_suspension(
    portal: Portal, demo: Demo, world: dict[str, Any]
) -> None:
    page = portal.sign_in("officer")
    portal.open("/app/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Institutions")
    expect(page.locator("main")).to_contain_text("Only an administrator can suspend")
    expect(page.get_by_role("button", name="Suspend")).to_have_count(0)
    portal.accessible("admin-read-only")

    pudong = world["institutions"]["pudong-college"]
    answer = httpx.post(
        f"{demo.base}/app/admin/institutions/{pudong}/suspend",
        data={"reason": "not mine to do", "csrf": "c"},
        cookies={"creditbank_session": demo.token("officer"), "creditbank_csrf": "c"},
        timeout=30,
    )
    assert answer.status_code == 403
    assert "role OFFICER may not do this" in answer.text
    state = "query($id: ID!) { institution(id: $id) { active } }"
    assert demo.graphql(None, state, id=pudong)["institution"]["active"] is True
