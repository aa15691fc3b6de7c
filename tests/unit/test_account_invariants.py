"""Stateful property test: random histories of one CreditAccount keep the DESIGN.md invariants.

The test keeps every event the account records and, after every step, checks the account against
an independent fold of those events written here (not ``account.balance()``), and against an
account rebuilt by replaying them:

1. the balance equals the fold of the events, and equals the balance of the replayed account;
2. nothing is counted twice: an outcome counts either as itself or inside one active conversion,
   a holding is spent by at most one redemption, total = available + redeemed;
3. a conversion never creates credit beyond its rule: credits <= source credits x ratio, and per
   rule the active converted total <= the rule's cap per learner;
4. a rule is only applied on dates within its validity window.

Each command's result is also predicted from the fold: the error type of a refusal, the credits of
a conversion, the conversions cancelled and redemptions flagged by a revocation.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from domain.assessment import Goal, Holding, assess
from domain.awards import NO_PATHWAY
from domain.credit_account import CreditAccount
from domain.errors import (
    AlreadyRevoked,
    DomainError,
    DuplicateCredential,
    Forbidden,
    IdentityNotVerified,
    InvalidInput,
    RequirementsNotMet,
    RuleNotApplicable,
)
from domain.qualification import (
    CategoryMinimum,
    LevelMinimum,
    Requirements,
)
from domain.records import DepositedOutcome
from domain.rules import (
    ConversionRule,
    ConversionTerms,
    OutcomeCriteria,
    RecognitionRule,
    RecognitionTerms,
    RuleVersion,
)
from domain.standard import OutcomeStandard, StandardTerms
from domain.values import InstitutionKind, OutcomeKind, OutcomeStatus, RuleModel
from tests.unit.sharing import immutable_records_hold_only_immutables, shared_mutables
from tests.unit.support import MAX_LEVEL, in_force, justification_for

ZERO = Decimal(0)
CENT = Decimal("0.01")
START = date(2024, 12, 1)
ISSUERS = (UUID(int=1), UUID(int=2), UUID(int=3))
TARGET = UUID(int=100)
KINDS = (OutcomeKind.ACADEMIC_COURSE, OutcomeKind.MOOC, OutcomeKind.ENTERPRISE_TRAINING)
STANDARDS = (None, "S1", "S2")
# The catalogue the rule citing S1 measures against: level 3, at most 2.5 credits, any kind.
STANDARD_CATALOGUE = {
    code: OutcomeStandard.define(
        code=code,
        terms=StandardTerms(
            title=code, level=3, credits=Decimal("2.5"), accepted_kinds=tuple(OutcomeKind)
        ),
        max_level=MAX_LEVEL,
    )
    for code in ("S1", "S2")
}
CATEGORIES = ("major", "general", "elective")


# -- an independent fold of the account's events -------------------------------------------------
@dataclass
class MOutcome:
    issuer_id: UUID
    credential_id: str
    kind: OutcomeKind
    standard_code: str | None
    level: int | None
    claimed: Decimal
    completed_on: date
    credits: Decimal | None = None
    rec_level: int | None = None
    category: str | None = None
    rejected: bool = False
    taken: dict[UUID, Decimal] = field(default_factory=dict)  # by conversion
    spent: Decimal = ZERO  # counted by an award (it spends exactly what it counts)
    revoked: bool = False
    recognized_standard: str | None = None
    superseded_by: UUID | None = None
    superseded_because: str | None = None

    @property
    def status(self) -> OutcomeStatus:
        if self.revoked:
            return OutcomeStatus.REVOKED
        if self.superseded_by is not None:
            return OutcomeStatus.SUPERSEDED
        if self.spent > 0:
            return OutcomeStatus.REDEEMED
        if self.taken and self.available <= 0:
            return OutcomeStatus.CONVERTED
        if self.credits is not None:
            return OutcomeStatus.RECOGNIZED
        if self.rejected:
            return OutcomeStatus.REJECTED
        return OutcomeStatus.DEPOSITED

    @property
    def available(self) -> Decimal:
        return (self.credits or ZERO) - sum(self.taken.values(), ZERO)


@dataclass
class MConversion:
    rule_id: UUID
    rule_version: int
    ratio: Decimal
    sources: tuple[UUID, ...]
    source_credits_at_conversion: Decimal
    credits: Decimal
    level: int | None
    kind: OutcomeKind
    category: str
    institution_id: UUID
    completed_on: date
    standard_codes: frozenset[str]
    converted_on: date
    parts: tuple[Any, ...]
    active: bool = True
    spent: dict[UUID, Decimal] = field(default_factory=dict)  # part id -> counted by an award


@dataclass
class Model:
    outcomes: dict[UUID, MOutcome] = field(default_factory=dict)
    conversions: dict[UUID, MConversion] = field(default_factory=dict)
    redemptions: dict[UUID, tuple[UUID, dict[str, Decimal]]] = field(default_factory=dict)
    award_status: dict[UUID, str] = field(default_factory=dict)  # STANDING, UNDER_REVIEW, ...
    recognitions_by_rule: list[tuple[UUID, UUID, int]] = field(default_factory=list)

    def spend(self) -> None:
        """What each holding gives the awards still in force: exactly what they allocated
        (no pathway here, so nothing counts again)."""
        for o in self.outcomes.values():
            o.spent = ZERO
        for c in self.conversions.values():
            c.spent = {}
        for rid, (_, alloc) in self.redemptions.items():
            if self.award_status[rid] == "RESCINDED":
                continue
            for key, counted in alloc.items():
                hid = UUID(key)
                if hid in self.outcomes:
                    self.outcomes[hid].spent += counted
                else:
                    (c,) = [c for c in self.conversions.values() if hid in {p.id for p in c.parts}]
                    c.spent[hid] = c.spent.get(hid, ZERO) + counted

    def released(self, award: UUID) -> list[Holding]:
        """The holdings with one award's spending set aside (it is being reviewed)."""
        _, alloc = self.redemptions[award]
        return [
            replace(h, spent=h.spent - alloc.get(str(h.id), ZERO)) if str(h.id) in alloc else h
            for h in self.holdings()
        ]

    def holdings(self) -> list[Holding]:
        held = [
            Holding(
                id=i,
                credits=o.available,
                level=o.rec_level,
                kind=o.kind,
                category=o.category or "",
                institution_id=o.issuer_id,
                completed_on=o.completed_on,
                converted=False,
                standard_codes=frozenset({o.recognized_standard} - {None}),
                spent=min(o.spent, o.available),
            )
            for i, o in self.outcomes.items()
            if o.credits is not None
            and not o.revoked
            and o.superseded_by is None
            and o.available > 0
        ]
        # Each part keeps its source's date, institution, kind and level.
        held += [
            Holding(
                id=p.id,
                credits=p.credits,
                level=self.outcomes[p.source_id].rec_level,
                kind=self.outcomes[p.source_id].kind,
                category=c.category,
                institution_id=self.outcomes[p.source_id].issuer_id,
                completed_on=self.outcomes[p.source_id].completed_on,
                converted=True,
                standard_codes=c.standard_codes,
                spent=c.spent.get(p.id, ZERO),
            )
            for c in self.conversions.values()
            if c.active
            for p in c.parts
            if p.credits > 0  # a part converted to nothing is no holding
        ]
        return held

    def balance(self) -> dict[str, Any]:
        total = redeemed = ZERO
        by_level: dict[int, Decimal] = defaultdict(Decimal)
        by_kind: dict[OutcomeKind, Decimal] = defaultdict(Decimal)
        by_category: dict[str, Decimal] = defaultdict(Decimal)
        for h in self.holdings():
            total += h.credits
            redeemed += h.spent
            if h.level is not None:
                by_level[h.level] += h.credits
            by_kind[h.kind] += h.credits
            by_category[h.category] += h.credits
        return {
            "total": total,
            "available": total - redeemed,
            "redeemed": redeemed,
            "by_level": dict(by_level),
            "by_kind": dict(by_kind),
            "by_category": dict(by_category),
        }


def fold(events: list[Any]) -> Model:
    m = Model()
    for e in events:
        name = type(e).__name__
        if name in ("Opened", "DecisionProposed", "DecisionApproved", "DecisionDeclined"):
            continue  # a decision's effect is its own event
        if name == "OutcomeDeposited":
            m.outcomes[e.outcome_id] = MOutcome(
                e.issuer_id,
                e.credential_id,
                e.kind,
                e.standard_code,
                e.level,
                e.credits,
                e.completed_on,
            )
        elif name == "OutcomeRecognized":
            o = m.outcomes[e.outcome_id]
            o.credits, o.rec_level, o.category, o.rejected = e.credits, e.level, e.category, False
            o.recognized_standard = o.standard_code if e.claimed_code_counts else e.standard_code
            if e.rule_id is not None:
                m.recognitions_by_rule.append((e.outcome_id, e.rule_id, e.rule_version))
        elif name == "RecognitionRejected":
            m.outcomes[e.outcome_id].rejected = True
        elif name == "CreditsConverted":
            m.conversions[e.conversion_id] = MConversion(
                e.rule_id,
                e.rule_version,
                e.ratio,
                tuple(p.source_id for p in e.parts),
                sum((p.consumed for p in e.parts), ZERO),
                e.credits,
                e.level,
                e.kind,
                e.category,
                e.target_institution_id,
                e.completed_on,
                frozenset(e.standard_codes),
                e.converted_at.date(),
                tuple(e.parts),
            )
            for p in e.parts:
                source = m.outcomes[p.source_id]
                assert p.consumed <= source.available  # nothing is taken twice
                source.taken[e.conversion_id] = p.consumed
        elif name == "CreditsRedeemed":
            for key, counted in e.allocations.items():
                hid = UUID(key)
                if hid in m.outcomes:
                    assert counted <= m.outcomes[hid].available - m.outcomes[hid].spent
            m.redemptions[e.redemption_id] = (e.qualification_id, dict(e.allocations))
            m.award_status[e.redemption_id] = "STANDING"
            m.spend()
        elif name == "AwardReaffirmed":
            qid, _ = m.redemptions[e.redemption_id]
            m.redemptions[e.redemption_id] = (qid, dict(e.allocations))
            m.award_status[e.redemption_id] = "STANDING"
            m.spend()
        elif name == "AwardRescinded":
            m.award_status[e.redemption_id] = "RESCINDED"
            for rid in e.stacked:
                m.award_status[rid] = "UNDER_REVIEW"
            m.spend()
        elif name == "ConversionReversed":
            reversed_ = m.conversions[e.conversion_id]
            reversed_.active = False
            for s in reversed_.sources:
                m.outcomes[s].taken.pop(e.conversion_id)  # back exactly what it took
        elif name in ("OutcomeRevoked", "OutcomeSuperseded"):
            if name == "OutcomeRevoked":
                m.outcomes[e.outcome_id].revoked = True
                for rid in e.restored:
                    m.outcomes[rid].superseded_by = m.outcomes[rid].superseded_because = None
            else:
                m.outcomes[e.outcome_id].superseded_by = e.superseded_by
                m.outcomes[e.outcome_id].superseded_because = e.because
            for cid in e.cancelled_conversions:
                c = m.conversions[cid]
                c.active = False
                for p in c.parts:
                    m.outcomes[p.source_id].taken.pop(cid)
            for rid in e.flagged_redemptions:
                if m.award_status[rid] == "RESCINDED":
                    continue
                m.award_status[rid] = "UNDER_REVIEW"
                # What it counted of a cancelled conversion stays reserved for it, as the share
                # of the source credits the part took (the source it came from got them back).
                _, alloc = m.redemptions[rid]
                for cid in e.cancelled_conversions:
                    for p in m.conversions[cid].parts:
                        counted = alloc.pop(str(p.id), None)
                        if counted is None or p.source_id == e.outcome_id or p.credits <= 0:
                            continue
                        share = min(
                            p.consumed,
                            (p.consumed * counted / p.credits).quantize(CENT, ROUND_DOWN),
                        )
                        if share > 0:
                            key = str(p.source_id)
                            alloc[key] = alloc.get(key, ZERO) + share
            m.spend()
        else:  # pragma: no cover - a new event type must be folded here
            raise AssertionError(f"unknown event {name}")
    return m


def replay(events: list[Any]) -> CreditAccount:
    agg = None
    for e in events:
        agg = e.mutate(agg)
    assert isinstance(agg, CreditAccount)
    return agg


COUNTED = (OutcomeStatus.RECOGNIZED, OutcomeStatus.CONVERTED, OutcomeStatus.REDEEMED)


def keys_of(o: MOutcome, standard: str | None) -> set[tuple[str, ...]]:
    """What makes two outcomes the same learning: the standard, or the issuer's code."""
    keys: set[tuple[str, ...]] = set()
    if standard is not None:
        keys.add(("standard", standard))
    if o.standard_code is not None:
        keys.add(("course", str(o.issuer_id), o.standard_code))
    return keys


def counted_elsewhere(m: Model, oid: UUID, standard: str | None) -> bool:
    """Recognising ``oid`` would count the same learning twice: another attempt counts that is
    converted (even in part), spent, or completed later (a still-recognised, untouched earlier
    one is replaced)."""
    o, keys = m.outcomes[oid], keys_of(m.outcomes[oid], standard)
    return any(
        i != oid
        and x.status in COUNTED
        and keys & keys_of(x, x.recognized_standard)
        and (
            x.status is not OutcomeStatus.RECOGNIZED
            or bool(x.taken)
            or x.completed_on > o.completed_on
        )
        for i, x in m.outcomes.items()
    )


def in_window(day: date, terms: Any) -> bool:
    return (terms.valid_from is None or terms.valid_from <= day) and (
        terms.valid_until is None or day <= terms.valid_until
    )


# -- rules and qualifications the machine uses ----------------------------------------------------
def recognition_rules() -> list[RuleVersion]:
    def make(
        criteria: OutcomeCriteria,
        credits: str | None,
        level: int,
        category: str,
        valid_from: date | None,
        valid_until: date | None,
    ) -> RuleVersion:
        terms = RecognitionTerms(
            criteria=criteria,
            credits=None if credits is None else Decimal(credits),
            level=level,
            category=category,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        return RecognitionRule.create(
            name="r", model=RuleModel.FRAMEWORK, terms=terms, max_level=MAX_LEVEL, today=START
        ).current()

    return [
        make(OutcomeCriteria(), None, 6, "major", None, None),
        make(
            OutcomeCriteria(kind=OutcomeKind.MOOC),
            "2",
            5,
            "general",
            date(2025, 2, 1),
            date(2025, 5, 31),
        ),
        make(OutcomeCriteria(institution_id=ISSUERS[0]), "3.5", 7, "major", date(2025, 4, 1), None),
        make(OutcomeCriteria(standard_code="S1"), None, 4, "elective", None, date(2025, 3, 15)),
    ]


def conversion_rules() -> list[ConversionRule]:
    def make(
        model: RuleModel,
        criteria: OutcomeCriteria,
        ratio: str,
        cap: str | None,
        category: str,
        valid_from: date | None,
        valid_until: date | None,
    ) -> ConversionRule:
        terms = ConversionTerms(
            criteria=criteria,
            target_institution_id=TARGET,
            target_code="T-" + ratio,
            target_category=category,
            ratio=Decimal(ratio),
            max_credits_per_learner=None if cap is None else Decimal(cap),
            valid_from=valid_from,
            valid_until=valid_until,
        )
        return in_force(
            ConversionRule.create(
                name="c", model=model, terms=terms, justification=justification_for(terms)
            )
        )

    return [
        make(RuleModel.FRAMEWORK, OutcomeCriteria(), "1", None, "major", None, None),
        make(
            RuleModel.FRAMEWORK,
            OutcomeCriteria(),
            "0.5",
            "2",
            "general",
            date(2025, 2, 1),
            date(2025, 12, 31),
        ),
        make(
            RuleModel.AGREEMENT,
            OutcomeCriteria(institution_id=ISSUERS[0]),
            "1.5",
            "4",
            "major",
            None,
            None,
        ),
        make(
            RuleModel.FRAMEWORK,
            OutcomeCriteria(kind=OutcomeKind.ACADEMIC_COURSE),
            "0.33",
            "1",
            "elective",
            None,
            date(2025, 6, 30),
        ),
    ]


QUALIFICATIONS: list[tuple[UUID, Requirements]] = [
    (UUID(int=1001), Requirements(total_credits=Decimal("5"))),
    (
        UUID(int=1002),
        Requirements(
            total_credits=Decimal("6"),
            minimum_by_category=(CategoryMinimum(category="major", credits=Decimal("3")),),
            max_credits_per_year=Decimal("4"),
        ),
    ),
    (
        UUID(int=1003),
        Requirements(
            total_credits=Decimal("4"),
            minimum_at_level=(LevelMinimum(level=5, credits=Decimal(2)),),
            max_converted_share=Decimal("0.5"),
        ),
    ),
    (
        UUID(int=1004),
        Requirements(
            total_credits=Decimal("3"),
            required_standards=("S1",),
            max_credits_per_institution=Decimal("2"),
        ),
    ),
]
QUALIFICATIONS = [(q, r.checked(MAX_LEVEL)) for q, r in QUALIFICATIONS]

STEPS: Counter[str] = Counter()  # what the runs exercised: a diagnostic to inspect when tuning


def has(*statuses: OutcomeStatus) -> Any:
    """A precondition: some outcome is in one of ``statuses`` (the command has a useful target;
    the command still sometimes picks another outcome, to exercise its refusals)."""
    return lambda self: any(o.status in statuses for o in self.account.outcomes.values())


credit_amounts = st.one_of(
    st.sampled_from([Decimal(c) for c in ("3", "2", "1.5", "4.5", "1", "0.5")]),
    st.integers(1, 800).map(lambda n: Decimal(n) / 100),
)


class AccountMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.account = CreditAccount(learner_id=uuid4())
        self.counter = 0
        self._folded: tuple[int, Model] | None = None
        self.events: list[Any] = list(self.account.collect_events())
        self.today = START
        self.verified = False
        self.recognition = recognition_rules()
        self.conversion_aggregates = conversion_rules()
        self.conversion = [r.current() for r in self.conversion_aggregates]
        # Every version a decision may cite, to check it against the terms it applied.
        self.versions: dict[tuple[UUID, int], RuleVersion] = {
            (v.rule_id, v.version): v for v in [*self.recognition, *self.conversion]
        }
        self.steps = STEPS

    # -- helpers ----------------------------------------------------------------------------------
    def new_id(self) -> UUID:
        # Ids decide tie-breaks (allocation order), so they must replay identically.
        self.counter += 1
        return UUID(int=(1 << 64) + self.counter)

    def pick(self, data: st.DataObject, m: Model, wanted: tuple[OutcomeStatus, ...]) -> UUID:
        """An outcome, mostly one in a ``wanted`` status so that commands mostly succeed."""
        ids = list(m.outcomes)  # deposit order: deterministic
        fitting = [i for i in ids if m.outcomes[i].status in wanted]
        if fitting and data.draw(st.integers(0, 3), label="any outcome") != 3:
            ids = fitting
        return data.draw(st.sampled_from(ids), label="outcome")

    @initialize(
        verified=st.sampled_from([True, True, True, False]),
        start_offset=st.integers(0, 450),
        seed=st.lists(
            st.tuples(
                st.sampled_from(ISSUERS),
                st.sampled_from(KINDS),
                st.sampled_from(STANDARDS),
                credit_amounts,
                st.sampled_from(CATEGORIES),
                st.integers(1, MAX_LEVEL),
                st.integers(0, 700),
                st.booleans(),
            ),
            max_size=6,
        ),
    )
    def start(self, verified: bool, start_offset: int, seed: list[tuple[Any, ...]]) -> None:
        """A start date before, inside or after the rules' windows; mostly verified from the
        start (else verified later); a few outcomes, mostly recognised, so that short runs also
        convert and redeem."""
        self.today = START + timedelta(days=start_offset)
        self.verified = verified
        for issuer, kind, standard, amount, category, level, days_ago, deposit_only in seed:
            self.deposit(issuer, kind, standard, level, amount, days_ago)
            if deposit_only:
                continue
            oid = list(self.account.outcomes.values())[-1].id
            expected: type[DomainError] | None = None
            if not self.verified:
                expected = IdentityNotVerified
            elif counted_elsewhere(self.model(), oid, None):
                expected = RuleNotApplicable
            self.attempt(
                "recognize by officer",
                expected,
                lambda oid=oid, category=category: self.account.recognize_by_officer(
                    oid,
                    credits=None,
                    level=None,
                    category=category,
                    officer="officer",
                    max_level=MAX_LEVEL,
                    identity_verified=self.verified,
                    on=self.today,
                ),
            )

    @property
    def now(self) -> datetime:
        return datetime.combine(self.today, time(9, 0), tzinfo=UTC)

    def model(self) -> Model:
        # Folded afresh whenever an event was added (each invariant reads it after every step).
        if self._folded is None or self._folded[0] != len(self.events):
            self._folded = (len(self.events), fold(self.events))
        return self._folded[1]

    def attempt(self, name: str, expected_error: type[DomainError] | None, command: Any) -> Any:
        """Runs a command; a refusal must be the predicted one and record nothing."""
        version = self.account.version
        refusal: DomainError | None = None
        try:
            result = command()
        except DomainError as error:
            refusal = error
        if refusal is not None:
            assert expected_error is not None, f"{name} refused unexpectedly: {refusal!r}"
            assert type(refusal) is expected_error, f"{name}: {refusal!r}, not {expected_error}"
            assert refusal.code == expected_error.code
            assert self.account.pending_events == [], "a refused command recorded an event"
            assert self.account.version == version
            self.steps[f"{name} refused: {type(refusal).__name__}"] += 1
            self.steps[f"  {name}: {refusal.message[:40]}"] += 1
            return None
        assert expected_error is None, f"{name} should have raised {expected_error.__name__}"
        new = list(self.account.collect_events())
        # One event, or a recognition followed by the earlier attempts it replaces (an approval
        # first records itself).
        decided = new[1:] if type(new[0]).__name__ == "DecisionApproved" else new
        assert len(decided) == 1 or all(
            type(e).__name__ == "OutcomeSuperseded" for e in decided[1:]
        ), new
        assert self.account.version == version + len(new)
        self.events += new
        self.steps[name] += 1
        return result

    # -- commands ---------------------------------------------------------------------------------
    @rule(days=st.integers(0, 90))
    def advance_clock(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule()
    def verify_identity(self) -> None:
        self.verified = True

    @rule(
        issuer=st.sampled_from(ISSUERS),
        kind=st.sampled_from(KINDS),
        standard=st.sampled_from(STANDARDS),
        level=st.one_of(st.none(), st.integers(1, MAX_LEVEL)),
        amount=credit_amounts,
        days_ago=st.integers(0, 700),
    )
    def deposit(
        self,
        issuer: UUID,
        kind: OutcomeKind,
        standard: str | None,
        level: int | None,
        amount: Decimal,
        days_ago: int,
    ) -> None:
        credential = DepositedOutcome(
            issuer_id=issuer,
            credential_id=f"urn:cred:{self.counter}",
            kind=kind,
            title="Course",
            credits=amount,
            completed_on=self.today - timedelta(days=days_ago),
            evidence_digest="sha256:0",
            standard_code=standard,
            level=level,
            framework_credits=amount,
        )
        outcome_id = self.new_id()
        self.attempt(
            "deposit",
            None,
            lambda: self.account.deposit(credential, outcome_id, self.now, MAX_LEVEL),
        )

    @precondition(lambda self: self.account.outcomes)
    @rule(data=st.data())
    def deposit_again(self, data: st.DataObject) -> None:
        """The same credential (issuer and credential id) never enters twice."""
        m = self.model()
        oid = self.pick(data, m, ())
        o = m.outcomes[oid]
        credential = DepositedOutcome(
            issuer_id=o.issuer_id,
            credential_id=o.credential_id,
            kind=o.kind,
            title="Copy",
            credits=Decimal(1),
            completed_on=self.today,
            evidence_digest="sha256:1",
        )
        self.attempt(
            "deposit again",
            DuplicateCredential,
            lambda: self.account.deposit(credential, self.new_id(), self.now, MAX_LEVEL),
        )

    @precondition(has(OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED))
    @rule(data=st.data(), index=st.integers(0, 3))
    def recognize_by_rule(self, data: st.DataObject, index: int) -> None:
        m = self.model()
        oid = self.pick(data, m, (OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED))
        o, version = m.outcomes[oid], self.recognition[index]
        terms: RecognitionTerms = version.terms
        expected: type[DomainError] | None = None
        if o.status not in (OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED):
            expected = InvalidInput
        elif not self.verified:
            expected = IdentityNotVerified
        elif not (
            terms.criteria.matches(o.issuer_id, o.kind, o.standard_code)
            and in_window(o.completed_on, terms)  # when the learning happened
        ):
            expected = RuleNotApplicable
        code = terms.criteria.standard_code
        standard = None if code is None else STANDARD_CATALOGUE[code]
        if standard is not None and o.level is not None and o.level < standard.level:
            expected = expected or RuleNotApplicable  # below the standard's level
        if counted_elsewhere(m, oid, code if standard is not None else None):
            expected = expected or RuleNotApplicable
        day = self.today
        self.attempt(
            "recognize by rule",
            expected,
            lambda: self.account.recognize_by_rule(
                oid,
                version,
                day,
                self.verified,
                standard=standard,
                issuer_kind=InstitutionKind.UNIVERSITY,
            ),
        )
        if expected is None:
            got = self.model().outcomes[oid]
            granted = o.claimed if terms.credits is None else terms.credits
            if standard is not None:  # never more than the standard
                granted = min(granted, standard.credits)
                assert got.recognized_standard == code
                assert got.rec_level is not None
                assert got.rec_level <= standard.level
            assert got.credits == granted

    @precondition(has(OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED))
    @rule(
        data=st.data(),
        amount=st.one_of(st.none(), credit_amounts),
        level=st.one_of(st.none(), st.integers(1, MAX_LEVEL)),
        category=st.sampled_from(CATEGORIES),
    )
    def recognize_by_officer(
        self, data: st.DataObject, amount: Decimal | None, level: int | None, category: str
    ) -> None:
        m = self.model()
        oid = self.pick(data, m, (OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED))
        o = m.outcomes[oid]
        expected: type[DomainError] | None = None
        if o.status not in (OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED):
            expected = InvalidInput
        elif not self.verified:
            expected = IdentityNotVerified
        elif level is None and o.level is None:
            expected = InvalidInput
        elif counted_elsewhere(m, oid, None):
            expected = RuleNotApplicable
        # Beyond what the credential states: a justification, and a second officer.
        beyond = (amount is not None and amount > o.claimed) or (
            level is not None and o.level is not None and level > o.level
        )
        justify = data.draw(st.booleans(), label="justify")
        if expected is None and beyond and not justify:
            expected = InvalidInput
        waiting = self.attempt(
            "recognize by officer",
            expected,
            lambda: self.account.recognize_by_officer(
                oid,
                credits=amount,
                level=level,
                category=category,
                officer="officer",
                max_level=MAX_LEVEL,
                identity_verified=self.verified,
                on=self.today,
                justification="seen the evidence" if justify else None,
            ),
        )
        if expected is None:
            assert (waiting is not None) == beyond
        if waiting is not None:
            self.steps["recognize beyond, with a second officer"] += 1
            assert self.account.outcome(oid).status is o.status  # nothing decided yet
            self.attempt(
                "approve by the proposer",
                Forbidden,
                lambda: self.account.approve(waiting, "officer", self.today),
            )
            if data.draw(st.booleans(), label="approve"):
                self.attempt(
                    "approve", None, lambda: self.account.approve(waiting, "officer-2", self.today)
                )
                assert self.account.outcome(oid).approved_by == "officer-2"
            else:
                self.attempt(
                    "decline", None, lambda: self.account.decline(waiting, "officer-2", "no")
                )

    @precondition(has(OutcomeStatus.DEPOSITED))
    @rule(data=st.data())
    def reject(self, data: st.DataObject) -> None:
        m = self.model()
        oid = self.pick(data, m, (OutcomeStatus.DEPOSITED,))
        expected = None if m.outcomes[oid].status is OutcomeStatus.DEPOSITED else InvalidInput
        self.attempt("reject", expected, lambda: self.account.reject(oid, "no", "officer"))

    @precondition(has(OutcomeStatus.RECOGNIZED))
    @rule(data=st.data(), index=st.integers(0, 3))
    def convert(self, data: st.DataObject, index: int) -> None:
        m = self.model()
        version = self.conversion[index]
        terms: ConversionTerms = version.terms
        ids = list(m.outcomes)
        convertible = [
            i
            for i in ids
            if m.outcomes[i].status is OutcomeStatus.RECOGNIZED
            and terms.criteria.matches(
                m.outcomes[i].issuer_id, m.outcomes[i].kind, m.outcomes[i].standard_code
            )
        ]
        # Mostly recognised outcomes the rule applies to (the interesting case), sometimes any.
        use_convertible = bool(convertible) and data.draw(st.integers(0, 3), label="any") != 3
        candidates = convertible if use_convertible else ids
        # Often several sources (so that revoking one must return the others); rarely an empty
        # list or an outcome listed twice (both refused).
        size = data.draw(st.sampled_from([2, 1, 3]), label="sources")
        if data.draw(st.integers(0, 7), label="malformed") == 7:
            chosen = data.draw(st.lists(st.sampled_from(candidates), max_size=3))
        else:
            chosen = data.draw(
                st.lists(
                    st.sampled_from(candidates),
                    min_size=min(size, len(candidates)),
                    max_size=size,
                    unique=True,
                )
            )
        sources = [m.outcomes[i] for i in chosen]
        expected: type[DomainError] | None = None
        amount = ZERO
        if not chosen or len(set(chosen)) != len(chosen):
            expected = InvalidInput
        elif not in_window(self.today, terms) or any(
            s.status is not OutcomeStatus.RECOGNIZED
            or not terms.criteria.matches(s.issuer_id, s.kind, s.standard_code)
            for s in sources
        ):
            expected = RuleNotApplicable
        else:
            source_credits = sum((s.available for s in sources), ZERO)
            amount = (source_credits * terms.ratio).quantize(CENT, rounding=ROUND_DOWN)
            if terms.max_credits_per_learner is not None:
                used = sum(
                    (
                        c.credits
                        for c in m.conversions.values()
                        if c.rule_id == version.rule_id and c.active
                    ),
                    ZERO,
                )
                capped = terms.max_credits_per_learner - used
                self.steps["convert capped"] += capped < amount
                amount = min(amount, capped)
            if amount <= 0:
                expected = RuleNotApplicable
            else:
                # A capped conversion takes only what it converts, first sources first; a source
                # it would take nothing from is refused.
                need = min(source_credits, (amount / terms.ratio).quantize(CENT, ROUND_UP))
                for s in sources:
                    if need <= 0:
                        expected = RuleNotApplicable
                    need -= min(s.available, need)
        total_before = self.account.balance().total
        conversion_id = self.new_id()
        result = self.attempt(
            "convert",
            expected,
            lambda: self.account.convert(chosen, version, conversion_id, self.now),
        )
        if result is not None:
            assert result.credits == amount
            assert (result.rule_id, result.rule_version) == (version.rule_id, version.version)
            # The total moves by what the rule gives less what it takes, nothing else.
            change = self.account.balance().total - total_before
            assert change == result.credits - result.source_credits
            assert result.credits <= result.source_credits * terms.ratio
            self.steps["convert partly"] += any(
                self.account.outcome(p.source_id).available_credits > 0 for p in result.parts
            )

    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        """The learner undoes a conversion: the total moves back by exactly what it moved, and
        each source gets back exactly what it gave."""
        m = self.model()
        if not m.conversions:
            return
        cid = data.draw(st.sampled_from(sorted(m.conversions, key=str)), label="conversion")
        c = m.conversions[cid]
        spent = bool(c.spent) or any(m.outcomes[s].spent > 0 for s in c.sources)
        expected: type[DomainError] | None = None
        age = self.now - self.account.conversions[str(cid)].converted_at
        if not c.active or spent or age > timedelta(days=30):
            expected = RuleNotApplicable
        before = self.account.balance().total
        available = {s: self.account.outcome(s).available_credits for s in c.sources}
        self.attempt(
            "reverse", expected, lambda: self.account.reverse_by_learner(cid, "kim", self.now)
        )
        if expected is None:
            self.steps["reverse"] += 1
            assert self.account.balance().total - before == c.source_credits_at_conversion - (
                c.credits
            )
            for p in c.parts:
                assert self.account.outcome(p.source_id).available_credits == (
                    available[p.source_id] + p.consumed
                )

    @rule(index=st.integers(0, 3), ratio=st.sampled_from(["0.25", "0.5", "0.75", "1", "2"]))
    def amend_conversion_rule(self, index: int, ratio: str) -> None:
        """A new version of a rule's terms: later conversions cite it; earlier ones keep theirs."""
        aggregate = self.conversion_aggregates[index]
        terms = replace(aggregate.terms, ratio=Decimal(ratio))
        if terms.ratio == aggregate.terms.ratio:
            return
        aggregate.amend(terms, justification=justification_for(terms))
        in_force(aggregate)  # the institutions accept again; a second officer approves a ratio > 1
        version = aggregate.current()
        self.conversion[index] = version
        self.versions[(version.rule_id, version.version)] = version

    @precondition(lambda self: self.account.balance().available >= 3)
    @rule(index=st.integers(0, len(QUALIFICATIONS) - 1))
    def redeem(self, index: int) -> None:
        m = self.model()
        qid, requirements = QUALIFICATIONS[index]
        predicted = assess(requirements, m.holdings())
        expected: type[DomainError] | None = None
        if any(
            q == qid and m.award_status[rid] != "RESCINDED" for rid, (q, _) in m.redemptions.items()
        ):
            expected = InvalidInput
        elif not predicted.met:
            expected = RequirementsNotMet
        result = self.attempt(
            "redeem",
            expected,
            lambda: self.account.redeem(qid, 1, requirements, self.new_id(), self.now),
        )
        if result is not None:
            assert result.allocations == {str(k): v for k, v in predicted.allocations.items()}
            assert result.credits_counted == predicted.credits_counted

    @precondition(lambda self: bool(self.account.redemptions))
    @rule(data=st.data())
    def review(self, data: st.DataObject) -> None:
        """An officer reaffirms an award under review (re-assessed on what remains, with its own
        credits set aside) or rescinds one: a rescinded award spends nothing."""
        m = self.model()
        reviewed = sorted((r for r, v in m.award_status.items() if v == "UNDER_REVIEW"), key=str)
        if reviewed and data.draw(st.booleans(), label="one under review"):
            award = data.draw(st.sampled_from(reviewed), label="award")
        else:
            award = data.draw(st.sampled_from(sorted(m.redemptions, key=str)), label="award")
        decision = data.draw(st.sampled_from(["REAFFIRM", "RESCIND"]), label="decision")
        qid, _ = m.redemptions[award]
        requirements = dict(QUALIFICATIONS)[qid]
        status = m.award_status[award]
        expected: type[DomainError] | None = None
        predicted = assess(requirements, m.released(award))
        if status == "RESCINDED" or (decision == "REAFFIRM" and status != "UNDER_REVIEW"):
            expected = RuleNotApplicable
        elif decision == "REAFFIRM" and not predicted.met:
            expected = RequirementsNotMet
        self.attempt(
            f"review {decision.lower()}",
            expected,
            lambda: self.account.review_award(
                award, decision, "reviewed", "officer-2", self.now, Goal(requirements=requirements)
            ),
        )
        if expected is None and decision == "REAFFIRM":
            allocations = self.account.award(award).allocations
            assert allocations == {str(k): v for k, v in predicted.allocations.items()}

    @precondition(has(*(status for status in OutcomeStatus if status is not OutcomeStatus.REVOKED)))
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        m = self.model()
        # Mostly an outcome with consequences: one that was ever converted (its conversion may
        # be active or already cancelled), else a redeemed or recognised one.
        sources = [
            i for c in m.conversions.values() for i in c.sources if not m.outcomes[i].revoked
        ]
        # Often one an award counts (its award goes under review).
        counted = sorted(
            {
                UUID(k)
                for rid, (_, alloc) in m.redemptions.items()
                if m.award_status[rid] != "RESCINDED"
                for k in alloc
                if UUID(k) in m.outcomes and not m.outcomes[UUID(k)].revoked
            },
            key=str,
        )
        if counted and data.draw(st.booleans(), label="under an award"):
            oid = data.draw(st.sampled_from(counted), label="outcome")
        elif sources and data.draw(st.booleans(), label="a conversion source"):
            oid = data.draw(st.sampled_from(sources), label="outcome")
        else:
            wanted = (OutcomeStatus.CONVERTED, OutcomeStatus.REDEEMED, OutcomeStatus.RECOGNIZED)
            oid = self.pick(data, m, wanted)
        expected = AlreadyRevoked if m.outcomes[oid].revoked else None
        cancelled = {cid for cid, c in m.conversions.items() if c.active and oid in c.sources}
        relied_on = {str(oid)} | {str(p.id) for c in cancelled for p in m.conversions[c].parts}
        flagged = {rid for rid, (_, alloc) in m.redemptions.items() if relied_on & alloc.keys()}
        live = {rid for rid in flagged if m.award_status[rid] != "RESCINDED"}
        result = self.attempt(
            "revoke", expected, lambda: self.account.revoke(oid, "revoked", "officer")
        )
        if expected is None:
            assert set(result) == flagged
            assert set(self.events[-1].cancelled_conversions) == cancelled
            assert set(result) == flagged  # named, rescinded or not
            for rid in live:  # in force: now under review, saying why
                assert self.account.redemptions[str(rid)].flags
                assert self.account.award(rid).status.value == "UNDER_REVIEW"
            self.steps["revoke cancelling a conversion"] += bool(cancelled)
            self.steps["revoke a source of a cancelled conversion"] += any(
                oid in c.sources and not c.active for c in m.conversions.values()
            )
            self.steps["revoke flagging a redemption"] += bool(flagged)

    # -- invariants -------------------------------------------------------------------------------
    @invariant()
    def balance_is_the_fold_of_the_events(self) -> None:
        m = self.model()
        balance = self.account.balance()
        assert m.balance() == {
            "total": balance.total,
            "available": balance.available,
            "redeemed": balance.redeemed,
            "by_level": balance.by_level,
            "by_kind": balance.by_kind,
            "by_category": balance.by_category,
        }
        rebuilt = replay(self.events)
        assert rebuilt.version == self.account.version == len(self.events)
        assert rebuilt.balance() == balance
        assert rebuilt.outcomes == self.account.outcomes
        assert rebuilt.conversions == self.account.conversions
        assert rebuilt.redemptions == self.account.redemptions
        for oid, o in m.outcomes.items():
            assert self.account.outcome(oid).status is o.status

    @invariant()
    def the_same_learning_counts_once(self) -> None:
        m = self.model()
        counted = [o for o in m.outcomes.values() if o.status in COUNTED]
        for i, a in enumerate(counted):
            for b in counted[i + 1 :]:
                shared = keys_of(a, a.recognized_standard) & keys_of(b, b.recognized_standard)
                assert not shared, shared

    @invariant()
    def remembered_holdings_are_todays(self) -> None:
        # domain.awards remembers an account's plain holdings by its version: never stale.
        self.account.holdings()  # remembered now, if not already
        assert self.account.holdings() == self.account._holdings(None, NO_PATHWAY, None)

    @invariant()
    def nothing_is_counted_twice(self) -> None:
        m = self.model()
        balance = self.account.balance()
        assert balance.total == balance.available + balance.redeemed
        holdings = self.account.holdings()
        held_ids = [h.id for h in holdings]
        assert len(held_ids) == len(set(held_ids))
        assert sum((h.credits for h in holdings), ZERO) == balance.total
        # Every recognised credit is either held or taken by one active conversion, once.
        taken: defaultdict[UUID, Decimal] = defaultdict(Decimal)
        for c in self.account.conversions.values():
            for p in c.parts if c.active else ():
                taken[p.source_id] += p.consumed
        for oid, outcome in self.account.outcomes.items():
            held = outcome.id in held_ids
            if outcome.status in (OutcomeStatus.REVOKED, OutcomeStatus.SUPERSEDED):
                assert not held, f"outcome {oid} still held"
                assert not taken[outcome.id], f"outcome {oid} still converted"
            if outcome.status in (OutcomeStatus.RECOGNIZED, OutcomeStatus.REDEEMED):
                assert held
            if outcome.recognized_credits is not None and outcome.status in COUNTED:
                assert outcome.available_credits + taken[outcome.id] == (
                    outcome.recognized_credits
                ), f"outcome {oid}: credits made or lost"
        # Awards spend exactly what they count: a holding's spent credits are what the active
        # awards allocated to it (no pathway here: nothing counts again), never more than it has.
        spent_by: defaultdict[str, Decimal] = defaultdict(Decimal)
        for r in self.account.redemptions.values():
            if r.active:
                for k, counted in r.allocations.items():
                    spent_by[k] += counted
        qualifications = Counter(
            r.qualification_id for r in self.account.redemptions.values() if r.active
        )
        assert all(n == 1 for n in qualifications.values())  # once, until rescinded
        for h in holdings:
            assert h.spent == spent_by.get(str(h.id), ZERO) <= h.credits, h
        assert all(c.credits > 0 for c in m.conversions.values())

    @invariant()
    def conversions_stay_within_their_rule(self) -> None:
        m = self.model()
        active: defaultdict[UUID, Decimal] = defaultdict(Decimal)
        for cid, c in m.conversions.items():
            version = self.versions[(c.rule_id, c.rule_version)]
            terms: ConversionTerms = version.terms
            assert c.ratio == terms.ratio
            assert c.credits <= c.source_credits_at_conversion * c.ratio
            assert self.account.conversions[str(cid)].source_credits == (
                c.source_credits_at_conversion
            )
            if c.active:
                active[c.rule_id] += c.credits
        for version in self.conversion:
            cap = version.terms.max_credits_per_learner
            if cap is not None:
                assert active[version.rule_id] <= cap
            assert self.account.converted_under(version.rule_id) == active[version.rule_id]

    @invariant()
    def rules_apply_only_within_their_window(self) -> None:
        m = self.model()
        for oid, rule_id, rule_version in m.recognitions_by_rule:
            terms = self.versions[(rule_id, rule_version)].terms
            # Recognition judges the learning by when it was completed, not decided.
            assert in_window(m.outcomes[oid].completed_on, terms)
        for c in m.conversions.values():
            assert in_window(c.converted_on, self.versions[(c.rule_id, c.rule_version)].terms)

    @invariant()
    def a_copy_shares_nothing_that_can_change(self) -> None:
        """What the aggregate cache hands a command (a deep copy) is independent of the cached
        account: a refused command cannot change the cache (the records copy only their mutable
        parts, domain/records.py)."""
        copied = copy.deepcopy(self.account)
        assert shared_mutables(self.account, copied) == []
        assert immutable_records_hold_only_immutables(self.account) == []
        assert vars(copied).keys() == vars(self.account).keys()
        for name, value in vars(self.account).items():
            assert getattr(copied, name) == value, name


AccountMachine.TestCase.settings = settings(
    max_examples=400,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAccountInvariants = AccountMachine.TestCase
