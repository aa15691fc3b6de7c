"""GraphiQL that works offline: strawberry's own page, its unpkg.com assets served by the bank.

The files under api/vendor/graphiql are the exact npm files the page names (PROVENANCE.md), laid
out as ``<name>@<version>/<path>``, so unpkg's ``https://unpkg.com/<name>@<version>/<path>`` maps
onto them by replacing the origin alone. A strawberry upgrade that changes a version then points
at a missing file, which tests/api/test_assets.py notices, rather than at some other version.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from strawberry.fastapi import GraphQLRouter
from strawberry.http.ides import get_graphql_ide_html

STATIC_DIR = Path(__file__).parent / "vendor" / "graphiql"
MOUNT = "/static/graphiql"
CDN = "https://unpkg.com/"


def page_html() -> str:
    """Strawberry's GraphiQL page with every unpkg.com URL made same-origin. The integrity
    attributes stay: the vendored files are byte-identical to the ones they hash."""
    return get_graphql_ide_html("graphiql").replace(CDN, MOUNT + "/")


# The page's inline <script> and <style> blocks (the ones with no src).
INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


@cache
def content_security_policy() -> str:
    """The page's CSP: scripts and styles from the bank itself (the vendored files) and the
    page's own inline blocks by their hashes (no 'unsafe-inline', no 'unsafe-eval'); queries go to
    the same origin; the favicon is a data: URL; nothing may frame it."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for tag, body in INLINE.findall(page_html()):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes[tag].append(f"'sha256-{digest}'")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self' " + " ".join(hashes["script"]),
            "style-src 'self' " + " ".join(hashes["style"]),
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def install(app: FastAPI, router: GraphQLRouter[Any, Any]) -> None:
    """Serves the vendored assets at /static/graphiql and makes ``router`` serve the page."""
    app.mount(MOUNT, StaticFiles(directory=STATIC_DIR), name="graphiql-static")
    html = page_html()  # built once; strawberry re-reads its template on every request

    async def render_graphql_ide(request: Request) -> HTMLResponse:
        return HTMLResponse(html)  # its CSP: content_security_policy(), by api.middleware

    # strawberry 0.341's ``graphql_ide_html`` is a read-only property (strawberry/http/base.py),
    # so it cannot be assigned; GraphQLRouter serves it from ``render_graphql_ide``, replaced
    # here on this one instance.
    router.render_graphql_ide = render_graphql_ide  # type: ignore[method-assign]
