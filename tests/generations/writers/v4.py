"""Writes generation 4: a bank's stored rows as the awards version writes them.

Run once, at the commit named in ../README.md, with ``uv run python -m
tests.generations.writers.v4``. Kept as the record of how ``v4.json`` was made; it is not run
again. It writes what this version added: qualifications with semester caps, a level share, a
residency minimum, per-kind caps and a pathway (a certificate stacking into a diploma that
requires it); redemptions spending exactly what they count, one counting the certificate's
credits again; a revocation putting both awards under review; one reaffirmed (re-allocated) and
one rescinded; and an award rescinded outright. Snapshots every three events.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from application.bootstrap import bootstrap
from application.settings import Settings
from domain.qualification import CategoryMinimum, KindMaximum, Requirements, Stacking
from domain.rules import OutcomeCriteria, RecognitionTerms
from domain.values import IdentityVerification, InstitutionKind, OutcomeKind, RuleModel
from tests.builders import deposit, outcome, register_issuer
from tests.generations.writers.v1 import Clock, expected, rows  # the same reading and clock

SECRET = "generation-4-secret-" + "0" * 24
OUT = Path(__file__).resolve().parents[1] / "v4.json"
D = Decimal


def scenario(bank: Any, clock: Clock) -> dict[str, Any]:
    uni = register_issuer(bank, "Hankuk University")
    college = register_issuer(bank, "Seoul Junior College", InstitutionKind.JUNIOR_COLLEGE)
    since = date(2010, 1, 1)
    rules = [
        bank.create_recognition_rule(
            name,
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                criteria=OutcomeCriteria(institution_id=issuer.id),
                level=level,
                category=category,
                valid_from=since,
                priority=priority,
            ),
        )
        for name, issuer, level, category, priority in (
            ("University courses", uni, 6, "major", 1),
            ("College courses", college, 5, "general", 0),
        )
    ]
    certificate = bank.create_qualification(
        "Certificate in Computing",
        6,
        uni.id,
        Requirements(total_credits=D(6), max_credits_per_semester=D(24), min_level_share=D("0.5")),
    )
    diploma = bank.create_qualification(
        "Diploma in Computing",
        6,
        uni.id,
        Requirements(
            total_credits=D(12),
            minimum_by_category=(CategoryMinimum(category="major", credits=D(6)),),
            min_credits_from_awarding=D(3),
            max_credits_by_kind=(
                KindMaximum(kind=OutcomeKind.VOCATIONAL_CERTIFICATE, credits=D(3)),
            ),
            stacks_from=(Stacking(qualification_id=certificate, required=True),),
        ),
    )

    kim = bank.register_learner("Kim Minji", "RESIDENT_ID", "900307-1777777", date(1990, 3, 7))
    lee = bank.register_learner("Lee Jun", "PASSPORT", "M12345678", date(1988, 11, 2))
    gone = bank.register_learner("Park Soo", "NATIONAL_ID", "750101-1234567", date(1975, 1, 1))
    for learner in (kim, lee, gone):
        bank.verify_learner_identity(learner, IdentityVerification.ELECTRONIC_ID, "officer-1")
    bank.erase_learner(gone, "officer-2")

    c1 = deposit(bank, kim, outcome(uni, "hk-1", credits="4", completed_on=date(2024, 10, 1)))
    c2 = deposit(bank, kim, outcome(uni, "hk-2", credits="4", completed_on=date(2025, 3, 1)))
    g1 = deposit(bank, kim, outcome(college, "sjc-1", credits="4", completed_on=date(2025, 4, 1)))
    cert_award = bank.redeem_qualification(kim, certificate, actor="kim")  # 6 of the 8
    spare = deposit(bank, kim, outcome(uni, "hk-3", credits="4", completed_on=date(2025, 5, 1)))
    dip_award = bank.redeem_qualification(kim, diploma, actor="kim")  # the 6 again, and 6 more
    bank.revoke_outcome(kim, c1, "forged", "officer-1")  # under both awards: both reviewed
    bank.review_award(kim, cert_award, "REAFFIRM", "hk-2 and hk-3 meet it", "officer-2")
    bank.review_award(
        kim, dip_award, "RESCIND", "re-apply with the reaffirmed certificate", "officer-2"
    )

    l1 = deposit(bank, lee, outcome(uni, "hk-9", credits="6", completed_on=date(2025, 1, 10)))
    lee_award = bank.redeem_qualification(lee, certificate, actor="lee")
    bank.review_award(lee, lee_award, "RESCIND", "awarded under the wrong regulations", "officer-2")
    return {
        "institutions": [str(uni.id), str(college.id)],
        "learners": [str(kim), str(lee), str(gone)],
        "standards": [],
        "recognition_rules": [str(r) for r in rules],
        "conversion_rules": [],
        "qualifications": [str(certificate), str(diploma)],
        "outcomes": {"c1": c1, "c2": c2, "g1": g1, "spare": spare, "l1": l1},
        "awards": {"certificate": cert_award, "diploma": dip_award, "lee": lee_award},
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
                "generation": 4,
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
