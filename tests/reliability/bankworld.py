"""A small world made directly on a CreditBank (no HTTP): three issuers with real Ed25519 keys,
recognition and conversion rules, a qualification and verified learners, plus signed OB 3.0
VC-JWTs for them (tests/factories). Plain data, so it crosses into spawned processes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from application.bank import CreditBank
from application.issuing import IssuerKey, sign_vc_jwt
from domain.qualification import CategoryMinimum, Requirements
from domain.records import DepositedOutcome
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, InstitutionKind, OutcomeKind, RuleModel
from tests.builders import SINCE, CredentialSpec, achievement_credential, agreed

KEYS_SINCE = datetime(2020, 1, 1, tzinfo=UTC)
ISSUERS = {
    "university": InstitutionKind.UNIVERSITY,  # rule: academic courses -> major at 6
    "college": InstitutionKind.JUNIOR_COLLEGE,  # rule: general at 5; converts into university
    "mooc": InstitutionKind.MOOC_PLATFORM,  # no rule: officers recognise or reject
    "enterprise": InstitutionKind.ENTERPRISE,
}


@dataclass
class BankWorld:
    issuers: dict[str, str]  # name -> institution id
    uris: dict[str, str]
    kids: dict[str, str]
    learners: list[tuple[str, str]]  # (learner id, identity document number)
    recognition_rules: list[str]
    conversion_rule: str
    qualification: str
    keys: dict[str, IssuerKey] = field(default_factory=dict, repr=False)  # parent only

    def plain(self) -> dict[str, Any]:
        """Without the private keys: what a child process gets."""
        return {
            "issuers": self.issuers,
            "uris": self.uris,
            "kids": self.kids,
            "learners": self.learners,
            "recognition_rules": self.recognition_rules,
            "conversion_rule": self.conversion_rule,
            "qualification": self.qualification,
        }

    def credential(
        self, issuer: str, document: str, credits: str = "3", credential_id: str | None = None
    ) -> tuple[str, str]:
        """A signed VC-JWT of ``issuer`` for the holder of ``document``: (jwt, credential id)."""
        credential_id = credential_id or f"urn:uuid:{uuid.uuid4()}"
        spec = CredentialSpec(
            issuer_uri=self.uris[issuer],
            document_number=document,
            credits=float(credits),  # a JSON number, as OB 3.0 wants it
            credential_id=credential_id,
            valid_from=datetime.now(UTC).replace(microsecond=0) - timedelta(days=30),
        )
        return sign_vc_jwt(achievement_credential(spec), self.keys[issuer]), credential_id


def build_bank_world(bank: CreditBank, learners: int = 3) -> BankWorld:
    ids: dict[str, str] = {}
    uris: dict[str, str] = {}
    kids: dict[str, str] = {}
    keys: dict[str, IssuerKey] = {}
    for name, kind in ISSUERS.items():
        keys[name] = IssuerKey.ed25519()
        uris[name] = f"https://{name}-{uuid.uuid4().hex[:6]}.example.edu/issuer"
        kids[name] = keys[name].kid
        ids[name] = str(
            bank.register_institution(
                name.title(), kind, keys[name].jwk, issuer_uri=uris[name], key_valid_from=KEYS_SINCE
            )
        )
    rules = [
        str(
            bank.create_recognition_rule(
                f"{issuer} courses",
                RuleModel.FRAMEWORK,
                RecognitionTerms(
                    valid_from=SINCE,
                    criteria=OutcomeCriteria(
                        institution_id=uuid.UUID(ids[issuer]), kind=OutcomeKind.ACADEMIC_COURSE
                    ),
                    level=level,
                    category=category,
                ),
            )
        )
        for issuer, level, category in (("university", 6, "major"), ("college", 5, "general"))
    ]
    conversion = agreed(
        bank,
        bank.create_conversion_rule(
            "college -> university general",
            RuleModel.AGREEMENT,
            ConversionTerms(
                criteria=OutcomeCriteria(
                    institution_id=uuid.UUID(ids["college"]), kind=OutcomeKind.ACADEMIC_COURSE
                ),
                target_institution_id=uuid.UUID(ids["university"]),
                target_code="GEN-TRANSFER",
                target_category="general",
                ratio=Decimal("0.5"),
                max_credits_per_learner=Decimal("10"),
            ),
        ),
    )
    qualification = bank.create_qualification(
        "Certificate",
        6,
        uuid.UUID(ids["university"]),
        Requirements(
            total_credits=Decimal("6"),
            minimum_by_category=(CategoryMinimum(category="major", credits=Decimal("3")),),
        ),
    )
    people: list[tuple[str, str]] = []
    for n in range(learners):
        document = f"R{uuid.uuid4().int % 10**12:012d}"
        learner = bank.register_learner(f"Learner {n}", "PASSPORT", document, date(1990, 1, 1))
        bank.verify_learner_identity(learner, IdentityVerification.ELECTRONIC_ID, "officer:setup")
        people.append((str(learner), document))
    return BankWorld(ids, uris, kids, people, rules, str(conversion), str(qualification), keys=keys)


def direct_outcome(world: dict[str, Any], issuer: str, credential_id: str) -> DepositedOutcome:
    """An outcome deposited without a credential (the bank's ``deposit`` seam): it can be pushed
    into any account, which a signed credential (bound to one identity) cannot."""
    return DepositedOutcome(
        issuer_id=uuid.UUID(world["issuers"][issuer]),
        credential_id=credential_id,
        kind=OutcomeKind.ACADEMIC_COURSE,
        title=f"Course {credential_id}",
        credits=Decimal("2"),
        completed_on=date(2025, 6, 30),
        evidence_digest="",
        key_id=world["kids"][issuer],
    )
