"""Synthetic data for the benchmarks: issuers with real Ed25519 keys and a recognition rule,
identity-verified learners, and unique outcomes with signed evidence (``OutcomeFactory``)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from uuid import UUID

from application.bank import CreditBank
from domain.records import DepositedOutcome
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, InstitutionKind, OutcomeKind, RuleModel

KEYS_VALID_FROM = datetime(2015, 1, 1, tzinfo=UTC)
COMPLETED_ON = date(2024, 6, 28)


@dataclass(frozen=True)
class Issuer:
    """A registered institution and its Ed25519 private key (PEM): picklable for workers."""

    institution_id: str
    kid: str
    private_pem: bytes
    rule_id: str


def create_issuer(bank: CreditBank, slug: str = "bench-university") -> Issuer:
    """A university with a real Ed25519 key, and a recognition rule for its courses, so that
    every deposit of a verified learner is recognised automatically."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    kid = f"{slug}-2015"
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "kid": kid}
    institution_id = bank.register_institution(
        f"Bench University {slug}",
        InstitutionKind.UNIVERSITY,
        jwk,
        issuer_uri=f"https://{slug}.example.edu.cn/issuer",
        key_valid_from=KEYS_VALID_FROM,
    )
    rule_id = bank.create_recognition_rule(
        f"{slug} courses: major credits at level 6",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(
                institution_id=institution_id, kind=OutcomeKind.ACADEMIC_COURSE
            ),
            level=6,
            category="major",
            valid_from=date(2000, 1, 1),  # governs the years of learning it is given
        ),
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Issuer(str(institution_id), kid, pem, str(rule_id))


def _b64url(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def register_learners(bank: CreditBank, n: int, verified: bool = True) -> list[UUID]:
    """``n`` learners with unique (random) resident-ID numbers, identity-verified by default."""
    return [learner_id for learner_id, _ in register_documented_learners(bank, n, verified)]


def register_documented_learners(
    bank: CreditBank, n: int, verified: bool = True
) -> list[tuple[UUID, str]]:
    """Like ``register_learners``, with each learner's identity-document number (what a signed
    credential's subject must hash to)."""
    learners = []
    for _ in range(n):
        number = f"{secrets.randbelow(10**17):017d}X"
        learner_id = bank.register_learner(
            "Bench Learner 测试学员", "RESIDENT_ID", number, date(1995, 5, 17)
        )
        if verified:
            bank.verify_learner_identity(
                learner_id, IdentityVerification.ELECTRONIC_ID, "officer:bench"
            )
        learners.append((learner_id, number))
    return learners


class OutcomeFactory:
    """Unique outcomes of one issuer, each with a JWS (EdDSA) signed by the issuer as evidence."""

    def __init__(self, issuer: Issuer, prefix: str | None = None) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        self.issuer = issuer
        self.issuer_id = UUID(issuer.institution_id)
        key = load_pem_private_key(issuer.private_pem, password=None)
        assert isinstance(key, Ed25519PrivateKey)
        self._key = key
        self._prefix = prefix or uuid.uuid4().hex[:12]
        self._serial = count(1)

    def outcome(self) -> DepositedOutcome:
        n = next(self._serial)
        return DepositedOutcome(
            issuer_id=self.issuer_id,
            credential_id=f"urn:uuid:bench-{self._prefix}-{n:07d}",
            kind=OutcomeKind.ACADEMIC_COURSE,
            title=f"Course {n} 课程",
            credits=Decimal(3) if n % 2 else Decimal("2.5"),
            completed_on=COMPLETED_ON,
            evidence_digest="",
            hours=Decimal(80),
            result="pass",
            key_id=self.issuer.kid,
            # What the bank sets on deposit (the catch-up population writes aggregates directly).
            framework_credits=Decimal(3) if n % 2 else Decimal("2.5"),
        )

    def evidence(self, outcome: DepositedOutcome, learner_id: UUID) -> bytes:
        import jwt

        claims = {
            "jti": outcome.credential_id,
            "iss": f"institution:{outcome.issuer_id}",
            "sub": str(learner_id),
            "title": outcome.title,
            "credits": str(outcome.credits),
            "completed": outcome.completed_on.isoformat(),
        }
        token = jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.issuer.kid})
        return token.encode()

    def deposit(self, bank: CreditBank, learner_id: UUID) -> UUID:
        outcome = self.outcome()
        return bank.deposit(
            learner_id,
            outcome,
            self.evidence(outcome, learner_id),
            actor=f"institution:{outcome.issuer_id}",
        )
