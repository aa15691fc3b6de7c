"""The officer's queues: outcomes waiting for recognition (with the rule that would decide them),
prior-learning applications, decisions waiting for a second officer, awards and outcomes under
review; each with its evidence and the forms that decide it.

The API has no cross-account queue, so the page walks the learners (``Query.learners``) a few at
a time, within the query-cost limit, and reads each account's deposited outcomes, waiting
decisions and awards; past ``SCAN_LEARNERS`` learners it offers the next ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Principal, Role
from portal.gql import PageError, execute
from portal.render import page
from portal.session import CSRF_FIELD, check_csrf, signed_in

router = APIRouter(prefix="/app", include_in_schema=False)

SCAN_LEARNERS = 48  # learners a view; then a link to the next ones

# 4 learners a query, each with 10 deposited outcomes and 50 looked through for one under review:
# an estimated cost of about 3900 of the API's 5000 (api/graphql/limits.py).
QUEUES = """
query OfficerQueues($after: String) {
  learners(first: 4, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id displayName identityVerification erased mergedInto
      account {
        stale
        pendingDecisions {
          id action subjectId proposedBy justification proposedAt
          credits level category standardCode
        }
        awards {
          id status awardedAt creditsCounted qualificationVersion underReviewBecause
          reviews { decision reason by at }
          qualification { name level }
        }
        waiting: transcript(first: 10, status: DEPOSITED) {
          totalCount
          edges { node {
            id credentialId title kind level credits frameworkCredits hours completedOn
            depositedAt issuedAt validUntil standardCode passed expired statusUnknown
            underReview
            issuer { id name kind active }
            portfolio { description hours evidence { description url digest } }
          } }
        }
        all: transcript(first: 50) {
          pageInfo { hasNextPage endCursor }
          edges { node { id title status recognizedCredits underReview issuer { name } } }
        }
      }
    } }
  }
}
"""

MORE_OUTCOMES = """
query MoreOutcomes($id: ID!, $after: String) {
  learner(id: $id) { account {
    transcript(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { id title status recognizedCredits underReview issuer { name } } }
    }
  } }
}
"""

CATALOGUE = """
query OfficerCatalogue($after: String) {
  framework { levels { level name nameZh } }
  recognitionRules(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id name version active terms versions { version effectiveFrom terms } } }
  }
  standards(first: 100) { edges { node { code title level credits active } } }
}
"""

RECOGNIZE = """
mutation Recognize($input: RecognizeOutcomeInput!) {
  recognizeOutcome(input: $input) {
    outcome { id status }
    decision { id }
    errors { code message field }
  }
}
"""

REJECT = """
mutation Reject($input: RejectOutcomeInput!) {
  rejectOutcome(input: $input) { outcome { id status } errors { code message field } }
}
"""

APPROVE = """
mutation Approve($input: ApproveDecisionInput!) {
  approveDecision(input: $input) { outcomes { id status } errors { code message field } }
}
"""

DECLINE = """
mutation Decline($input: DeclineDecisionInput!) {
  declineDecision(input: $input) { outcomes { id status } errors { code message field } }
}
"""

REVIEW_AWARD = """
mutation ReviewAward($input: ReviewAwardInput!) {
  reviewAward(input: $input) { award { id status } errors { code message field } }
}
"""

VERIFY_IDENTITY = """
mutation VerifyIdentity($input: VerifyLearnerIdentityInput!) {
  verifyLearnerIdentity(input: $input) {
    learner { id identityVerification } errors { code message field }
  }
}
"""

CLEAR_REVIEW = """
mutation ClearReview($input: ClearOutcomeReviewInput!) {
  clearOutcomeReview(input: $input) { outcome { id } errors { code message field } }
}
"""

IDENTITY_METHODS = ("DOCUMENT_CHECKED", "ELECTRONIC_ID")
AWARD_DECISIONS = ("REAFFIRM", "RESCIND")


async def officer(request: Request) -> Principal:
    """The signed-in officer (others are refused)."""
    caller = await signed_in(request)
    if caller.role is not Role.OFFICER:
        raise PageError("FORBIDDEN", "the recognition queues are for officers only")
    return caller


@router.get("/officer")
async def queues(request: Request, after: str | None = None) -> Response:
    caller = await officer(request)
    catalogue = await read_catalogue(request, caller)
    found = await scan(request, caller, after or None)
    for group in found["waiting"]:
        for item in group["outcomes"]:
            item["rule"] = matching_rule(item, catalogue["rules"])
    return page(
        request,
        "officer.html",
        caller,
        done=request.query_params.get("done"),
        me=caller.actor,
        levels=catalogue["levels"],
        standards=catalogue["standards"],
        categories=catalogue["categories"],
        methods=IDENTITY_METHODS,
        **found,
    )


async def read_catalogue(request: Request, caller: Principal) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    after = None
    while True:
        data = await execute(request, caller, CATALOGUE, {"after": after})
        rules += [e["node"] for e in data["recognitionRules"]["edges"]]
        info = data["recognitionRules"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    standards = [e["node"] for e in data["standards"]["edges"] if e["node"]["active"]]
    categories = sorted({str(r["terms"].get("category")) for r in rules if r["terms"]})
    return {
        "levels": data["framework"]["levels"],
        "rules": rules,
        "standards": standards,
        "categories": categories,
    }


async def scan(request: Request, caller: Principal, after: str | None) -> dict[str, Any]:
    """Walks up to SCAN_LEARNERS learners from ``after``; the queues found on their accounts."""
    waiting: list[dict[str, Any]] = []
    prior: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    awards: list[dict[str, Any]] = []
    questioned: list[dict[str, Any]] = []
    scanned = 0
    more = True
    start = after
    while more and scanned < SCAN_LEARNERS:
        data = (await execute(request, caller, QUEUES, {"after": after}))["learners"]
        more, after = data["pageInfo"]["hasNextPage"], data["pageInfo"]["endCursor"]
        for edge in data["edges"]:
            learner = edge["node"]
            scanned += 1
            if learner["mergedInto"]:
                continue  # its records went to the survivor; it serves audits only
            account = learner.pop("account")
            who = {k: learner[k] for k in ("id", "displayName", "identityVerification")}
            deposited = [e["node"] for e in account["waiting"]["edges"]]
            proposed = {d["subjectId"] for d in account["pendingDecisions"]}
            for o in deposited:
                o["pending"] = o["id"] in proposed
            titles = {o["id"]: o["title"] for o in deposited}
            outcomes = [o for o in deposited if o["kind"] != "PRIOR_LEARNING"]
            if outcomes:
                waiting.append(
                    {
                        "learner": who,
                        "outcomes": outcomes,
                        "total": account["waiting"]["totalCount"],
                        "shown": len(deposited),
                        "stale": account["stale"],
                    }
                )
            prior += [
                {"learner": who, "outcome": o} for o in deposited if o["kind"] == "PRIOR_LEARNING"
            ]
            everything = [e["node"] for e in account["all"]["edges"]]
            page_info = account["all"]["pageInfo"]
            while page_info["hasNextPage"]:
                more_data = await execute(
                    request,
                    caller,
                    MORE_OUTCOMES,
                    {"id": learner["id"], "after": page_info["endCursor"]},
                )
                transcript = more_data["learner"]["account"]["transcript"]
                everything += [e["node"] for e in transcript["edges"]]
                page_info = transcript["pageInfo"]
            titles.update({o["id"]: o["title"] for o in everything})
            questioned += [
                {"learner": who, "outcome": o}
                for o in everything
                if o["underReview"] and o["status"] != "DEPOSITED"
            ]
            decisions += [
                {"learner": who, "decision": d, "subject": titles.get(d["subjectId"])}
                for d in account["pendingDecisions"]
            ]
            awards += [
                {"learner": who, "award": a}
                for a in account["awards"]
                if a["status"] == "UNDER_REVIEW"
            ]
    return {
        "counts": {"waiting": sum(len(g["outcomes"]) for g in waiting)},
        "waiting": waiting,
        "prior": prior,
        "decisions": decisions,
        "awards": awards,
        "questioned": questioned,
        "scanned": scanned,
        "next_after": after if more else None,
        "from_start": start is None,
    }


def matching_rule(outcome: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The recognition rule version that would decide the outcome, as the bank chooses it: of
    each rule in force, the version for the day the learning was completed, if its window admits
    that day and its criteria match; the higher priority, then the more specific, decides. (The
    bank still judges when it applies it: a rule cannot decide a failed or expired outcome.)"""
    if not outcome.get("completedOn"):
        return None
    day = date.fromisoformat(outcome["completedOn"][:10])
    candidates = []
    for rule in rules:
        if not rule["active"]:
            continue
        in_force = [
            v
            for v in rule["versions"]
            if v["effectiveFrom"] is None or date.fromisoformat(v["effectiveFrom"]) <= day
        ]
        if not in_force:
            continue
        version = in_force[-1]
        terms = version["terms"]
        if not _within(day, terms.get("valid_from"), terms.get("valid_until")):
            continue
        criteria = terms.get("criteria") or {}
        wanted = {
            "institution_id": outcome["issuer"]["id"],
            "kind": outcome["kind"],
            "standard_code": outcome.get("standardCode"),
        }
        if any(criteria.get(k) is not None and criteria[k] != v for k, v in wanted.items()):
            continue
        specificity = sum(criteria.get(k) is not None for k in wanted)
        candidates.append(
            ((int(terms.get("priority") or 0), specificity), {**rule, "applied": version})
        )
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0])[1]


def _within(day: date, start: str | None, end: str | None) -> bool:
    return (start is None or date.fromisoformat(start) <= day) and (
        end is None or day <= date.fromisoformat(end)
    )


def _text(value: str) -> str | None:
    return value.strip() or None


def _credits(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        Decimal(value.strip())
    except InvalidOperation:
        raise PageError("INVALID_INPUT", "the credits are a number, such as 3 or 1.5") from None
    return value.strip()


def _level(value: str) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise PageError("INVALID_INPUT", "the level is a whole number of the framework") from None


def back(done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/app/officer?done={done}{anchor}", status_code=303)


Text = Annotated[str, Form()]  # the API bounds and refuses text readably
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]


@router.post("/officer/recognise")
async def recognise(
    request: Request,
    learner: Text = "",
    outcome: Text = "",
    csrf: Csrf = "",
    mode: Text = "values",
    credits: Text = "",
    level: Text = "",
    category: Text = "",
    standard: Text = "",
    justification: Text = "",
) -> Response:
    check_csrf(request, csrf)
    caller = await officer(request)
    values: dict[str, Any] = {"learnerId": learner, "outcomeId": outcome}
    if mode != "rule":
        if not category.strip():
            raise PageError("INVALID_INPUT", "an officer's recognition names a category")
        values.update(
            credits=_credits(credits),
            level=_level(level),
            category=category.strip(),
            standardCode=_text(standard),
            justification=_text(justification),
        )
    data = await execute(request, caller, RECOGNIZE, {"input": values})
    waits = data["recognizeOutcome"]["decision"] is not None
    return back("proposed" if waits else "recognised", "#decisions" if waits else "")


async def act(
    request: Request, csrf: str, document: str, values: Callable[[], dict[str, Any]], done: str
) -> Response:
    """What every queue form but recognition does: the form's origin, the officer, the values
    (read after both, so a refused caller learns nothing of them), the mutation, back."""
    check_csrf(request, csrf)
    caller = await officer(request)
    await execute(request, caller, document, {"input": values()})
    return back(done)


def stated(text: str, message: str) -> str:
    """A reason the form must give (the API would refuse an empty one less readably)."""
    if not text.strip():
        raise PageError("INVALID_INPUT", message)
    return text.strip()


def chosen(value: str, allowed: Any, message: str) -> str:
    if value not in allowed:
        raise PageError("INVALID_INPUT", message)
    return value


@router.post("/officer/reject")
async def reject(
    request: Request, learner: Text = "", outcome: Text = "", csrf: Csrf = "", reason: Text = ""
) -> Response:
    return await act(
        request,
        csrf,
        REJECT,
        lambda: {
            "learnerId": learner,
            "outcomeId": outcome,
            "reason": stated(reason, "a rejection states its reason"),
        },
        "rejected",
    )


@router.post("/officer/decisions/approve")
async def approve(
    request: Request, learner: Text = "", decision: Text = "", csrf: Csrf = ""
) -> Response:
    values = {"learnerId": learner, "decisionId": decision}
    return await act(request, csrf, APPROVE, lambda: values, "approved")


@router.post("/officer/decisions/decline")
async def decline(
    request: Request, learner: Text = "", decision: Text = "", csrf: Csrf = "", reason: Text = ""
) -> Response:
    return await act(
        request,
        csrf,
        DECLINE,
        lambda: {
            "learnerId": learner,
            "decisionId": decision,
            "reason": stated(reason, "declining a decision states its reason"),
        },
        "declined",
    )


@router.post("/officer/awards/review")
async def review_award(
    request: Request,
    learner: Text = "",
    award: Text = "",
    csrf: Csrf = "",
    decision: Text = "",
    reason: Text = "",
) -> Response:
    return await act(
        request,
        csrf,
        REVIEW_AWARD,
        lambda: {
            "learnerId": learner,
            "awardId": award,
            "decision": chosen(
                decision, AWARD_DECISIONS, "choose to reaffirm or to rescind the award"
            ),
            "reason": stated(reason, "a review of an award states its reason"),
        },
        "reaffirmed" if decision == "REAFFIRM" else "rescinded",
    )


@router.post("/officer/identity")
async def verify_identity(
    request: Request, learner: Text = "", csrf: Csrf = "", method: Text = ""
) -> Response:
    return await act(
        request,
        csrf,
        VERIFY_IDENTITY,
        lambda: {
            "learnerId": learner,
            "method": chosen(method, IDENTITY_METHODS, "choose how the identity was checked"),
        },
        "verified",
    )


@router.post("/officer/review/clear")
async def clear_review(
    request: Request, learner: Text = "", outcome: Text = "", csrf: Csrf = "", reason: Text = ""
) -> Response:
    return await act(
        request,
        csrf,
        CLEAR_REVIEW,
        lambda: {
            "learnerId": learner,
            "outcomeId": outcome,
            "reason": stated(reason, "clearing a review states how the outcome was checked"),
        },
        "cleared",
    )
