"""The administrator's page: every registered institution, its signing keys and its status, and
suspending or reactivating it.

The list is public (``Query.institutions``), so any signed-in caller sees it; the forms are shown
to administrators, and the API refuses them to anyone else (``suspendInstitution`` and
``reactivateInstitution`` are ADMIN only).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Principal, Role
from portal.gql import PageError, execute
from portal.pages.institution import LABELS, every, with_key_status
from portal.render import page
from portal.session import CSRF_FIELD, posted_by, signed_in

router = APIRouter(prefix="/app", include_in_schema=False)

DONE = {"suspended", "reactivated"}

INSTITUTIONS = """
query Institutions($after: String) {
  institutions(first: 100, after: $after) {
    edges { node {
      id name kind active issuerUri
      keys { kid algorithm validFrom validUntil retiredAt revokedAt compromisedAt revocationReason }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
SUSPEND = """
mutation Suspend($input: SuspendInstitutionInput!) {
  suspendInstitution(input: $input) { institution { id active } errors { code message field } }
}
"""
REACTIVATE = """
mutation Reactivate($input: ReactivateInstitutionInput!) {
  reactivateInstitution(input: $input) { institution { id active } errors { code message field } }
}
"""


async def show(request: Request, caller: Principal, status: int = 200, **context: Any) -> Response:
    institutions = [
        with_key_status(i) for i in await every(request, caller, INSTITUTIONS, "institutions")
    ]
    done = request.query_params.get("done")
    named = request.query_params.get("institution")
    return page(
        request,
        "admin.html",
        caller,
        status=status,
        institutions=institutions,
        labels=LABELS,
        admin=caller.role is Role.ADMIN,
        done=done if done in DONE else None,
        done_to=next((i for i in institutions if i["id"] == named), None),
        suspended=sum(1 for i in institutions if not i["active"]),
        **context,
    )


@router.get("/admin")
async def admin(request: Request) -> Response:
    caller = await signed_in(request)
    return await show(request, caller)


@router.post("/admin/institutions/{institution_id}/suspend")
async def suspend(
    request: Request,
    institution_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    values = {"institutionId": institution_id, "reason": reason.strip()}
    return await act(request, csrf, SUSPEND, values, "suspended")


@router.post("/admin/institutions/{institution_id}/reactivate")
async def reactivate(
    request: Request, institution_id: str, csrf: Annotated[str, Form(alias=CSRF_FIELD)] = ""
) -> Response:
    return await act(request, csrf, REACTIVATE, {"institutionId": institution_id}, "reactivated")


async def act(
    request: Request, csrf: str, document: str, values: dict[str, Any], done: str
) -> Response:
    caller = await posted_by(request, csrf)
    try:
        await execute(request, caller, document, {"input": values})
    except PageError as refused:
        return await show(
            request, caller, refused.status, refusal=refused, refused_for=values["institutionId"]
        )
    query = urlencode({"done": done, "institution": values["institutionId"]})
    return RedirectResponse(
        f"/app/admin?{query}#institution-{values['institutionId']}", status_code=303
    )
