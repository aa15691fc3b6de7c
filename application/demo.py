"""A small, realistic world for trying the bank: four institutions, three learners, rules and a
Korean Academic Credit Bank style bachelor's qualification.

Each institution gets a real Ed25519 key pair; the private keys are written to
``<data dir>/demo-keys/`` so credentials can be signed for them later, and every demo deposit
carries a JWS signed with its issuer's key as evidence.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.bank import CreditBank
from domain.credit_account import DepositedOutcome
from domain.qualification import CategoryMinimum, LevelMinimum, Requirements
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import (
    ConsentScope,
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    RuleModel,
)

KEYS_SINCE = datetime(2015, 1, 1, tzinfo=UTC)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _key_pair(keys_dir: Path, slug: str) -> tuple[Ed25519PrivateKey, dict[str, Any]]:
    private = Ed25519PrivateKey.generate()
    keys_dir.mkdir(parents=True, exist_ok=True)
    (keys_dir / f"{slug}.pem").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return private, {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": f"{slug}-2015"}


def load_demo(bank: CreditBank, data_dir: Path) -> dict[str, Any]:
    keys_dir = data_dir / "demo-keys"
    issuers: dict[str, tuple[UUID, Ed25519PrivateKey, str]] = {}
    for slug, name, kind in (
        ("huadong-university", "Huadong University 华东大学", InstitutionKind.UNIVERSITY),
        (
            "pudong-college",
            "Pudong Junior College 浦东高等专科学校",
            InstitutionKind.JUNIOR_COLLEGE,
        ),
        (
            "skills-centre",
            "National Vocational Skills Certification Centre 职业技能鉴定中心",
            InstitutionKind.CERTIFICATION_BODY,
        ),
        (
            "lianhua-training",
            "Lianhua Technology Training Centre 联华科技培训中心",
            InstitutionKind.ENTERPRISE,
        ),
    ):
        private, jwk = _key_pair(keys_dir, slug)
        institution_id = bank.register_institution(
            name,
            kind,
            jwk,
            issuer_uri=f"https://{slug}.example.edu.cn/issuer",
            key_valid_from=KEYS_SINCE,
        )
        issuers[slug] = (institution_id, private, jwk["kid"])
    uni, college, centre, lianhua = (issuers[s][0] for s in issuers)

    bank.define_standard(
        "CS-NET-201",
        "Computer Networks 计算机网络",
        6,
        Decimal(3),
        (OutcomeKind.ACADEMIC_COURSE, OutcomeKind.VOCATIONAL_CERTIFICATE),
    )
    bank.define_standard(
        "VC-NET-4",
        "Network Engineer certificate 网络工程师 (level 4)",
        4,
        Decimal(4),
        (OutcomeKind.VOCATIONAL_CERTIFICATE,),
    )

    rules = {
        "university courses": bank.create_recognition_rule(
            "Huadong University courses: major credits at EQF 6",
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                OutcomeCriteria(uni, OutcomeKind.ACADEMIC_COURSE), None, 6, "major", None, None
            ),
        ),
        "college courses": bank.create_recognition_rule(
            "Pudong Junior College courses: general credits at EQF 5",
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                OutcomeCriteria(college, OutcomeKind.ACADEMIC_COURSE),
                None,
                5,
                "general",
                None,
                None,
            ),
        ),
        "network certificate": bank.create_recognition_rule(
            "Network Engineer certificate: 4 credits at EQF 4",
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                OutcomeCriteria(centre, OutcomeKind.VOCATIONAL_CERTIFICATE, "VC-NET-4"),
                Decimal(4),
                4,
                "elective",
                None,
                None,
            ),
        ),
        "enterprise training": bank.create_recognition_rule(
            "Enterprise training: elective credits at EQF 4",
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                OutcomeCriteria(None, OutcomeKind.ENTERPRISE_TRAINING),
                None,
                4,
                "elective",
                None,
                None,
            ),
        ),
    }
    agreement = bank.create_conversion_rule(
        "Network Engineer certificate → Huadong CS-NET-201 Computer Networks",
        RuleModel.AGREEMENT,
        ConversionTerms(
            OutcomeCriteria(centre, OutcomeKind.VOCATIONAL_CERTIFICATE, "VC-NET-4"),
            uni,
            "CS-NET-201",
            "major",
            Decimal("0.75"),
            Decimal(3),
            date(2020, 1, 1),
            None,
        ),
    )
    framework_rule = bank.create_conversion_rule(
        "Junior college general education → university general credits",
        RuleModel.FRAMEWORK,
        ConversionTerms(
            OutcomeCriteria(college, OutcomeKind.ACADEMIC_COURSE),
            uni,
            "GEN-TRANSFER",
            "general",
            Decimal("1"),
            Decimal(30),
            None,
            None,
        ),
    )
    bachelor = bank.create_qualification(
        "Bachelor of Engineering (Computer Science) 工学学士（计算机科学）",
        6,
        uni,
        Requirements(
            Decimal(140),
            (CategoryMinimum("major", Decimal(60)), CategoryMinimum("general", Decimal(30))),
            (LevelMinimum(6, Decimal(60)),),
            (),
            Decimal("0.5"),
            None,
            Decimal(42),
        ),
    )

    learners = {
        "Wang Fang 王芳": bank.register_learner(
            "Wang Fang 王芳", "RESIDENT_ID", "310101199204150023", date(1992, 4, 15)
        ),
        "Li Wei 李伟": bank.register_learner(
            "Li Wei 李伟", "RESIDENT_ID", "310115198811020415", date(1988, 11, 2)
        ),
        "Chen Jing 陈静": bank.register_learner(
            "Chen Jing 陈静", "PASSPORT", "E12345678", date(2001, 7, 30)
        ),
    }
    wang, li, _chen = learners.values()
    bank.verify_learner_identity(wang, IdentityVerification.ELECTRONIC_ID, "officer:demo")
    bank.verify_learner_identity(li, IdentityVerification.DOCUMENT_CHECKED, "officer:demo")

    serial = iter(range(1, 1000))

    def deposit(
        learner: UUID,
        slug: str,
        kind: OutcomeKind,
        title: str,
        credits: str,
        completed: date,
        code: str | None = None,
        hours: str | None = None,
    ) -> UUID:
        institution_id, private, kid = issuers[slug]
        credential_id = f"urn:uuid:demo-{slug}-{next(serial):04d}"
        claims = {
            "jti": credential_id,
            "title": title,
            "credits": credits,
            "completed": completed.isoformat(),
            "sub": str(learner),
        }
        evidence = jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid}).encode()
        return bank.deposit(
            learner,
            DepositedOutcome(
                institution_id,
                credential_id,
                kind,
                title,
                Decimal(credits),
                completed,
                "",
                code,
                None,
                Decimal(hours) if hours else None,
                "pass",
                kid,
            ),
            evidence,
            actor=f"institution:{institution_id}",
        )

    course = OutcomeKind.ACADEMIC_COURSE
    for i, (title, credits, year) in enumerate(
        [
            ("Data Structures 数据结构", "4", 2021),
            ("Operating Systems 操作系统", "4", 2021),
            ("Database Systems 数据库系统", "3", 2022),
            ("Software Engineering 软件工程", "3", 2022),
            ("Discrete Mathematics 离散数学", "3.5", 2022),
            ("Compilers 编译原理", "3", 2023),
        ]
    ):
        deposit(wang, "huadong-university", course, title, credits, date(year, 6, 20 + i))
    for title, credits, year in [
        ("College English 大学英语", "4", 2019),
        ("Advanced Mathematics 高等数学", "5", 2019),
        ("Ideology and Ethics 思想道德与法治", "3", 2020),
    ]:
        deposit(wang, "pudong-college", course, title, credits, date(year, 1, 15))
    certificate = deposit(
        wang,
        "skills-centre",
        OutcomeKind.VOCATIONAL_CERTIFICATE,
        "Network Engineer certificate 网络工程师",
        "4",
        date(2023, 9, 1),
        code="VC-NET-4",
    )
    bank.convert_credits(wang, [certificate], agreement, actor="learner:demo")
    deposit(
        li,
        "lianhua-training",
        OutcomeKind.ENTERPRISE_TRAINING,
        "Cloud Operations Bootcamp 云运维训练营",
        "2",
        date(2025, 5, 10),
        hours="60",
    )
    deposit(
        li,
        "lianhua-training",
        OutcomeKind.ENTERPRISE_TRAINING,
        "Information Security Awareness 信息安全意识",
        "0.5",
        date(2025, 8, 2),
        hours="15",
    )
    deposit(
        li, "pudong-college", course, "Python Programming Python程序设计", "3", date(2024, 1, 10)
    )
    bank.grant_consent(li, lianhua, ConsentScope.TRAINING, date(2027, 12, 31))

    return {
        "institutions": {slug: str(v[0]) for slug, v in issuers.items()},
        "learners": {name: str(i) for name, i in learners.items()},
        "recognitionRules": {k: str(v) for k, v in rules.items()},
        "conversionRules": {"agreement": str(agreement), "framework": str(framework_rule)},
        "qualifications": {"bachelor": str(bachelor)},
        "signingKeys": str(keys_dir),
    }
