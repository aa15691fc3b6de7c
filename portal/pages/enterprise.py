"""The enterprise's page: its consenting employees' training credits and hours by period (year or
month) and category, as charts and a table, and the same figures as a CSV download.

Everything comes from ``Query.organization``: the employees are the learners whose consent to the
enterprise is in force, seen only within the consented scope (the API decides; this page shows
what it answers). Officers and auditors may open an enterprise's page with ``?id=``.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.auth import Principal, Role
from portal import charts, i18n
from portal.gql import execute
from portal.pages.institution import refuse
from portal.render import page
from portal.session import signed_in

router = APIRouter(prefix="/app", include_in_schema=False)

PAGE = 100  # employees per GraphQL page (the API's largest)
MOST_PAGES = 100  # 10,000 employees: beyond that, the API with its cursors
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
GROUPINGS = ("year", "month")
# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): shown as text instead.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

ORGANIZATION = """
query Organization($id: ID!, $after: String, $from: String, $to: String) {
  organization(id: $id) {
    id name
    employees(first: 100, after: $after, periodFrom: $from, periodTo: $to) {
      edges { node {
        trainingCredits trainingHours
        learner { id displayName }
        byPeriod { period category credits hours }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

ENTERPRISES = """
query Enterprises { institutions(first: 100, kind: ENTERPRISE) { edges { node { id name } } } }
"""


@dataclass(frozen=True)
class Filters:
    by: str = "year"  # "year" or "month"
    start: str | None = None  # YYYY-MM, inclusive
    end: str | None = None

    def query(self) -> str:
        parts = [f"by={self.by}"]
        parts += [f"from={self.start}"] if self.start else []
        parts += [f"to={self.end}"] if self.end else []
        return "&".join(parts)


@dataclass
class Cell:
    credits: Decimal = Decimal(0)
    hours: Decimal = Decimal(0)
    employees: set[str] = field(default_factory=set)

    def add(self, learner: str, credits: Decimal, hours: Decimal) -> None:
        self.credits += credits
        self.hours += hours
        self.employees.add(learner)


@dataclass
class Report:
    """The employees and their training, within the filters."""

    organization: dict[str, Any]
    employees: list[dict[str, Any]]  # learner, trainingCredits, trainingHours, rows
    filters: Filters

    def rows(self) -> list[tuple[str, str, str, str | None, Decimal, Decimal]]:
        """(learner id, name, period, category, credits, hours), one per employee, period and
        category, in period order."""
        out: dict[tuple[str, str, str | None], list[Decimal]] = {}
        names: dict[str, str] = {}
        for employee in self.employees:
            learner = employee["learner"]
            names[learner["id"]] = learner["displayName"] or ""
            for r in employee["rows"]:
                key = (learner["id"], self.period(r["period"]), r["category"])
                sums = out.setdefault(key, [Decimal(0), Decimal(0)])
                sums[0] += Decimal(r["credits"])
                sums[1] += Decimal(r["hours"])
        ordered = sorted(out.items(), key=lambda kv: (kv[0][1], names[kv[0][0]], kv[0][2] or ""))
        return [(lid, names[lid], p, c, s[0], s[1]) for (lid, p, c), s in ordered]

    def period(self, month: str) -> str:
        return month[:4] if self.filters.by == "year" else month

    def cells(self) -> dict[tuple[str, str | None], Cell]:
        """(period, category) -> credits, hours and who trained."""
        return self._sum(lambda period, category: (period, category))

    def totals(self, by_category: bool = False) -> dict[Any, Cell]:
        """period (or category) -> credits, hours and who trained."""
        return self._sum(lambda period, category: category if by_category else period)

    def _sum(self, key: Any) -> dict[Any, Cell]:
        found: dict[Any, Cell] = defaultdict(Cell)
        for lid, _, period, category, credits, hours in self.rows():
            found[key(period, category)].add(lid, credits, hours)
        return dict(sorted(found.items(), key=lambda kv: _order(kv[0])))


def _order(key: Any) -> Any:
    """None (no category) last."""
    if isinstance(key, tuple):
        return tuple(_order(k) for k in key)
    return (key is None, key or "")


def filters(request: Request) -> Filters:
    """The period filters asked for; a malformed one is a readable refusal."""
    q = request.query_params
    by = q.get("by") or "year"
    start, end = q.get("from") or None, q.get("to") or None
    if by not in GROUPINGS:
        raise refuse(request, "INVALID_INPUT", "group by year or by month")
    for value in (start, end):
        if value is not None and not MONTH.match(value):
            raise refuse(request, "INVALID_INPUT", "a period is a month, written YYYY-MM")
    if start and end and start > end:
        raise refuse(request, "INVALID_INPUT", "the period starts after it ends")
    return Filters(by, start, end)


def organization_id(request: Request, caller: Principal) -> str | None:
    """Whose report: the enterprise itself, or (officers, auditors) the one chosen with ?id=.
    Whether the caller may read it is the API's to say."""
    asked = request.query_params.get("id")
    if asked:
        return asked.strip()
    if caller.role in (Role.OFFICER, Role.AUDITOR):
        return None  # they choose one first
    return caller.subject or ""


async def report(request: Request, caller: Principal, org: str, chosen: Filters) -> Report:
    """Every consenting employee (page by page) with their training within the filters."""
    variables: dict[str, Any] = {"id": org, "from": chosen.start, "to": chosen.end}
    employees: list[dict[str, Any]] = []
    organization: dict[str, Any] | None = None
    for _ in range(MOST_PAGES):
        data = await execute(request, caller, ORGANIZATION, variables)
        organization = data["organization"]
        if organization is None:
            raise refuse(request, "NOT_FOUND", "there is no such enterprise")
        connection = organization["employees"]
        for edge in connection["edges"]:
            node = edge["node"]
            # byPeriod is every month of the employee's training: the filters apply here too.
            node["rows"] = [
                r
                for r in node["byPeriod"]
                if (not chosen.start or r["period"] >= chosen.start)
                and (not chosen.end or r["period"] <= chosen.end)
            ]
            employees.append(node)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = connection["pageInfo"]["endCursor"]
    assert organization is not None
    employees.sort(key=lambda e: (e["learner"]["displayName"] or "", e["learner"]["id"]))
    return Report(organization, employees, chosen)


@router.get("/enterprise")
async def enterprise(request: Request) -> Response:
    caller = await signed_in(request)
    chosen = filters(request)
    org = organization_id(request, caller)
    if org is None:
        data = await execute(request, caller, ENTERPRISES)
        choices = [e["node"] for e in data["institutions"]["edges"]]
        return page(request, "enterprise_choose.html", caller, enterprises=choices)
    found = await report(request, caller, org, chosen)
    _ = i18n.gettext(i18n.chosen(request))
    by_period = found.totals()
    yearly = chosen.by == "year"
    heading = _("Training credits by year") if yearly else _("Training credits by month")
    hours_heading = _("Training hours by year") if yearly else _("Training hours by month")
    credits_chart = charts.bars([(p, c.credits) for p, c in by_period.items()], heading)
    hours_chart = charts.bars([(p, c.hours) for p, c in by_period.items()], hours_heading, _(" h"))
    return page(
        request,
        "enterprise.html",
        caller,
        organization=found.organization,
        employees=found.employees,
        cells=found.cells(),
        by_period=by_period,
        by_category=found.totals(by_category=True),
        filters=chosen,
        own=org == caller.subject,
        credits_chart=credits_chart,
        hours_chart=hours_chart,
        credits_heading=heading,
        hours_heading=hours_heading,
        total_credits=sum((Decimal(e["trainingCredits"]) for e in found.employees), Decimal(0)),
        total_hours=sum((Decimal(e["trainingHours"]) for e in found.employees), Decimal(0)),
    )


@router.get("/enterprise/training.csv")
async def training_csv(request: Request) -> Response:
    caller = await signed_in(request)
    chosen = filters(request)
    org = organization_id(request, caller)
    if org is None:
        raise refuse(request, "INVALID_INPUT", "choose an enterprise first")
    found = await report(request, caller, org, chosen)
    text = io.StringIO()
    text.write("\ufeff")  # a byte-order mark: spreadsheets then read the names as UTF-8
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["learner_id", "name", "period", "category", "credits", "hours"])
    for lid, name, period, category, credits, hours in found.rows():
        writer.writerow(cell(v) for v in (lid, name, period, category or "", credits, hours))
    slug = re.sub(r"[^a-z0-9]+", "-", str(found.organization["name"]).lower()).strip("-")
    filename = f"training-{slug or 'enterprise'}-{datetime.now(UTC).date().isoformat()}.csv"
    return Response(
        text.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def cell(value: object) -> str:
    """A CSV cell as text; one a spreadsheet would take for a formula starts with ' instead."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
