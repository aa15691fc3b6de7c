"""Europass: a learner's record as a European Learning Model 3 (ELM 3) European Digital Credential
(the EDC application profile, JSON-LD), unsigned or as a VC-JWT signed by the bank, and the reader
that parses such a document back into (title, EQF level, ECTS credits) per achievement.

The data is the CLR export's (application/export.py): recognised outcomes, active conversions and
standing awards. Each becomes a ``LearningAchievement`` claim of the ``Person`` subject, specified
by a ``Qualification`` when it has an EQF level (``elm:EQFLevel`` is defined on Qualification
only) or else by a ``LearningAchievementSpecification``; credits are a ``CreditPoint`` in the ECTS
framework. Levels and credits are stated only where they are EQF levels and ECTS credits: the
``eqf`` preset's credits are ECTS credits (60 a year, 25-30 notional hours each); the ``cn``
preset's are not (10 hours each) and the domain states no EQF correspondence for its levels, so
for it both are omitted and a note names the framework's own values instead.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from uuid import UUID

import pycountry

from application.export import EXPORTED, Exporter
from domain.errors import InvalidCredential, NotFound
from domain.framework import Framework
from domain.values import CREDIT_QUANTUM, AwardStatus

VC1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
EDC_CONTEXT = "http://data.europa.eu/snb/model/context/edc-ap"
CONTEXTS = [VC1_CONTEXT, EDC_CONTEXT]  # the pair every ELM 3 sample credential names
# Controlled vocabularies (EU Vocabularies), as the ELM 3 sample credentials cite them.
EQF_LEVEL = "http://data.europa.eu/snb/eqf/"
EQF_SCHEME = "http://data.europa.eu/snb/eqf/25831c2"
ECTS = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
CREDIT_SCHEME = "http://data.europa.eu/snb/education-credit/25831c2"
GENERIC_PROFILE = "http://data.europa.eu/snb/credential/e34929035b"
PROFILE_SCHEME = "http://data.europa.eu/snb/credential/25831c2"
EDC_SHAPES = "http://data.europa.eu/snb/model/ap/edc-generic-full"
LANGUAGES = "http://publications.europa.eu/resource/authority/language"
COUNTRIES = "http://publications.europa.eu/resource/authority/country"
EQF_URI = re.compile(r"^http://data\.europa\.eu/snb/eqf/([1-8])$")
POINT = re.compile(r"^\d{1,6}(\.\d{1,2})?$")  # a non-negative decimal, at most two places


class Format(Enum):
    JSON_LD = "JSON_LD"
    VC_JWT = "VC_JWT"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One achievement as the document states it (the builder's input)."""

    key: str  # stable: the claim's and its specification's ids derive from it
    title: str
    description: str
    eqf_level: int | None
    ects: Decimal | None
    awarded_at: datetime
    partial: bool  # a unit counted toward qualifications (not itself an award)
    code: str | None = None
    note: str | None = None  # the framework's own level and credits, when not EQF / ECTS
    parts: tuple[str, ...] = ()  # keys of the claims it counted (an award)


@dataclass(frozen=True)
class Achievement:
    """What the reader finds in one LearningAchievement."""

    title: str
    eqf_level: int | None
    ects: Decimal | None


def _id(key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'creditbank:/europass/{key}')}"


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _day(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def point(credits: Decimal) -> str:
    """ECTS points as ``elm:point`` (an xsd:string): plain notation, no exponent, no trailing
    zeros ("3.5", "30", "0.25")."""
    value = credits.quantize(CREDIT_QUANTUM).normalize()
    return f"{value:f}"


def concept(uri: str, scheme: str, label: str, notation: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": uri,
        "type": "Concept",
        "inScheme": {"id": scheme, "type": "ConceptScheme"},
        "prefLabel": {"en": label},
    }
    if notation is not None:
        found["notation"] = notation
    return found


def eqf_concept(level: int) -> dict[str, Any]:
    return concept(f"{EQF_LEVEL}{level}", EQF_SCHEME, f"Level {level}")


def ects_credit(credits: Decimal) -> dict[str, Any]:
    return {
        "type": "CreditPoint",
        "framework": concept(ECTS, CREDIT_SCHEME, "European Credit Transfer System"),
        "point": point(credits),
    }


def country(alpha_2: str) -> dict[str, Any]:
    """The EU country authority table concept of an ISO 3166-1 alpha-2 code (its codes are
    the alpha-3 codes)."""
    found = pycountry.countries.get(alpha_2=alpha_2)
    if found is None:  # settings are checked at start-up; keep the document valid regardless
        raise NotFound(f"unknown country {alpha_2}")
    return concept(f"{COUNTRIES}/{found.alpha_3}", COUNTRIES, found.name, "country")


def in_framework(
    framework: Framework, level: int | None, credits: Decimal | None
) -> dict[str, Any]:
    """EQF level, ECTS credits and a note, as far as the framework is EQF / ECTS."""
    if framework.key == "eqf":  # EQF levels; ECTS credits (60 a year, 25-30 hours each)
        return {"eqf_level": level, "ects": credits}
    stated = []
    if level is not None:
        stated.append(f"{framework.get_level(level).name_en} of the {framework.name_en}")
    if credits is not None:
        stated.append(
            f"{point(credits)} credits of {framework.hours_per_credit} notional learning hours"
        )
    note = None
    if stated:
        note = (
            "; ".join(stated) + ". No EQF level or ECTS credits are stated: the framework states "
            "no EQF correspondence, and its credits are not ECTS credits."
        )
    return {"eqf_level": None, "ects": None, "note": note}


# -- building --
def _specification(claim: Claim) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "id": _id(f"specifications/{claim.key}"),
        # elm:EQFLevel's domain is elm:Qualification (a LearningAchievementSpecification).
        "type": "Qualification"
        if claim.eqf_level is not None
        else "LearningAchievementSpecification",
        "title": {"en": claim.title},
    }
    if claim.eqf_level is not None:
        spec["eqfLevel"] = eqf_concept(claim.eqf_level)
        spec["isPartialQualification"] = claim.partial
    if claim.ects is not None:
        spec["creditPoint"] = [ects_credit(claim.ects)]
    if claim.code:
        spec["identifier"] = {"type": "Identifier", "notation": claim.code}
    if claim.note:
        spec["additionalNote"] = [{"type": "Note", "noteLiteral": {"en": claim.note}}]
    return spec


def build(
    claims: Iterable[Claim],
    *,
    learner_id: UUID,
    issuer: dict[str, Any],
    now: datetime,
    summary: str,
) -> dict[str, Any]:
    """The ELM 3 document (pure: the same claims, learner, issuer and time give the same
    document, but for its id)."""
    achievements = []
    for claim in claims:
        achievement: dict[str, Any] = {
            "id": _id(f"claims/{claim.key}"),
            "type": "LearningAchievement",
            "title": {"en": claim.title},
            "description": {"en": claim.description},
            "awardedBy": {
                "type": "AwardingProcess",
                "awardingBody": [issuer["id"]],
                "awardingDate": _z(claim.awarded_at),
            },
            "specifiedBy": _specification(claim),
        }
        if claim.parts:
            achievement["hasPart"] = [_id(f"claims/{part}") for part in claim.parts]
        achievements.append(achievement)
    if not achievements:  # the EDC profile requires at least one claim
        raise NotFound("the account has no recognised outcomes to export", ("learnerId",))
    english = concept(f"{LANGUAGES}/ENG", LANGUAGES, "English", "language")
    return {
        "@context": CONTEXTS,
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialProfiles": [concept(GENERIC_PROFILE, PROFILE_SCHEME, "Generic")],
        "credentialSchema": [{"id": EDC_SHAPES, "type": "ShaclValidator2017"}],
        "displayParameter": {
            "type": "DisplayParameter",
            "title": {"en": "Credit Bank record"},
            "description": {"en": summary},
            "primaryLanguage": english,
            "language": [english],
        },
        "issuer": issuer,
        "issued": _z(now),
        "validFrom": _z(now),
        "credentialSubject": {
            "id": f"urn:uuid:{learner_id}",
            "type": "Person",
            # The bank's own account id, never the identity document (as in the CLR export).
            "identifier": [
                {"type": "Identifier", "notation": str(learner_id), "schemeName": "Credit Bank"}
            ],
            "hasClaim": achievements,
        },
    }


# -- reading --
def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _types(node: dict[str, Any]) -> list[Any]:
    return _many(node.get("type"))


def _text(value: Any, what: str) -> str:
    """A language map's English text (else its first)."""
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        return str(value.get("en", next(iter(value.values()))))
    raise InvalidCredential(f"{what} is not a language map", ("document",))


def _eqf(spec: dict[str, Any]) -> int | None:
    levels = _many(spec.get("eqfLevel"))
    if not levels:
        return None
    if len(levels) > 1:
        raise InvalidCredential("a specification states more than one EQF level", ("document",))
    uri = levels[0].get("id") if isinstance(levels[0], dict) else levels[0]
    found = EQF_URI.match(uri) if isinstance(uri, str) else None
    if found is None:
        raise InvalidCredential(f"{uri!r} is not an EQF level", ("document",))
    return int(found.group(1))


def _ects(spec: dict[str, Any]) -> Decimal | None:
    """The specification's ECTS credit points (credit points in other frameworks are not
    ECTS and are left alone)."""
    found: list[Decimal] = []
    for credit in _many(spec.get("creditPoint")):
        if not isinstance(credit, dict):
            raise InvalidCredential("a creditPoint is not a CreditPoint", ("document",))
        framework = credit.get("framework")
        uri = framework.get("id") if isinstance(framework, dict) else framework
        if uri != ECTS:
            continue
        value = credit.get("point")
        if not isinstance(value, str) or not POINT.match(value):
            raise InvalidCredential(f"ECTS point {value!r} is not a decimal", ("document",))
        try:
            found.append(Decimal(value))
        except InvalidOperation:  # pragma: no cover - the pattern admits decimals only
            raise InvalidCredential(f"ECTS point {value!r} is not a decimal") from None
    if len(found) > 1:
        raise InvalidCredential("a specification states ECTS credits twice", ("document",))
    return found[0] if found else None


def read(document: Any) -> list[Achievement]:
    """(title, EQF level, ECTS credits) of each LearningAchievement an ELM 3 credential claims,
    in document order. Checks the document's shape, not a signature: verify a VC-JWT first."""
    if not isinstance(document, dict) or EDC_CONTEXT not in _many(document.get("@context")):
        raise InvalidCredential("not an ELM 3 (EDC) JSON-LD document", ("document",))
    if "EuropeanDigitalCredential" not in _types(document):
        raise InvalidCredential("not a EuropeanDigitalCredential", ("document",))
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict):
        raise InvalidCredential("the credential has no subject", ("document",))
    found = []
    for claim in _many(subject.get("hasClaim")):
        if not isinstance(claim, dict) or "LearningAchievement" not in _types(claim):
            continue  # other kinds of claim (activities, assessments) state no achievement
        spec = claim.get("specifiedBy")
        spec = spec if isinstance(spec, dict) else {}
        found.append(
            Achievement(
                title=_text(claim.get("title"), "a claim's title"),
                eqf_level=_eqf(spec),
                ects=_ects(spec),
            )
        )
    return found


# -- from the account --
class EuropassExporter:
    """The record as the CLR export sees it, stated in ELM 3; signed with the Exporter's
    signing (the same key, algorithm and JWT claims as every other export)."""

    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter
        self.bank = exporter.bank

    def issuer(self) -> dict[str, Any]:
        return {
            "id": self.exporter.issuer_id,
            "type": "Organisation",
            "legalName": {"en": "Credit Bank", "zh": "学分银行"},
            "location": [
                {
                    "type": "Location",
                    "address": [{"type": "Address", "countryCode": country(self.bank.country)}],
                }
            ],
            "homepage": [{"type": "WebResource", "contentURL": self.exporter.public_url}],
        }

    def claims(self, learner_id: UUID) -> list[Claim]:
        account = self.bank.account(learner_id)
        framework = self.bank.framework
        claims: list[Claim] = []
        for o in account.outcomes.values():
            if o.status not in EXPORTED:
                continue
            issuer = self.bank.institution(o.issuer_id)
            claims.append(
                Claim(
                    key=f"outcomes/{o.id}",
                    title=o.title,
                    description=f"{o.title}: issued by {issuer.name}, recognised by the Credit "
                    f"Bank on the {framework.name_en}",
                    awarded_at=_day(o.completed_on),
                    partial=True,
                    code=o.standard_code,
                    **in_framework(
                        framework,
                        o.recognized_level or o.level,
                        o.recognized_credits or o.credits_claimed,
                    ),
                )
            )
        holding_claim = {str(o.id): f"outcomes/{o.id}" for o in account.outcomes.values()}
        for c in account.conversions.values():
            if not c.active:
                continue
            target = self.bank.institution(c.target_institution_id)
            for h in c.holding_ids:
                holding_claim[str(h)] = f"conversions/{c.id}"
            claims.append(
                Claim(
                    key=f"conversions/{c.id}",
                    title=f"{c.target_code} ({target.name})",
                    description=f"Credits converted into {target.name}'s {c.target_code} under "
                    f"conversion rule {c.rule_id} version {c.rule_version}",
                    awarded_at=c.converted_at,
                    partial=True,
                    code=c.target_code,
                    **in_framework(framework, c.level, c.credits),
                )
            )
        for award in account.redemptions.values():
            if award.status is not AwardStatus.STANDING:
                continue
            qualification = self.bank.awarded_qualification(award)  # the terms it met
            awarding = self.bank.institution(qualification.awarding_institution_id)
            parts = dict.fromkeys(holding_claim[h] for h in award.allocations if h in holding_claim)
            claims.append(
                Claim(
                    key=f"awards/{award.id}",
                    title=qualification.name,
                    description=f"{qualification.name}, awarded by {awarding.name} through the "
                    f"Credit Bank: {point(award.credits_counted)} credits counted",
                    awarded_at=award.redeemed_at,
                    partial=False,
                    parts=tuple(parts),
                    **in_framework(
                        framework,
                        qualification.level,
                        Decimal(qualification.requirements.total_credits),
                    ),
                )
            )
        return claims

    def document(self, learner_id: UUID) -> dict[str, Any]:
        claims = self.claims(learner_id)
        kinds = [c.key.split("/")[0] for c in claims]
        summary = (
            f"{kinds.count('outcomes')} recognised outcome(s), {kinds.count('conversions')} "
            f"conversion(s), {kinds.count('awards')} award(s) on the "
            f"{self.bank.framework.name_en}"
        )
        return build(
            claims,
            learner_id=learner_id,
            issuer=self.issuer(),
            now=self.bank.now(),
            summary=summary,
        )

    def export(self, learner_id: UUID, format: Format) -> str:
        """The document as JSON-LD text, or as a VC-JWT signed like every other export."""
        document = self.document(learner_id)
        if format is Format.VC_JWT:
            return self.exporter._sign(document)
        return json.dumps(document, ensure_ascii=False, indent=2)
