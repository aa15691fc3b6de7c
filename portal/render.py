"""Rendering a page: the language's templates, the caller, the CSRF value, readable errors."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.auth import Principal, Role
from portal import i18n
from portal.gql import PageError
from portal.session import csrf_token, keep_csrf

TEMPLATES = Path(__file__).parent / "templates"
VERSION = "1"  # of the static assets, in their URLs: a new release is fetched anew

# Where each role starts, and the pages its navigation offers (path, label).
HOME = {
    Role.LEARNER: "/app/learner",
    Role.ENTERPRISE: "/app/enterprise",
    Role.OFFICER: "/app/officer",
    Role.AUDITOR: "/app/auditor",
    Role.INSTITUTION: "/app/institution",
    Role.ADMIN: "/app/admin",
}


@cache
def environment(language: str, area: str = "") -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    gettext = i18n.gettext(language, area)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, lambda s, p, n, **v: gettext(s if n == 1 else p, **v), newstyle=True
    )
    env.globals.update(i18n.formatters(language))
    env.globals["lang"] = language
    env.globals["asset_version"] = VERSION
    return env


def page(
    request: Request, template: str, principal: Principal, status: int = 200, **context: Any
) -> HTMLResponse:
    language = i18n.chosen(request)
    area = template.split(".")[0].split("_")[0]  # learner_progress.html: the learner area
    html = (
        environment(language, area)
        .get_template(template)
        .render(
            request=request,
            principal=principal,
            home=HOME.get(principal.role) if principal.role else None,
            csrf=csrf_token(request),
            path=request.url.path,
            language_links={
                code: str(request.url.include_query_params(lang=code)) for code in i18n.LANGUAGES
            },
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    keep_csrf(response, request)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, request.query_params["lang"], samesite="strict", path="/app"
        )
    return response


def error_page(request: Request, principal: Principal, error: PageError) -> HTMLResponse:
    return page(request, "error.html", principal, status=error.status, error=error)
