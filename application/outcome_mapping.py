"""What a verified Open Badges 3.0 credential says, as an outcome of the bank
(docs/credentials.md, "Mapping to an outcome"): its kind, credits, level, hours, when the learning
ended, whether it records a pass."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from application.credentials import VerifiedCredential, moment_of
from domain.errors import InvalidCredential
from domain.framework import Framework
from domain.institution import Institution
from domain.records import DepositedOutcome
from domain.values import InstitutionKind, OutcomeKind

# achievementType (OB 3.0 vocabulary) -> outcome kind; the issuer's kind can refine it.
ACHIEVEMENT_KINDS: dict[str, OutcomeKind] = {
    "Course": OutcomeKind.ACADEMIC_COURSE,
    "AssociateDegree": OutcomeKind.ACADEMIC_COURSE,
    "BachelorDegree": OutcomeKind.ACADEMIC_COURSE,
    "Certificate": OutcomeKind.VOCATIONAL_CERTIFICATE,
    "CertificateOfCompletion": OutcomeKind.NON_DEGREE_COURSE,
    "Certification": OutcomeKind.PROFESSIONAL_QUALIFICATION,
    "License": OutcomeKind.PROFESSIONAL_QUALIFICATION,
    "ApprenticeshipCertificate": OutcomeKind.VOCATIONAL_CERTIFICATE,
    "JourneymanCertificate": OutcomeKind.VOCATIONAL_CERTIFICATE,
    "MasterCertificate": OutcomeKind.VOCATIONAL_CERTIFICATE,
    "MicroCredential": OutcomeKind.NON_DEGREE_COURSE,
    "Badge": OutcomeKind.NON_DEGREE_COURSE,
    "LearningProgram": OutcomeKind.NON_DEGREE_COURSE,
    "ext:WorkExperience": OutcomeKind.WORK_EXPERIENCE,
}


def to_outcome(verified: VerifiedCredential, framework: Framework) -> DepositedOutcome:
    """Maps the credential to an outcome (docs/credentials.md documents the mapping)."""
    c = verified.credential
    credential_id = c.get("id")
    if not isinstance(credential_id, str) or not credential_id:
        raise InvalidCredential("the credential has no id", ("credential", "id"))
    subject = c["credentialSubject"]
    achievement = subject.get("achievement")
    if not isinstance(achievement, dict):
        raise InvalidCredential("credentialSubject.achievement is missing", ("credential",))
    hours = _hours(achievement)
    return DepositedOutcome(
        issuer_id=verified.issuer.id,
        credential_id=credential_id,
        kind=_kind(achievement, verified.issuer),
        title=str(achievement.get("name") or c.get("name") or "").strip() or credential_id,
        credits=_credits(subject.get("creditsEarned"), achievement, hours),
        completed_on=completed_on(c, subject, verified.valid_from),
        evidence_digest="",
        standard_code=achievement.get("humanCode") or None,
        level=_level(achievement, framework),
        hours=hours,
        result=_result(subject, achievement),
        key_id=verified.kid,
        issued_at=verified.valid_from,
        expires_at=verified.valid_until,
        passed=passed(subject, achievement),
    )


def _credits(earned: Any, achievement: dict[str, Any], hours: Decimal | None) -> Decimal:
    for value in (earned, achievement.get("creditsAvailable"), achievement.get("ECTS")):
        if value is None:
            continue
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise InvalidCredential("credits are not a number", ("credential",)) from None
    if hours is not None:
        return Decimal(0)  # hours alone: the framework's hours per credit give the credits
    raise InvalidCredential(
        "the credential states neither credits (creditsEarned/creditsAvailable) nor learning hours",
        ("credential",),
    )


def _kind(achievement: dict[str, Any], issuer: Institution) -> OutcomeKind:
    declared = ACHIEVEMENT_KINDS.get(str(achievement.get("achievementType")))
    if declared is OutcomeKind.WORK_EXPERIENCE:
        return declared  # an employer attests work experience as such, not as training
    if issuer.kind is InstitutionKind.ENTERPRISE:
        return OutcomeKind.ENTERPRISE_TRAINING
    if issuer.kind is InstitutionKind.MOOC_PLATFORM:
        return OutcomeKind.MOOC
    return declared or OutcomeKind.NON_DEGREE_COURSE


def completed_on(credential: dict[str, Any], subject: dict[str, Any], issued: datetime) -> date:
    """When the learning happened, not when the credential was signed: the subject's
    activityEndDate, else the credential's awardedDate, else the end of the subject's term, else
    the signing date (validFrom). A stated date after the signing is a contradiction and refused;
    a term is approximate, so its end is capped at the signing date."""
    for holder, name in ((subject, "activityEndDate"), (credential, "awardedDate")):
        value = holder.get(name)
        if value is None:
            continue
        day = moment_of(value, name).date()
        if day > issued.date():
            raise InvalidCredential(
                f"{name} {day} is after the credential was issued ({issued.date()})",
                ("credential", name),
            )
        return day
    term = subject.get("term")
    end = term_end(term) if isinstance(term, str) else None
    return min(end, issued.date()) if end is not None else issued.date()


_ACADEMIC_YEAR = re.compile(
    r"(\d{4})\s*[-–/]\s*(?:\d{4}|\d{2})(?!\d)\s*(?:学年)?\s*[-–/]?\s*(?:第\s*)?"
    r"(?:semester\s*|term\s*|s)?([12一二])(?!\d)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(19\d{2}|20\d{2})(?!\d)")
_SEASONS = (
    (("spring", "春"), (6, 30)),
    (("summer", "夏"), (8, 31)),
    (("fall", "autumn", "秋"), (12, 31)),
    (("winter", "冬"), (3, 31)),
)


def term_end(term: str) -> date | None:
    """The last day of a term as issuers write it: "2023-2024 第一学期" / "2023/24 S2" (an
    academic year: the first term ends in January, the second in July of its second year),
    "Fall 2024" / "2024年春季学期" (a season), or a bare year. None: not recognisable."""
    match = _ACADEMIC_YEAR.search(term)
    if match:
        second = int(match.group(1)) + 1
        first_term = match.group(2) in ("1", "一")
        return date(second, 1, 31) if first_term else date(second, 7, 31)
    year = _YEAR.search(term)
    if year is None:
        return None
    lowered = term.lower()
    for words, (month, day) in _SEASONS:
        if any(w in lowered for w in words):
            return date(int(year.group(1)), month, day)
    return date(int(year.group(1)), 12, 31)


# OB 3.0 ResultStatusType: only a completed result is credit.
UNFINISHED = frozenset({"Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"})
# Marks that mean a fail wherever they are written (compared case-insensitively).
FAIL_MARKS = frozenset({"F", "FAIL", "FAILED", "NP", "NO PASS", "不及格", "不合格", "未通过"})


def passed(subject: dict[str, Any], achievement: dict[str, Any]) -> bool | None:
    """Whether the credential records a pass: False for a result whose status is not
    Completed, for a value below its ResultDescription's requiredValue (in allowedValue order,
    low to high, or numerically), or for a universal fail mark; True when a result is judged
    against its requirement or completed; None when the credential says nothing."""
    results = subject.get("result")
    if not isinstance(results, list) or not results:
        return None
    descriptions = {
        d.get("id"): d for d in achievement.get("resultDescription") or [] if isinstance(d, dict)
    }
    verdict: bool | None = None
    for result in results:
        if not isinstance(result, dict):
            continue
        status = result.get("status")
        if status in UNFINISHED:
            return False
        value = result.get("value")
        if value is not None and str(value).strip().upper() in FAIL_MARKS:
            return False
        meets = _meets(value, descriptions.get(result.get("resultDescription")))
        if meets is False:
            return False
        if meets or status == "Completed":
            verdict = True
    return verdict


def _meets(value: Any, description: dict[str, Any] | None) -> bool | None:
    if value is None or description is None or description.get("requiredValue") is None:
        return None
    required = str(description["requiredValue"])
    allowed = description.get("allowedValue")
    if isinstance(allowed, list) and required in allowed and str(value) in allowed:
        return allowed.index(str(value)) >= allowed.index(required)
    try:
        return Decimal(str(value)) >= Decimal(required)
    except InvalidOperation:
        return None


def _level(achievement: dict[str, Any], framework: Framework) -> int | None:
    for alignment in achievement.get("alignment") or []:
        if not isinstance(alignment, dict):
            continue
        names = f"{alignment.get('targetType', '')} {alignment.get('targetFramework', '')}"
        if framework.key.upper() in names.upper():
            try:
                level = int(str(alignment.get("targetCode")))
            except ValueError:
                continue
            if 1 <= level <= framework.max_level:
                return level
    return None


HOURS_ALIGNMENT = "ext:LearningHours"


def _hours(achievement: dict[str, Any]) -> Decimal | None:
    """Notional learning hours: OB 3.0 has no term for them, so issuers state them as an
    alignment (terms every OB context defines, so Data Integrity proofs cover them) with
    ``targetType`` ext:LearningHours and the hours as ``targetCode``."""
    for alignment in achievement.get("alignment") or []:
        if isinstance(alignment, dict) and alignment.get("targetType") == HOURS_ALIGNMENT:
            try:
                hours = Decimal(str(alignment.get("targetCode")))
            except InvalidOperation:
                raise InvalidCredential(
                    "the learning hours are not a number", ("credential",)
                ) from None
            if not hours.is_finite():
                raise InvalidCredential("the learning hours are not a number", ("credential",))
            return hours
    return None


# Which of several results is the grade, by what its ResultDescription says it is (OB 3.0
# ResultType), most telling first.
GRADE_TYPES = (
    "LetterGrade",
    "GradePointAverage",
    "PercentScore",
    "ScaledScore",
    "RawScore",
    "Result",
    "Status",
)


def _result(subject: dict[str, Any], achievement: dict[str, Any]) -> str | None:
    """The grade, chosen by identifier and never by array position: a Data Integrity proof
    signs an RDF graph, in which ``result`` is a set (reordering it keeps the proof valid). A
    result tied to a ResultDescription (by its ``resultDescription`` id) is ranked by that
    description's resultType, ties by description id; results tied to none count only when
    they agree (several that differ state no grade unambiguously)."""
    results = [r for r in subject.get("result") or [] if isinstance(r, dict)]
    valued = [r for r in results if r.get("value") is not None]
    descriptions = {
        str(d.get("id")): d
        for d in achievement.get("resultDescription") or []
        if isinstance(d, dict) and d.get("id") is not None
    }

    def rank(r: dict[str, Any]) -> tuple[int, str]:
        described = descriptions[str(r.get("resultDescription"))]
        kind = str(described.get("resultType"))
        return (GRADE_TYPES.index(kind) if kind in GRADE_TYPES else len(GRADE_TYPES), kind)

    linked = [r for r in valued if str(r.get("resultDescription")) in descriptions]
    if linked:
        best = min((*rank(r), str(r.get("resultDescription"))) for r in linked)
        values = {
            str(r["value"]) for r in linked if (*rank(r), str(r.get("resultDescription"))) == best
        }
    else:
        values = {str(r["value"]) for r in valued}
    # Several different values in the same place: no order may choose among them.
    return values.pop()[:50] if len(values) == 1 else None
