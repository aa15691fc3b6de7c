"""The portal in a real browser: ``creditbank serve --demo`` (SQLite, a fresh data directory per
test worker) driven by the distribution's Chromium through Playwright, every request to another
host refused (the pages must work offline), axe-core run on each page.

Screenshots go to ``$CREDITBANK_SCREENSHOT_DIR`` when set (``docs/portal`` refreshes the ones in
docs/portal.md), else to the test's temporary directory (artifacts).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright

from api.auth import Role, TokenService, load_or_create_signing_key
from tests.conftest import IN_CI
from tests.e2e.support import served, sqlite_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = (Path(__file__).parent.parent / "vendor" / "axe.min.js").read_text()
TIMEOUT_MS = 20_000  # per step: generous for a loaded machine, never a hang
LINK = re.compile(r"^\s+(\w+ [^:]*|officer|auditor|admin): (http\S+/app/login#token=\S+)$", re.M)


@dataclass
class Demo:
    base: str
    links: dict[str, str]  # "learner Wang Fang" -> sign-in link
    world: dict[str, Any] = field(default_factory=dict)

    def token(self, who: str) -> str:
        """The token of a printed sign-in link."""
        return self.links[who].split("#token=")[1]

    def mint(self, role: Role, subject: str) -> str:
        """A token the served bank accepts (signed with its data directory's key, as
        ``creditbank token`` does)."""
        data_dir = Path(self.world["signingKeys"]).parent
        return TokenService(load_or_create_signing_key(data_dir)).mint(role, subject).token

    def graphql(self, token: str | None, query: str, **variables: Any) -> dict[str, Any]:
        """An operation over HTTP that must succeed (no error, no payload error)."""
        answer = httpx.post(
            self.base + "/graphql",
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


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo world served; the sign-in links it printed."""
    data = tmp_path_factory.mktemp("portal") / "data"
    log = data.parent / "serve.log"
    with served(sqlite_env(data), "--demo", log=log) as base:
        text = log.read_text()
        links = {m.group(1): m.group(2) for m in LINK.finditer(text)}
        assert "learner Wang Fang" in links, text[-2000:]
        import json

        start = text.index("\n{\n") + 1  # the demo's JSON (log records before it are JSON too)
        world = json.JSONDecoder().raw_decode(text[start:])[0]
        yield Demo(base, links, world)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail("Chromium is required in CI for the portal's browser tests")
        pytest.skip("no Chromium binary on PATH (apt-get install chromium)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=ARGS, timeout=30_000
        )
        yield launched
        launched.close()


class Portal:
    """One browser session (its own cookies) on the served demo."""

    def __init__(self, browser: Browser, demo: Demo, shots: Path, locale: str = "en-GB") -> None:
        self.demo, self.shots = demo, shots
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(locale=locale, accept_downloads=True)
        self.context.set_default_timeout(TIMEOUT_MS)
        origin = urlsplit(demo.base)[:2]

        def only_the_bank(route: Route, request: Request) -> None:
            if urlsplit(request.url)[:2] == origin or request.url.startswith("data:"):
                route.continue_()
            else:  # what the page would need the internet for
                self.blocked.append(request.url)
                route.abort("internetdisconnected")

        self.context.route("**/*", only_the_bank)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, path: str) -> Page:
        self.page.goto(self.demo.base + path, wait_until="load")
        return self.page

    def sign_in(self, who: str) -> Page:
        """Through the printed link: the login form filled from the fragment, then submitted."""
        self.page.goto(self.demo.links[who], wait_until="load")
        expect(self.page.locator("#token")).not_to_have_value("")
        self.page.get_by_role("button", name=re.compile("Sign in|登录")).click()
        self.page.wait_for_load_state("load")
        return self.page

    def accessible(self, name: str) -> None:
        """axe-core finds no violation (WCAG 2.1 A and AA rules) on the page as it stands; a
        screenshot of it is saved under ``name``."""
        self.page.evaluate(AXE + "\n;0")  # evaluated by the devtools protocol: CSP allows it
        violations = self.page.evaluate(
            """async () => (await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
                .map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' '))})`)"""
        )
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
        assert violations == [], f"{name}: {violations}"

    def close(self) -> None:
        self.context.close()
        assert not self.blocked, f"the page tried to reach other hosts: {self.blocked}"
        assert not self.errors, f"errors in the page: {self.errors}"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    chosen = os.environ.get("CREDITBANK_SCREENSHOT_DIR")
    folder = Path(chosen) if chosen else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def portal(browser: Browser, demo: Demo, shots: Path) -> Iterator[Portal]:
    session = Portal(browser, demo, shots)
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def portal_zh(browser: Browser, demo: Demo, shots: Path) -> Iterator[Portal]:
    """A browser whose language is Chinese."""
    session = Portal(browser, demo, shots, locale="zh-CN")
    try:
        yield session
    finally:
        session.close()
