"""The auditor's pages in a browser: the accounts, an account's events with who, when and which
rule version, the account at an earlier version (the slider) and at a moment (the date-time
picker) with its old balance, the difference between two versions, and the audit report.

Wang Fang's first versions are fixed by the demo (her Data Structures course deposited at
version 2 and recognised by the Huadong rule at version 3: 4 credits); later versions may be
added by other tests, so only those are asserted.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.portal.conftest import Demo, Portal

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

HUADONG_RULE = "Huadong University courses: major credits at EQF 6"


def account_of(portal: Portal, name: str) -> str:
    """The path of a learner's account page, as the auditor's list links it."""
    portal.open("/app/auditor")
    href = portal.page.get_by_role("link", name=name).get_attribute("href")
    assert href is not None
    assert href.startswith("/app/auditor/accounts/")
    return href


def test_auditor_moves_to_an_earlier_version_and_sees_the_old_balance_and_the_diff(
    portal: Portal, demo: Demo
) -> None:
    page = portal.sign_in("auditor")
    assert page.url.endswith("/app/auditor")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit")
    accounts = page.get_by_role("table", name="Learners' accounts, in registration order")
    expect(accounts).to_contain_text("Chen Jing 陈静")
    portal.accessible("auditor-accounts")

    accounts.get_by_role("link", name="Wang Fang 王芳").click()
    expect(page).to_have_url(re.compile(r"/app/auditor/accounts/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Account of Wang Fang 王芳")
    now = page.locator("#version").get_attribute("max")
    assert now is not None
    assert int(now) >= 22  # the demo's own history
    expect(page.locator("#shown")).to_contain_text(f"As it stood at version {now}")
    events = page.get_by_role("table", name=re.compile("The account's events, oldest first"))
    recognised = events.locator("tr", has=page.locator("th", has_text=re.compile(r"^3$")))
    expect(recognised).to_contain_text("OutcomeRecognized")
    expect(recognised).to_contain_text("Data Structures 数据结构")
    expect(recognised).to_contain_text(f"{HUADONG_RULE} — version 1")
    expect(recognised).to_contain_text("rule")  # who: the rule itself
    expect(recognised.locator(".auditor-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    deposited = events.locator("tr", has=page.locator("th", has_text=re.compile(r"^2$")))
    expect(deposited).to_contain_text("Huadong University 华东大学")  # who deposited it
    portal.accessible("auditor-account")

    # The slider: back to version 3 (the page follows it), and the balance then.
    page.locator("#version").fill("3")
    expect(page).to_have_url(re.compile(r"version=3"))
    expect(page.locator("#shown")).to_contain_text("As it stood at version 3")
    expect(page.locator(".auditor-figure")).to_have_text("4 credits in total")
    old = page.get_by_role("table", name="Balance at version 3")
    expect(old.locator("tr", has_text="Category major")).to_contain_text("4")
    expect(page.get_by_role("table", name="Outcomes at version 3")).to_contain_text(
        "Data Structures 数据结构"
    )
    portal.accessible("auditor-version")
    at_version_3 = page.locator("#at").input_value()

    # One step back, by the link (no script needed): the course is only deposited.
    page.get_by_role("link", name="Previous version").click()
    expect(page.locator("#shown")).to_contain_text("As it stood at version 2")
    expect(page.locator(".auditor-figure")).to_have_text("0 credits in total")

    # At a moment: the moment of version 3 gives version 3 again, from the current version.
    page.get_by_role("link", name="Current version").click()
    expect(page.locator("#shown")).to_contain_text(f"As it stood at version {now}")
    page.locator("#at").fill(at_version_3)
    page.get_by_role("button", name="Show the account then").click()
    expect(page.locator("#shown")).to_contain_text("As it stood at version 3")
    expect(page.locator(".auditor-figure")).to_have_text("4 credits in total")

    # The difference between versions 1 and 3.
    page.get_by_label("From version").fill("1")
    page.get_by_label("To version").fill("3")
    page.get_by_role("button", name="Compare").click()
    difference = page.locator("#difference")
    expect(difference).to_contain_text("From version 1 to version 3")
    expect(difference).to_contain_text("0 → 4 (change: +4)")
    between = difference.get_by_role("table", name="The events in between")
    expect(between.locator("tbody tr")).to_have_count(2)
    expect(between).to_contain_text("OutcomeDeposited")
    expect(between).to_contain_text(f"{HUADONG_RULE} — version 1")
    portal.accessible("auditor-diff")


def test_the_audit_report(portal: Portal) -> None:
    page = portal.sign_in("auditor")
    page.get_by_role("link", name=re.compile("Run the audit report")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit report")
    expect(page.get_by_role("status")).to_contain_text("Every chain holds")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Accounts walked")
    expect(page.get_by_role("heading", name="Problems")).to_be_visible()
    portal.accessible("auditor-report")


def test_a_version_the_account_never_had_is_a_readable_refusal(portal: Portal, demo: Demo) -> None:
    portal.sign_in("auditor")
    wang = account_of(portal, "Wang Fang 王芳")
    answer = portal.page.goto(f"{demo.base}{wang}?version=100000", wait_until="load")
    assert answer is not None
    assert answer.status == 404
    expect(portal.page.get_by_role("alert")).to_contain_text("NOT_FOUND")
    answer = portal.page.goto(f"{demo.base}{wang}?at=yesterday")
    assert answer is not None
    assert answer.status == 400
    expect(portal.page.get_by_role("alert")).to_contain_text("a date and a time")
    portal.accessible("auditor-refused")


def test_learners_and_the_auditor_are_kept_to_their_pages(portal: Portal, demo: Demo) -> None:
    portal.sign_in("auditor")
    wang = account_of(portal, "Wang Fang 王芳")
    answer = portal.page.goto(demo.base + "/app/officer", wait_until="load")
    assert answer is not None
    assert answer.status == 403
    portal.sign_in("learner Wang Fang")
    for path in ("/app/auditor", wang, "/app/auditor/report"):
        answer = portal.page.goto(demo.base + path, wait_until="load")
        assert answer is not None
        assert answer.status == 403, path
        expect(portal.page.get_by_role("alert")).to_contain_text("for auditors and officers")
    portal.accessible("auditor-forbidden")
    for path in ("/app/auditor", wang, "/app/auditor/report"):  # signed out: sign in
        anonymous = httpx.get(demo.base + path, timeout=10)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/app/login"


def test_the_audit_pages_in_chinese(portal_zh: Portal) -> None:
    page = portal_zh.sign_in("auditor")
    expect(page.get_by_role("heading", level=1)).to_have_text("审计")
    page.get_by_role("link", name="Wang Fang 王芳").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wang Fang 王芳 的账户")
    expect(page.get_by_role("heading", name="比较两个版本")).to_be_visible()
    portal_zh.accessible("auditor-account-zh")
