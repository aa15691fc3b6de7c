"""The portal's shell in a browser: the home page, signing in by a printed link, signing out,
the language switch, CSRF, and the public verify page."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.portal.conftest import Demo, Portal

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_home_and_sign_in_by_link_and_out(portal: Portal) -> None:
    page = portal.open("/app/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your learning, kept for life")
    portal.accessible("home")
    page = portal.sign_in("learner Wang Fang")
    assert page.url.endswith("/app/learner")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()


def test_a_bad_token_is_a_readable_message(portal: Portal) -> None:
    page = portal.open("/app/login")
    page.locator("#token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid bearer token")
    portal.accessible("login-refused")


def test_chinese_from_the_browser_and_switchable(portal_zh: Portal) -> None:
    page = portal_zh.open("/app/")
    expect(page.get_by_role("heading", level=1)).to_have_text("您的学习，终身留存")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your learning, kept for life")
    page = portal_zh.open("/app/verify")  # remembered
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify a credential")


def test_a_form_posted_from_elsewhere_is_refused(demo: Demo) -> None:
    token = demo.links["learner Wang Fang"].split("#token=")[1]
    answer = httpx.post(
        demo.base + "/app/login", data={"token": token, "csrf": "guessed"}, timeout=10
    )
    assert answer.status_code == 403
    assert (
        "set-cookie" not in answer.headers
        or "creditbank_session" not in answer.headers["set-cookie"]
    )
    assert "did not come from this site" in answer.text


def test_verify_page_shows_every_check(portal: Portal) -> None:
    page = portal.open("/app/verify")
    page.locator("#credential").fill("eyJhbGciOiJub25lIn0.e30.")
    page.get_by_role("button", name=re.compile("^Verify$")).click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("Not valid")
    expect(page.get_by_role("table")).to_contain_text("CredentialParseProbe")
    portal.accessible("verify-refused")


def test_a_form_field_too_long_is_a_readable_page(demo: Demo) -> None:
    with httpx.Client(base_url=demo.base, timeout=10) as client:
        client.get("/app/login")
        csrf = client.cookies["creditbank_csrf"]
        answer = client.post("/app/login", data={"token": "x" * 9000, "csrf": csrf})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "the form was not filled in as expected: token" in answer.text
    api = httpx.post(demo.base + "/graphql", content=b"{", timeout=10)
    assert api.headers["content-type"].startswith("application/json")  # the API's own answers
