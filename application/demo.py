"""A small, realistic world for trying the bank: four institutions, three learners, rules and a
Korean Academic Credit Bank style bachelor's qualification.

Every deposit is a real Open Badges 3.0 credential (VC-JWT) signed with its institution's own
Ed25519 key and deposited through the same command an institution uses, so ``verifyCredential``
works on it. The keys are kept in ``<data dir>/demo-keys/`` (``<slug>.pem`` and ``<slug>.jwk.json``,
the files ``creditbank credential sign`` reads), never overwritten.

Loading is idempotent: each part is looked up first (institutions by issuer URI, standards by
code, rules and qualifications by name, learners by identity document, deposits by credential
id), so a second run changes nothing and prints the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from application.bank import CreditBank
from application.issuing import Achievement, IssuerKey, achievement_credential, sign_vc_jwt
from domain.indexes import CredentialIndex
from domain.qualification import CategoryMinimum, LevelMinimum, Requirements
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import (
    ConsentScope,
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    OutcomeStatus,
    RuleModel,
)

KEYS_SINCE = datetime(2015, 1, 1, tzinfo=UTC)
OFFICER = "officer:demo"

INSTITUTIONS = (
    ("huadong-university", "Huadong University 华东大学", InstitutionKind.UNIVERSITY),
    ("pudong-college", "Pudong Junior College 浦东高等专科学校", InstitutionKind.JUNIOR_COLLEGE),
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
)

LEARNERS = (  # name, document type, number, birth date, identity verified by
    ("Wang Fang 王芳", "RESIDENT_ID", "310101199204150023", date(1992, 4, 15), "ELECTRONIC_ID"),
    ("Li Wei 李伟", "RESIDENT_ID", "310115198811020415", date(1988, 11, 2), "DOCUMENT_CHECKED"),
    ("Chen Jing 陈静", "PASSPORT", "E12345678", date(2001, 7, 30), None),
)


@dataclass(frozen=True)
class Deposit:
    learner: str
    issuer: str
    title: str
    credits: str
    completed: date
    achievement_type: str = "Course"
    code: str | None = None
    level: int | None = None
    hours: str | None = None
    result: str = "pass"


def _deposits() -> list[Deposit]:
    wang, li, chen = (name for name, *_ in LEARNERS)
    uni, college, centre, lianhua = (slug for slug, *_ in INSTITUTIONS)
    courses = [
        Deposit(wang, uni, title, credits, date(year, 6, 20 + i), level=6)
        for i, (title, credits, year) in enumerate(
            [
                ("Data Structures 数据结构", "4", 2021),
                ("Operating Systems 操作系统", "4", 2021),
                ("Database Systems 数据库系统", "3", 2022),
                ("Software Engineering 软件工程", "3", 2022),
                ("Discrete Mathematics 离散数学", "3.5", 2022),
                ("Compilers 编译原理", "3", 2023),
            ]
        )
    ]
    courses += [
        Deposit(wang, college, title, credits, date(year, 1, 15), level=5)
        for title, credits, year in [
            ("College English 大学英语", "4", 2019),
            ("Advanced Mathematics 高等数学", "5", 2019),
            ("Ideology and Ethics 思想道德与法治", "3", 2020),
        ]
    ]
    return [
        *courses,
        Deposit(
            wang,
            centre,
            "Network Engineer certificate 网络工程师",
            "4",
            date(2023, 9, 1),
            achievement_type="Certificate",
            code="VC-NET-4",
            level=4,
        ),
        Deposit(
            li,
            lianhua,
            "Cloud Operations Bootcamp 云运维训练营",
            "2",
            date(2025, 5, 10),
            achievement_type="CertificateOfCompletion",
            hours="60",
        ),
        Deposit(
            li,
            lianhua,
            "Information Security Awareness 信息安全意识",
            "0.5",
            date(2025, 8, 2),
            achievement_type="CertificateOfCompletion",
            hours="15",
        ),
        Deposit(li, college, "Python Programming Python程序设计", "3", date(2024, 1, 10), level=5),
        # Chen Jing's identity is not verified yet: her outcomes wait (docs/api.md uses them).
        Deposit(
            chen, uni, "Linear Algebra 线性代数", "3", date(2024, 6, 28), code="MATH-201", level=6
        ),
        Deposit(
            chen,
            centre,
            "Cloud Operations (level 3) 云计算运维",
            "3",
            date(2025, 3, 12),
            achievement_type="Certificate",
            level=3,
        ),
    ]


# The demo's rules govern the learning its issuers recorded since 2010 (a rule without a
# validFrom would govern only what is completed from the day it is created).
RULES_REACH_BACK_TO = date(2010, 1, 1)


def recognition(
    issuer: UUID | None,
    kind: OutcomeKind,
    code: str | None,
    *,
    level: int,
    category: str,
    credits: int | None = None,
) -> RecognitionTerms:
    return RecognitionTerms(
        criteria=OutcomeCriteria(institution_id=issuer, kind=kind, standard_code=code),
        credits=None if credits is None else Decimal(credits),
        level=level,
        category=category,
        valid_from=RULES_REACH_BACK_TO,
    )


def conversion(
    source: tuple[UUID, OutcomeKind, str | None],
    target: tuple[UUID, str, str],
    ratio: str,
    cap: int,
    since: date | None,
) -> ConversionTerms:
    """From (issuer, kind, standard) to (institution, course code, category), in force since."""
    (issuer, kind, code), (institution, course, category) = source, target
    return ConversionTerms(
        criteria=OutcomeCriteria(institution_id=issuer, kind=kind, standard_code=code),
        target_institution_id=institution,
        target_code=course,
        target_category=category,
        ratio=Decimal(ratio),
        max_credits_per_learner=Decimal(cap),
        valid_from=since,
    )


class DemoLoader:
    def __init__(self, bank: CreditBank, data_dir: Path) -> None:
        self.bank = bank
        self.keys_dir = data_dir / "demo-keys"
        self.institutions: dict[str, UUID] = {}
        self.learners: dict[str, UUID] = {}
        self.numbers: dict[str, str] = {}
        self.outcomes: dict[str, UUID] = {}

    # -- parties ------------------------------------------------------------------------------
    def key(self, slug: str) -> IssuerKey:
        pem = self.keys_dir / f"{slug}.pem"
        if pem.exists():
            return IssuerKey.load(pem)
        key = IssuerKey.ed25519(f"{slug}-2015")
        key.save(self.keys_dir, slug)
        return key

    @staticmethod
    def uri(slug: str) -> str:
        return f"https://{slug}.example.edu.cn/issuer"

    def institution(self, slug: str, name: str, kind: InstitutionKind) -> UUID:
        found = self.bank.institution_by_issuer(self.uri(slug))
        if found is not None:
            return found.id
        return self.bank.register_institution(
            name, kind, self.key(slug).jwk, issuer_uri=self.uri(slug), key_valid_from=KEYS_SINCE
        )

    def learner(
        self, name: str, doc_type: str, number: str, born: date, verified: str | None
    ) -> UUID:
        learner_id = self.bank.find_learner(number)
        if learner_id is None:
            learner_id = self.bank.register_learner(name, doc_type, number, born)
        if verified and not self.bank.learner(learner_id).identity_verified:
            method = IdentityVerification[verified]
            self.bank.verify_learner_identity(learner_id, method, OFFICER)
        return learner_id

    # -- catalogue ----------------------------------------------------------------------------
    def standard(
        self, code: str, title: str, level: int, credits: str, kinds: tuple[OutcomeKind, ...]
    ) -> UUID:
        for standard in self.bank.standards():
            if standard.code == code:
                return standard.id
        return self.bank.define_standard(code, title, level, Decimal(credits), kinds)

    def recognition_rule(self, name: str, terms: RecognitionTerms) -> UUID:
        for rule in self.bank.recognition_rules():
            if rule.name == name:
                return rule.id
        return self.bank.create_recognition_rule(name, RuleModel.FRAMEWORK, terms)

    def conversion_rule(self, name: str, model: RuleModel, terms: ConversionTerms) -> UUID:
        for rule in self.bank.conversion_rules():
            if rule.name == name:
                return rule.id
        rule_id = self.bank.create_conversion_rule(name, model, terms, proposed_by="officer-zhao")
        # Each institution the agreement binds accepts it (their registrars, in the demo).
        for party in self.bank.conversion_rule(rule_id).awaiting_parties:
            self.bank.accept_conversion_rule(rule_id, party, f"registrar:{party}")
        return rule_id

    def qualification(self, name: str, level: int, awarding: UUID, req: Requirements) -> UUID:
        for qualification in self.bank.qualifications():
            if qualification.name == name:
                return qualification.id
        return self.bank.create_qualification(name, level, awarding, req)

    # -- deposits: real signed credentials, through the institution's own command ------------
    def deposit(self, d: Deposit, serial: int) -> UUID:
        issuer_id = self.institutions[d.issuer]
        credential_id = f"urn:uuid:demo-{d.issuer}-{serial:04d}"
        index_id = CredentialIndex.create_id(issuer_id, credential_id)
        if index_id in self.bank.repository:
            index: Any = self.bank.repository.get(index_id)
            return cast(UUID, index.outcome_id)
        completed = datetime.combine(d.completed, datetime.min.time(), tzinfo=UTC)
        credential = achievement_credential(
            Achievement(
                issuer_uri=self.uri(d.issuer),
                issuer_name=self.bank.institution(issuer_id).name,
                document_number=self.numbers[d.learner],
                subject_id=f"urn:uuid:{self.learners[d.learner]}",
                title=d.title,
                credits=Decimal(d.credits),
                achievement_type=d.achievement_type,
                human_code=d.code,
                eqf_level=d.level,
                hours=d.hours,
                result=d.result,
                credential_id=credential_id,
                valid_from=completed.replace(hour=12),
            )
        )
        return self.bank.deposit_credential(
            self.learners[d.learner],
            sign_vc_jwt(credential, self.key(d.issuer)),
            actor=f"institution:{issuer_id}",
            by_institution=issuer_id,
        )


def load_demo(bank: CreditBank, data_dir: Path) -> dict[str, Any]:
    demo = DemoLoader(bank, data_dir)
    for slug, name, kind in INSTITUTIONS:
        demo.institutions[slug] = demo.institution(slug, name, kind)
    uni, college, centre, lianhua = demo.institutions.values()

    demo.standard(
        "CS-NET-201",
        "Computer Networks 计算机网络",
        6,
        "3",
        (OutcomeKind.ACADEMIC_COURSE, OutcomeKind.VOCATIONAL_CERTIFICATE),
    )
    demo.standard(
        "VC-NET-4",
        "Network Engineer certificate 网络工程师 (level 4)",
        4,
        "4",
        (OutcomeKind.VOCATIONAL_CERTIFICATE,),
    )
    course, certified, trained = (
        OutcomeKind.ACADEMIC_COURSE,
        OutcomeKind.VOCATIONAL_CERTIFICATE,
        OutcomeKind.ENTERPRISE_TRAINING,
    )
    rules = {
        "university courses": demo.recognition_rule(
            "Huadong University courses: major credits at EQF 6",
            recognition(uni, course, None, level=6, category="major"),
        ),
        "college courses": demo.recognition_rule(
            "Pudong Junior College courses: general credits at EQF 5",
            recognition(college, course, None, level=5, category="general"),
        ),
        "network certificate": demo.recognition_rule(
            "Network Engineer certificate: 4 credits at EQF 4",
            recognition(centre, certified, "VC-NET-4", level=4, category="elective", credits=4),
        ),
        "enterprise training": demo.recognition_rule(
            "Enterprise training: elective credits at EQF 4",
            recognition(None, trained, None, level=4, category="elective"),
        ),
    }
    agreement = demo.conversion_rule(
        "Network Engineer certificate → Huadong CS-NET-201 Computer Networks",
        RuleModel.AGREEMENT,
        conversion(
            (centre, certified, "VC-NET-4"),
            (uni, "CS-NET-201", "major"),
            "0.75",
            3,
            date(2020, 1, 1),
        ),
    )
    framework_rule = demo.conversion_rule(
        "Junior college general education → university general credits",
        RuleModel.FRAMEWORK,
        conversion((college, course, None), (uni, "GEN-TRANSFER", "general"), "1", 30, None),
    )
    training_rule = demo.conversion_rule(
        "Lianhua cloud training → Huadong CS-CLOUD-210 Cloud Computing (major)",
        RuleModel.AGREEMENT,
        conversion(
            (lianhua, trained, None), (uni, "CS-CLOUD-210", "major"), "0.75", 3, date(2024, 1, 1)
        ),
    )
    bachelor = demo.qualification(
        "Bachelor of Engineering (Computer Science) 工学学士（计算机科学）",
        6,
        uni,
        Requirements(
            total_credits=Decimal(140),
            minimum_by_category=(
                CategoryMinimum(category="major", credits=Decimal(60)),
                CategoryMinimum(category="general", credits=Decimal(30)),
            ),
            minimum_at_level=(LevelMinimum(level=6, credits=Decimal(60)),),
            required_standards=(),
            max_converted_share=Decimal("0.5"),
            max_credits_per_institution=None,
            max_credits_per_year=Decimal(42),
        ),
    )

    for name, doc_type, number, born, verified in LEARNERS:
        demo.learners[name] = demo.learner(name, doc_type, number, born, verified)
        demo.numbers[name] = number
    wang, li, _chen = demo.learners.values()

    for serial, d in enumerate(_deposits(), start=1):
        demo.outcomes[f"{d.learner}: {d.title}"] = demo.deposit(d, serial)
    certificate = demo.outcomes["Wang Fang 王芳: Network Engineer certificate 网络工程师"]
    if bank.account(wang).outcome(certificate).status is OutcomeStatus.RECOGNIZED:
        bank.convert_credits(wang, [certificate], agreement, actor="learner:demo")
    if str(lianhua) not in bank.learner(li).consents:
        bank.grant_consent(li, lianhua, ConsentScope.TRAINING, date(2027, 12, 31))

    return {
        "institutions": {slug: str(i) for slug, i in demo.institutions.items()},
        "learners": {name: str(i) for name, i in demo.learners.items()},
        "outcomes": {what: str(i) for what, i in demo.outcomes.items()},
        "recognitionRules": {k: str(v) for k, v in rules.items()},
        "conversionRules": {
            "agreement": str(agreement),
            "framework": str(framework_rule),
            "training": str(training_rule),
        },
        "qualifications": {"bachelor": str(bachelor)},
        "signingKeys": str(demo.keys_dir),
    }
