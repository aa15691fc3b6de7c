"""The institution's page: its profile, signing keys and credit scheme, its ledger (what it issued
and the conversions it accepted, newest first, by status, page by page), the agreements it is a
party to (accepting or declining those that wait for it), depositing a credential and revoking an
outcome it issued (from the form, or from the ledger's row).

What the API offers the INSTITUTION role decides what is here: it may deposit, revoke what it
issued, read its ledger, follow its uploads' jobs (``?job=<id>``: the counts, a progress bar and
the refused lines) and answer agreements; it cannot see the deposits refused for naming the
wrong learner (officers and auditors see those).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID as UUID_

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from api import intake
from api.auth import Principal, Role
from portal import i18n
from portal.gql import PageError, execute
from portal.render import page
from portal.session import CSRF_FIELD, posted_by, signed_in

router = APIRouter(prefix="/app", include_in_schema=False)

MAX_UPLOAD = 256 * 1024  # a credential, as the API accepts it
MOST_PAGES = 20
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
STATUSES = {"DEPOSITED", "RECOGNIZED", "REJECTED", "CONVERTED", "REDEEMED", "REVOKED", "SUPERSEDED"}
# The ledger's filter: an issued outcome's statuses, then an accepted conversion's.
LEDGER_STATUSES = (
    "DEPOSITED",
    "RECOGNIZED",
    "REJECTED",
    "CONVERTED",
    "REDEEMED",
    "REVOKED",
    "SUPERSEDED",
    "ACTIVE",
    "CANCELLED",
)
# Badge colours for the conversions' statuses (an outcome's status is its own class).
BADGES = {"ACTIVE": "ok", "CANCELLED": "not_applicable"}
DONE = {"deposited", "revoked", "accepted", "declined"}
# The API's enum values as people read them (translated by the templates' _()).
LABELS = {
    "UNIVERSITY": "University",
    "JUNIOR_COLLEGE": "Junior college",
    "VOCATIONAL_SCHOOL": "Vocational school",
    "ADULT_COLLEGE": "Adult college",
    "OPEN_UNIVERSITY": "Open university",
    "TRAINING_PROVIDER": "Training provider",
    "ENTERPRISE": "Enterprise",
    "CERTIFICATION_BODY": "Certification body",
    "MOOC_PLATFORM": "MOOC platform",
    "ACADEMIC_COURSE": "Academic course",
    "NON_DEGREE_COURSE": "Non-degree course",
    "VOCATIONAL_CERTIFICATE": "Vocational certificate",
    "PROFESSIONAL_QUALIFICATION": "Professional qualification",
    "MOOC": "MOOC",
    "ENTERPRISE_TRAINING": "Enterprise training",
    "WORK_EXPERIENCE": "Work experience",
    "PRIOR_LEARNING": "Prior learning",
    "AGREEMENT": "agreement",
    "FRAMEWORK": "framework rule",
    "DEPOSITED": "Deposited",
    "RECOGNIZED": "Recognised",
    "REJECTED": "Rejected",
    "CONVERTED": "Converted",
    "REDEEMED": "Redeemed",
    "REVOKED": "Revoked",
    "SUPERSEDED": "Superseded",
    "ACTIVE": "Conversion in effect",
    "CANCELLED": "Conversion cancelled",
}

PROFILE = """
query Institution($id: ID!) {
  institution(id: $id) {
    id name kind active issuerUri
    keys { kid algorithm validFrom validUntil retiredAt revokedAt compromisedAt revocationReason }
    creditSchemes { hoursPerCredit effectiveFrom table { native framework } }
  }
}
"""
INSTITUTIONS = """
query Institutions($after: String) {
  institutions(first: 100, after: $after) {
    edges { node { id name } } pageInfo { hasNextPage endCursor }
  }
}
"""
RULES = """
query Rules($after: String) {
  conversionRules(first: 100, after: $after) {
    edges { node {
      id name version model active inForce awaiting awaitingAcceptanceBy awaitingApproval terms
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
LEDGER = """
query Ledger($id: ID!, $after: String, $status: String) {
  institutionLedger(institutionId: $id, first: 20, after: $after, status: $status) {
    totalCount
    edges { node { id role learnerId title credits status at } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
DEPOSIT = """
mutation Deposit($input: DepositCredentialInput!) {
  depositCredential(input: $input) { outcome { id status } errors { code message field } }
}
"""
REVOKE = """
mutation Revoke($input: RevokeOutcomeInput!) {
  revokeOutcome(input: $input) { outcome { id status } errors { code message field } }
}
"""
ACCEPT = """
mutation Accept($input: AcceptConversionRuleInput!) {
  acceptConversionRule(input: $input) { rule { id inForce } errors { code message field } }
}
"""
INTAKE_JOB = """
query Job($id: ID!) {
  intakeJob(id: $id) {
    id state total processed accepted refused
    refusals(first: 50) { totalCount edges { node { line code message } } }
  }
}
"""
DECLINE = """
mutation Decline($input: DeclineConversionRuleInput!) {
  declineConversionRule(input: $input) { rule { id inForce } errors { code message field } }
}
"""


async def every(
    request: Request, caller: Principal, document: str, name: str
) -> list[dict[str, Any]]:
    """Every node of a connection, page by page (at most MOST_PAGES pages)."""
    nodes: list[dict[str, Any]] = []
    variables: dict[str, Any] = {}
    for _ in range(MOST_PAGES):
        connection = (await execute(request, caller, document, variables))[name]
        nodes += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = connection["pageInfo"]["endCursor"]
    return nodes


def refuse(request: Request, code: str, message: str) -> PageError:
    """A refusal of this portal's own, in the page's language (the API's stay as it words them)."""
    return PageError(code, i18n.gettext(i18n.chosen(request))(message))


def with_key_status(institution: dict[str, Any]) -> dict[str, Any]:
    """Each key's status ("revoked", "retired", "expired" or "in_use"), and how many are in use."""
    now = datetime.now(UTC)
    for key in institution.get("keys") or []:
        until = key.get("validUntil")
        key["status"] = (
            "revoked"
            if key.get("revokedAt")
            else "retired"
            if key.get("retiredAt")
            else "expired"
            if until and datetime.fromisoformat(until) <= now
            else "in_use"
        )
    institution["in_use"] = sum(1 for k in institution.get("keys") or [] if k["status"] == "in_use")
    return institution


def institution_of(request: Request, caller: Principal) -> str:
    if caller.role is not Role.INSTITUTION or not caller.subject:
        raise refuse(
            request,
            "FORBIDDEN",
            "this page is for institutions: sign in with an institution's token",
        )
    return caller.subject


async def show(request: Request, caller: Principal, status: int = 200, **context: Any) -> Response:
    """The page, with what a refused form needs to be shown again (``context``)."""
    me = institution_of(request, caller)
    profile = (await execute(request, caller, PROFILE, {"id": me}))["institution"]
    if profile is None:
        raise refuse(request, "NOT_FOUND", "this institution is not registered at the bank")
    with_key_status(profile)
    names = {i["id"]: i["name"] for i in await every(request, caller, INSTITUTIONS, "institutions")}
    agreements = [
        agreement(rule, me, names)
        for rule in await every(request, caller, RULES, "conversionRules")
        if me in parties(rule)
    ]
    q = request.query_params
    done = q.get("done") if q.get("done") in DONE else None
    # An outcome named in the address (by a deposit, or a ledger row's "Revoke"): the revocation
    # form holds it.
    named = None
    if UUID.match(q.get("outcome", "")) and UUID.match(q.get("learner", "")):
        named = {"learner": q["learner"], "outcome": q["outcome"]}
    deposited = None
    if done == "deposited" and named:
        status_ = q.get("status", "")
        deposited = {**named, "status": status_ if status_ in STATUSES else None}
    prefill = context.pop("prefill", None) or named or {}
    job = None
    if UUID.match(q.get("job", "")):  # an upload's job, followed here (POST /intake)
        job = (await execute(request, caller, INTAKE_JOB, {"id": q["job"]}))["intakeJob"]
    return page(
        request,
        "institution.html",
        caller,
        status=status,
        institution=profile,
        labels=LABELS,
        ledger=await ledger(request, caller, me),
        agreements=agreements,
        waiting=[a for a in agreements if a["waits_for_me"]],
        done=done,
        deposited=deposited,
        prefill=prefill,
        job=job,
        job_asked=q.get("job"),
        **context,
    )


async def ledger(request: Request, caller: Principal, me: str) -> dict[str, Any]:
    """A page of the institution's ledger, as the address asks (``ledger_status``,
    ``ledger_after``), with links that keep the filter (and the page, for a row's "Revoke")."""
    q = request.query_params
    status = q.get("ledger_status") if q.get("ledger_status") in LEDGER_STATUSES else None
    after = q.get("ledger_after") or None
    variables = {"id": me, "after": after, "status": status}
    found = (await execute(request, caller, LEDGER, variables))["institutionLedger"]
    filtered = {"ledger_status": status} if status else {}
    kept = {**filtered, "ledger_after": after} if after else filtered
    entries = [edge["node"] for edge in found["edges"]]
    for entry in entries:
        if entry["role"] == "ISSUED" and entry["status"] != "REVOKED":
            entry["revoke_href"] = here(
                "revoke", **kept, learner=entry["learnerId"], outcome=entry["id"]
            )
    more = found["pageInfo"]
    return {
        "entries": entries,
        "total": found["totalCount"],
        "status": status,
        "statuses": LEDGER_STATUSES,
        "badges": BADGES,
        "older_href": here("ledger", **filtered, ledger_after=more["endCursor"])
        if more["hasNextPage"]
        else None,
        "newest_href": here("ledger", **filtered) if after else None,
    }


def here(anchor: str, **query: str) -> str:
    return f"/app/institution?{urlencode(query)}#{anchor}"


def parties(rule: dict[str, Any]) -> set[str]:
    terms = rule.get("terms") or {}
    criteria = terms.get("criteria") or {}
    found = {
        str(terms.get("target_institution_id") or ""),
        str(criteria.get("institution_id") or ""),
    }
    return (found | {str(i) for i in rule.get("awaitingAcceptanceBy") or []}) - {""}


def agreement(rule: dict[str, Any], me: str, names: dict[str, str]) -> dict[str, Any]:
    terms = rule.get("terms") or {}
    criteria = terms.get("criteria") or {}
    source, target = criteria.get("institution_id"), terms.get("target_institution_id")
    waiting = [str(i) for i in rule.get("awaitingAcceptanceBy") or []]
    return {
        **rule,
        "source": names.get(str(source), str(source)) if source else None,
        "source_kind": criteria.get("kind"),
        "target": names.get(str(target), str(target)) if target else None,
        "target_code": terms.get("target_code"),
        "target_category": terms.get("target_category"),
        "ratio": terms.get("ratio"),
        "cap": terms.get("max_credits_per_learner"),
        "side": "target" if str(target) == me else "source",
        # A declined rule is retired, yet still names the parties it awaited: only an open one
        # waits for an answer.
        "waits_for_me": bool(rule.get("active")) and me in waiting,
        "waiting_for": [names.get(str(i), str(i)) for i in waiting if str(i) != me],
    }


@router.get("/institution")
async def institution(request: Request) -> Response:
    caller = await signed_in(request)
    return await show(request, caller)


def back(**query: str) -> RedirectResponse:
    anchor = "#revoke" if query.get("done") == "deposited" else ""
    return RedirectResponse(f"/app/institution?{urlencode(query)}{anchor}", status_code=303)


@router.post("/institution/deposit")
async def deposit(
    request: Request,
    learner: Annotated[str, Form(max_length=100)] = "",
    credential: Annotated[str, Form(max_length=MAX_UPLOAD)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    caller = await posted_by(request, csrf)
    institution_of(request, caller)
    kept = {"learner": learner.strip()}
    try:
        if upload is not None and upload.filename:
            raw = await upload.read(MAX_UPLOAD + 1)
            if len(raw) > MAX_UPLOAD:
                raise refuse(
                    request,
                    "INVALID_INPUT",
                    "the file is larger than a credential can be (256 KiB)",
                )
            credential = raw.decode("utf-8", errors="replace")
        if not learner.strip():
            raise refuse(request, "INVALID_INPUT", "give the learner's id")
        if not credential.strip():
            raise refuse(request, "INVALID_INPUT", "paste or upload the signed credential")
        data = await execute(
            request,
            caller,
            DEPOSIT,
            {"input": {"learnerId": learner.strip(), "credential": credential.strip()}},
        )
    except PageError as refused:
        return await show(
            request,
            caller,
            refused.status,
            refusal=refused,
            refused_form="deposit",
            deposit_form={**kept, "credential": credential},
        )
    outcome = data["depositCredential"]["outcome"]
    return back(
        done="deposited", outcome=outcome["id"], learner=learner.strip(), status=outcome["status"]
    )


@router.post("/institution/intake")
async def intake_upload(
    request: Request,
    upload: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    """A semester's NDJSON (``creditbank intake build``'s file) through the same intake as
    ``POST /intake``; the page then follows its job."""
    caller = await posted_by(request, csrf)
    me = institution_of(request, caller)
    if upload is None or not upload.filename:
        refusal = refuse(request, "INVALID_INPUT", "choose the file to upload")
        return await show(request, caller, refusal.status, refusal=refusal, refused_form="intake")

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(256 * 1024):
            yield chunk

    running = request.app.state.running
    job_id = await intake.receive(running, UUID_(me), caller.actor, chunks())
    return RedirectResponse(f"/app/institution?job={job_id}#intake", status_code=303)


@router.post("/institution/revoke")
async def revoke(
    request: Request,
    learner: Annotated[str, Form(max_length=100)] = "",
    outcome: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    caller = await posted_by(request, csrf)
    institution_of(request, caller)
    submitted = {"learner": learner.strip(), "outcome": outcome.strip(), "reason": reason}
    try:
        await execute(
            request,
            caller,
            REVOKE,
            {
                "input": {
                    "learnerId": learner.strip(),
                    "outcomeId": outcome.strip(),
                    "reason": reason.strip(),
                }
            },
        )
    except PageError as refused:
        return await show(
            request,
            caller,
            refused.status,
            refusal=refused,
            refused_form="revoke",
            prefill=submitted,
        )
    return back(done="revoked")


@router.post("/institution/agreements/{rule_id}/accept")
async def accept(
    request: Request, rule_id: str, csrf: Annotated[str, Form(alias=CSRF_FIELD)] = ""
) -> Response:
    return await answer(request, csrf, ACCEPT, {"ruleId": rule_id}, "accepted")


@router.post("/institution/agreements/{rule_id}/decline")
async def decline(
    request: Request,
    rule_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    return await answer(
        request, csrf, DECLINE, {"ruleId": rule_id, "reason": reason.strip()}, "declined"
    )


async def answer(
    request: Request, csrf: str, document: str, values: dict[str, Any], done: str
) -> Response:
    caller = await posted_by(request, csrf)
    institution_of(request, caller)
    try:
        await execute(request, caller, document, {"input": values})
    except PageError as refused:
        return await show(
            request, caller, refused.status, refusal=refused, refused_form=values["ruleId"]
        )
    return back(done=done)
