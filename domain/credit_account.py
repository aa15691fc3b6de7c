"""CreditAccount: one per learner. Its events are the account.

Deposits enter as DEPOSITED outcomes; recognition (by rule or by an officer) gives them credits on
the framework; conversions move recognised credits into a target institution's scheme (the sources
leave the balance, the conversion enters it, so nothing is counted twice); redemptions spend
holdings for one qualification; revocation removes an outcome, cascades to the conversions derived
from it and flags redemptions that relied on it. Its records are in ``domain.records``; what a
conversion would give is planned in ``domain.conversion``.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.conversion import ConversionOption, ConversionPlan, conversion_options
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
from domain.records import (
    Balance,
    Conversion,
    DepositedOutcome,
    Outcome,
    Redemption,
    balance,
    holdings,
    learning_key,
)
from domain.rules import ConversionTerms, RecognitionTerms, RuleVersion
from domain.standard import OutcomeStandard
from domain.values import (
    ZERO,
    InstitutionKind,
    OutcomeKind,
    OutcomeStatus,
    RuleModel,
    parse_credits,
    parse_level,
    parse_text,
    utc,
)

# The statuses of an outcome whose credit counts (recognised, or moved on by conversion or spent).
COUNTING = (OutcomeStatus.RECOGNIZED, OutcomeStatus.CONVERTED, OutcomeStatus.REDEEMED)


class CreditAccount(Aggregate):
    # 2: outcomes know when their credential was issued and expires, whether it records a pass,
    # and their framework credits (snapshots of version 1: the claim, as it was then taken).
    # 3: outcomes know the standard they were recognised against (before: the code they
    # claimed counted, for the decisions made then).
    class_version = 4

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        for o in state["outcomes"].values():
            o.framework_credits = o.credits_claimed

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        for o in state["outcomes"].values():
            if o.recognized_credits is not None:
                o.recognized_standard = o.standard_code

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        # 4: an account may be merged into another, or take over others' records.
        state.update(merged_into=None, absorbed_from=[])

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
        self.merged_into: UUID | None = None  # the learner whose account took this one's records
        self.absorbed_from: list[UUID] = []  # the learners whose records this account took over

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
        outcome = outcome.checked(max_level)
        earlier = self._earlier_version(outcome)
        if outcome.completed_on > at.date():
            raise InvalidInput("completedOn is in the future", ("completedOn",))
        self._outcome_deposited(
            outcome_id=outcome_id,
            issuer_id=outcome.issuer_id,
            credential_id=outcome.credential_id,
            kind=outcome.kind,
            title=outcome.title,
            standard_code=outcome.standard_code,
            level=outcome.level,
            credits=outcome.credits,
            hours=outcome.hours,
            result=outcome.result,
            completed_on=outcome.completed_on,
            evidence_digest=outcome.evidence_digest,
            key_id=outcome.key_id,
            deposited_at=at,
            actor=actor,
            issued_at=outcome.issued_at,
            expires_at=outcome.expires_at,
            passed=outcome.passed,
            framework_credits=outcome.framework_credits,
        )
        if earlier is not None:
            self._supersede(earlier, outcome_id, "updated credential", actor)
        return self.outcomes[str(outcome_id)]

    def _earlier_version(self, outcome: DepositedOutcome) -> Outcome | None:
        """The version an updated credential supersedes (OB 3.0: the same id from the same
        issuer, signed later); any other repeat of a credential id is a duplicate."""
        same = [
            o
            for o in self.outcomes.values()
            if o.issuer_id == outcome.issuer_id and o.credential_id == outcome.credential_id
        ]
        if not same:
            return None
        latest = max(same, key=lambda o: o.deposited_at)
        if (
            latest.status in (OutcomeStatus.REVOKED, OutcomeStatus.SUPERSEDED)
            or outcome.issued_at is None
            or latest.issued_at is None
            or outcome.issued_at <= latest.issued_at
        ):
            # (An update of it would be signed later than the version it replaces.)
            raise DuplicateCredential("this credential was already deposited")
        return latest

    class OutcomeDeposited(Aggregate.Event):
        class_version = 2
        outcome_id: UUID
        issuer_id: UUID
        credential_id: str
        kind: OutcomeKind
        title: str
        standard_code: str | None
        level: int | None
        credits: Decimal
        hours: Decimal | None
        result: str | None
        completed_on: date
        evidence_digest: str
        key_id: str | None
        deposited_at: datetime
        actor: str | None
        issued_at: datetime | None
        expires_at: datetime | None
        passed: bool | None
        framework_credits: Decimal | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 kept none of what the credential says of itself, and took the claimed
            # credits as framework credits.
            state.update(issued_at=None, expires_at=None, passed=None)
            state["framework_credits"] = state["credits"]

    @event(OutcomeDeposited)
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
        issued_at: datetime | None,
        expires_at: datetime | None,
        passed: bool | None,
        framework_credits: Decimal | None,
    ) -> None:
        self.outcomes[str(outcome_id)] = Outcome(
            id=outcome_id,
            issuer_id=issuer_id,
            credential_id=credential_id,
            kind=kind,
            title=title,
            standard_code=standard_code,
            level=level,
            credits_claimed=credits,
            hours=hours,
            result=result,
            completed_on=completed_on,
            evidence_digest=evidence_digest,
            key_id=key_id,
            deposited_at=deposited_at,
            issued_at=issued_at,
            expires_at=expires_at,
            passed=passed,
            framework_credits=framework_credits,
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
        self,
        outcome_id: UUID,
        rule: RuleVersion,
        on: date,
        identity_verified: bool,
        *,
        standard: OutcomeStandard | None = None,
        issuer_kind: InstitutionKind | None = None,
    ) -> None:
        """By a rule's terms; a rule that cites a standard recognises only what meets the
        standard (``standard``: that catalogue entry; ``issuer_kind``: the outcome's issuer's),
        and never more credits or a higher level than it."""
        outcome = self._recognizable(outcome_id, identity_verified, on)
        terms = rule.terms
        assert isinstance(terms, RecognitionTerms)
        if not terms.criteria.matches(outcome.issuer_id, outcome.kind, outcome.standard_code):
            raise RuleNotApplicable(f"rule {rule.name!r} does not apply to this outcome")
        # Judged by when the learning happened, not when it is decided.
        rule.check_applicable(outcome.completed_on)
        credits = outcome.framework_credits if terms.credits is None else terms.credits
        if credits is None or credits <= 0:
            raise RuleNotApplicable(
                "the outcome's credits cannot be placed on the framework (the issuer's credit "
                "scheme has no value for them); an officer decides"
            )
        if terms.max_credits is not None:
            credits = min(credits, terms.max_credits)
        level, version = terms.level, None
        code = terms.criteria.standard_code
        if standard is None and code is not None and rule.model is RuleModel.FRAMEWORK:
            # A framework rule measures against the catalogue; an agreement's code may be the
            # issuer's own course.
            raise RuleNotApplicable(f"rule {rule.name!r} cites {code}, not in the catalogue")
        if standard is not None:
            if standard.code != code or issuer_kind is None:
                raise ValueError("judge by the standard the rule cites, knowing the issuer's kind")
            version = standard.judge(outcome, issuer_kind)
            credits, level = version.bound(credits, level)
        replaced = self._counted_once(outcome, None if version is None else code)
        self._outcome_recognized(
            outcome_id=outcome_id,
            credits=credits,
            level=level,
            category=terms.category,
            rule_id=rule.rule_id,
            rule_version=rule.version,
            actor="rule",
            standard_code=None if version is None else code,
            standard_version=None if version is None else version.version,
            claimed_code_counts=False,
        )
        for earlier in replaced:
            self._supersede(earlier, outcome_id, "retake", "rule")

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
        on: date,
        standard: OutcomeStandard | None = None,
    ) -> None:
        """An officer's decision, with its own values; against ``standard`` when given (the
        officer attests the outcome meets it: it must have been in force at completion)."""
        outcome = self._recognizable(outcome_id, identity_verified, on)
        level = parse_level(outcome.level if level is None else level, max_level)
        value = outcome.framework_credits if credits is None else parse_credits(credits)
        if not value:
            raise InvalidInput(
                "the outcome's credits cannot be placed on the framework: give the credits",
                ("credits",),
            )
        version = None
        if standard is not None:
            version = standard.version_on(outcome.completed_on)
            if version is None:
                raise RuleNotApplicable(
                    f"standard {standard.code} was not in force for learning completed on "
                    f"{outcome.completed_on}"
                )
        replaced = self._counted_once(outcome, None if standard is None else standard.code)
        self._outcome_recognized(
            outcome_id=outcome_id,
            credits=value,
            level=level,
            category=parse_text(category, "category", max_length=50),
            rule_id=None,
            rule_version=None,
            actor=officer,
            standard_code=None if standard is None else standard.code,
            standard_version=None if version is None else version.version,
            claimed_code_counts=False,
        )
        for earlier in replaced:
            self._supersede(earlier, outcome_id, "retake", officer)

    def _counting(self, key: tuple[str, ...] | None, besides: UUID) -> list[Outcome]:
        """The outcomes (other than ``besides``) that count for the learning ``key`` names."""
        if key is None:
            return []
        return [
            o
            for o in self.outcomes.values()
            if o.id != besides
            and o.status in COUNTING
            and learning_key(o, o.recognized_standard) == key
        ]

    def _counted_once(self, outcome: Outcome, standard: str | None) -> list[Outcome]:
        """The same learning counts once: recognising ``outcome`` (against ``standard``)
        replaces an earlier attempt that still only counts (a retake replaces); it is refused
        while an attempt already converted or spent counts, or a later one does."""
        counted = self._counting(learning_key(outcome, standard), outcome.id)
        for o in counted:
            if o.status is not OutcomeStatus.RECOGNIZED:
                raise RuleNotApplicable(
                    f"the same learning already counts ({o.title!r}, {o.status.value.lower()})"
                )
            if o.completed_on > outcome.completed_on:
                raise RuleNotApplicable(
                    f"a later attempt at the same learning already counts ({o.title!r}, "
                    f"completed {o.completed_on})"
                )
        return counted

    def _recognizable(self, outcome_id: UUID, identity_verified: bool, on: date) -> Outcome:
        outcome = self.outcome(outcome_id)
        if outcome.status not in (OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED):
            raise InvalidInput(
                f"outcome is {outcome.status.value}; only deposited or rejected outcomes can be "
                "recognised",
                ("outcomeId",),
            )
        if not identity_verified:
            raise IdentityNotVerified("the learner's identity must be verified before recognition")
        if outcome.passed is False:
            raise RuleNotApplicable(
                f"the credential records no pass (result {outcome.result!r}): it is not credit"
            )
        if outcome.expired_on(on):
            assert outcome.expires_at is not None
            raise RuleNotApplicable(f"the credential expired on {outcome.expires_at.date()}")
        return outcome

    class OutcomeRecognized(Aggregate.Event):
        class_version = 2
        outcome_id: UUID
        credits: Decimal
        level: int
        category: str
        rule_id: UUID | None
        rule_version: int | None
        actor: str | None
        standard_code: str | None
        standard_version: int | None
        claimed_code_counts: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 recognised against no standard, and a qualification's required standard
            # counted the code the credential claimed: those decisions keep what they counted.
            state.update(standard_code=None, standard_version=None, claimed_code_counts=True)

    @event(OutcomeRecognized)
    def _outcome_recognized(
        self,
        outcome_id: UUID,
        credits: Decimal,
        level: int,
        category: str,
        rule_id: UUID | None,
        rule_version: int | None,
        actor: str | None,
        standard_code: str | None,
        standard_version: int | None,
        claimed_code_counts: bool,
    ) -> None:
        o = self.outcomes[str(outcome_id)]
        o.recognized_credits, o.recognized_level, o.category = credits, level, category
        o.rule_id, o.rule_version, o.recognized_by = rule_id, rule_version, actor
        o.recognized_standard = o.standard_code if claimed_code_counts else standard_code
        o.standard_version = standard_version
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
        plan = ConversionPlan.checked(
            sources, rule, self.converted_under(rule.rule_id), utc(at).date()
        )
        self._credits_converted(
            conversion_id=conversion_id,
            outcome_ids=tuple(outcome_ids),
            rule_id=rule.rule_id,
            rule_version=rule.version,
            ratio=terms.ratio,
            source_credits=plan.source_credits,
            credits=plan.credits,
            target_institution_id=terms.target_institution_id,
            target_code=terms.target_code,
            category=terms.target_category,
            level=plan.level,
            kind=plan.kind,
            completed_on=plan.completed_on,
            standard_codes=plan.standard_codes,
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
            id=conversion_id,
            rule_id=rule_id,
            rule_version=rule_version,
            ratio=ratio,
            source_ids=tuple(outcome_ids),
            source_credits=source_credits,
            credits=credits,
            target_institution_id=target_institution_id,
            target_code=target_code,
            category=category,
            level=level,
            kind=kind,
            completed_on=completed_on,
            standard_codes=tuple(standard_codes),
            converted_at=converted_at,
        )
        for i in outcome_ids:
            self.outcomes[str(i)].conversion_id = conversion_id

    def converted_under(self, rule_id: UUID) -> Decimal:
        return sum(
            (c.credits for c in self.conversions.values() if c.rule_id == rule_id and c.active),
            ZERO,
        )

    # -- holdings, balance, requirements -------------------------------------------------------
    def holdings(self, on: date | None = None) -> list[Holding]:
        """What counts (on a day: without credentials expired by then)."""
        return holdings(self.outcomes.values(), self.conversions.values(), on)

    def balance(self) -> Balance:
        return balance(self.holdings())

    def assess(self, requirements: Requirements, on: date | None = None) -> Assessment:
        return assess(requirements, self.holdings(on))

    def conversion_options(
        self, rules: list[RuleVersion], requirements: Requirements, on: date
    ) -> list[ConversionOption]:
        return conversion_options(self, rules, requirements, on)

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
        result = assess(requirements, self.holdings(utc(at).date()))
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
            id=redemption_id,
            qualification_id=qualification_id,
            qualification_version=qualification_version,
            allocations=allocations,
            credits_counted=credits_counted,
            redeemed_at=redeemed_at,
        )
        for holding_id in allocations:
            if holding_id in self.outcomes:
                self.outcomes[str(holding_id)].redemption_id = redemption_id
            else:
                self.conversions[str(holding_id)].redemption_id = redemption_id

    # -- merging two accounts of one person ----------------------------------------------------
    def take_over(self, duplicate: CreditAccount, actor: str) -> None:
        """Takes the records of the same person's other account, each outcome by an event of its
        own (its place in this transcript); then the same learning counts once: of two attempts
        that only count as recognised credit, the later completed replaces the earlier (what is
        converted or spent stays as it is, for an officer to review)."""
        if duplicate.merged_into is not None or self.merged_into is not None:
            raise InvalidInput("a merged account takes over nothing", ("duplicateId",))
        for o in duplicate.outcomes.values():
            self._check_new_id(o.id, "duplicateId")
            self._outcome_transferred(
                outcome_id=o.id,
                record=deepcopy(o),  # the event keeps the record as it was taken over
                from_learner_id=duplicate.learner_id,
                actor=actor,
            )
        if duplicate.conversions or duplicate.redemptions:
            self._records_transferred(
                from_learner_id=duplicate.learner_id,
                conversions=deepcopy(list(duplicate.conversions.values())),
                redemptions=deepcopy(list(duplicate.redemptions.values())),
                actor=actor,
            )
        for o in list(self.outcomes.values()):
            if o.status is not OutcomeStatus.RECOGNIZED:
                continue
            later = [
                x
                for x in self._counting(learning_key(o, o.recognized_standard), o.id)
                if x.completed_on >= o.completed_on and x.status is OutcomeStatus.RECOGNIZED
            ]
            if later and o.status is OutcomeStatus.RECOGNIZED:
                self._supersede(o, max(later, key=lambda x: x.completed_on).id, "retake", actor)

    @event("OutcomeTransferred")
    def _outcome_transferred(
        self, outcome_id: UUID, record: Outcome, from_learner_id: UUID, actor: str | None
    ) -> None:
        self.outcomes[str(outcome_id)] = deepcopy(record)
        if from_learner_id not in self.absorbed_from:
            self.absorbed_from.append(from_learner_id)

    @event("RecordsTransferred")
    def _records_transferred(
        self,
        from_learner_id: UUID,
        conversions: list[Conversion],
        redemptions: list[Redemption],
        actor: str | None,
    ) -> None:
        self.conversions.update({str(c.id): deepcopy(c) for c in conversions})
        self.redemptions.update({str(r.id): deepcopy(r) for r in redemptions})
        if from_learner_id not in self.absorbed_from:
            self.absorbed_from.append(from_learner_id)

    def hand_over(self, survivor_id: UUID) -> None:
        """Gives every record to the account of ``survivor_id`` (its history stays here)."""
        if self.merged_into is not None:
            raise InvalidInput("the account was already merged", ("duplicateId",))
        self._handed_over(survivor_learner_id=survivor_id)

    @event("HandedOver")
    def _handed_over(self, survivor_learner_id: UUID) -> None:
        self.outcomes, self.conversions, self.redemptions = {}, {}, {}
        self.merged_into = survivor_learner_id

    # -- revocation and supersession -----------------------------------------------------------
    def _relying_on(self, outcome_id: UUID) -> tuple[tuple[UUID, ...], tuple[UUID, ...]]:
        """The active conversions of an outcome that stops counting (cancelled: their other
        sources return) and the redemptions that relied on it (flagged for review)."""
        cancelled = tuple(
            c.id for c in self.conversions.values() if c.active and outcome_id in c.source_ids
        )
        relied_on = {str(outcome_id), *map(str, cancelled)}
        flagged = tuple(r.id for r in self.redemptions.values() if relied_on & r.allocations.keys())
        return cancelled, flagged

    def revoke(self, outcome_id: UUID, reason: object, actor: str) -> tuple[UUID, ...]:
        """Revokes an outcome; returns the redemptions flagged for review. An earlier attempt
        at the same learning that this one replaced counts again."""
        outcome = self.outcome(outcome_id)
        if outcome.status is OutcomeStatus.REVOKED:
            raise AlreadyRevoked("the outcome is already revoked", ("outcomeId",))
        cancelled, flagged = self._relying_on(outcome_id)
        self._outcome_revoked(
            outcome_id=outcome_id,
            reason=parse_text(reason, "reason"),
            cancelled_conversions=cancelled,
            flagged_redemptions=flagged,
            actor=actor,
            restored=self._set_aside_for(outcome),
        )
        return flagged

    def _set_aside_for(self, outcome: Outcome) -> tuple[UUID, ...]:
        """The earlier attempt ``outcome`` replaced as a retake, if nothing else counts for that
        learning now: revoking the retake makes it count again."""
        others = self._counting(learning_key(outcome, outcome.recognized_standard), outcome.id)
        set_aside = [
            o
            for o in self.outcomes.values()
            if o.superseded_by == outcome.id and o.superseded_because == "retake"
        ]
        return () if others else tuple(o.id for o in set_aside)

    class OutcomeRevoked(Aggregate.Event):
        class_version = 2
        outcome_id: UUID
        reason: str
        cancelled_conversions: tuple[UUID, ...]
        flagged_redemptions: tuple[UUID, ...]
        actor: str | None
        restored: tuple[UUID, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["restored"] = ()  # nothing was ever set aside before version 2

    @event(OutcomeRevoked)
    def _outcome_revoked(
        self,
        outcome_id: UUID,
        reason: str,
        cancelled_conversions: tuple[UUID, ...],
        flagged_redemptions: tuple[UUID, ...],
        actor: str | None,
        restored: tuple[UUID, ...],
    ) -> None:
        self.outcomes[str(outcome_id)].revoked_reason = reason
        self._release(outcome_id, f"revoked: {reason}", cancelled_conversions, flagged_redemptions)
        for rid in restored:
            self.outcomes[str(rid)].superseded_by = None
            self.outcomes[str(rid)].superseded_because = None

    def _supersede(self, earlier: Outcome, by: UUID, because: str, actor: str | None) -> None:
        cancelled, flagged = self._relying_on(earlier.id)
        self._outcome_superseded(
            outcome_id=earlier.id,
            superseded_by=by,
            because=because,
            cancelled_conversions=cancelled,
            flagged_redemptions=flagged,
            actor=actor,
        )

    @event("OutcomeSuperseded")
    def _outcome_superseded(
        self,
        outcome_id: UUID,
        superseded_by: UUID,
        because: str,
        cancelled_conversions: tuple[UUID, ...],
        flagged_redemptions: tuple[UUID, ...],
        actor: str | None,
    ) -> None:
        o = self.outcomes[str(outcome_id)]
        o.superseded_by, o.superseded_because = superseded_by, because
        note = f"superseded by {superseded_by} ({because})"
        self._release(outcome_id, note, cancelled_conversions, flagged_redemptions)

    def _release(
        self,
        outcome_id: UUID,
        note: str,
        cancelled_conversions: tuple[UUID, ...],
        flagged_redemptions: tuple[UUID, ...],
    ) -> None:
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
            self.redemptions[str(rid)].flags.append(f"outcome {outcome_id} {note}")
