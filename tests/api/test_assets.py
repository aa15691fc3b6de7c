"""GraphiQL at /graphql needs nothing from another host: the page names only same-origin assets,
the bank serves each of them, the vendored files pull nothing further, and they are the exact
npm files that api/vendor/graphiql/PROVENANCE.md records."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from api.graphiql import STATIC_DIR
from tests.api.conftest import serve

# Attributes through which HTML makes a browser load something.
URL_ATTRS = {"src", "href", "srcset", "data", "poster", "action", "formaction", "background"}
# A URL naming a host: absolute (scheme://host) or protocol-relative (//host).
HOST_URL = r"""(?:[a-z][a-z0-9+.-]*:)?//[^\s"'`)<>]+"""
# Inline code that would load from a URL: import("..."), import ... from "...", fetch("..."),
# new Worker("..."), importScripts("...").
INLINE_LOAD = re.compile(
    r"""(?:\bimport\s*\(\s*|\bfrom\s+|\bimport\s+|\bfetch\s*\(\s*|\bWorker\s*\(\s*"""
    r"""|\bimportScripts\s*\(\s*)["'`](""" + HOST_URL + ")",
    re.IGNORECASE,
)
# CSS (or CSS inside JS) that would load from another host: url(...) and @import.
CSS_LOAD = re.compile(
    r"""(?:\burl\(\s*["']?\s*|@import\s+(?:url\(\s*)?["']?\s*)(""" + HOST_URL + ")",
    re.IGNORECASE,
)
CONTENT_TYPES = {".js": "javascript", ".css": "text/css"}
PROVENANCE = STATIC_DIR / "PROVENANCE.md"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|.*\|\s*`([0-9a-f]{64})`\s*\|\s*$", re.MULTILINE)


class Page(HTMLParser):
    """Collects every URL-bearing attribute, and the text of inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str, dict[str, str | None]]] = []  # tag, attr, url, attrs
        self.inline: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name, value in attrs:
            if name == "srcset" and value:  # "url 1x, url 2x"
                self.urls += [
                    (tag, name, c.split()[0], found) for c in value.split(",") if c.strip()
                ]
            elif name in URL_ATTRS and value:
                self.urls.append((tag, name, value.strip(), found))
        self._open = tag if tag in ("script", "style") and not found.get("src") else None

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.inline.append(data)


def off_host(url: str, origin: str) -> bool:
    """Whether loading ``url`` from a page of ``origin`` would reach another host."""
    if url.startswith("//"):
        return urlsplit("http:" + url).netloc != urlsplit(origin).netloc
    parts = urlsplit(url)
    if parts.scheme in ("", "data", "blob", "about", "javascript"):
        return False  # relative (same origin) or nothing fetched
    return f"{parts.scheme}://{parts.netloc}" != origin


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The assets do not depend on the database engine: SQLite alone.
    with serve("sqlite", tmp_path_factory.mktemp("assets") / "data", None) as served:
        yield served.base_url


@pytest.fixture(scope="module")
def page(base_url: str) -> Page:
    response = httpx.get(base_url + "/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    parsed = Page()
    parsed.feed(response.text)
    parsed.close()
    return parsed


def test_the_page_names_nothing_on_another_host(page: Page, base_url: str) -> None:
    foreign = [(tag, attr, url) for tag, attr, url, _ in page.urls if off_host(url, base_url)]
    assert not foreign, f"GraphiQL's page loads from other hosts: {foreign}"
    scripts = [m.group(1) for text in page.inline for m in INLINE_LOAD.finditer(text)]
    styles = [m.group(1) for text in page.inline for m in CSS_LOAD.finditer(text)]
    foreign_inline = [url for url in scripts + styles if off_host(url, base_url)]
    assert not foreign_inline, f"inline code loads from other hosts: {foreign_inline}"
    loaded = {url for tag, _, url, _ in page.urls if tag in ("script", "link")}
    assert any(url.endswith("graphiql.min.js") for url in loaded), loaded  # the page is GraphiQL


def test_every_asset_of_the_page_is_served_with_its_type_and_hash(
    page: Page, base_url: str
) -> None:
    assets = [
        (url, attrs)
        for _, _, url, attrs in page.urls
        if not url.startswith(("data:", "blob:", "about:", "javascript:"))
    ]
    assert len(assets) >= 7, assets  # React, ReactDOM, js-cookie, GraphiQL x2, explorer x2
    for url, attrs in assets:
        assert not off_host(url, base_url), f"{url}: on another host"
        response = httpx.get(urljoin(base_url + "/graphql", url), timeout=10)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        expected = CONTENT_TYPES.get(Path(urlsplit(url).path).suffix)
        assert expected, f"{url}: not a script or stylesheet"
        assert expected in response.headers["content-type"], (url, response.headers)
        integrity = attrs.get("integrity")
        if integrity:  # the browser enforces it; a mismatch would blank the page
            algorithm, _, digest = integrity.partition("-")
            actual = base64.b64encode(hashlib.new(algorithm, response.content).digest()).decode()
            assert actual == digest, f"{url}: integrity {integrity} != {algorithm}-{actual}"


def test_the_vendored_files_pull_nothing_from_other_hosts() -> None:
    scanned = [p for p in STATIC_DIR.rglob("*") if p.suffix in (".js", ".css")]
    assert len(scanned) >= 7, scanned
    for path in scanned:
        text = path.read_text(encoding="utf-8")
        loads = [m.group(1) for m in CSS_LOAD.finditer(text)]
        if path.suffix == ".css":
            loads += re.findall(r"@import\s+[^;]*", text)  # any @import: nothing is vendored
        assert not loads, f"{path.relative_to(STATIC_DIR)} loads {loads[:5]}"


def recorded_hashes() -> dict[str, str]:
    return dict(ROW.findall(PROVENANCE.read_text(encoding="utf-8")))


def test_provenance_lists_every_vendored_file_with_its_sha256() -> None:
    recorded = recorded_hashes()
    present = {
        p.relative_to(STATIC_DIR).as_posix()
        for p in STATIC_DIR.rglob("*")
        if p.is_file() and p != PROVENANCE
    }
    assert present == set(recorded), (
        f"not in PROVENANCE.md: {present - set(recorded)}; missing files: {set(recorded) - present}"
    )
    for name, sha256 in recorded.items():
        actual = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()
        assert actual == sha256, f"{name}: sha256 {actual}, PROVENANCE.md says {sha256}"
