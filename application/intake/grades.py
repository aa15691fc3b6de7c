"""A registrar's CSV of grades as signed OB 3.0 credentials, one NDJSON line per row.

This runs on the institution's machine, with its own key: the bank never signs for an
institution. A TOML template (docs/intake-csv.md) names, for each field of the achievement
description that ``creditbank credential sign`` accepts
(``application.issuing.DESCRIPTION_FIELDS``), either the CSV column it is read from or a constant
for every row. Each row becomes a description, then a credential and a VC-JWT through
``application.issuing`` (``from_description`` and ``sign_vc_jwt``: the same code as
``credential sign``), and a line ``{"learnerId": ..., "credential": ...}`` for ``POST /intake``.

A row that cannot be built is reported cell by cell (``RowProblem``: the data row, counted from
1 after the header, its line in the file, and the column), never half-built. Everything a row
becomes is derived from the row: the credential id from issuer + course code + term + learner
(``credential_id``), the subject id and the identity hash's salt from it, and ``validFrom`` is
stated by the template, never "now". So a CSV built twice gives the same credential ids and the
same ``validFrom``, and the bank takes a second upload of them as a repeat, not as an update.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tomllib
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from application.issuing import IssuerKey, from_description, sign_vc_jwt
from application.text import UNSAFE_TEXT
from domain.errors import DomainError
from domain.learner import DOCUMENT_TYPES

# OB 3.0's vocabularies, as the shipped schema (application/standards) states them; a test keeps
# these equal to the schema's enums.
ACHIEVEMENT_TYPES = frozenset(
    {
        "Achievement",
        "ApprenticeshipCertificate",
        "Assessment",
        "Assignment",
        "AssociateDegree",
        "Award",
        "Badge",
        "BachelorDegree",
        "Certificate",
        "CertificateOfCompletion",
        "Certification",
        "CommunityService",
        "Competency",
        "Course",
        "CoCurricular",
        "Degree",
        "Diploma",
        "DoctoralDegree",
        "Fieldwork",
        "GeneralEducationDevelopment",
        "JourneymanCertificate",
        "LearningProgram",
        "License",
        "Membership",
        "ProfessionalDoctorate",
        "QualityAssuranceCredential",
        "MasterCertificate",
        "MasterDegree",
        "MicroCredential",
        "ResearchDoctorate",
        "SecondarySchoolDiploma",
    }
)
EXTENSION_TYPE = re.compile(r"ext:[A-Za-z0-9.\-_]+")
RESULT_STATUSES = (
    "Completed",
    "Enrolled",
    "Failed",
    "InProgress",
    "OnHold",
    "Provisional",
    "Withdrew",
)
EQF_LEVELS = range(1, 9)
MAX_TEXT = 500  # a title, grade or term longer than this is a mistake in the export
MAX_DOCUMENT_NUMBER = 64  # as the bank registers them (application.commands.learners)

# Credential and subject ids are name-based UUIDs (RFC 9562 v5) in this namespace.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://creditbank.example/intake/grades")
SEPARATOR = "\x1f"  # between the parts of a name: no part can contain it (checked)


class TemplateError(ValueError):
    """A template that cannot be used, or a CSV whose header does not fit it: every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# -- values ---------------------------------------------------------------------------------------
class CellError(ValueError):
    """A cell (or a constant) that is not what its field needs; the message quotes the value."""


def _folded(value: str) -> str:
    """Full-width digits and letters folded (３.５ is 3.5), surrounding spaces dropped."""
    return unicodedata.normalize("NFKC", value).strip()


def _text(value: str) -> str:
    text = " ".join(value.split())
    if UNSAFE_TEXT.search(text) or SEPARATOR in text:
        raise CellError(f"{value!r} holds characters a credential cannot carry")
    if len(text) > MAX_TEXT:
        raise CellError(f"is longer than {MAX_TEXT} characters")
    return text


def _number(value: str, *, positive: bool = False) -> Decimal:
    try:
        amount = Decimal(_folded(value).replace(",", ""))
    except InvalidOperation:
        raise CellError(f'"{value}" is not a number') from None
    if not amount.is_finite():
        raise CellError(f'"{value}" is not a number')
    if amount < 0 or (positive and amount == 0):
        raise CellError(f'"{value}" is not a {"positive" if positive else "non-negative"} number')
    return amount


def _credits(value: str) -> Decimal:
    return _number(value)


def _hours(value: str) -> Decimal:
    return _number(value, positive=True)


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _date(value: str) -> date:
    match = _DATE.fullmatch(_folded(value))
    try:
        if match is None:
            raise ValueError
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise CellError(f'"{value}" is not a date (write YYYY-MM-DD)') from None


def _moment(value: str) -> datetime:
    """An ISO 8601 date-time with its timezone; a date alone is its midnight UTC."""
    text = _folded(value)
    if _DATE.fullmatch(text):
        return datetime.combine(_date(text), datetime.min.time(), UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CellError(
            f'"{value}" is not a date-time (write 2025-01-20T09:00:00+08:00, or a date)'
        ) from None
    if moment.tzinfo is None:
        raise CellError(f'"{value}" needs a timezone (e.g. +08:00 or Z)')
    return moment


def _learner(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(_folded(value))
    except ValueError:
        raise CellError(f'"{value}" is not a bank learner id (a UUID)') from None


def _document_type(value: str) -> str:
    kind = _folded(value).upper().replace(" ", "_").replace("-", "_")
    if kind not in DOCUMENT_TYPES:
        raise CellError(f'"{value}" is not one of {", ".join(sorted(DOCUMENT_TYPES))}')
    return kind


def _document_number(value: str) -> str:
    number = _text(value)
    if not any(c.isalnum() for c in number):
        raise CellError(f'"{value}" is not an identity document number')
    if len(number) > MAX_DOCUMENT_NUMBER:
        raise CellError(f"is longer than {MAX_DOCUMENT_NUMBER} characters")
    return number


def _level(value: str) -> int:
    try:
        level = int(_folded(value))
    except ValueError:
        level = 0
    if level not in EQF_LEVELS:
        raise CellError(f'"{value}" is not an EQF level (a whole number from 1 to 8)')
    return level


def _kind(value: str) -> str:
    kind = _folded(value)
    if kind not in ACHIEVEMENT_TYPES and not EXTENSION_TYPE.fullmatch(kind):
        raise CellError(
            f'"{value}" is not an OB 3.0 achievementType (e.g. Course, Certificate, '
            "MicroCredential, or ext:YourOwn)"
        )
    return kind


def _status(value: str) -> str:
    folded = _folded(value)
    for status in RESULT_STATUSES:
        if folded.lower() == status.lower():
            return status
    raise CellError(f'"{value}" is not one of {", ".join(RESULT_STATUSES)}')


@dataclass(frozen=True)
class Field:
    """A template field: what it is, how a cell is read, and where it goes in the description."""

    help: str
    parse: Callable[[str], Any]
    required: bool = False


FIELDS: dict[str, Field] = {
    "learner_id": Field(
        "the learner's id at the bank (a UUID): the NDJSON line's learnerId", _learner, True
    ),
    "identity_number": Field(
        "the learner's identity document number, carried hashed in the subject (recipient."
        "identityNumber): the bank checks it is the learner's",
        _document_number,
        True,
    ),
    "identity_type": Field(
        f"the document's type, checked ({', '.join(sorted(DOCUMENT_TYPES))}); the bank matches "
        "the number whatever the type, so the credential does not carry it",
        _document_type,
    ),
    "course_code": Field("the course code (achievement.code, humanCode)", _text, True),
    "title": Field("the course title (achievement.name)", _text, True),
    "credits": Field(
        "credits earned (achievement.credits); credits or hours is required", _credits
    ),
    "hours": Field("notional learning hours (achievement.hours)", _hours),
    "grade": Field("the grade or result, e.g. A-, 92, pass (result)", _text),
    "result_status": Field(f"one of {', '.join(RESULT_STATUSES)} (resultStatus)", _status),
    "term": Field("the term, e.g. '2024-2025 第一学期' or 'Fall 2024' (term)", _text, True),
    "completed_on": Field("when the course ended, a date (completedOn)", _date),
    "valid_from": Field(
        "when the credential is issued: a date-time with timezone, or a date (validFrom); "
        "stated, never 'now', so a rebuild gives the same credentials",
        _moment,
        True,
    ),
    "valid_until": Field("expiry, a date-time with timezone or a date (validUntil)", _moment),
    "level": Field("EQF level, 1-8 (achievement.eqfLevel)", _level),
    "kind": Field("OB 3.0 achievementType (achievement.type; default Course)", _kind),
    "issuer_name": Field("the institution's display name (issuerName)", _text),
}


# -- the template ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    """Each field read from a CSV column (``columns``) or the same for every row (``constants``,
    already parsed)."""

    columns: dict[str, str]
    constants: dict[str, Any]

    def where(self, name: str) -> str:
        """How a problem names a field's source: its column, or the template's constant."""
        if name in self.columns:
            column = self.columns[name]
            return f'column "{column}"' + ("" if column == name else f" ({name})")
        return f'template constant "{name}"'


TEMPLATE_SECTIONS = ("columns", "constants")


def parse_template(text: str, *, valid_from: str | None = None) -> Template:
    """A template from its TOML text; ``valid_from`` (the CLI's --valid-from) replaces the
    template's. Raises TemplateError with every problem found."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError([f"the template is not TOML: {exc}"]) from None
    problems: list[str] = []
    for section in sorted(set(document) - set(TEMPLATE_SECTIONS)):
        problems.append(
            f"unknown template section [{section}] (there are [columns] and [constants])"
        )
    columns: dict[str, str] = {}
    constants: dict[str, Any] = {}
    named: set[str] = set()  # mapped, even if wrongly (then told once, as wrong)
    for section in TEMPLATE_SECTIONS:
        table = document.get(section, {})
        if not isinstance(table, dict):
            problems.append(f"[{section}] is a table of field = value")
            continue
        for name, value in table.items():
            named.add(name)
            if name not in FIELDS:
                problems.append(
                    f'unknown field "{name}" in [{section}] (fields: {", ".join(FIELDS)})'
                )
            elif section == "columns":
                if not isinstance(value, str) or not value.strip():
                    problems.append(f"[columns] {name} names a CSV column: a non-empty string")
                else:
                    columns[name] = value.strip()
            else:
                if isinstance(value, (dict, list, bool)):
                    problems.append(f"[constants] {name} is a single value, not {value!r}")
                    continue
                try:
                    constants[name] = FIELDS[name].parse(
                        value.isoformat() if isinstance(value, (date, datetime)) else str(value)
                    )
                except CellError as exc:
                    problems.append(f"[constants] {name}: {exc}")
    if valid_from is not None:
        columns.pop("valid_from", None)
        try:
            constants["valid_from"] = _moment(valid_from)
        except CellError as exc:
            problems.append(f"--valid-from: {exc}")
    for name in sorted(set(columns) & set(constants)):
        problems.append(f'"{name}" is both a column and a constant: choose one')
    mapped = named | set(columns) | set(constants)
    for name, spec in FIELDS.items():
        if spec.required and name not in mapped:
            hint = " (or give --valid-from)" if name == "valid_from" else ""
            problems.append(f'the template maps no column or constant to "{name}"{hint}')
    if not {"credits", "hours"} & mapped:
        problems.append('the template maps no column or constant to "credits" (or "hours")')
    if problems:
        raise TemplateError(problems)
    return Template(columns, constants)


# -- rows -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowProblem:
    """Why a data row cannot be built. ``row`` counts data rows from 1 (the header is not a
    row); ``line`` is the file's line where the row starts (the header is line 1)."""

    row: int
    line: int
    where: str | None  # 'column "学分" (credits)', or None for the row as a whole
    message: str

    def __str__(self) -> str:
        place = f", {self.where}" if self.where else ""
        return f"row {self.row} (line {self.line}){place}: {self.message}"


@dataclass(frozen=True)
class BuiltRow:
    row: int
    line: int
    learner_id: uuid.UUID
    credential_id: str
    credential: str  # the compact VC-JWT

    def ndjson(self) -> str:
        """The line ``POST /intake`` takes (no newline)."""
        return json.dumps(
            {"learnerId": str(self.learner_id), "credential": self.credential},
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class RowResult:
    row: int
    line: int
    built: BuiltRow | None = None
    problems: tuple[RowProblem, ...] = field(default_factory=tuple)


def credential_id(issuer_uri: str, course_code: str, term: str, learner_id: uuid.UUID) -> str:
    """The same course, term and learner at the same issuer: the same id, whenever built."""
    parts = [issuer_uri.strip(), _folded(course_code), " ".join(_folded(term).split())]
    name = SEPARATOR.join([*parts, str(learner_id)])
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, name)}"


def subject_id(issuer_uri: str, learner_id: uuid.UUID) -> str:
    """The learner as this issuer's credentials name them: stable, and not the bank's id."""
    return (
        f"urn:uuid:{uuid.uuid5(NAMESPACE, SEPARATOR.join([issuer_uri.strip(), str(learner_id)]))}"
    )


def _salt(credential: str) -> str:
    """The identity hash's salt, unique to the credential (a salt is public in the credential;
    unique is what it needs to be) and stable across builds."""
    return hashlib.sha256(f"salt{SEPARATOR}{credential}".encode()).hexdigest()[:16]


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def row_values(
    template: Template, cells: dict[str, str | None], row: int, line: int
) -> tuple[dict[str, Any], list[RowProblem]]:
    """The row's fields, parsed (constants included); and a problem per bad cell."""
    values = dict(template.constants)
    problems: list[RowProblem] = []
    for name, column in template.columns.items():
        raw = cells.get(column)
        spec = FIELDS[name]
        if raw is None:
            problems.append(
                RowProblem(
                    row,
                    line,
                    template.where(name),
                    "missing: the row has fewer fields than the header",
                )
            )
            continue
        if not raw.strip():
            if spec.required:
                problems.append(
                    RowProblem(row, line, template.where(name), f"empty, and {name} is required")
                )
            continue
        try:
            values[name] = spec.parse(raw)
        except CellError as exc:
            problems.append(RowProblem(row, line, template.where(name), str(exc)))
    failed = {p.where for p in problems}

    def ok(*names: str) -> bool:
        return all(template.where(n) not in failed and n in values for n in names)

    if (
        "credits" not in values
        and "hours" not in values
        and not ({template.where("credits"), template.where("hours")} & failed)
    ):
        source = (
            "hours"
            if "hours" in template.columns and "credits" not in template.columns
            else "credits"
        )
        where = template.where(source)
        problems.append(RowProblem(row, line, where, "empty: a row states credits or hours"))
    if (
        ok("completed_on", "valid_from")
        and values["completed_on"] > values["valid_from"].astimezone(UTC).date()
    ):
        problems.append(
            RowProblem(
                row,
                line,
                template.where("completed_on"),
                f"{values['completed_on']} is after the credential is issued "
                f"({_timestamp(values['valid_from'])}, valid_from): the bank refuses that",
            )
        )
    if ok("valid_until", "valid_from") and values["valid_until"] <= values["valid_from"]:
        problems.append(
            RowProblem(
                row,
                line,
                template.where("valid_until"),
                f"{_timestamp(values['valid_until'])} is not after valid_from "
                f"({_timestamp(values['valid_from'])})",
            )
        )
    return values, problems


def description(values: dict[str, Any], issuer_uri: str) -> dict[str, Any]:
    """The row as the JSON description ``creditbank credential sign`` takes
    (``application.issuing.DESCRIPTION_FIELDS``)."""
    learner: uuid.UUID = values["learner_id"]
    identifier = credential_id(issuer_uri, values["course_code"], values["term"], learner)
    achievement: dict[str, Any] = {
        "name": values["title"],
        "code": values["course_code"],
        "type": values.get("kind", "Course"),
    }
    if "credits" in values:
        achievement["credits"] = str(values["credits"])
    if "hours" in values:
        achievement["hours"] = str(values["hours"])
    if "level" in values:
        achievement["eqfLevel"] = values["level"]
    described: dict[str, Any] = {
        "id": identifier,
        "recipient": {
            "identityNumber": values["identity_number"],
            "id": subject_id(issuer_uri, learner),
            "salt": _salt(identifier),
        },
        "achievement": achievement,
        "term": values["term"],
        "validFrom": _timestamp(values["valid_from"]),
    }
    optional = {
        "result": values.get("grade"),
        "resultStatus": values.get("result_status"),
        "issuerName": values.get("issuer_name"),
        "completedOn": values["completed_on"].isoformat() if "completed_on" in values else None,
        "validUntil": _timestamp(values["valid_until"]) if "valid_until" in values else None,
    }
    described.update({k: v for k, v in optional.items() if v is not None})
    return described


# -- the CSV --------------------------------------------------------------------------------------
def _header(template: Template, header: list[str]) -> list[str]:
    names = [cell.strip() for cell in header]
    if names:
        names[0] = names[0].lstrip("\ufeff").strip()  # a BOM the decoding left (utf-8, not -sig)
    problems: list[str] = []
    seen: set[str] = set()
    for name in names:
        if name in seen and name in template.columns.values():
            problems.append(f'the CSV header has column "{name}" twice')
        seen.add(name)
    for field_name, column in template.columns.items():
        if column not in seen:
            problems.append(
                f'the template reads {field_name} from column "{column}", which the CSV header '
                f"does not have (it has: {', '.join(repr(n) for n in names if n)})"
            )
    if problems:
        raise TemplateError(problems)
    return names


def build(
    template: Template,
    lines: Iterable[str],
    issuer_uri: str,
    key: IssuerKey,
    now: datetime,
) -> Iterator[RowResult]:
    """Each data row of the CSV text ``lines`` (a file opened with ``newline=""``), built or
    with its problems, in order. A header that does not fit the template, an issue date in the
    future, or text that cannot be decoded raises TemplateError."""
    issued = template.constants.get("valid_from")
    if isinstance(issued, datetime) and issued > now:
        raise TemplateError(
            [
                f"valid_from {_timestamp(issued)} is in the future: the bank refuses a credential "
                "before its validFrom"
            ]
        )
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise TemplateError([f"line 1 (the header): {_unreadable(exc)}"]) from None
    if header is None or not "".join(header).lstrip("\ufeff").strip():
        raise TemplateError(["the CSV is empty: no header line"])
    names = _header(template, header)
    first: dict[str, int] = {}
    row, next_line = 0, reader.line_num + 1
    while True:
        line = next_line
        try:
            record = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise TemplateError([f"line {reader.line_num + 1}: {_unreadable(exc)}"]) from None
        next_line = reader.line_num + 1
        if record is None:
            return
        if not any(cell.strip() for cell in record):
            continue  # a blank line (spreadsheets end with a few): not a row
        row += 1
        if len(record) > len(names):
            problem = RowProblem(
                row, line, None, f"{len(record)} fields, but the header has {len(names)}"
            )
            yield RowResult(row, line, problems=(problem,))
            continue
        cells: dict[str, str | None] = {name: None for name in names}
        cells.update(zip(names, record, strict=False))
        values, problems = row_values(template, cells, row, line)
        if problems:
            yield RowResult(row, line, problems=tuple(problems))
            continue
        described = description(values, issuer_uri)
        earlier = first.setdefault(described["id"], row)
        if earlier != row:
            problem = RowProblem(
                row, line, None, f"the same learner, course code and term as row {earlier}"
            )
            yield RowResult(row, line, problems=(problem,))
            continue
        try:
            credential = sign_vc_jwt(from_description(described, issuer_uri, now), key)
        except DomainError as exc:  # checked above; kept so that no row is ever half-built
            yield RowResult(row, line, problems=(RowProblem(row, line, None, exc.message),))
            continue
        built = BuiltRow(row, line, values["learner_id"], described["id"], credential)
        yield RowResult(row, line, built=built)


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (save the sheet as 'CSV UTF-8', or give --encoding, e.g. gb18030)"
    return f"not CSV: {exc}"
