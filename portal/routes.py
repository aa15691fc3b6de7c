"""The portal's shell: home, sign-in and sign-out, the public verify page, static assets, and the
areas' pages (``portal.pages``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.auth import ANONYMOUS
from api.middleware import BodyTooLarge
from portal.gql import PageError, execute
from portal.render import HOME, error_page, page
from portal.session import (
    CSRF_FIELD,
    SignInFirst,
    authenticate,
    check_csrf,
    principal,
    sign_in,
    sign_out,
)

STATIC = Path(__file__).parent / "static"
MAX_UPLOAD = 256 * 1024  # a credential, as the API accepts it

router = APIRouter(prefix="/app", include_in_schema=False)


def install(app: FastAPI) -> None:
    """Mounts the portal on the bank's app (api.app.create_app)."""
    from portal.pages import routers

    app.mount("/app/static", StaticFiles(directory=STATIC), name="portal-static")
    app.include_router(router)
    for area in routers():
        app.include_router(area)
    app.include_router(fallback)  # last: every other /app/ path

    @app.exception_handler(PageError)
    async def refused(request: Request, exc: PageError) -> HTMLResponse:
        return error_page(request, await principal(request), exc)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> HTMLResponse:
        """An upload through the portal's form past CREDITBANK_INTAKE_MAX_BYTES."""
        return error_page(request, await principal(request), PageError("INVALID_INPUT", str(exc)))

    @app.exception_handler(SignInFirst)
    async def sign_in_first(_: Request, __: SignInFirst) -> Response:
        return RedirectResponse("/app/login", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        """A form field too long or missing: a page for the portal, the usual JSON elsewhere."""
        if not request.url.path.startswith("/app/"):
            return await request_validation_exception_handler(request, exc)
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        message = "the form was not filled in as expected: " + ", ".join(fields)
        return error_page(request, await principal(request), PageError("INVALID_INPUT", message))


fallback = APIRouter(prefix="/app", include_in_schema=False)


@fallback.get("/{path:path}")
async def no_such_page(request: Request, path: str) -> Response:
    raise PageError("NOT_FOUND", "there is no such page")


@router.get("/")
async def home(request: Request) -> Response:
    caller = await principal(request)
    if caller.role is not None and caller.role in HOME:
        return RedirectResponse(HOME[caller.role], status_code=303)
    return page(request, "home.html", caller)


@router.get("/login")
async def login_form(request: Request) -> Response:
    return page(request, "login.html", await principal(request))


@router.post("/login")
async def login(
    request: Request,
    token: Annotated[str, Form(max_length=8192)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf)
    if not token.strip():
        return page(request, "login.html", ANONYMOUS, status=400, message="paste your access token")
    try:
        caller = await authenticate(request, token)
    except PageError as exc:
        return page(request, "login.html", ANONYMOUS, status=401, message=exc.message)
    response = RedirectResponse(HOME.get(caller.role, "/app/") if caller.role else "/app/", 303)
    sign_in(response, request, token)
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    check_csrf(request, csrf)
    response = RedirectResponse("/app/", status_code=303)
    sign_out(response)
    return response


VERIFY = """
query Verify($credential: String!) {
  verifyCredential(credential: $credential) {
    valid issuer revoked
    errors { code message field }
    warnings { rule code message }
    checks { name outcome message }
  }
}
"""


@router.get("/verify")
async def verify_form(request: Request) -> Response:
    return page(request, "verify.html", await principal(request))


@router.post("/verify")
async def verify(
    request: Request,
    credential: Annotated[str, Form(max_length=MAX_UPLOAD)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, csrf)
    caller = await principal(request)
    if upload is not None and upload.filename:
        raw = await upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise PageError(
                "INVALID_INPUT", "the file is larger than a credential can be (256 KiB)"
            )
        credential = raw.decode("utf-8", errors="replace")
    if not credential.strip():
        return page(
            request, "verify.html", caller, status=400, message="paste or upload a credential"
        )
    data = await execute(request, caller, VERIFY, {"credential": credential}, payload_errors=False)
    return page(
        request,
        "verify.html",
        caller,
        result=data["verifyCredential"],
        stated=stated(credential),
    )


def stated(credential: str) -> dict[str, Any]:
    """What the credential says of itself, for display next to the verdict (never trusted)."""
    text = credential.strip()
    try:
        if text.startswith("{"):
            document = json.loads(text)
        else:
            segment = text.split(".")[1]
            payload = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
            document = payload.get("vc", payload)
    except (ValueError, IndexError):
        return {}
    if not isinstance(document, dict):
        return {}
    subject = document.get("credentialSubject") or {}
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement") or {}
    achievement = achievement if isinstance(achievement, dict) else {}
    issuer = document.get("issuer")
    return {
        "issuer": issuer.get("name") if isinstance(issuer, dict) else issuer,
        "achievement": achievement.get("name") or document.get("name"),
        "validFrom": document.get("validFrom") or document.get("issuanceDate"),
        "validUntil": document.get("validUntil"),
        "status": bool(document.get("credentialStatus")),
    }
