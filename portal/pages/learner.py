"""The learner's pages: the lifetime record (timeline), the balance with its charts, progress
toward a chosen qualification (requirements met and missing, the study plan, the conversions
that would close them), awards, consents, and sharing (the signed transcript and single
credentials as files, a link and QR code to the public verify page).

``/app/learner`` is the signed-in learner's own page; ``/app/learners/{id}`` is any learner's,
for whoever the API lets read it (officers and auditors; an enterprise with consent in force,
within its scope). Everything is read and written through the GraphQL schema as the caller.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from api.auth import Principal, Role
from portal import i18n
from portal.charts import bars
from portal.gql import PageError, execute
from portal.render import page
from portal.session import CSRF_FIELD, posted_by, signed_in

router = APIRouter(prefix="/app", include_in_schema=False)

PAGE = 100  # items a query asks for at once (the API's largest page)

LEVELS = "framework { levels { level name nameZh } }"
OUTCOME = """
  id title kind level credits recognizedCredits availableCredits category status
  completedOn depositedAt reason statusUnknown underReview expired supersededBy
  standardCode recognizedStandard ruleVersion recognizedBy issuer { id name }
"""
TRANSCRIPT = f"""
  transcript(first: {PAGE}, after: $after) {{
    totalCount edges {{ node {{ {OUTCOME} }} }} pageInfo {{ hasNextPage endCursor }}
  }}
"""
HISTORY = f"""
  history(first: {PAGE}, after: $after) {{
    edges {{ node {{ version type at actor data }} }} pageInfo {{ hasNextPage endCursor }}
  }}
"""
# The page's first query: the whole record when the caller may read it all (``$whole``),
# consents when the caller may see them (``$consents``), the first page of the transcript (the
# rest, rarely needed, by MORE_TRANSCRIPT); the history by its own query (both in one would
# exceed the API's cost budget).
RECORD = f"""
query LearnerRecord($id: ID!, $whole: Boolean!, $consents: Boolean!, $after: String) {{
  {LEVELS}
  qualifications(first: {PAGE}) @include(if: $whole) {{
    edges {{ node {{ id name level active }} }}
  }}
  institutions(first: {PAGE}, kind: ENTERPRISE) @include(if: $consents) {{
    edges {{ node {{ id name active }} }}
  }}
  learner(id: $id) {{
    id displayName identityVerification erased mergedInto
    consents @include(if: $consents) {{
      scope expiresOn grantedAt organization {{ id name }}
    }}
    account {{
      stale @include(if: $whole)
      version @include(if: $whole)
      balance @include(if: $whole) {{
        total available redeemed
        byLevel {{ level credits }} byKind {{ kind credits }} byCategory {{ category credits }}
      }}
      awards @include(if: $whole) {{
        id status awardedAt creditsCounted qualificationVersion underReviewBecause
        reviews {{ decision reason at }}
        qualification {{ id name level }}
      }}
      {TRANSCRIPT}
    }}
  }}
}}
"""
MORE_TRANSCRIPT = f"""
query MoreTranscript($id: ID!, $after: String) {{
  learner(id: $id) {{ account {{ {TRANSCRIPT} }} }}
}}
"""
MORE_HISTORY = f"""
query MoreHistory($id: ID!, $after: String) {{
  learner(id: $id) {{ account {{ {HISTORY} }} }}
}}
"""
WHOLE = "query WholeRecord($id: ID!) { learner(id: $id) { account { version } } }"
OPTION = """
  ruleVersion outcomeIds sourceCredits credits category closes closer unmetAfter
  countedChange rule { id name }
"""
PROGRESS = f"""
query Progress($id: ID!, $qualification: ID!) {{
  qualification(id: $qualification) {{
    id name level version requirements awardingInstitution {{ name }}
  }}
  learner(id: $id) {{
    account {{
      progress(qualificationId: $qualification) {{
        met unmet notes creditsCounted redeemed award {{ status awardedAt }}
      }}
      conversionOptions(qualificationId: $qualification) {{ {OPTION} }}
      studyPlan(qualificationId: $qualification) {{
        met missing {{ requirement credits }} creditsToEarn
        terms {{ term startsOn credits }} earliestCompletion
        standards {{ code title credits }} routes {{ id name }}
      }}
    }}
  }}
}}
"""
GRANT = """
mutation Grant($input: GrantConsentInput!) {
  grantConsent(input: $input) { errors { code message } }
}
"""
REVOKE = """
mutation Revoke($input: RevokeConsentInput!) {
  revokeConsent(input: $input) { errors { code message } }
}
"""
EXPORT_TRANSCRIPT = """
mutation ExportTranscript($input: ExportTranscriptInput!) {
  exportTranscript(input: $input) { credential errors { code message } }
}
"""
EXPORT_OUTCOME = """
mutation ExportOutcome($input: ExportOutcomeInput!) {
  exportOutcome(input: $input) { credential errors { code message } }
}
"""
EXPORT_AWARD = """
mutation ExportAward($input: ExportAwardInput!) {
  exportAward(input: $input) { credential errors { code message } }
}
"""

# What the page says of the API's codes (English msgids; learner.po translates them).
KINDS = {
    "ACADEMIC_COURSE": "Academic course",
    "NON_DEGREE_COURSE": "Non-degree course",
    "VOCATIONAL_CERTIFICATE": "Vocational certificate",
    "PROFESSIONAL_QUALIFICATION": "Professional qualification",
    "MOOC": "Online course (MOOC)",
    "ENTERPRISE_TRAINING": "Enterprise training",
    "WORK_EXPERIENCE": "Work experience",
    "PRIOR_LEARNING": "Prior learning",
}
STATUSES = {
    "DEPOSITED": "Awaiting recognition",
    "RECOGNIZED": "Recognised",
    "REJECTED": "Rejected",
    "CONVERTED": "Converted",
    "REDEEMED": "Redeemed",
    "REVOKED": "Revoked",
    "SUPERSEDED": "Superseded",
}
AWARD_STATUSES = {"STANDING": "Standing", "UNDER_REVIEW": "Under review", "RESCINDED": "Rescinded"}
VERIFICATIONS = {
    "UNVERIFIED": "Not verified",
    "DOCUMENT_CHECKED": "Identity document checked",
    "ELECTRONIC_ID": "Verified by electronic ID",
}
SCOPES = {
    "OWN": "Only what the organisation issued",
    "TRAINING": "Enterprise training, from any issuer",
    "ALL": "The whole record",
}
DONE = {
    "consent-granted": "The consent was granted.",
    "consent-revoked": "The consent was revoked.",
}
# The account's events on the timeline: type -> (label, badge class). Others show their type.
EVENTS = {
    "Opened": ("Account opened", "opened"),
    "OutcomeDeposited": ("Credential deposited", "deposited"),
    "PriorLearningClaimed": ("Prior learning claimed", "deposited"),
    "OutcomeRecognized": ("Recognised", "recognized"),
    "RecognitionRejected": ("Rejected", "rejected"),
    "CreditsConverted": ("Converted", "converted"),
    "ConversionReversed": ("Conversion reversed", "superseded"),
    "CreditsRedeemed": ("Awarded", "met"),
    "AwardReaffirmed": ("Award reaffirmed", "met"),
    "AwardRescinded": ("Award rescinded", "revoked"),
    "OutcomeRevoked": ("Revoked", "revoked"),
    "OutcomeSuperseded": ("Superseded", "superseded"),
    "OutcomeQuestioned": ("Put under review", "warning"),
    "ReviewCleared": ("Review cleared", "recognized"),
    "StatusWatched": ("Status could not be checked", "warning"),
    "StatusEstablished": ("Status confirmed", "recognized"),
    "AppealLodged": ("Appeal lodged", "pending"),
    "AppealHeard": ("Appeal heard", "pending"),
    "DecisionProposed": ("Decision awaiting a second officer", "pending"),
    "DecisionApproved": ("Decision approved", "recognized"),
    "DecisionDeclined": ("Decision declined", "rejected"),
    "OutcomeTransferred": ("Transferred from a merged account", "converted"),
    "RecordsTransferred": ("Records transferred from a merged account", "converted"),
    "HandedOver": ("Merged into another account", "superseded"),
}
TIMELINE_SHOWN = 40  # the newest entries; the rest behind a disclosure
SHORTFALL = re.compile(r"^(?P<name>.+?): (?P<have>-?[\d.]+) of (?P<need>[\d.]+) credits")


# -- pages --------------------------------------------------------------------------------------
@router.get("/learner")
async def my_record(request: Request, qualification: str = "") -> Response:
    caller = await signed_in(request)
    if caller.role is not Role.LEARNER or not caller.subject:
        raise PageError(
            "FORBIDDEN", "this page is a learner's own record: open a learner's record by its id"
        )
    return await record(request, caller, caller.subject, qualification)


@router.get("/learners/{learner_id}")
async def learner_record(request: Request, learner_id: str, qualification: str = "") -> Response:
    caller = await signed_in(request)
    if caller.role is Role.LEARNER and learner_id == caller.subject:
        target = "/app/learner" + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(target, status_code=303)
    return await record(request, caller, learner_id, qualification)


@router.post("/learner/consents")
async def grant_consent(
    request: Request,
    organization: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[str, Form(max_length=20)] = "OWN",
    expires: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    caller = await posted_by(request, csrf)
    me = caller.subject or ""
    try:
        if not organization:
            raise PageError("INVALID_INPUT", "choose the organisation to give consent to")
        variables: dict[str, Any] = {"learnerId": me, "organizationId": organization}
        variables["scope"] = scope if scope in SCOPES else "OWN"
        if expires.strip():
            try:
                variables["expiresOn"] = date.fromisoformat(expires.strip()).isoformat()
            except ValueError:
                raise PageError(
                    "INVALID_INPUT", "the expiry is not a date (year-month-day)"
                ) from None
        await execute(request, caller, GRANT, {"input": variables})
    except PageError as refused:
        return await refusal(request, caller, refused, "consents")
    return RedirectResponse("/app/learner?done=consent-granted#consents", status_code=303)


@router.post("/learner/consents/revoke")
async def revoke_consent(
    request: Request,
    organization: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    caller = await posted_by(request, csrf)
    variables = {"learnerId": caller.subject or "", "organizationId": organization}
    try:
        await execute(request, caller, REVOKE, {"input": variables})
    except PageError as refused:
        return await refusal(request, caller, refused, "consents")
    return RedirectResponse("/app/learner?done=consent-revoked#consents", status_code=303)


@router.get("/learner/consents")
@router.get("/learner/consents/revoke")
async def back_to_consents(request: Request) -> Response:
    """Where a refused consent form left the browser (its language switch, a reload)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/app/learner{query}#consents", status_code=303)


@router.post("/learner/transcript")
async def download_transcript(
    request: Request, csrf: Annotated[str, Form(alias=CSRF_FIELD)] = ""
) -> Response:
    caller = await posted_by(request, csrf)
    data = await execute(
        request, caller, EXPORT_TRANSCRIPT, {"input": {"learnerId": caller.subject or ""}}
    )
    stamp = date.today().isoformat()
    return credential_file(data["exportTranscript"]["credential"], f"transcript-{stamp}.jwt")


@router.post("/learner/outcomes/{outcome_id}/credential")
async def download_outcome(
    request: Request, outcome_id: str, csrf: Annotated[str, Form(alias=CSRF_FIELD)] = ""
) -> Response:
    caller = await posted_by(request, csrf)
    variables = {"input": {"learnerId": caller.subject or "", "outcomeId": outcome_id}}
    data = await execute(request, caller, EXPORT_OUTCOME, variables)
    return credential_file(data["exportOutcome"]["credential"], f"credential-{outcome_id}.jwt")


@router.post("/learner/awards/{award_id}/credential")
async def download_award(
    request: Request, award_id: str, csrf: Annotated[str, Form(alias=CSRF_FIELD)] = ""
) -> Response:
    caller = await posted_by(request, csrf)
    variables = {"input": {"learnerId": caller.subject or "", "awardId": award_id}}
    data = await execute(request, caller, EXPORT_AWARD, variables)
    return credential_file(data["exportAward"]["credential"], f"award-{award_id}.jwt")


def credential_file(credential: str | None, name: str) -> Response:
    if not credential:
        raise PageError("INTERNAL", "the bank returned no credential")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return Response(
        credential,
        media_type="application/jwt",
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "Cache-Control": "no-store",
        },
    )


async def refusal(request: Request, caller: Principal, refused: PageError, at: str) -> Response:
    """The learner's page again, with the refusal next to the form that caused it (a refusal of
    who the caller is stays the error page)."""
    mine = caller.role is Role.LEARNER and caller.subject
    if refused.code in ("FORBIDDEN", "UNAUTHENTICATED") or not mine or not caller.subject:
        raise refused
    return await record(
        request, caller, caller.subject, "", refused=refused, refused_at=at, status=refused.status
    )


# -- the record ---------------------------------------------------------------------------------
async def record(
    request: Request,
    caller: Principal,
    learner_id: str,
    qualification: str,
    *,
    refused: PageError | None = None,
    refused_at: str = "",
    status: int = 200,
) -> Response:
    language = i18n.chosen(request)
    t = i18n.gettext(language)
    own = caller.role is Role.LEARNER and caller.subject == learner_id
    consents = own or caller.role in (Role.OFFICER, Role.AUDITOR)
    whole = True
    if caller.role is Role.ENTERPRISE:
        # Within its consent's scope only: the whole record when the scope is ALL (without
        # consent in force, the record query below is refused).
        try:
            await execute(request, caller, WHOLE, {"id": learner_id})
        except PageError as partial:
            if partial.code != "FORBIDDEN":
                raise
            whole = False
    variables = {"id": learner_id, "whole": whole, "consents": consents, "after": None}
    data = await execute(request, caller, RECORD, variables)
    learner = data.get("learner")
    if learner is None:
        raise PageError("NOT_FOUND", "there is no such learner")
    account = learner["account"]
    outcomes = [e["node"] for e in account["transcript"]["edges"]]
    outcomes += await remaining(
        request,
        caller,
        learner_id,
        account["transcript"]["pageInfo"],
        MORE_TRANSCRIPT,
        "transcript",
    )
    events: list[dict[str, Any]] = []
    if whole:
        first = {"hasNextPage": True, "endCursor": None}
        events = await remaining(request, caller, learner_id, first, MORE_HISTORY, "history")
    levels = {
        lv["level"]: lv["nameZh"] if language == "zh" else lv["name"]
        for lv in data["framework"]["levels"]
    }
    qualifications = [e["node"] for e in (data.get("qualifications") or {}).get("edges", [])]
    context: dict[str, Any] = {
        "learner": learner,
        "own": own,
        "whole": whole,
        "show_consents": consents,
        "levels": levels,
        "kinds": KINDS,
        "statuses": STATUSES,
        "award_statuses": AWARD_STATUSES,
        "verifications": VERIFICATIONS,
        "scopes": SCOPES,
        "outcomes": outcomes,
        "qualifications": qualifications,
        "refused": refused,
        "refused_at": refused_at,
        "done": DONE.get(request.query_params.get("done", "")),
        "base": "/app/learner" if own else f"/app/learners/{learner_id}",
        "shown": TIMELINE_SHOWN,
    }
    names = {o["id"]: o["title"] for o in outcomes}
    issuers = {o["issuer"]["id"]: o["issuer"]["name"] for o in outcomes}
    if whole:
        balance = account["balance"]
        context |= {
            "account": account,
            "balance": balance,
            "charts": balance_charts(balance, t),
            "awards": account["awards"],
            "timeline": timeline(events, names, issuers, qualifications),
        }
    else:
        context["timeline"] = deposits_only(outcomes)
    if consents:
        context["consents"] = learner["consents"]
        given = {c["organization"]["id"] for c in learner["consents"]}
        context["enterprises"] = [
            e["node"]
            for e in data["institutions"]["edges"]
            if e["node"]["active"] and e["node"]["id"] not in given
        ]
    if own:
        verify = request.app.state.settings.base_url + "/app/verify"
        context["verify_url"] = verify
        context["qr"] = segno.make(verify, error="m").svg_data_uri(
            scale=5, dark="#1b1f24", light="#ffffff", border=2
        )
    if whole and qualification:
        context["chosen"] = qualification
        context |= await progress(request, caller, learner_id, qualification, t, names)
    return page(request, "learner.html", caller, status=status, **context)


async def remaining(
    request: Request,
    caller: Principal,
    learner_id: str,
    info: dict[str, Any],
    document: str,
    field: str,
) -> list[dict[str, Any]]:
    """The pages after the one ``info`` describes, in order."""
    found: list[dict[str, Any]] = []
    while info["hasNextPage"]:
        variables = {"id": learner_id, "after": info["endCursor"]}
        connection = (await execute(request, caller, document, variables))["learner"]["account"][
            field
        ]
        found += [e["node"] for e in connection["edges"]]
        info = connection["pageInfo"]
    return found


def balance_charts(balance: dict[str, Any], t: Any) -> dict[str, Markup]:
    by_level = [(t("Level %(n)s", n=r["level"]), dec(r["credits"])) for r in balance["byLevel"]]
    by_kind = [(t(KINDS.get(r["kind"], r["kind"])), dec(r["credits"])) for r in balance["byKind"]]
    by_category = [(r["category"], dec(r["credits"])) for r in balance["byCategory"]]
    return {
        "level": bars(by_level, t("Credits by framework level")) if by_level else Markup(),
        "kind": bars(by_kind, t("Credits by kind of learning")) if by_kind else Markup(),
        "category": bars(by_category, t("Credits by category")) if by_category else Markup(),
    }


async def progress(
    request: Request,
    caller: Principal,
    learner_id: str,
    qualification: str,
    t: Any,
    names: dict[str, str],
) -> dict[str, Any]:
    """Progress toward the chosen qualification; a refusal (no such qualification) is shown in
    its section, the rest of the page stands."""
    try:
        data = await execute(
            request, caller, PROGRESS, {"id": learner_id, "qualification": qualification}
        )
    except PageError as refused:
        if refused.code in ("FORBIDDEN", "UNAUTHENTICATED"):
            raise
        return {"progress_refused": refused}
    chosen = data["qualification"]
    if chosen is None:
        return {"progress_refused": PageError("NOT_FOUND", "there is no such qualification")}
    account = data["learner"]["account"]
    found = account["progress"]
    rows = requirements(chosen["requirements"], found)
    for row in rows:
        row["label"] = requirement_label(row, t)
    charted = [r for r in rows if r["need"] is not None]
    chart = (
        bars(
            [(requirement_label(r, t), r["have"]) for r in charted],
            t("Credits counted toward each requirement, against what it requires"),
            targets=[r["need"] for r in charted],
        )
        if charted
        else Markup()
    )
    options = account["conversionOptions"]
    for option in options:
        option["sources"] = [names.get(i, i) for i in option["outcomeIds"]]
        option["closing"] = [requirement_label(named(line), t) for line in option["closes"]]
        option["nearer"] = [
            requirement_label(named(line), t)
            for line in option["closer"]
            if line not in option["closes"]
        ]
    return {
        "qualification": chosen,
        "progress": found,
        "requirements": rows,
        "progress_chart": chart,
        "options": options,
        "plan": account["studyPlan"],
    }


def requirements(stated: dict[str, Any], found: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per requirement of the qualification: what it requires, what counts toward it,
    met or how much is missing. The figures of an unmet one are the assessment's (its ``unmet``
    lines); a met one is met in full. Requirements the assessment adds (the level share) come
    last, as it names them."""
    unmet: dict[str, tuple[Decimal, Decimal] | None] = {}
    for line in found["unmet"]:
        match = SHORTFALL.match(line)
        if match:
            unmet[match["name"]] = (dec(match["have"]), dec(match["need"]))
        else:
            unmet[line.split(": ", 1)[0]] = None
    rows: list[dict[str, Any]] = []

    def add(name: str, need: Decimal | None, kind: str, arg: str = "") -> None:
        have: Decimal | None = need
        met = name not in unmet
        if not met:
            figures = unmet.pop(name)
            have, need = figures if figures is not None else (Decimal(0), need)
        elif kind == "total" and need is not None:
            have = max(need, dec(found["creditsCounted"]))
        missing = None if need is None or have is None else max(need - have, Decimal(0))
        rows.append(
            {"name": name, "kind": kind, "arg": arg, "need": need, "have": have, "met": met}
            | {"missing": missing}
        )

    add("total", dec(stated.get("total_credits")), "total")
    for minimum in stated.get("minimum_by_category") or []:
        category = str(minimum["category"])
        add(f"category {category}", dec(minimum["credits"]), "category", category)
    for minimum in stated.get("minimum_at_level") or []:
        level = str(minimum["level"])
        add(f"level {level} or above", dec(minimum["credits"]), "level", level)
    if stated.get("min_credits_from_awarding") is not None:
        add("awarding institution", dec(stated["min_credits_from_awarding"]), "awarding")
    for code in stated.get("required_standards") or []:
        add(f"required standard {code}", None, "standard", str(code))
    for name, figures in list(unmet.items()):  # what the assessment adds, as it names it
        found_as = named(name)
        add(name, None if figures is None else figures[1], found_as["kind"], found_as["arg"])
    return rows


def named(line: str) -> dict[str, Any]:
    """A requirement as the assessment names it ("category major: 1 of 60 credits...")."""
    name = line.split(": ", 1)[0]
    if name == "total":
        return {"kind": "total", "arg": ""}
    for prefix, kind in (
        ("category ", "category"),
        ("required standard ", "standard"),
        ("award ", "award"),
    ):
        if name.startswith(prefix):
            return {"kind": kind, "arg": name.removeprefix(prefix)}
    if (level := re.fullmatch(r"level (\d+) or above", name)) is not None:
        return {"kind": "level", "arg": level[1]}
    if name == "awarding institution":
        return {"kind": "awarding", "arg": ""}
    return {"kind": "other", "arg": name}


def requirement_label(row: dict[str, Any], t: Any) -> str:
    kind, arg = row["kind"], row["arg"]
    if kind == "total":
        return str(t("Total credits"))
    if kind == "category":
        return str(t("Category %(name)s", name=arg))
    if kind == "level":
        return str(t("Level %(n)s or above", n=arg))
    if kind == "awarding":
        return str(t("At the awarding institution"))
    if kind == "standard":
        return str(t("Standard %(code)s", code=arg))
    if kind == "award":
        return str(t("Award %(name)s", name=arg))
    return str(arg)


def timeline(
    events: list[dict[str, Any]],
    names: dict[str, str],
    issuers: dict[str, str],
    qualifications: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The account's events as the learner reads them, newest first."""
    named = {q["id"]: q["name"] for q in qualifications}
    entries = []
    for event in events:
        data = event.get("data") or {}
        kind = event["type"]
        if kind == "StatusWatched" and not data.get("unknown"):
            continue  # the credential's status list noted: nothing happened to the record
        label, badge = EVENTS.get(kind, (kind, "other"))
        outcome = str(data.get("outcome_id") or "")
        entry: dict[str, Any] = {
            "version": event["version"],
            "type": kind,
            "label": label,
            "badge": badge,
            "at": event["at"],
            "title": data.get("title") or names.get(outcome, ""),
            "data": data,
            "by": actor(event.get("actor"), issuers),
        }
        if kind == "CreditsConverted":
            entry["title"] = ", ".join(
                names.get(str(i), str(i)) for i in data.get("outcome_ids", [])
            )
        elif kind == "CreditsRedeemed":
            qid = str(data.get("qualification_id") or "")
            entry["title"] = named.get(qid, qid)
        entries.append(entry)
    entries.reverse()
    return entries


def deposits_only(outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A timeline from the outcomes the caller may see (an enterprise within its scope)."""
    entries = [
        {
            "version": None,
            "type": "OutcomeDeposited",
            "label": "Credential deposited",
            "badge": "deposited",
            "at": o["depositedAt"],
            "title": o["title"],
            "data": {"credits": o["credits"], "completed_on": o["completedOn"]},
            "by": {"who": "institution", "name": o["issuer"]["name"]},
        }
        for o in outcomes
    ]
    entries.sort(key=lambda e: str(e["at"]), reverse=True)
    return entries


def actor(value: str | None, issuers: dict[str, str]) -> dict[str, str] | None:
    """Who did it, as the timeline says it: an institution by name, a rule, an officer, the
    learner."""
    if not value:
        return None
    role, _, subject = value.partition(":")
    if role == "institution":
        return {"who": "institution", "name": issuers.get(subject, subject)}
    if role == "rule" or value == "rule":
        return {"who": "rule", "name": ""}
    if role in ("officer", "learner", "registrar", "auditor", "admin"):
        return {"who": role, "name": subject}
    return {"who": "other", "name": value}


def dec(value: object) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
