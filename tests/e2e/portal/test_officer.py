"""The officer's queues in a browser: the evidence and the rule of each waiting outcome, a
recognition refused while the learner's identity is unverified and made once it is recorded
(the learner's balance shows it), a decision beyond its bounds approved by a second officer,
prior learning assessed against a standard, an award under review rescinded; a learner is
refused the page.

The demo's own waiting outcomes (Chen Jing's) are only read: each test that decides something
does it on a learner of its own, registered and given a deposit through the API, so the demo
world the other tests read stays as it is.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, expect

from api.auth import Role, TokenService, load_or_create_signing_key
from application.issuing import Achievement, IssuerKey, achievement_credential, sign_vc_jwt
from tests.e2e.portal.conftest import Demo, Portal

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CENTRE = "skills-centre"
CENTRE_URI = f"https://{CENTRE}.example.edu.cn/issuer"


def token_of(demo: Demo, who: str) -> str:
    return demo.links[who].split("#token=")[1]


@dataclass
class Learner:
    id: str
    number: str  # the passport number its credentials name
    token: str


@dataclass
class Bank:
    """The served demo seen from outside, through its API: tokens signed with the key of its
    data directory (as ``creditbank token`` signs them), credentials signed with the demo
    issuers' own keys."""

    demo: Demo
    data_dir: Path

    @property
    def officer(self) -> str:
        return token_of(self.demo, "officer")

    def mint(self, role: Role, subject: str) -> str:
        return TokenService(load_or_create_signing_key(self.data_dir)).mint(role, subject).token

    def graphql(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        answer = httpx.post(
            self.demo.base + "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"} if token else {},
            timeout=30,
        )
        body = answer.json()
        assert not body.get("errors"), body
        for payload in body["data"].values():
            assert not (isinstance(payload, dict) and payload.get("errors")), payload
        data: dict[str, Any] = body["data"]
        return data

    def centre(self) -> str:
        """The skills centre's id: its certificates without a standard code, no rule decides."""
        data = self.graphql("", "{ institutions(first: 20) { edges { node { id issuerUri } } } }")
        return next(
            e["node"]["id"]
            for e in data["institutions"]["edges"]
            if e["node"]["issuerUri"] == CENTRE_URI
        )

    def register(self, name: str, verified: bool) -> Learner:
        """A learner of the test's own, opened by the demo's officer."""
        number = f"T{uuid.uuid4().hex[:10].upper()}"
        data = self.graphql(
            self.officer,
            """mutation($input: RegisterLearnerInput!) {
                 registerLearner(input: $input) { learner { id } errors { code message } } }""",
            input={
                "name": name,
                "identityDocumentType": "PASSPORT",
                "identityDocumentNumber": number,
                "birthDate": "1996-05-05",
            },
        )
        learner_id = data["registerLearner"]["learner"]["id"]
        if verified:
            self.graphql(
                self.officer,
                """mutation($input: VerifyLearnerIdentityInput!) {
                     verifyLearnerIdentity(input: $input) { errors { code message } } }""",
                input={"learnerId": learner_id, "method": "DOCUMENT_CHECKED"},
            )
        return Learner(learner_id, number, self.mint(Role.LEARNER, learner_id))

    def deposit(self, learner: Learner, title: str, level: int = 3, credits: str = "3") -> str:
        """A certificate of the skills centre, signed with its demo key and deposited with its
        token: no recognition rule covers it, so it waits for an officer."""
        key = IssuerKey.load(self.data_dir / "demo-keys" / f"{CENTRE}.pem")
        credential = achievement_credential(
            Achievement(
                issuer_uri=CENTRE_URI,
                issuer_name="National Vocational Skills Certification Centre",
                document_number=learner.number,
                subject_id=f"urn:uuid:{learner.id}",
                title=title,
                credits=Decimal(credits),
                achievement_type="Certificate",
                eqf_level=level,
                result="pass",
                valid_from=datetime(2025, 3, 12, 12, tzinfo=UTC),
            )
        )
        data = self.graphql(
            self.mint(Role.INSTITUTION, self.centre()),
            """mutation($input: DepositCredentialInput!) {
                 depositCredential(input: $input) {
                   outcome { id status } errors { code message } } }""",
            input={"learnerId": learner.id, "credential": sign_vc_jwt(credential, key)},
        )
        outcome = data["depositCredential"]["outcome"]
        assert outcome["status"] == "DEPOSITED"
        return str(outcome["id"])

    def balance(self, learner: Learner) -> dict[str, Any]:
        """The balance as the learner reads it, with their own token."""
        data = self.graphql(
            learner.token,
            """query($id: ID!) { learner(id: $id) { account {
                 balance { total byLevel { level credits } byCategory { category credits } }
               } } }""",
            id=learner.id,
        )
        result: dict[str, Any] = data["learner"]["account"]["balance"]
        return result


@pytest.fixture
def bank(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Bank:
    """The served demo and its data directory (from the world the demo printed; else found by
    the log that printed this server's sign-in links)."""
    keys = demo.world.get("signingKeys")
    if keys:
        return Bank(demo, Path(keys).parent)
    for log in tmp_path_factory.getbasetemp().glob("portal*/serve.log"):
        if f"{demo.base}/app/login#token=" in log.read_text(errors="replace"):
            return Bank(demo, log.parent / "data")
    pytest.fail("the served demo's data directory is not known")


def item(portal: Portal, outcome_id: str) -> Locator:
    """The queue item of an outcome (its article, named by its heading)."""
    return portal.page.locator(f"article[aria-labelledby='o-{outcome_id}']")


def signed_in_as(browser: Browser, demo: Demo, shots: Path, token: str) -> Portal:
    """A second browser session, signed in with a token pasted on the sign-in page."""
    other = Portal(browser, demo, shots)
    other.open("/app/login")
    other.page.locator("#token").fill(token)
    other.page.get_by_role("button", name="Sign in").click()
    other.page.wait_for_load_state("load")
    return other


def decide(card: Locator, credits: str, level: str, category: str, justification: str = "") -> None:
    """Fills the card's "Decide as an officer" form and submits it."""
    form = card.locator("form.officer-decide")
    if not form.is_visible():
        card.locator("summary", has_text="Decide as an officer").click()
    form.get_by_label("Credits", exact=True).fill(credits)
    form.get_by_label("Level", exact=True).select_option(level)
    form.get_by_label("Category", exact=True).fill(category)
    if justification:
        form.get_by_label("Justification", exact=True).fill(justification)
    form.get_by_role("button", name="Recognise", exact=True).click()


def waiting_decision(portal: Portal, learner: str, title: str) -> Locator:
    """The item of a decision waiting for a second officer, by its learner and outcome."""
    items = portal.page.locator("section[aria-labelledby='decisions'] article")
    return items.filter(has_text=learner).filter(has_text=title)


def test_officer_recognises_a_pending_outcome_and_the_learner_sees_it(
    portal: Portal, bank: Bank
) -> None:
    zhou = bank.register("Zhou Min 周敏", verified=False)
    cloud = bank.deposit(zhou, "Cloud Operations (level 3) 云计算运维")
    assert bank.balance(zhou)["total"] == "0.00"

    page = portal.sign_in("officer")
    assert page.url.endswith("/app/officer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Officer's queues")
    # The demo's waiting outcomes, each with the rule that would decide it (or none).
    chen = page.locator("section.officer-learner", has_text="Chen Jing 陈静")
    algebra = chen.locator("article", has_text="Linear Algebra 线性代数")
    expect(algebra).to_contain_text("Huadong University courses: major credits at EQF 6")
    expect(algebra).to_contain_text("MATH-201")
    expect(chen.locator("article", has_text="Cloud Operations (level 3)")).to_contain_text(
        "No rule applies: an officer decides."
    )
    card = item(portal, cloud)
    expect(card).to_contain_text("No rule applies: an officer decides.")
    expect(card).to_contain_text("National Vocational Skills Certification Centre")
    section = page.locator(f"section[aria-labelledby='l-{zhou.id}']")
    expect(section).to_contain_text("Identity not verified")
    portal.accessible("officer-queues")

    # Her identity is not verified yet: the bank refuses, readably.
    decide(card, "3", "3", "elective")
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not do that")
    expect(page.get_by_role("alert")).to_contain_text(
        "the learner's identity must be verified before recognition"
    )
    expect(page.get_by_role("alert")).to_contain_text("IDENTITY_NOT_VERIFIED")
    portal.accessible("officer-refused")
    assert bank.balance(zhou)["total"] == "0.00"

    # The officer records the identity check, then recognises the certificate.
    portal.open("/app/officer")
    section = page.locator(f"section[aria-labelledby='l-{zhou.id}']")
    section.get_by_label("How the identity was checked").select_option("DOCUMENT_CHECKED")
    section.get_by_role("button", name="Record the identity check").click()
    expect(page.get_by_role("status")).to_contain_text("identity check was recorded")
    expect(page.locator(f"section[aria-labelledby='l-{zhou.id}']")).not_to_contain_text(
        "Identity not verified"
    )
    decide(item(portal, cloud), "3", "3", "elective")
    expect(page.get_by_role("status")).to_contain_text("The outcome was recognised")
    expect(item(portal, cloud)).to_have_count(0)
    portal.accessible("officer-recognised")

    # The learner sees the new balance.
    assert bank.balance(zhou) == {
        "total": "3.00",
        "byLevel": [{"level": 3, "credits": "3.00"}],
        "byCategory": [{"category": "elective", "credits": "3.00"}],
    }


def test_a_decision_beyond_its_bounds_waits_for_a_second_officer(
    portal: Portal, bank: Bank, browser: Browser, shots: Path
) -> None:
    he = bank.register("He Jun 何军", verified=True)
    cloud = bank.deposit(he, "Cloud Operations (level 3) 云计算运维")
    other = bank.deposit(he, "Linux Administration (level 3) Linux 系统管理")
    page = portal.sign_in("officer")

    # A proposal its officer withdraws.
    decide(item(portal, other), "6", "3", "elective", "two courses' worth of practice")
    expect(page.get_by_role("status")).to_contain_text("waits for a second officer")
    withdrawn = waiting_decision(portal, "He Jun", "Linux Administration")
    withdrawn.locator("summary", has_text="Withdraw").click()
    withdrawn.get_by_label("Reason", exact=True).fill("proposed on the wrong certificate")
    withdrawn.get_by_role("button", name="Withdraw", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The decision was declined")
    expect(waiting_decision(portal, "He Jun", "Linux Administration")).to_have_count(0)
    expect(item(portal, other)).to_contain_text("Decide as an officer")  # waiting again

    # Above the level the credential states: refused without a justification...
    decide(item(portal, cloud), "3", "4", "elective")
    expect(page.get_by_role("alert")).to_contain_text("give a written justification")
    portal.open("/app/officer")
    # ...proposed with one, waiting for another officer.
    decide(item(portal, cloud), "3", "4", "elective", "covers the EQF 4 cloud syllabus")
    expect(page.get_by_role("status")).to_contain_text("waits for a second officer")
    waiting = waiting_decision(portal, "He Jun", "Cloud Operations (level 3)")
    expect(waiting).to_contain_text("covers the EQF 4 cloud syllabus")
    expect(waiting).to_contain_text("officer:demo-officer")
    expect(waiting).to_contain_text("You proposed this decision")
    expect(waiting.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    expect(item(portal, cloud)).to_contain_text("A decision on it waits for a second officer")
    portal.accessible("officer-decision-waiting")
    assert bank.balance(he)["total"] == "0.00"

    second = signed_in_as(browser, bank.demo, shots, bank.mint(Role.OFFICER, "officer-qian"))
    try:
        assert second.page.url.endswith("/app/officer")
        card = waiting_decision(second, "He Jun", "Cloud Operations (level 3)")
        expect(card).to_contain_text("Cloud Operations (level 3)")
        expect(card).to_contain_text("EQF level 4")
        card.get_by_role("button", name="Approve", exact=True).click()
        expect(second.page.get_by_role("status")).to_contain_text("approved")
        expect(waiting_decision(second, "He Jun", "Cloud Operations (level 3)")).to_have_count(0)
        second.accessible("officer-decision-approved")
    finally:
        second.close()
    assert bank.balance(he)["byLevel"] == [{"level": 4, "credits": "3.00"}]


def test_prior_learning_is_assessed_against_a_standard_and_an_outcome_rejected(
    portal: Portal, bank: Bank
) -> None:
    lin = bank.register("Lin Tao 林涛", verified=True)
    applied = bank.graphql(
        lin.token,
        """mutation($input: ApplyForPriorLearningInput!) {
             applyForPriorLearning(input: $input) { outcome { id } errors { code message } } }""",
        input={
            "learnerId": lin.id,
            "title": "Network administration at the family firm",
            "completedOn": "2024-12-31",
            "description": "five years running the firm's routers and switches",
            "hours": "400",
            "evidence": [{"description": "employer's letter", "digest": "sha256:" + "ab" * 32}],
        },
    )["applyForPriorLearning"]["outcome"]["id"]
    other = bank.deposit(lin, "Forklift Operation 叉车操作", level=2, credits="2")

    page = portal.sign_in("officer")
    card = item(portal, applied)
    expect(card).to_contain_text("five years running the firm's routers and switches")
    expect(card).to_contain_text("employer's letter")
    expect(card).to_contain_text("sha256:abab")
    portal.accessible("officer-prior-learning")
    # Prior learning is assessed against a standard of the catalogue.
    expect(card.get_by_label("Standard", exact=True)).to_have_attribute("required", "")
    card.get_by_label("Credits", exact=True).fill("3")
    card.get_by_label("Level", exact=True).select_option("6")
    card.get_by_label("Category", exact=True).fill("major")
    card.get_by_label("Standard", exact=True).select_option("CS-NET-201")
    card.get_by_role("button", name="Recognise", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The outcome was recognised")
    expect(item(portal, applied)).to_have_count(0)

    rejected = item(portal, other)
    rejected.locator("summary", has_text="Reject").click()
    rejected.get_by_label("Reason (the learner sees it)").fill("not learning at a framework level")
    rejected.get_by_role("button", name="Reject", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("rejected")
    expect(item(portal, other)).to_have_count(0)

    record = bank.graphql(
        lin.token,
        """query($id: ID!) { learner(id: $id) { account {
             balance { total }
             transcript { edges { node { id status reason recognizedStandard } } } } } }""",
        id=lin.id,
    )["learner"]["account"]
    assert record["balance"]["total"] == "3.00"
    fates = {e["node"]["id"]: e["node"] for e in record["transcript"]["edges"]}
    assert fates[applied]["status"] == "RECOGNIZED"
    assert fates[applied]["recognizedStandard"] == "CS-NET-201"
    assert fates[other]["status"] == "REJECTED"
    assert fates[other]["reason"] == "not learning at a framework level"


def test_an_award_under_review_is_rescinded(portal: Portal, bank: Bank) -> None:
    officer = bank.officer
    song = bank.register("Song Li 宋丽", verified=True)
    certificate = bank.deposit(song, "Welding Safety 焊接安全", level=3, credits="3")
    bank.graphql(
        officer,
        """mutation($input: RecognizeOutcomeInput!) {
             recognizeOutcome(input: $input) { errors { code message } } }""",
        input={
            "learnerId": song.id,
            "outcomeId": certificate,
            "credits": "3",
            "level": 3,
            "category": "elective",
        },
    )
    name = f"Portal officer test certificate {uuid.uuid4().hex[:6]}"
    qualification = bank.graphql(
        officer,
        """mutation($input: CreateQualificationInput!) {
             createQualification(input: $input) {
               qualification { id } errors { code message } } }""",
        input={
            "name": name,
            "level": 3,
            "awardingInstitutionId": bank.centre(),
            "totalCredits": "3",
        },
    )["createQualification"]["qualification"]["id"]
    try:
        award = bank.graphql(
            song.token,
            """mutation($input: RedeemQualificationInput!) {
                 redeemQualification(input: $input) { award { id } errors { code message } } }""",
            input={"learnerId": song.id, "qualificationId": qualification},
        )["redeemQualification"]["award"]["id"]
        bank.graphql(
            bank.mint(Role.INSTITUTION, bank.centre()),
            """mutation($input: RevokeOutcomeInput!) {
                 revokeOutcome(input: $input) { errors { code message } } }""",
            input={"learnerId": song.id, "outcomeId": certificate, "reason": "issued in error"},
        )

        page = portal.sign_in("officer")
        card = page.locator(f"article[aria-labelledby='a-{award}']")
        expect(card).to_contain_text(name)
        expect(card).to_contain_text("revoked: issued in error")
        portal.accessible("officer-award-review")
        card.get_by_label("Rescind (the award ends; its credits are released)").check()
        card.get_by_label("Reason", exact=True).fill("its only credit was revoked")
        card.get_by_role("button", name="Record the review").click()
        expect(page.get_by_role("status")).to_contain_text("The award was rescinded")
        expect(page.locator(f"article[aria-labelledby='a-{award}']")).to_have_count(0)
        awards = bank.graphql(
            song.token,
            "query($id: ID!) { learner(id: $id) { account { awards { id status } } } }",
            id=song.id,
        )["learner"]["account"]["awards"]
        assert awards == [{"id": award, "status": "RESCINDED"}]
    finally:  # out of the catalogue the other tests read
        bank.graphql(
            officer,
            """mutation($input: RetireQualificationInput!) {
                 retireQualification(input: $input) { errors { code message } } }""",
            input={"qualificationId": qualification},
        )


def test_a_learner_is_refused_the_officer_page_readably(portal: Portal, demo: Demo) -> None:
    portal.sign_in("learner Wang Fang")
    answer = portal.page.goto(demo.base + "/app/officer", wait_until="load")
    assert answer is not None
    assert answer.status == 403
    expect(portal.page.get_by_role("heading", level=1)).to_have_text("We could not do that")
    expect(portal.page.get_by_role("alert")).to_contain_text("for officers only")
    portal.accessible("officer-forbidden")
    # Signed out: the sign-in page.
    anonymous = httpx.get(demo.base + "/app/officer", timeout=10)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/app/login"
    # A form posted by someone else's page is refused before anything is decided.
    refused = httpx.post(
        demo.base + "/app/officer/reject",
        data={"learner": "x", "outcome": "y", "reason": "z", "csrf": "guessed"},
        cookies={"creditbank_session": token_of(demo, "officer")},
        timeout=10,
    )
    assert refused.status_code == 403
    assert "did not come from this site" in refused.text


def test_the_queues_in_chinese(portal_zh: Portal) -> None:
    page = portal_zh.sign_in("officer")
    expect(page.get_by_role("heading", level=1)).to_have_text("审核员工作队列")
    expect(page.get_by_role("heading", name=re.compile("等待认定的学习成果"))).to_be_visible()
    portal_zh.accessible("officer-queues-zh")
