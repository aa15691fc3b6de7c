"""The auditor's pages: the learners' accounts, each account's events (who, when, under which
rule version, its hash-chain link), the account as it stood at any version or moment, the
difference between two versions, and the audit report (hash chains and checkpoints).

Auditors and officers may read them (as the API lets them); nothing here changes anything.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.auth import Principal, Role
from portal.gql import PageError, execute
from portal.render import page
from portal.session import signed_in

router = APIRouter(prefix="/app", include_in_schema=False)

READERS = (Role.AUDITOR, Role.OFFICER)

LEARNERS = """
query AuditLearners($after: String) {
  learners(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id displayName identityVerification erased mergedInto
      account { version stale balance { total } }
    } }
  }
}
"""

REPORT = """
query AuditReport {
  auditReport { ok accounts events checkpointId checkpointPosition problems }
}
"""

ACCOUNT = """
query AuditAccount($id: ID!, $after: String) {
  learner(id: $id) {
    id displayName identityVerification erased mergedInto
    account {
      version stale
      balance { total available redeemed }
      history(first: 50, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { version type at actor data hash } }
      }
      transcript(first: 100) { edges { node { id title } } }
    }
  }
  recognitionRules(first: 100) { edges { node { id name } } }
  conversionRules(first: 100) { edges { node { id name } } }
  institutions(first: 100) { edges { node { id name } } }
}
"""

STATE = """
query AuditState($id: ID!, $version: Int, $at: DateTime) {
  learner(id: $id) { account { asOf(version: $version, at: $at) {
    version at
    balance {
      total available redeemed
      byLevel { level credits } byKind { kind credits } byCategory { category credits }
    }
    outcomes { id title status recognizedCredits level category }
    conversions { id targetCode credits category active }
    awards { id status creditsCounted qualification { name } }
  } } }
}
"""

DIFF = """
query AuditDiff($id: ID!, $from: Int!, $to: Int!) {
  learner(id: $id) { account { diff(fromVersion: $from, toVersion: $to) {
    totalChange availableChange
    before { version at balance { total available } }
    after { version at balance { total available } }
    events { version type at actor data }
  } } }
}
"""


async def reader(request: Request) -> Principal:
    caller = await signed_in(request)
    if caller.role not in READERS:
        raise PageError("FORBIDDEN", "the audit pages are for auditors and officers")
    return caller


@router.get("/auditor")
async def accounts(request: Request, after: str | None = None) -> Response:
    caller = await reader(request)
    data = (await execute(request, caller, LEARNERS, {"after": after or None}))["learners"]
    info = data["pageInfo"]
    return page(
        request,
        "auditor.html",
        caller,
        learners=[e["node"] for e in data["edges"]],
        next_after=info["endCursor"] if info["hasNextPage"] else None,
        from_start=not after,
    )


@router.get("/auditor/report")
async def report(request: Request) -> Response:
    caller = await reader(request)
    data = await execute(request, caller, REPORT)
    return page(request, "auditor_report.html", caller, report=data["auditReport"])


def _whole(value: str | None, name: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise PageError("INVALID_INPUT", f"{name} is a whole number") from None


def _moment(value: str | None) -> str | None:
    """A date-time input's value (no zone: UTC, as the page shows times) in ISO 8601."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PageError("INVALID_INPUT", "the moment is a date and a time (UTC)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def picker_value(at: str | None) -> str:
    """A moment for the date-time input (UTC, to the millisecond): rounded up, so that the
    account at that moment is the version shown (events are stamped to the microsecond)."""
    if not at:
        return ""
    moment = datetime.fromisoformat(at).astimezone(UTC)
    if moment.microsecond % 1000:
        moment += timedelta(microseconds=1000 - moment.microsecond % 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


@router.get("/auditor/accounts/{learner_id}")
async def account(
    request: Request,
    learner_id: str,
    version: str | None = None,
    at: str | None = None,
    after: str | None = None,
    from_version: str | None = None,  # the diff's
    to_version: str | None = None,
) -> Response:
    caller = await reader(request)
    data = await execute(request, caller, ACCOUNT, {"id": learner_id, "after": after or None})
    learner = data["learner"]
    if learner is None:
        raise PageError("NOT_FOUND", "there is no such learner")
    current = learner["account"]["version"]
    moment = _moment(at)
    asked = _whole(version, "the version")
    if moment is not None:
        variables: dict[str, Any] = {"id": learner_id, "at": moment}
    else:
        variables = {"id": learner_id, "version": asked if asked is not None else current}
    state = (await execute(request, caller, STATE, variables))["learner"]["account"]["asOf"]

    diff = None
    first = _whole(from_version, "the first version")
    second = _whole(to_version, "the second version")
    if first is not None and second is not None:
        found = await execute(
            request, caller, DIFF, {"id": learner_id, "from": first, "to": second}
        )
        diff = found["learner"]["account"]["diff"]

    rules = {
        e["node"]["id"]: e["node"]["name"]
        for kind in ("recognitionRules", "conversionRules")
        for e in data[kind]["edges"]
    }
    names = {
        f"institution:{e['node']['id']}": e["node"]["name"] for e in data["institutions"]["edges"]
    }
    titles = {
        e["node"]["id"]: e["node"]["title"] for e in learner["account"]["transcript"]["edges"]
    }
    titles.update({o["id"]: o["title"] for o in state["outcomes"]})
    history = learner["account"]["history"]
    return page(
        request,
        "auditor_account.html",
        caller,
        learner=learner,
        current=current,
        state=state,
        diff=diff,
        events=[describe(e["node"], rules, titles, names) for e in history["edges"]],
        diff_events=[describe(e, rules, titles, names) for e in diff["events"]] if diff else [],
        next_after=history["pageInfo"]["endCursor"] if history["pageInfo"]["hasNextPage"] else None,
        history_from_start=not after,
        at_value=picker_value(state["at"]),
        diff_from=first if first is not None else state["version"],
        diff_to=second if second is not None else current,
    )


def describe(
    event: dict[str, Any], rules: dict[str, str], titles: dict[str, str], names: dict[str, str]
) -> dict[str, Any]:
    """An event as the page shows it: what it is about, and the rule and version it applied."""
    data = event.get("data") or {}
    about = data.get("title") or titles.get(str(data.get("outcome_id")))
    if not about and data.get("outcome_ids"):
        about = ", ".join(titles.get(str(i), str(i)) for i in data["outcome_ids"])
    rule = None
    if data.get("rule_id"):
        rule = {
            "id": data["rule_id"],
            "name": rules.get(str(data["rule_id"])),
            "version": data.get("rule_version"),
        }
    standard = None
    if data.get("standard_code") and data.get("standard_version"):
        standard = f"{data['standard_code']} v{data['standard_version']}"
    return {
        **event,
        "about": about,
        "who": names.get(str(event.get("actor"))),
        "credits": data.get("credits"),
        "rule": rule,
        "standard": standard,
        "json": json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True),
    }
