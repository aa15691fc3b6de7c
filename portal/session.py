"""Signing in to the portal, and the forms' CSRF protection.

The session is the caller's bearer token (from `creditbank token`, or one an OpenID Connect
provider issued), checked exactly as the API checks it and kept in an HttpOnly, SameSite=Strict
cookie (Secure when the bank is served over https): page scripts never see it and no other site
can send it. Every form carries the value of a second cookie (double submit): a post without the
matching value is refused, whatever the browser.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.responses import Response

from api.auth import ANONYMOUS, AuthenticationError, Principal
from portal.gql import PageError

TOKEN_COOKIE = "creditbank_session"  # noqa: S105 - a cookie name
CSRF_COOKIE = "creditbank_csrf"
CSRF_FIELD = "csrf"


def secure(request: Request) -> bool:
    return bool(request.app.state.settings.base_url.lower().startswith("https://"))


async def principal(request: Request) -> Principal:
    """The signed-in caller (anonymous without a session; an expired or revoked token is
    signed out by the page that meets it)."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return ANONYMOUS
    try:
        return await authenticate(request, token)
    except PageError:
        return ANONYMOUS


class SignInFirst(Exception):
    """A page that needs a signed-in caller met none: the portal answers with the sign-in page
    (portal.routes), so that no page repeats that redirect."""


async def signed_in(request: Request) -> Principal:
    """The caller of a page that needs one (else ``SignInFirst``)."""
    caller = await principal(request)
    if caller.anonymous:
        raise SignInFirst
    return caller


async def posted_by(request: Request, submitted_csrf: str | None) -> Principal:
    """The caller of a posted form: the form's origin checked first, then the caller."""
    check_csrf(request, submitted_csrf)
    return await signed_in(request)


async def authenticate(request: Request, token: str) -> Principal:
    tokens = request.app.state.tokens
    try:
        caller: Principal = await tokens.authenticate(
            token.strip(), request.app.state.running.bank.database
        )
        return caller
    except AuthenticationError as exc:
        raise PageError("UNAUTHENTICATED", str(exc)) from None


def sign_in(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        TOKEN_COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=secure(request),
        path="/app",
        max_age=12 * 3600,
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(TOKEN_COOKIE, path="/app")


def csrf_token(request: Request) -> str:
    """The value this browser's forms carry (made on its first page)."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf", None)
    if not value:
        value = secrets.token_urlsafe(32)
        request.state.csrf = value
    return str(value)


def keep_csrf(response: Response, request: Request) -> None:
    """Sets the CSRF cookie when the page made it."""
    value = getattr(request.state, "csrf", None)
    if value and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            value,
            httponly=True,
            samesite="strict",
            secure=secure(request),
            path="/app",
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise PageError(
            "FORBIDDEN", "the form expired or did not come from this site: reload the page"
        )
