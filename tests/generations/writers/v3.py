"""Writes generation 3: a bank's stored rows as the conversion-integrity version writes them.

Run once, at the commit named in ../README.md, with ``uv run python -m
tests.generations.writers.v3``. Kept as the record of how ``v3.json`` was made; it is not run
again. It writes what this version added: rules ordered by priority, an agreement proposed by an
institution into its own courses (accepted by the counterpart, approved by a second officer), a
capped conversion taking part of a source, a course equivalence, a conversion reversed by its
learner and one by two officers, an officer's recognition beyond its bounds approved by a second
officer and one declined, an appeal heard, and prior learning applied for and assessed against a
standard. Snapshots every three events.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from application.bootstrap import bootstrap
from application.commands.reviews import BANK_ASSESSOR_ID
from application.settings import Settings
from domain.qualification import CategoryMinimum, Requirements
from domain.records import EvidenceItem
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, InstitutionKind, OutcomeKind, RuleModel
from tests.builders import deposit, outcome, register_issuer
from tests.generations.writers.v1 import Clock, expected, rows  # the same reading and clock

SECRET = "generation-3-secret-" + "0" * 24
OUT = Path(__file__).resolve().parents[1] / "v3.json"
D = Decimal


def scenario(bank: Any, clock: Clock) -> dict[str, Any]:
    uni = register_issuer(bank, "Hankuk University")
    college = register_issuer(bank, "Seoul Junior College", InstitutionKind.JUNIOR_COLLEGE)
    mooc = register_issuer(bank, "K-MOOC", InstitutionKind.MOOC_PLATFORM)
    standard = bank.define_standard("ACC-1", "Bookkeeping", 4, D(3), (OutcomeKind.PRIOR_LEARNING,))
    since = date(2010, 1, 1)
    courses = bank.create_recognition_rule(
        "College courses",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(institution_id=college.id),
            level=5,
            category="general",
            valid_from=since,
            priority=1,
        ),
    )
    moocs = bank.create_recognition_rule(
        "MOOCs",
        RuleModel.FRAMEWORK,
        RecognitionTerms(
            criteria=OutcomeCriteria(kind=OutcomeKind.MOOC),
            level=3,
            category="elective",
            valid_from=since,
        ),
    )
    transfer = bank.create_conversion_rule(
        "College to Hankuk",
        RuleModel.AGREEMENT,
        ConversionTerms(
            criteria=OutcomeCriteria(institution_id=college.id),
            target_institution_id=uni.id,
            target_code="HK-TRANSFER",
            target_category="major",
            ratio=D("0.5"),
            max_credits_per_learner=D(4),
        ),
        "hankuk-registrar",
        uni.id,
        "the college's courses map onto HK-TRANSFER (2026 review)",
    )
    bank.accept_conversion_rule(transfer, college.id, "sjc-registrar")
    bank.approve_conversion_rule(transfer, "officer-2")
    equivalence = bank.create_conversion_rule(
        "College CS1 is Hankuk CS-101",
        RuleModel.FRAMEWORK,
        ConversionTerms(
            criteria=OutcomeCriteria(institution_id=college.id, standard_code="SJC-CS1"),
            target_institution_id=uni.id,
            target_code="CS-101",
            target_category="major",
            ratio=D(1),
            target_credits=D(3),
            target_level=6,
        ),
    )
    declined = bank.create_conversion_rule(
        "Tenfold",
        RuleModel.AGREEMENT,
        ConversionTerms(
            criteria=OutcomeCriteria(institution_id=college.id),
            target_institution_id=uni.id,
            target_code="HK-MINT",
            target_category="major",
            ratio=D(10),
        ),
        "hankuk-registrar",
        uni.id,
        "a bonus",
    )
    bank.decline_conversion_rule(declined, "officer-1", "ratio 10 is not a transfer")
    qualification = bank.create_qualification(
        "Certificate in Computing",
        6,
        uni.id,
        Requirements(
            total_credits=D(6),
            minimum_by_category=(CategoryMinimum(category="major", credits=D(2)),),
        ),
    )

    kim = bank.register_learner("Kim Minji", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    lee = bank.register_learner("Lee Jun", "PASSPORT", "M12345678", date(1988, 11, 2))
    gone = bank.register_learner("Park Soo", "NATIONAL_ID", "750101-1234567", date(1975, 1, 1))
    for learner in (kim, lee, gone):
        bank.verify_learner_identity(learner, IdentityVerification.ELECTRONIC_ID, "officer-1")
    bank.erase_learner(gone, "officer-2")

    a = deposit(bank, kim, outcome(college, "sjc-a", credits="20"))
    capped = bank.convert_credits(kim, [a], transfer, actor="kim")  # takes 8, leaves 12
    cs1 = deposit(bank, kim, outcome(college, "sjc-cs1", credits="4", standard_code="SJC-CS1"))
    equivalent = bank.convert_credits(kim, [cs1], equivalence, actor="kim")
    bank.redeem_qualification(kim, qualification, actor="kim")
    big = deposit(bank, kim, outcome(mooc, "km-1", credits="3", level=3, kind=OutcomeKind.MOOC))
    bank.revoke_outcome(kim, big, "reissued", "officer-1")  # recognised by rule, then revoked
    m = deposit(bank, kim, outcome(uni, "hk-m", credits="3", level=5))
    waiting = bank.recognize_outcome(
        kim, m, "officer-1", D(4), 6, "major", justification="a level 6 capstone"
    )
    bank.approve_decision(kim, waiting, "officer-2")
    n = deposit(bank, kim, outcome(uni, "hk-n", credits="2", level=5))
    refused = bank.recognize_outcome(
        kim, n, "officer-1", D(30), 7, "major", justification="exceptional"
    )
    bank.decline_decision(kim, refused, "officer-2", "30 credits for a 2-credit course: no")

    b = deposit(bank, lee, outcome(college, "sjc-b", credits="6"))
    undone = bank.convert_credits(lee, [b], transfer, actor="lee")
    bank.reverse_conversion(lee, undone, "lee", by_officer=False)
    later = bank.convert_credits(lee, [b], transfer, actor="lee")
    clock.now += timedelta(days=40)
    proposal = bank.reverse_conversion(
        lee, later, "officer-1", by_officer=True, justification="the college withdrew the course"
    )
    bank.approve_decision(lee, proposal, "officer-2")
    r = deposit(bank, lee, outcome(uni, "hk-r", credits="3", level=6))
    bank.reject_outcome(lee, r, "not a degree course", "officer-1")
    bank.appeal_decision(lee, r, "it is listed in the degree regulations")
    bank.hear_appeal(lee, r, "officer-2", True, "the regulations list it", D(3), 6, "major")
    rpl = bank.apply_for_prior_learning(
        lee,
        "Bookkeeping at the family shop",
        date(2024, 12, 31),
        "ten years of double-entry ledgers",
        [EvidenceItem(description="employer letter", digest="sha256:" + "a" * 64)],
        hours=D(400),
    )
    bank.recognize_outcome(lee, rpl, "officer-1", D(3), 4, "general", "ACC-1")
    return {
        # The bank joined its own register with the first application for prior learning.
        "institutions": [str(i.id) for i in (uni, college, mooc)] + [str(BANK_ASSESSOR_ID)],
        "learners": [str(kim), str(lee), str(gone)],
        "standards": [str(standard)],
        "recognition_rules": [str(courses), str(moocs)],
        "conversion_rules": [str(transfer), str(equivalence), str(declined)],
        "qualifications": [str(qualification)],
        "outcomes": {"a": a, "cs1": cs1, "big": big, "m": m, "n": n, "b": b, "r": r, "rpl": rpl},
        "conversions": {
            "capped": capped,
            "equivalent": equivalent,
            "undone": undone,
            "later": later,
        },
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), secret_key=SECRET, snapshot_interval=3)
        clock = Clock()
        services = bootstrap(settings, clock=clock)
        try:
            ids = scenario(services.bank, clock)
            ids = json.loads(json.dumps(ids, default=str))
            payload = {
                "generation": 3,
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
