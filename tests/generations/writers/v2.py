"""Writes generation 2: a bank's stored rows as the recognition-integrity version writes them.

Run once, at the commit named in ../README.md, with ``uv run python -m
tests.generations.writers.v2``. Kept as the record of how ``v2.json`` was made; it is not run
again. Besides generation 1's story it writes what this version added: credit schemes,
versioned standards with pass marks (amended, withdrawn from a date), rule versions with
effective dates, credentials with issue and expiry dates and results, an updated credential
superseding its first version, a retake replacing an earlier attempt and restored by a
revocation, and two accounts of one person merged. Snapshots every three events.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from application.bootstrap import bootstrap
from application.settings import Settings
from domain.credit_schemes import CreditScheme
from domain.qualification import CategoryMinimum, Requirements
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.standard import PassMark, StandardTerms
from domain.values import (
    ConsentScope,
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    RuleModel,
)
from tests.builders import deposit, ed25519_jwk, outcome, register_issuer
from tests.generations.writers.v1 import Clock, expected, rows  # the same reading and clock

SECRET = "generation-2-secret-" + "0" * 24
OUT = Path(__file__).resolve().parents[1] / "v2.json"


def scenario(bank: Any) -> dict[str, Any]:
    uni = register_issuer(bank, "Hankuk University")
    college = register_issuer(bank, "Seoul Junior College", InstitutionKind.JUNIOR_COLLEGE)
    employer = register_issuer(bank, "Lianhua Networks", InstitutionKind.ENTERPRISE)
    bank.add_institution_key(uni.id, ed25519_jwk("hankuk-old"))
    bank.retire_institution_key(uni.id, "hankuk-old")
    bank.suspend_institution(college.id, "licence under review")
    bank.reactivate_institution(college.id)

    bank.declare_credit_scheme(college.id, CreditScheme(hours_per_credit=Decimal(15)))
    standard = bank.define_standard(
        "CS101",
        "Programming I",
        6,
        Decimal(3),
        (OutcomeKind.ACADEMIC_COURSE,),
        accepted_issuer_kinds=(InstitutionKind.UNIVERSITY,),
        pass_mark=PassMark(results=("A", "B", "C", "D"), minimum_score=Decimal(60)),
    )
    bank.amend_standard(
        standard,
        StandardTerms(
            title="Programming I (2025)",
            level=6,
            credits=Decimal(3),
            accepted_kinds=(OutcomeKind.ACADEMIC_COURSE,),
            pass_mark=PassMark(results=("A", "B", "C", "D", "P")),
        ),
        date(2025, 1, 1),
    )
    old_standard = bank.define_standard(
        "OLD-1", "Withdrawn unit", 5, Decimal(2), (OutcomeKind.ACADEMIC_COURSE,)
    )
    bank.withdraw_standard(old_standard, date(2025, 9, 1))

    major = RecognitionTerms(
        criteria=OutcomeCriteria(institution_id=uni.id, kind=OutcomeKind.ACADEMIC_COURSE),
        level=6,
        category="major",
        valid_from=date(2010, 1, 1),
    )
    rule = bank.create_recognition_rule("Hankuk courses", RuleModel.FRAMEWORK, major)
    bank.amend_recognition_rule(
        rule,
        RecognitionTerms(
            criteria=major.criteria, level=6, category="major", valid_from=date(2015, 1, 1)
        ),
        date(2024, 1, 1),
    )
    cs101 = bank.create_recognition_rule(
        "CS101 anywhere",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(standard_code="CS101"),
            level=6,
            category="major",
            valid_from=date(2010, 1, 1),
            max_credits=Decimal(3),
        ),
    )
    training = bank.create_recognition_rule(
        "Employer training",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(kind=OutcomeKind.ENTERPRISE_TRAINING),
            level=4,
            category="elective",
            credits=Decimal(1),
            valid_from=date(2010, 1, 1),
        ),
    )
    retired = bank.create_recognition_rule(
        "Old rule",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(institution_id=college.id), level=5, category="old"
        ),
    )
    bank.retire_recognition_rule(retired)
    transfer_terms = ConversionTerms(
        criteria=OutcomeCriteria(institution_id=uni.id),
        target_institution_id=college.id,
        target_code="SJC-TRANSFER",
        target_category="general",
        ratio=Decimal("0.5"),
        max_credits_per_learner=Decimal(10),
    )
    transfer = bank.create_conversion_rule("Transfer", RuleModel.AGREEMENT, transfer_terms)
    bank.amend_conversion_rule(
        transfer,
        ConversionTerms(**{**transfer_terms.__dict__, "max_credits_per_learner": Decimal(12)}),
    )
    old_transfer = bank.create_conversion_rule("Old transfer", RuleModel.FRAMEWORK, transfer_terms)
    bank.retire_conversion_rule(old_transfer)
    requirements = Requirements(
        total_credits=Decimal(6),
        minimum_by_category=(CategoryMinimum(category="major", credits=Decimal(3)),),
    )
    qualification = bank.create_qualification("Certificate in Computing", 6, uni.id, requirements)
    bank.amend_qualification(qualification, Requirements(total_credits=Decimal(5)))
    old_qualification = bank.create_qualification("Old", 5, college.id, requirements)
    bank.retire_qualification(old_qualification)

    kim = bank.register_learner("Kim Minji", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    lee = bank.register_learner("Lee Jun", "PASSPORT", "M12345678", date(1988, 11, 2))
    gone = bank.register_learner("Park Soo", "NATIONAL_ID", "750101-1234567", date(1975, 1, 1))
    for learner in (kim, lee, gone):
        bank.verify_learner_identity(learner, IdentityVerification.ELECTRONIC_ID, "officer-1")
    bank.grant_consent(kim, employer.id, ConsentScope.TRAINING, date(2030, 1, 1))
    bank.grant_consent(lee, employer.id, ConsentScope.ALL)
    bank.revoke_consent(lee, employer.id)

    course = lambda n, **kw: outcome(uni, f"hk-{n}", **kw)  # noqa: E731
    a = deposit(bank, kim, course("a", credits="3", standard_code="CS101", level=6, result="A"))
    b = deposit(bank, kim, course("b", credits="4", completed_on=date(2024, 12, 20)))
    c = deposit(bank, kim, course("c", credits="2", hours="60"))
    t = deposit(
        bank,
        kim,
        outcome(employer, "ln-1", kind=OutcomeKind.ENTERPRISE_TRAINING, credits="2", hours="16"),
    )
    m = deposit(bank, kim, outcome(college, "sjc-m", credits="3"))
    bank.recognize_outcome(kim, m, "officer-1", Decimal("2.5"), 5, "general")
    r = deposit(bank, kim, outcome(college, "sjc-r", credits="3"))
    bank.reject_outcome(kim, r, "transcript illegible", "officer-1")
    conversion = bank.convert_credits(kim, [b], transfer, actor="kim")
    bank.redeem_qualification(kim, qualification, actor="kim")
    bank.revoke_outcome(kim, c, "issued in error", "hankuk-registrar", by_institution=uni.id)
    x = deposit(bank, lee, course("x", credits="5"))
    deposit(bank, gone, course("y", credits="1"))
    bank.erase_learner(gone, "officer-2")

    # What this version added: an update, a retake, dated and failed credentials, a merge.
    signed = datetime(2025, 7, 1, tzinfo=UTC)
    first = dataclasses.replace(
        course("u", credits="3", completed_on=date(2025, 6, 30)), issued_at=signed, passed=True
    )
    u1 = deposit(bank, lee, first)
    u2 = deposit(
        bank,
        lee,
        dataclasses.replace(first, credits=Decimal(4), issued_at=signed + timedelta(days=3)),
    )
    retake = lambda n, on: course(n, standard_code="CS101", level=6, result="B", completed_on=on)  # noqa: E731
    p1 = deposit(bank, lee, retake("p1", date(2024, 6, 30)))
    p2 = deposit(bank, lee, retake("p2", date(2025, 6, 30)))
    bank.revoke_outcome(lee, p2, "graded in error", "officer-1")
    failed = deposit(bank, lee, dataclasses.replace(course("f", result="F"), passed=False))
    licence = dataclasses.replace(
        outcome(college, "lic-1", kind=OutcomeKind.PROFESSIONAL_QUALIFICATION, credits="2"),
        issued_at=datetime(2020, 1, 1, tzinfo=UTC),
        expires_at=datetime(2024, 12, 31, tzinfo=UTC),
    )
    expired = deposit(bank, lee, licence)
    twin = bank.register_learner(
        "Lee Jun (resident card)", "RESIDENT_ID", "880211-1234567", date(1988, 11, 2)
    )
    bank.verify_learner_identity(twin, IdentityVerification.DOCUMENT_CHECKED, "officer-1")
    w = deposit(bank, twin, course("w", credits="2"))
    bank.merge_learners(lee, twin, "one person: passport and resident card", "officer-1")
    return {
        "institutions": [str(i.id) for i in (uni, college, employer)],
        "learners": [str(kim), str(lee), str(gone), str(twin)],
        "standards": [str(standard), str(old_standard)],
        "recognition_rules": [str(rule), str(cs101), str(training), str(retired)],
        "conversion_rules": [str(transfer), str(old_transfer)],
        "qualifications": [str(qualification), str(old_qualification)],
        "outcomes": {
            "a": a,
            "b": b,
            "c": c,
            "t": t,
            "m": m,
            "r": r,
            "x": x,
            "u1": u1,
            "u2": u2,
            "p1": p1,
            "p2": p2,
            "failed": failed,
            "expired": expired,
            "w": w,
        },
        "conversion": conversion,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), secret_key=SECRET, snapshot_interval=3)
        services = bootstrap(settings, clock=Clock())
        try:
            ids = scenario(services.bank)
            ids = json.loads(json.dumps(ids, default=str))
            payload = {
                "generation": 2,
                "secret_key": SECRET,
                "framework": "eqf",
                "ids": ids,
                "expected": expected(services.bank, ids),
            }
        finally:
            services.close()
        payload.update(rows(settings.sqlite_path))
    OUT.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(payload['events'])} events, {len(payload['snapshots'])} snapshots)")


if __name__ == "__main__":
    main()
