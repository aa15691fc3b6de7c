"""CreditAccount: one per learner. Its events are the account.

Deposits enter as DEPOSITED outcomes; recognition (by rule or by an officer) gives them credits on
the framework; conversions move recognised credits into a target institution's scheme (the sources
leave the balance, the conversion enters it, so nothing is counted twice); redemptions spend
holdings for one qualification; revocation removes an outcome, cascades to the conversions derived
from it and flags redemptions that relied on it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    AlreadyRevoked,
    DuplicateCredential,
    IdentityNotVerified,
    InvalidInput,
    NotFound,
    RequirementsNotMet,
    RuleNotApplicable,
)
from domain.qualification import Assessment, Holding, Requirements, assess
from domain.rules import ConversionTerms, RecognitionTerms, RuleVersion
from domain.values import (
    CREDIT_QUANTUM,
    MAX_HOURS,
    ZERO,
    OutcomeKind,
    OutcomeStatus,
    parse_credits,
    parse_enum,
    parse_level,
    parse_text,
    utc,
    within,
)


@dataclass
class Outcome:
    id: UUID
    issuer_id: UUID
    credential_id: str
    kind: OutcomeKind
    title: str
    standard_code: str | None
    level: int | None
    credits_claimed: Decimal
    hours: Decimal | None
    result: str | None
    completed_on: date
    evidence_digest: str
    key_id: str | None
    deposited_at: datetime
    recognized_credits: Decimal | None = None
    recognized_level: int | None = None
    category: str | None = None
    rule_id: UUID | None = None
    rule_version: int | None = None
    recognized_by: str | None = None
    rejection_reason: str | None = None
    conversion_id: UUID | None = None
    redemption_id: UUID | None = None
    revoked_reason: str | None = None

    @property
    def status(self) -> OutcomeStatus:
        if self.revoked_reason is not None:
            return OutcomeStatus.REVOKED
        if self.redemption_id is not None:
            return OutcomeStatus.REDEEMED
        if self.conversion_id is not None:
            return OutcomeStatus.CONVERTED
        if self.recognized_credits is not None:
            return OutcomeStatus.RECOGNIZED
        if self.rejection_reason is not None:
            return OutcomeStatus.REJECTED
        return OutcomeStatus.DEPOSITED


@dataclass
class Conversion:
    id: UUID
    rule_id: UUID
    rule_version: int
    ratio: Decimal
    source_ids: tuple[UUID, ...]
    source_credits: Decimal
    credits: Decimal
    target_institution_id: UUID
    target_code: str
    category: str
    level: int | None
    kind: OutcomeKind
    completed_on: date
    standard_codes: tuple[str, ...]
    converted_at: datetime
    redemption_id: UUID | None = None
    cancelled_because: UUID | None = None  # the revoked source outcome

    @property
    def active(self) -> bool:
        return self.cancelled_because is None


@dataclass
class Redemption:
    id: UUID
    qualification_id: UUID
    qualification_version: int
    allocations: dict[str, Decimal]  # holding id -> credits counted
    credits_counted: Decimal
    redeemed_at: datetime
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Balance:
    total: Decimal
    available: Decimal
    redeemed: Decimal
    by_level: dict[int, Decimal]
    by_kind: dict[OutcomeKind, Decimal]
    by_category: dict[str, Decimal]


@dataclass(frozen=True)
class ConversionOption:
    rule_id: UUID
    rule_version: int
    rule_name: str
    outcome_ids: tuple[UUID, ...]
    source_credits: Decimal
    credits: Decimal
    category: str
    unmet_before: tuple[str, ...]
    unmet_after: tuple[str, ...]
    counted_change: Decimal

    @property
    def closes(self) -> tuple[str, ...]:
        """The requirements unmet before and met after (named as in ``unmet``, up to ':')."""
        after = {_requirement(u) for u in self.unmet_after}
        return tuple(r for r in map(_requirement, self.unmet_before) if r not in after)

    @property
    def changes_nothing(self) -> bool:
        return self.unmet_after == self.unmet_before and self.counted_change == 0


def _requirement(unmet: str) -> str:
    return unmet.split(":", 1)[0]


@dataclass(frozen=True)
class DepositedOutcome:
    """What a verified credential states, as the deposit command receives it."""

    issuer_id: UUID
    credential_id: str
    kind: OutcomeKind
    title: str
    credits: Decimal
    completed_on: date
    evidence_digest: str
    standard_code: str | None = None
    level: int | None = None
    hours: Decimal | None = None
    result: str | None = None
    key_id: str | None = None
    issued_at: datetime | None = None


class CreditAccount(Aggregate):
    @staticmethod
    def create_id(learner_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"creditbank:/accounts/{learner_id}")

    @event("Opened")
    def __init__(self, learner_id: UUID) -> None:
        self.learner_id = learner_id
        # Keyed by str(id): state stays plain JSON for snapshots.
        self.outcomes: dict[str, Outcome] = {}
        self.conversions: dict[str, Conversion] = {}
        self.redemptions: dict[str, Redemption] = {}

    # -- deposit ------------------------------------------------------------------------------
    def deposit(
        self,
        outcome: DepositedOutcome,
        outcome_id: UUID,
        at: datetime,
        max_level: int,
        actor: str | None = None,
    ) -> Outcome:
        at = utc(at)
        self._check_new_id(outcome_id, "outcomeId")
        credential_id = parse_text(outcome.credential_id, "credentialId", max_length=500)
        if any(
            o.issuer_id == outcome.issuer_id and o.credential_id == credential_id
            for o in self.outcomes.values()
        ):
            raise DuplicateCredential(f"credential {credential_id!r} is already in this account")
        if outcome.completed_on > at.date():
            raise InvalidInput("completedOn is in the future", ("completedOn",))
        kind = parse_enum(OutcomeKind, outcome.kind, "kind")
        level = None if outcome.level is None else parse_level(outcome.level, max_level)
        digest = parse_text(outcome.evidence_digest, "evidenceDigest", max_length=200)
        self._outcome_deposited(
            outcome_id=outcome_id,
            issuer_id=outcome.issuer_id,
            credential_id=credential_id,
            kind=kind,
            title=parse_text(outcome.title, "title", max_length=300),
            standard_code=None
            if outcome.standard_code is None
            else parse_text(outcome.standard_code, "standardCode", max_length=50),
            level=level,
            credits=parse_credits(outcome.credits),
            hours=None
            if outcome.hours is None
            else parse_credits(outcome.hours, "hours", maximum=MAX_HOURS),
            result=None
            if outcome.result is None
            else parse_text(outcome.result, "result", max_length=50),
            completed_on=outcome.completed_on,
            evidence_digest=digest,
            key_id=outcome.key_id,
            deposited_at=at,
            actor=actor,
        )
        return self.outcomes[str(outcome_id)]

    @event("OutcomeDeposited")
    def _outcome_deposited(
        self,
        outcome_id: UUID,
        issuer_id: UUID,
        credential_id: str,
        kind: OutcomeKind,
        title: str,
        standard_code: str | None,
        level: int | None,
        credits: Decimal,
        hours: Decimal | None,
        result: str | None,
        completed_on: date,
        evidence_digest: str,
        key_id: str | None,
        deposited_at: datetime,
        actor: str | None,
    ) -> None:
        self.outcomes[str(outcome_id)] = Outcome(
            outcome_id,
            issuer_id,
            credential_id,
            kind,
            title,
            standard_code,
            level,
            credits,
            hours,
            result,
            completed_on,
            evidence_digest,
            key_id,
            deposited_at,
        )

    def _check_new_id(self, new_id: UUID, field: str) -> None:
        # Outcomes, conversions and redemptions share one id space (redemptions allocate to
        # outcomes and conversions by id): a reused id would silently overwrite a record.
        key = str(new_id)
        if key in self.outcomes or key in self.conversions or key in self.redemptions:
            raise InvalidInput(f"id {new_id} is already used in this account", (field,))

    def outcome(self, outcome_id: UUID) -> Outcome:
        try:
            return self.outcomes[str(outcome_id)]
        except KeyError:
            raise NotFound(f"no outcome {outcome_id} in this account", ("outcomeId",)) from None

    # -- recognition --------------------------------------------------------------------------
    def recognize_by_rule(
        self, outcome_id: UUID, rule: RuleVersion, on: date, identity_verified: bool
    ) -> None:
        outcome = self._recognizable(outcome_id, identity_verified)
        terms = rule.terms
        assert isinstance(terms, RecognitionTerms)
        if not terms.criteria.matches(outcome.issuer_id, outcome.kind, outcome.standard_code):
            raise RuleNotApplicable(f"rule {rule.name!r} does not apply to this outcome")
        rule.check_applicable(on)
        self._outcome_recognized(
            outcome_id=outcome_id,
            credits=outcome.credits_claimed if terms.credits is None else terms.credits,
            level=terms.level,
            category=terms.category,
            rule_id=rule.rule_id,
            rule_version=rule.version,
            actor="rule",
        )

    def recognize_by_officer(
        self,
        outcome_id: UUID,
        *,
        credits: object | None,
        level: int | None,
        category: object,
        officer: str,
        max_level: int,
        identity_verified: bool,
    ) -> None:
        outcome = self._recognizable(outcome_id, identity_verified)
        level = parse_level(outcome.level if level is None else level, max_level)
        self._outcome_recognized(
            outcome_id=outcome_id,
            credits=outcome.credits_claimed if credits is None else parse_credits(credits),
            level=level,
            category=parse_text(category, "category", max_length=50),
            rule_id=None,
            rule_version=None,
            actor=officer,
        )

    def _recognizable(self, outcome_id: UUID, identity_verified: bool) -> Outcome:
        outcome = self.outcome(outcome_id)
        if outcome.status not in (OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED):
            raise InvalidInput(
                f"outcome is {outcome.status.value}; only deposited or rejected outcomes can be "
                "recognised",
                ("outcomeId",),
            )
        if not identity_verified:
            raise IdentityNotVerified("the learner's identity must be verified before recognition")
        return outcome

    @event("OutcomeRecognized")
    def _outcome_recognized(
        self,
        outcome_id: UUID,
        credits: Decimal,
        level: int,
        category: str,
        rule_id: UUID | None,
        rule_version: int | None,
        actor: str | None,
    ) -> None:
        o = self.outcomes[str(outcome_id)]
        o.recognized_credits, o.recognized_level, o.category = credits, level, category
        o.rule_id, o.rule_version, o.recognized_by = rule_id, rule_version, actor
        o.rejection_reason = None

    def reject(self, outcome_id: UUID, reason: object, officer: str) -> None:
        outcome = self.outcome(outcome_id)
        if outcome.status is not OutcomeStatus.DEPOSITED:
            raise InvalidInput(
                f"outcome is {outcome.status.value}; only deposited outcomes can be rejected",
                ("outcomeId",),
            )
        self._recognition_rejected(
            outcome_id=outcome_id, reason=parse_text(reason, "reason"), actor=officer
        )

    @event("RecognitionRejected")
    def _recognition_rejected(self, outcome_id: UUID, reason: str, actor: str | None) -> None:
        self.outcomes[str(outcome_id)].rejection_reason = reason

    # -- conversion ---------------------------------------------------------------------------
    def convert(
        self,
        outcome_ids: list[UUID],
        rule: RuleVersion,
        conversion_id: UUID,
        at: datetime,
        actor: str | None = None,
    ) -> Conversion:
        terms = rule.terms
        assert isinstance(terms, ConversionTerms)
        self._check_new_id(conversion_id, "conversionId")
        if not outcome_ids:
            raise InvalidInput("name at least one outcome to convert", ("outcomeIds",))
        if len(set(outcome_ids)) != len(outcome_ids):
            raise InvalidInput("an outcome is listed twice", ("outcomeIds",))
        rule.check_applicable(utc(at).date())
        sources = [self.outcome(i) for i in outcome_ids]
        for o in sources:
            if o.status is not OutcomeStatus.RECOGNIZED:
                raise RuleNotApplicable(
                    f"outcome {o.id} is {o.status.value}; only recognised, unspent outcomes "
                    "can be converted"
                )
            if not terms.criteria.matches(o.issuer_id, o.kind, o.standard_code):
                raise RuleNotApplicable(f"rule {rule.name!r} does not apply to outcome {o.id}")
        source_credits = sum((o.recognized_credits or ZERO for o in sources), ZERO)
        amount = (source_credits * terms.ratio).quantize(CREDIT_QUANTUM, rounding=ROUND_DOWN)
        if terms.max_credits_per_learner is not None:
            used = self.converted_under(rule.rule_id)
            amount = min(amount, terms.max_credits_per_learner - used)
        if amount <= 0:
            raise RuleNotApplicable(
                f"rule {rule.name!r} allows no more credits for this learner "
                f"(cap {terms.max_credits_per_learner})"
            )
        dominant = max(sources, key=lambda o: o.recognized_credits or ZERO)
        levels = [o.recognized_level for o in sources if o.recognized_level is not None]
        self._credits_converted(
            conversion_id=conversion_id,
            outcome_ids=tuple(outcome_ids),
            rule_id=rule.rule_id,
            rule_version=rule.version,
            ratio=terms.ratio,
            source_credits=source_credits,
            credits=amount,
            target_institution_id=terms.target_institution_id,
            target_code=terms.target_code,
            category=terms.target_category,
            level=min(levels) if levels else None,
            kind=dominant.kind,
            completed_on=max(o.completed_on for o in sources),
            standard_codes=tuple(
                sorted({terms.target_code} | {o.standard_code for o in sources if o.standard_code})
            ),
            converted_at=utc(at),
            actor=actor,
        )
        return self.conversions[str(conversion_id)]

    @event("CreditsConverted")
    def _credits_converted(
        self,
        conversion_id: UUID,
        outcome_ids: tuple[UUID, ...],
        rule_id: UUID,
        rule_version: int,
        ratio: Decimal,
        source_credits: Decimal,
        credits: Decimal,
        target_institution_id: UUID,
        target_code: str,
        category: str,
        level: int | None,
        kind: OutcomeKind,
        completed_on: date,
        standard_codes: tuple[str, ...],
        converted_at: datetime,
        actor: str | None,
    ) -> None:
        self.conversions[str(conversion_id)] = Conversion(
            conversion_id,
            rule_id,
            rule_version,
            ratio,
            tuple(outcome_ids),
            source_credits,
            credits,
            target_institution_id,
            target_code,
            category,
            level,
            kind,
            completed_on,
            tuple(standard_codes),
            converted_at,
        )
        for i in outcome_ids:
            self.outcomes[str(i)].conversion_id = conversion_id

    def converted_under(self, rule_id: UUID) -> Decimal:
        return sum(
            (c.credits for c in self.conversions.values() if c.rule_id == rule_id and c.active),
            ZERO,
        )

    # -- holdings, balance, requirements -------------------------------------------------------
    def holdings(self) -> list[Holding]:
        held = [
            Holding(
                o.id,
                o.recognized_credits,
                o.recognized_level,
                o.kind,
                o.category or "",
                o.issuer_id,
                o.completed_on,
                False,
                frozenset({o.standard_code} if o.standard_code else ()),
                o.redemption_id is not None,
            )
            for o in self.outcomes.values()
            if o.recognized_credits is not None
            and o.status in (OutcomeStatus.RECOGNIZED, OutcomeStatus.REDEEMED)
        ]
        held += [
            Holding(
                c.id,
                c.credits,
                c.level,
                c.kind,
                c.category,
                c.target_institution_id,
                c.completed_on,
                True,
                frozenset(c.standard_codes),
                c.redemption_id is not None,
            )
            for c in self.conversions.values()
            if c.active
        ]
        return held

    def balance(self) -> Balance:
        by_level: defaultdict[int, Decimal] = defaultdict(Decimal)
        by_kind: defaultdict[OutcomeKind, Decimal] = defaultdict(Decimal)
        by_category: defaultdict[str, Decimal] = defaultdict(Decimal)
        total = redeemed = ZERO
        for h in self.holdings():
            total += h.credits
            if h.spent:
                redeemed += h.credits
            if h.level is not None:
                by_level[h.level] += h.credits
            by_kind[h.kind] += h.credits
            by_category[h.category] += h.credits
        return Balance(
            total, total - redeemed, redeemed, dict(by_level), dict(by_kind), dict(by_category)
        )

    def assess(self, requirements: Requirements) -> Assessment:
        return assess(requirements, self.holdings())

    def conversion_options(
        self, rules: list[RuleVersion], requirements: Requirements, on: date
    ) -> list[ConversionOption]:
        """Conversions the learner could make now, and what each would do for a qualification:
        the rule, the outcomes it would take, the credits it would give (capped), and the
        requirements still unmet after it. Options that would change nothing (the same unmet
        requirements, the same credits counted) are left out; best first: most requirements
        closed, then fewest unmet, then most credits counted."""
        current = assess(requirements, self.holdings())
        options: list[ConversionOption] = []
        for rule in rules:
            terms = rule.terms
            if not isinstance(terms, ConversionTerms) or not within(
                on, terms.valid_from, terms.valid_until
            ):
                continue
            sources = [
                o
                for o in self.outcomes.values()
                if o.status is OutcomeStatus.RECOGNIZED
                and terms.criteria.matches(o.issuer_id, o.kind, o.standard_code)
            ]
            if not sources:
                continue
            total = sum((o.recognized_credits or ZERO for o in sources), ZERO)
            amount = (total * terms.ratio).quantize(CREDIT_QUANTUM, rounding=ROUND_DOWN)
            if terms.max_credits_per_learner is not None:
                amount = min(
                    amount, terms.max_credits_per_learner - self.converted_under(rule.rule_id)
                )
            if amount <= 0:
                continue
            source_ids = {o.id for o in sources}
            levels = [o.recognized_level for o in sources if o.recognized_level is not None]
            converted = Holding(
                rule.rule_id,
                amount,
                min(levels) if levels else None,
                max(sources, key=lambda o: o.recognized_credits or ZERO).kind,
                terms.target_category,
                terms.target_institution_id,
                max(o.completed_on for o in sources),
                True,
                frozenset(
                    {terms.target_code} | {o.standard_code for o in sources if o.standard_code}
                ),
                False,
            )
            after = assess(
                requirements,
                [h for h in self.holdings() if h.id not in source_ids] + [converted],
            )
            options.append(
                ConversionOption(
                    rule.rule_id,
                    rule.version,
                    rule.name,
                    tuple(o.id for o in sources),
                    total,
                    amount,
                    terms.target_category,
                    current.unmet,
                    after.unmet,
                    after.credits_counted - current.credits_counted,
                )
            )
        useful = [o for o in options if not o.changes_nothing]
        return sorted(useful, key=lambda o: (-len(o.closes), len(o.unmet_after), -o.counted_change))

    # -- redemption ---------------------------------------------------------------------------
    def redeem(
        self,
        qualification_id: UUID,
        qualification_version: int,
        requirements: Requirements,
        redemption_id: UUID,
        at: datetime,
        actor: str | None = None,
    ) -> Redemption:
        self._check_new_id(redemption_id, "redemptionId")
        if any(r.qualification_id == qualification_id for r in self.redemptions.values()):
            raise InvalidInput("this qualification was already redeemed", ("qualificationId",))
        result = assess(requirements, self.holdings())
        if not result.met:
            raise RequirementsNotMet(list(result.unmet))
        self._credits_redeemed(
            redemption_id=redemption_id,
            qualification_id=qualification_id,
            qualification_version=qualification_version,
            allocations={str(k): v for k, v in result.allocations.items()},
            credits_counted=result.credits_counted,
            redeemed_at=utc(at),
            actor=actor,
        )
        return self.redemptions[str(redemption_id)]

    @event("CreditsRedeemed")
    def _credits_redeemed(
        self,
        redemption_id: UUID,
        qualification_id: UUID,
        qualification_version: int,
        allocations: dict[str, Decimal],
        credits_counted: Decimal,
        redeemed_at: datetime,
        actor: str | None,
    ) -> None:
        self.redemptions[str(redemption_id)] = Redemption(
            redemption_id,
            qualification_id,
            qualification_version,
            allocations,
            credits_counted,
            redeemed_at,
        )
        for holding_id in allocations:
            if holding_id in self.outcomes:
                self.outcomes[str(holding_id)].redemption_id = redemption_id
            else:
                self.conversions[str(holding_id)].redemption_id = redemption_id

    # -- revocation ---------------------------------------------------------------------------
    def revoke(self, outcome_id: UUID, reason: object, actor: str) -> tuple[UUID, ...]:
        """Revokes an outcome; returns the redemptions flagged for review."""
        outcome = self.outcome(outcome_id)
        if outcome.status is OutcomeStatus.REVOKED:
            raise AlreadyRevoked("the outcome is already revoked", ("outcomeId",))
        cancelled = tuple(
            c.id for c in self.conversions.values() if c.active and outcome_id in c.source_ids
        )
        relied_on = {str(outcome_id), *map(str, cancelled)}
        flagged = tuple(r.id for r in self.redemptions.values() if relied_on & r.allocations.keys())
        self._outcome_revoked(
            outcome_id=outcome_id,
            reason=parse_text(reason, "reason"),
            cancelled_conversions=cancelled,
            flagged_redemptions=flagged,
            actor=actor,
        )
        return flagged

    @event("OutcomeRevoked")
    def _outcome_revoked(
        self,
        outcome_id: UUID,
        reason: str,
        cancelled_conversions: tuple[UUID, ...],
        flagged_redemptions: tuple[UUID, ...],
        actor: str | None,
    ) -> None:
        self.outcomes[str(outcome_id)].revoked_reason = reason
        for cid in cancelled_conversions:
            conversion = self.conversions[str(cid)]
            conversion.cancelled_because = outcome_id
            for source_id in conversion.source_ids:
                # The other sources return to the balance as recognised credits; if the
                # conversion was redeemed they stay spent by that (now flagged) redemption
                # until it is reviewed, so they cannot be spent twice meanwhile.
                source = self.outcomes[str(source_id)]
                source.conversion_id = None
                if conversion.redemption_id is not None and source.redemption_id is None:
                    source.redemption_id = conversion.redemption_id
        for rid in flagged_redemptions:
            self.redemptions[str(rid)].flags.append(f"outcome {outcome_id} revoked: {reason}")
