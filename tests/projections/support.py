"""Helpers for the projection tests: a small world, a workload of bank commands, the views'
expected contents computed from the aggregates (the oracle), table dumps and resets.

A plain module (not conftest) so that the runner subprocess can import it.
"""

from __future__ import annotations

import json
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.bank import CreditBank
from domain.credit_account import CreditAccount
from domain.errors import DomainError
from domain.learner import Learner
from domain.qualification import CategoryMinimum, Requirements, Stacking
from domain.records import DepositedOutcome, EvidenceItem, spending
from domain.rules import ConversionTerms, OutcomeCriteria, RecognitionTerms
from domain.values import (
    AwardStatus,
    ConsentScope,
    IdentityVerification,
    InstitutionKind,
    OutcomeKind,
    OutcomeStatus,
    RuleModel,
)
from projections.base import Batch, Cursor, Tables, Transactions, View, cc, iso
from projections.catalogue import describe
from projections.progress import awards_by_qualification, spent_by_key
from projections.runner import all_views
from tests.builders import SINCE, agreed, ed25519_jwk

D = Decimal
KEYS_VALID_FROM = datetime(2015, 1, 1, tzinfo=UTC)

# Every view table with its columns (explicit: a rebuilt table must keep the same contents).
COLUMNS: dict[str, tuple[str, ...]] = {
    "account_balances": (
        "learner_id",
        "account_version",
        "total_cc",
        "available_cc",
        "redeemed_cc",
        "updated_at",
    ),
    "balance_breakdown": ("learner_id", "dimension", "bucket", "credits_cc"),
    "transcript_entries": (
        "outcome_id",
        "learner_id",
        "seq",
        "credential_id",
        "title",
        "kind",
        "issuer_id",
        "standard_code",
        "level",
        "credits_cc",
        "recognized_cc",
        "recognized_level",
        "category",
        "status",
        "hours_cc",
        "completed_on",
        "deposited_at",
        "rule_id",
        "rule_version",
        "recognized_by",
        "conversion_id",
        "redemption_id",
        "reason",
        "available_cc",
        "justification",
        "approved_by",
    ),
    "account_conversions": (
        "conversion_id",
        "learner_id",
        "rule_id",
        "rule_version",
        "source_cc",
        "credits_cc",
        "target_institution_id",
        "target_code",
        "category",
        "active",
        "redemption_id",
        "converted_at",
        "reversed_reason",
    ),
    "account_holdings": (
        "holding_id",
        "learner_id",
        "credits_cc",
        "level",
        "kind",
        "category",
        "institution_id",
        "completed_on",
        "converted",
        "standard_codes",
        "spent",
        "spent_by",
    ),
    "qualification_progress": (
        "learner_id",
        "qualification_id",
        "qualification_version",
        "met",
        "unmet",
        "notes",
        "counted_cc",
        "redeemed",
        "award_id",
        "award_status",
    ),
    "account_awards": (
        "award_id",
        "learner_id",
        "qualification_id",
        "qualification_version",
        "status",
        "counted_cc",
        "flags",
        "allocations",
    ),
    "enterprise_consents": ("organization_id", "learner_id", "scope", "expires_on", "granted_at"),
    "enterprise_training": (
        "organization_id",
        "learner_id",
        "outcome_id",
        "period",
        "kind",
        "category",
        "hours_cc",
        "credits_cc",
    ),
    "institution_ledger": (
        "institution_id",
        "entry_id",
        "role",
        "learner_id",
        "title",
        "credits_cc",
        "status",
        "at",
    ),
    "account_time_index": ("learner_id", "version", "at", "event_type"),
    "catalogue_entries": (
        "entry_id",
        "entry_type",
        "ordinal",
        "name",
        "kind",
        "version",
        "active",
        "detail",
    ),
}

Rows = dict[str, list[tuple[Any, ...]]]


# -- the world ----------------------------------------------------------------------------------
@dataclass
class Issuer:
    id: UUID
    kid: str
    kind: InstitutionKind


@dataclass
class World:
    """What a workload acts on; shared by writer threads (lists only grow, under ``lock``)."""

    universities: list[Issuer]
    mooc: Issuer
    enterprises: list[Issuer]
    recognition_rules: list[UUID]
    conversion_rules: list[UUID]
    qualifications: list[UUID]
    learners: list[UUID] = field(default_factory=list)
    outcomes: dict[UUID, list[UUID]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuers(self) -> list[Issuer]:
        return [*self.universities, self.mooc, *self.enterprises]

    def to_json(self) -> str:
        def issuer(i: Issuer) -> list[str]:
            return [str(i.id), i.kid, i.kind.value]

        return json.dumps(
            {
                "universities": [issuer(i) for i in self.universities],
                "mooc": issuer(self.mooc),
                "enterprises": [issuer(i) for i in self.enterprises],
                "recognition_rules": [str(i) for i in self.recognition_rules],
                "conversion_rules": [str(i) for i in self.conversion_rules],
                "qualifications": [str(i) for i in self.qualifications],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> World:
        data = json.loads(text)

        def issuer(v: list[str]) -> Issuer:
            return Issuer(UUID(v[0]), v[1], InstitutionKind(v[2]))

        return cls(
            universities=[issuer(v) for v in data["universities"]],
            mooc=issuer(data["mooc"]),
            enterprises=[issuer(v) for v in data["enterprises"]],
            recognition_rules=[UUID(v) for v in data["recognition_rules"]],
            conversion_rules=[UUID(v) for v in data["conversion_rules"]],
            qualifications=[UUID(v) for v in data["qualifications"]],
        )


def _issuer(bank: CreditBank, name: str, kind: InstitutionKind) -> Issuer:
    kid = f"{name.lower().replace(' ', '-')}-key"
    iid = bank.register_institution(name, kind, ed25519_jwk(kid), key_valid_from=KEYS_VALID_FROM)
    return Issuer(iid, kid, kind)


def build_world(bank: CreditBank) -> World:
    """Issuers, an enterprise pair, recognition and capped conversion rules, qualifications."""
    uni = _issuer(bank, "Hankuk University", InstitutionKind.UNIVERSITY)
    college = _issuer(bank, "Seoul Junior College", InstitutionKind.JUNIOR_COLLEGE)
    mooc = _issuer(bank, "Open MOOC", InstitutionKind.MOOC_PLATFORM)
    acme = _issuer(bank, "Acme Corp", InstitutionKind.ENTERPRISE)
    globex = _issuer(bank, "Globex", InstitutionKind.ENTERPRISE)
    bank.define_standard("GEN-1", "General writing", 5, D("4"), (OutcomeKind.ACADEMIC_COURSE,))
    rec = [
        bank.create_recognition_rule(
            "Hankuk courses",
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                valid_from=SINCE,
                criteria=OutcomeCriteria(institution_id=uni.id, kind=OutcomeKind.ACADEMIC_COURSE),
                level=6,
                category="major",
                priority=2,  # overlapping rules are ordered explicitly
            ),
        ),
        bank.create_recognition_rule(
            "General writing",
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                valid_from=SINCE,
                criteria=OutcomeCriteria(standard_code="GEN-1"),
                credits=D("4"),
                level=5,
                category="general",
                valid_until=date(2026, 3, 20),
                priority=1,  # below Hankuk's own rule, above the college's and the MOOCs'
            ),
        ),
        bank.create_recognition_rule(
            "College courses",
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                criteria=OutcomeCriteria(institution_id=college.id),
                level=5,
                category="major",
                valid_from=date(2020, 1, 1),
            ),
        ),
        bank.create_recognition_rule(
            "MOOCs",
            RuleModel.FRAMEWORK,
            RecognitionTerms(
                valid_from=SINCE,
                criteria=OutcomeCriteria(kind=OutcomeKind.MOOC),
                credits=D("1.5"),
                level=4,
                category="elective",
                priority=-1,  # a college's MOOC is the college's course
            ),
        ),
    ]
    conv = [
        agreed(
            bank,
            bank.create_conversion_rule(
                "College to Hankuk",
                RuleModel.AGREEMENT,
                ConversionTerms(
                    criteria=OutcomeCriteria(institution_id=college.id),
                    target_institution_id=uni.id,
                    target_code="HK-TRANSFER",
                    target_category="major",
                    ratio=D("0.8"),
                    max_credits_per_learner=D("5"),
                ),
            ),
        ),
        agreed(
            bank,
            bank.create_conversion_rule(
                "MOOC credit",
                RuleModel.FRAMEWORK,
                ConversionTerms(
                    criteria=OutcomeCriteria(kind=OutcomeKind.MOOC),
                    target_institution_id=uni.id,
                    target_code="HK-MOOC",
                    target_category="general",
                    ratio=D("1.5"),
                    max_credits_per_learner=D("4"),
                ),
                justification="MOOC credits are hours-light: 1.5 by the platform audit",
            ),
        ),
        agreed(
            bank,
            bank.create_conversion_rule(
                "Hankuk to College",
                RuleModel.AGREEMENT,
                ConversionTerms(
                    criteria=OutcomeCriteria(institution_id=uni.id),
                    target_institution_id=college.id,
                    target_code="JC-IN",
                    target_category="elective",
                    ratio=D("0.5"),
                    valid_until=date(2026, 4, 1),
                ),
            ),
        ),
    ]
    quals = [
        bank.create_qualification(
            "Associate",
            5,
            uni.id,
            Requirements(
                total_credits=D("8"),
                minimum_by_category=(
                    CategoryMinimum(category="major", credits=D("4")),
                    CategoryMinimum(category="general", credits=D("2")),
                ),
            ),
        ),
        bank.create_qualification(
            "Certificate",
            4,
            college.id,
            Requirements(
                total_credits=D("5"), max_converted_share=D("0.5"), max_credits_per_year=D("4")
            ),
        ),
    ]
    return World([uni, college], mooc, [acme, globex], rec, conv, quals)


# -- the workload -------------------------------------------------------------------------------
OPS = (
    "register",
    "verify",
    "deposit",
    "deposit",
    "deposit",
    "recognize_rule",
    "recognize_officer",
    "reject",
    "convert",
    "convert",
    "redeem",
    "revoke",
    "grant",
    "revoke_consent",
    "erase",
    "merge",
    "qual_create",
    "qual_amend",
    "tick",
    "reverse",
    "four_eyes",
    "appeal",
    "prior_learning",
    "review_award",
)

KINDS = {
    InstitutionKind.UNIVERSITY: (OutcomeKind.ACADEMIC_COURSE,),
    InstitutionKind.JUNIOR_COLLEGE: (
        OutcomeKind.ACADEMIC_COURSE,
        OutcomeKind.VOCATIONAL_CERTIFICATE,
    ),
    InstitutionKind.MOOC_PLATFORM: (OutcomeKind.MOOC,),
    InstitutionKind.ENTERPRISE: (OutcomeKind.ENTERPRISE_TRAINING, OutcomeKind.WORK_EXPERIENCE),
}
AMOUNTS = ("1", "1.5", "2", "3", "4", "6")


class Workload:
    """Bank commands chosen by small integers (from hypothesis or a seeded Random).

    Refused commands (domain errors) are part of the workload: they must leave the views alone.
    """

    def __init__(
        self, bank: CreditBank, world: World, tag: str = "w", clock: Any | None = None
    ) -> None:
        self.bank = bank
        self.world = world
        self.tag = tag
        self.clock = clock
        self.counter = 0
        self.done: dict[str, int] = {}
        self.refused: dict[str, int] = {}

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    @staticmethod
    def _pick(items: Sequence[Any], n: int) -> Any:
        return items[n % len(items)] if items else None

    def run(self, op: str, a: int, b: int, c: int) -> None:
        try:
            getattr(self, "op_" + op)(a, b, c)
        except DomainError as exc:
            self.refused[type(exc).__name__] = self.refused.get(type(exc).__name__, 0) + 1
        else:
            self.done[op] = self.done.get(op, 0) + 1

    def run_random(self, rng: random.Random, steps: int) -> None:
        for _ in range(steps):
            self.run(rng.choice(OPS), rng.randrange(1000), rng.randrange(1000), rng.randrange(1000))

    def _learner(self, n: int) -> UUID | None:
        with self.world.lock:
            return self._pick(self.world.learners, n)  # type: ignore[no-any-return]

    def _outcome(self, learner: UUID, n: int) -> UUID | None:
        with self.world.lock:
            return self._pick(self.world.outcomes.get(learner, []), n)  # type: ignore[no-any-return]

    # -- commands -----------------------------------------------------------------------------
    def op_register(self, a: int, b: int, c: int) -> None:
        n = self._next()
        learner = self.bank.register_learner(
            f"Learner {self.tag}-{n}",
            "PASSPORT",
            f"P-{self.tag}-{n}-{a}",
            date(1980 + a % 20, 1 + b % 12, 1 + c % 28),
        )
        with self.world.lock:
            self.world.learners.append(learner)
            self.world.outcomes[learner] = []
        if a % 3 == 0:
            self.op_verify(len(self.world.learners) - 1, b, c)

    def op_verify(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        if learner is not None:
            method = (IdentityVerification.DOCUMENT_CHECKED, IdentityVerification.ELECTRONIC_ID)
            self.bank.verify_learner_identity(learner, method[b % 2], "officer-1")

    def op_deposit(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        if learner is None:
            return
        issuer = self.world.issuers[b % len(self.world.issuers)]
        kinds = KINDS[issuer.kind]
        kind = kinds[c % len(kinds)]
        n = self._next()
        deposited = DepositedOutcome(
            issuer_id=issuer.id,
            credential_id=f"urn:cred:{self.tag}-{n}",
            kind=kind,
            title=f"Course {self.tag}-{n}",
            credits=D(AMOUNTS[(a + c) % len(AMOUNTS)]),
            completed_on=date(2023 + c % 3, 1 + b % 12, 1 + a % 28),
            evidence_digest="",
            standard_code=("GEN-1", None, "MAJ-1")[c % 3]
            if kind is OutcomeKind.ACADEMIC_COURSE
            else None,
            level=(None, 5, 6)[b % 3],
            hours=D(10 + a % 30) if c % 2 else None,
            result=("A", None)[a % 2],
            key_id=issuer.kid,
        )
        evidence = json.dumps({"id": deposited.credential_id, "n": n}).encode()
        outcome_id = self.bank.deposit(learner, deposited, evidence, actor=f"{self.tag}-depositor")
        with self.world.lock:
            self.world.outcomes.setdefault(learner, []).append(outcome_id)

    def op_recognize_rule(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        outcome = learner and self._outcome(learner, b)
        if learner is not None and outcome is not None:
            self.bank.recognize_outcome(learner, outcome, "officer-1")

    def op_recognize_officer(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        outcome = learner and self._outcome(learner, b)
        if learner is not None and outcome is not None:
            self.bank.recognize_outcome(
                learner,
                outcome,
                "officer-2",
                credits=D(AMOUNTS[c % len(AMOUNTS)]),
                level=(None, 4, 6)[c % 3],
                category=("major", "general", "elective")[b % 3],
            )

    def op_reject(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        outcome = learner and self._outcome(learner, b)
        if learner is not None and outcome is not None:
            self.bank.reject_outcome(learner, outcome, "not assessed", "officer-1")

    def op_convert(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        if learner is None:
            return
        with self.world.lock:
            outcomes = list(self.world.outcomes.get(learner, []))
        if not outcomes:
            return
        chosen = list(dict.fromkeys(outcomes[(b + i) % len(outcomes)] for i in range(1 + c % 2)))
        rule = self.world.conversion_rules[c % len(self.world.conversion_rules)]
        self.bank.convert_credits(learner, chosen, rule, actor="learner")

    def op_reverse(self, a: int, b: int, c: int) -> None:
        """The learner undoes a conversion, or two officers do."""
        learner = self._learner(a)
        if learner is None:
            return
        conversions = sorted(self.bank.account(learner).conversions)
        if not conversions:
            return
        cid = UUID(self._pick(conversions, b))
        if c % 2:
            self.bank.reverse_conversion(learner, cid, "learner", by_officer=False)
            return
        waiting = self.bank.reverse_conversion(
            learner, cid, "officer-1", by_officer=True, justification="miscoded transfer"
        )
        if waiting is not None:
            self.bank.approve_decision(learner, waiting, "officer-3")

    def op_four_eyes(self, a: int, b: int, c: int) -> None:
        """A recognition beyond the bounds, approved or declined by a second officer."""
        learner = self._learner(a)
        outcome = learner and self._outcome(learner, b)
        if learner is None or outcome is None:
            return
        waiting = self.bank.recognize_outcome(
            learner, outcome, "officer-1", D(25), 6, "major", justification="an exceptional case"
        )
        if waiting is not None and c % 2:
            self.bank.approve_decision(learner, waiting, "officer-3")
        elif waiting is not None:
            self.bank.decline_decision(learner, waiting, "officer-3", "not exceptional")

    def op_appeal(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        outcome = learner and self._outcome(learner, b)
        if learner is None or outcome is None:
            return
        self.bank.appeal_decision(learner, outcome, "the decision was wrong")
        self.bank.hear_appeal(
            learner,
            outcome,
            "officer-4",
            c % 2 == 0,
            "heard",
            D(AMOUNTS[c % len(AMOUNTS)]),
            5,
            "general",
        )

    def op_prior_learning(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        if learner is None:
            return
        outcome_id = self.bank.apply_for_prior_learning(
            learner,
            f"Work at {self.tag}-{self._next()}",
            date(2020 + c % 5, 1 + b % 12, 1),
            "what the learner did",
            [EvidenceItem(description="employer letter")],
            hours=D(10 + a % 200),
        )
        with self.world.lock:
            self.world.outcomes.setdefault(learner, []).append(outcome_id)

    def op_redeem(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        if learner is not None:
            qualification = self._pick(self.world.qualifications, b)
            self.bank.redeem_qualification(learner, qualification, actor="learner")

    def op_review_award(self, a: int, b: int, c: int) -> None:
        """An officer reaffirms an award under review (refused when no longer met), or
        rescinds one."""
        learner = self._learner(a)
        if learner is None:
            return
        awards = sorted(self.bank.account(learner).redemptions.values(), key=lambda r: str(r.id))
        if not awards:
            return
        award = awards[b % len(awards)]
        if award.status is AwardStatus.UNDER_REVIEW and c % 2:
            decision = "REAFFIRM"
        elif award.status is AwardStatus.UNDER_REVIEW or c % 4 == 0:
            decision = "RESCIND"
        else:
            return
        self.bank.review_award(learner, award.id, decision, "reviewed", "officer-2")

    def op_revoke(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        outcome = learner and self._outcome(learner, b)
        if learner is not None and outcome is not None:
            self.bank.revoke_outcome(learner, outcome, "issued in error", "officer-1")

    def op_grant(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        if learner is not None:
            org = self.world.enterprises[b % len(self.world.enterprises)]
            scope = (ConsentScope.TRAINING, ConsentScope.ALL)[c % 2]
            expires = None if c % 3 else self.bank.now().date() + timedelta(days=30 + a)
            self.bank.grant_consent(learner, org.id, scope, expires)

    def op_revoke_consent(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        if learner is not None:
            org = self.world.enterprises[b % len(self.world.enterprises)]
            self.bank.revoke_consent(learner, org.id)

    def op_erase(self, a: int, b: int, c: int) -> None:
        learner = self._learner(a)
        if learner is not None and b % 4 == 0:  # erasure is rare and final
            self.bank.erase_learner(learner, "officer-1")

    def op_merge(self, a: int, b: int, c: int) -> None:
        survivor, duplicate = self._learner(a), self._learner(b)
        if survivor is None or duplicate is None or c % 3:  # merging is rare
            return
        self.bank.merge_learners(survivor, duplicate, "one person, two accounts", "officer-1")
        with self.world.lock:  # later commands find the moved outcomes under the survivor
            moved = self.world.outcomes.pop(duplicate, [])
            self.world.outcomes.setdefault(survivor, []).extend(moved)

    def op_qual_create(self, a: int, b: int, c: int) -> None:
        uni = self.world.universities[0]
        category = ("major", "general", "elective")[b % 3]
        below = self.world.qualifications[-1] if self.world.qualifications and c % 3 == 0 else None
        qid = self.bank.create_qualification(
            f"Qualification {self.tag}-{self._next()}",
            4 + a % 3,
            uni.id,
            Requirements(
                total_credits=D(2 + a % 7),
                minimum_by_category=(CategoryMinimum(category=category, credits=D(1 + b % 3)),),
                max_credits_per_institution=D(5) if c % 2 else None,
                max_credits_per_semester=D(4) if c % 5 == 0 else None,
                # Pathways: some stack on the last one made, counting its award again.
                stacks_from=()
                if below is None
                else (Stacking(qualification_id=below, required=bool(b % 2)),),
            ),
        )
        with self.world.lock:
            self.world.qualifications.append(qid)

    def op_qual_amend(self, a: int, b: int, c: int) -> None:
        qid = self._pick(self.world.qualifications, a)
        if c % 5 == 0:
            self.bank.retire_qualification(qid)
            return
        current = self.bank.qualification(qid).requirements
        self.bank.amend_qualification(
            qid,
            replace(
                current,
                total_credits=current.total_credits + D(1 + b % 3) * (1 if c % 2 else -1) / 2,
            ),
        )

    def op_tick(self, a: int, b: int, c: int) -> None:
        if self.clock is not None:
            self.clock.now += timedelta(days=1 + a % 5, seconds=b)


class Clock:
    """A settable clock that moves a little with every reading (distinct event timestamps)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


# -- an extra view that records every notification it applies (exactly once?) -------------------
APPLIED_LOG_DDL = (
    "CREATE TABLE IF NOT EXISTS applied_log (nid BIGINT NOT NULL, runner TEXT NOT NULL)"
)


class AppliedLog:
    """Inserts one row per applied notification, in the runner's transaction: a batch applied
    twice shows as duplicate ids, a skipped notification as a missing one."""

    name = "applied_log"
    tables = ("applied_log",)
    reads: tuple[str, ...] = ()

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def apply(self, batch: Batch, cur: Cursor, t: Tables) -> None:
        for nid, _ in batch.events:
            cur.execute(
                f"INSERT INTO {t('applied_log')} (nid, runner) VALUES (?, ?)", [nid, self.tag]
            )


def create_applied_log(database: Transactions) -> None:
    with database.transaction() as cur:
        cur.execute(APPLIED_LOG_DDL)


def views_with_log(tag: str) -> list[View]:
    return [*all_views(), AppliedLog(tag)]


def applied_log(database: Transactions) -> list[int]:
    with database.transaction() as cur:
        cur.execute("SELECT nid FROM applied_log ORDER BY nid")
        return [int(r[0]) for r in cur.fetchall()]


# -- reading the store and the views ------------------------------------------------------------
def notification_ids(bank: CreditBank) -> list[tuple[int, UUID, int]]:
    """(id, originator id, version) of every stored notification, in order."""
    found: list[tuple[int, UUID, int]] = []
    start = 0
    while True:
        batch = bank.recorder.select_notifications(
            start=start, limit=5000, inclusive_of_start=False
        )
        if not batch:
            return found
        found += [(n.id, n.originator_id, n.originator_version) for n in batch]
        start = batch[-1].id


def dump(database: Transactions, tables: Iterable[str] = COLUMNS) -> Rows:
    """Whole table contents, sorted, for comparison."""
    out: Rows = {}
    with database.transaction() as cur:
        for table in tables:
            cur.execute(f"SELECT {', '.join(COLUMNS[table])} FROM {table}")
            out[table] = sorted((tuple(r) for r in cur.fetchall()), key=repr)
    return out


def reset_views(database: Transactions) -> None:
    """Empties every view table and the tracking rows: the next runner starts from zero."""
    with database.transaction() as cur:
        for table in COLUMNS:
            cur.execute(f"DELETE FROM {table}")
        cur.execute("DELETE FROM projection_tracking")


def diff(expected: Rows, actual: Rows, limit: int = 6) -> str:
    """A readable account of where two dumps differ ('' when equal)."""
    lines: list[str] = []
    for table in expected:
        e, a = set(expected[table]), set(actual.get(table, []))
        if e == a and len(expected[table]) == len(actual.get(table, [])):
            continue
        lines.append(f"{table}: {len(expected[table])} expected rows, {len(actual[table])} found")
        for row in sorted(e - a, key=repr)[:limit]:
            lines.append(f"  missing    {dict(zip(COLUMNS[table], row, strict=True))}")
        for row in sorted(a - e, key=repr)[:limit]:
            lines.append(f"  unexpected {dict(zip(COLUMNS[table], row, strict=True))}")
    return "\n".join(lines)


# -- the oracle: what the aggregates say the views must hold --------------------------------------
COUNTED = {
    OutcomeStatus.DEPOSITED,
    OutcomeStatus.RECOGNIZED,
    OutcomeStatus.CONVERTED,
    OutcomeStatus.REDEEMED,
}


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def _spent_by(given: dict[str, Decimal], qualification_of: dict[str, str]) -> str:
    """What awards spent of a holding, by the awards' qualifications (as JSON)."""
    by: defaultdict[str, Decimal] = defaultdict(Decimal)
    for rid, amount in given.items():
        by[qualification_of[rid]] += amount
    return json.dumps({q: str(v) for q, v in sorted(by.items())})


def expected_views(bank: CreditBank) -> Rows:
    """Every view table's rows, computed from the aggregates and the event store alone."""
    rows: Rows = {table: [] for table in COLUMNS}
    created_at = {(oid, v): nid for nid, oid, v in notification_ids(bank)}
    qualifications = [q for q in bank.qualifications() if not q.retired]
    for learner_id in bank.learner_ids():
        lid = str(learner_id)
        learner: Learner = bank.learner(learner_id)
        account: CreditAccount = bank.account(learner_id)
        b = account.balance()
        rows["account_balances"].append(
            (
                lid,
                account.version,
                cc(b.total),
                cc(b.available),
                cc(b.redeemed),
                iso(account.modified_on),
            )
        )
        rows["balance_breakdown"] += (
            [(lid, "level", str(k), cc(v)) for k, v in b.by_level.items()]
            + [(lid, "kind", k.value, cc(v)) for k, v in b.by_kind.items()]
            + [(lid, "category", k, cc(v)) for k, v in b.by_category.items()]
        )
        events = list(bank.events.get(account.id))
        seq = {
            str(e.outcome_id): e.originator_version
            for e in events
            # its deposit (or application), or its transfer into the account it was merged into
            if type(e).__name__
            in ("OutcomeDeposited", "OutcomeTransferred", "PriorLearningClaimed")
        }
        rows["account_time_index"] += [
            (lid, e.originator_version, iso(e.timestamp), type(e).__name__) for e in events
        ]
        for oid, o in account.outcomes.items():
            rows["transcript_entries"].append(
                (
                    oid,
                    lid,
                    seq[oid],
                    o.credential_id,
                    o.title,
                    o.kind.value,
                    str(o.issuer_id),
                    o.standard_code,
                    o.level,
                    cc(o.credits_claimed),
                    cc(o.recognized_credits),
                    o.recognized_level,
                    o.category,
                    o.status.value,
                    cc(o.hours),
                    o.completed_on.isoformat(),
                    iso(o.deposited_at),
                    _s(o.rule_id),
                    o.rule_version,
                    o.recognized_by,
                    _s(o.conversion_id),
                    _s(o.redemption_id),
                    o.revoked_reason or o.rejection_reason,
                    None if o.recognized_credits is None else cc(o.available_credits),
                    o.justification,
                    o.approved_by,
                )
            )
            rows["institution_ledger"].append(
                (
                    str(o.issuer_id),
                    oid,
                    "ISSUED",
                    lid,
                    o.title,
                    cc(
                        o.recognized_credits
                        if o.recognized_credits is not None
                        else o.credits_claimed
                    ),
                    o.status.value,
                    iso(o.deposited_at),
                )
            )
        for cid, c in account.conversions.items():
            rows["account_conversions"].append(
                (
                    cid,
                    lid,
                    str(c.rule_id),
                    c.rule_version,
                    cc(c.source_credits),
                    cc(c.credits),
                    str(c.target_institution_id),
                    c.target_code,
                    c.category,
                    int(c.active),
                    _s(c.redemption_id),
                    iso(c.converted_at),
                    c.reversed_reason,
                )
            )
            rows["institution_ledger"].append(
                (
                    str(c.target_institution_id),
                    cid,
                    "ACCEPTED",
                    lid,
                    c.target_code,
                    cc(c.credits),
                    "ACTIVE" if c.active else "CANCELLED",
                    iso(c.converted_at),
                )
            )
        holdings = account.holdings()
        awards = list(account.redemptions.values())
        qualification_of = spent_by_key(awards)
        spent = spending(awards)

        rows["account_holdings"] += [
            (
                str(h.id),
                lid,
                cc(h.credits),
                h.level,
                h.kind.value,
                h.category,
                str(h.institution_id),
                h.completed_on.isoformat(),
                int(h.converted),
                " ".join(sorted(h.standard_codes)),
                int(h.spent > 0),
                _spent_by(spent.get(str(h.id), {}), qualification_of),
            )
            for h in holdings
        ]
        rows["account_awards"] += [
            (
                str(r.id),
                lid,
                str(r.qualification_id),
                r.qualification_version,
                r.status.value,
                cc(r.credits_counted),
                json.dumps(list(r.flags), ensure_ascii=False),
                json.dumps({k: str(v) for k, v in r.allocations.items()}),
            )
            for r in awards
        ]
        by_qualification = awards_by_qualification(awards)
        for q in qualifications:
            r = by_qualification.get(str(q.id))
            if r is not None and r.status is AwardStatus.STANDING:
                # awarded: what the award counted, under the version it met
                rows["qualification_progress"].append(
                    (
                        lid,
                        str(q.id),
                        r.qualification_version,
                        1,
                        "[]",
                        "[]",
                        cc(r.credits_counted),
                        1,
                        str(r.id),
                        r.status.value,
                    )
                )
                continue
            reviewed = r is not None and r.status is AwardStatus.UNDER_REVIEW
            terms = bank.awarded_qualification(r) if r is not None and reviewed else q
            result = account.assess(
                bank.goal_for(terms),
                None,
                bank.pathway_for(terms),
                releasing=r.id if r is not None and r.active else None,
            )
            notes = [f"award under review: {f}" for f in r.flags] if r and reviewed else []
            rows["qualification_progress"].append(
                (
                    lid,
                    str(q.id),
                    r.qualification_version if r and reviewed else q.requirements_version,
                    int(result.met),
                    json.dumps(list(result.unmet), ensure_ascii=False),
                    json.dumps(notes + list(result.notes), ensure_ascii=False),
                    cc(result.credits_counted),
                    int(reviewed),
                    None if r is None else str(r.id),
                    None if r is None else r.status.value,
                )
            )
        for consent in learner.consents.values():
            org = str(consent.organization_id)
            rows["enterprise_consents"].append(
                (org, lid, consent.scope.value, iso(consent.expires_on), iso(consent.granted_at))
            )
            for oid, o in account.outcomes.items():
                counted = o.status in COUNTED and o.under_review is None
                if counted and consent.covers(o.kind, o.issuer_id):
                    rows["enterprise_training"].append(
                        (
                            org,
                            lid,
                            oid,
                            o.completed_on.strftime("%Y-%m"),
                            o.kind.value,
                            o.category,
                            cc(o.hours) or 0,
                            cc(o.recognized_credits) or 0,
                        )
                    )
    catalogue: list[tuple[str, Any, tuple[str, str | None, int, bool]]] = []
    for i in bank.institutions():
        catalogue.append(("institution", i, (i.name, i.kind.value, i.version, i.active)))
    for lid in bank.learner_ids():
        le = bank.learner(lid)
        catalogue.append(("learner", le, ("", le.verification.value, le.version, not le.erased)))
    for r in bank.recognition_rules():
        catalogue.append(
            ("recognition_rule", r, (r.name, r.model.value, r.rule_version, not r.retired))
        )
    for cr in bank.conversion_rules():
        catalogue.append(
            ("conversion_rule", cr, (cr.name, cr.model.value, cr.rule_version, not cr.retired))
        )
    for q in bank.qualifications():
        catalogue.append(
            ("qualification", q, (q.name, None, q.requirements_version, not q.retired))
        )
    for s in bank.standards():
        catalogue.append(("standard", s, (s.title, s.code, s.version, not s.withdrawn)))
    for entry_type, aggregate, (name, kind, version, active) in catalogue:
        detail = describe(aggregate)[4]
        rows["catalogue_entries"].append(
            (
                str(aggregate.id),
                entry_type,
                created_at[(aggregate.id, 1)],
                name,
                kind,
                version,
                int(active),
                json.dumps(detail, ensure_ascii=False, sort_keys=True),
            )
        )
    return {table: sorted(found, key=repr) for table, found in rows.items()}


def check_views(bank: CreditBank, database: Transactions | None = None) -> Rows:
    """Asserts every view equals the oracle; returns the dump."""
    actual = dump(database or bank.database)
    problems = diff(expected_views(bank), actual)
    assert not problems, "views differ from the aggregates:\n" + problems
    return actual


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any]) -> float:
    import time

    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def populate(bank: CreditBank, learners: int, deposits: int, seed: int = 1) -> World:
    """A world with many accounts: learners (a third verified, so rules recognise on deposit),
    deposits, some officer recognitions, conversions and redemptions."""
    world = build_world(bank)
    workload = Workload(bank, world, tag="pop", clock=getattr(bank, "clock", None))
    rng = random.Random(seed)
    for i in range(learners):
        workload.run("register", rng.randrange(1000), i, i)
    for _ in range(deposits):
        workload.run("deposit", rng.randrange(1000), rng.randrange(1000), rng.randrange(1000))
    for op in ("recognize_officer", "convert", "redeem", "grant"):
        for _ in range(learners // 2):
            workload.run(op, rng.randrange(1000), rng.randrange(1000), rng.randrange(1000))
    return world
