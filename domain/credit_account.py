"""CreditAccount: one per learner. Its events are the account.

Deposits enter as DEPOSITED outcomes; recognition (by rule or by an officer) gives them credits on
the framework; conversions move recognised credits into a target institution's scheme (the sources
leave the balance, the conversion enters it, so nothing is counted twice); redemptions spend
holdings for one qualification; revocation removes an outcome, cascades to the conversions derived
from it and flags redemptions that relied on it. Its records are in ``domain.records``; what a
conversion would give is planned in ``domain.conversion``.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain.account_merging import AccountMerging
from domain.assessment import Goal
from domain.awards import NO_PATHWAY, Awarding, Pathway
from domain.conversion import ConversionOption, ConversionPlan, conversion_options
from domain.credential_status import StatusWatching
from domain.errors import (
    AlreadyRevoked,
    InvalidInput,
    NotFound,
    RuleNotApplicable,
)
from domain.prior_learning import PriorLearning
from domain.recognition import Recognizing
from domain.records import (
    Balance,
    Conversion,
    ConvertedPart,
    DepositedOutcome,
    Outcome,
    Proposal,
    Redemption,
    balance,
)
from domain.review import Reviewing
from domain.rules import ConversionTerms, RuleVersion
from domain.same_learning import (
    Superseding,
    earlier_version,
    mark_spent,
    reserve,
    set_aside_for,
)
from domain.values import (
    ZERO,
    AwardStatus,
    OutcomeKind,
    OutcomeStatus,
    parse_text,
    utc,
)


class CreditAccount(StatusWatching):
    """A learner's lifelong account. Its behaviour is split by area into the classes it
    inherits from (``SPLIT_INTO``), whose events carry their own topics: the hash chain and the
    views take the events of all of them as the account's."""

    # 2: outcomes know when their credential was issued and expires, whether it records a pass,
    # and their framework credits (snapshots of version 1: the claim, as it was then taken).
    # 3: outcomes know the standard they were recognised against (before: the code they
    # claimed counted, for the decisions made then).
    # 5: outcomes know what conversions took of them, conversions their parts (a snapshot of
    # version 4: every converted outcome wholly taken, each conversion one holding).
    # 6: awards have a status (flagged ones are under review), keep the awards they stack on,
    # and spend only what they count; the sources of a cancelled conversion an award counted
    # are reserved for it by allocation (version 5 marked them spent).
    class_version = 6

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
    def upcast_v4_v5(state: dict[str, Any]) -> None:
        for o in state["outcomes"].values():
            taken = o.conversion_id is not None and o.recognized_credits is not None
            o.converted_credits = {str(o.conversion_id): o.recognized_credits} if taken else {}
        state["proposals"] = {}

    @staticmethod
    def upcast_v5_v6(state: dict[str, Any]) -> None:
        for r in state["redemptions"].values():
            if r.flags:
                r.status = AwardStatus.UNDER_REVIEW
        for c in state["conversions"].values():
            award = state["redemptions"].get(str(c.redemption_id))
            if c.cancelled_because is not None and award is not None:
                reserve(award, c, c.cancelled_because, state["outcomes"])
        mark_spent(state["outcomes"], state["conversions"], state["redemptions"])

    def __deepcopy__(self, memo: dict[int, Any]) -> CreditAccount:
        """The aggregate cache hands every command a deep copy of a lifelong account: its
        records copy themselves (only their mutable parts, domain/records.py), without the
        generic deep copy's bookkeeping for every record; the rest is copied as usual."""
        new = object.__new__(type(self))
        memo[id(self)] = new
        for name, value in self.__dict__.items():
            if name in ("outcomes", "conversions", "redemptions"):
                # Through deepcopy's memo: a record reached twice is copied once.
                value = {key: copy.deepcopy(record, memo) for key, record in value.items()}
            elif name == "proposals":
                value = dict(value)  # frozen records
            else:
                value = copy.deepcopy(value, memo)
            new.__dict__[name] = value
        return new

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
        self.proposals: dict[str, Proposal] = {}  # decisions waiting for a second officer

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
        earlier = earlier_version(self.outcomes.values(), outcome)
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

    # -- conversion ---------------------------------------------------------------------------
    def convert(
        self,
        outcome_ids: list[UUID],
        rule: RuleVersion,
        conversion_id: UUID,
        at: datetime,
        actor: str | None = None,
    ) -> Conversion:
        """Converts the named sources under the rule (docs/domain.md, conversion): a capped
        ratio conversion takes only what it converts; a course equivalence grants the target
        course once."""
        terms = rule.terms
        assert isinstance(terms, ConversionTerms)
        self._check_new_id(conversion_id, "conversionId")
        if not outcome_ids:
            raise InvalidInput("name at least one outcome to convert", ("outcomeIds",))
        if len(set(outcome_ids)) != len(outcome_ids):
            raise InvalidInput("an outcome is listed twice", ("outcomeIds",))
        rule.check_applicable(utc(at).date())
        if terms.equivalence and (held := self.holds_course(terms)) is not None:
            raise RuleNotApplicable(
                f"course {terms.target_code} is already held ({held}): a course counts once",
                ("conversionRuleId",),
            )
        sources = [self.outcome(i) for i in outcome_ids]
        plan = ConversionPlan.checked(
            sources, rule, self.converted_under(rule.rule_id), utc(at).date(), conversion_id
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
            parts=plan.parts,
            equivalence=terms.equivalence,
        )
        return self.conversions[str(conversion_id)]

    def holds_course(self, terms: ConversionTerms) -> str | None:
        """How the account already holds the target course of an equivalence, if it does: an
        active equivalence into it, or the course itself, recognised."""
        for c in self.conversions.values():
            if (
                c.active
                and c.equivalence
                and (c.target_institution_id, c.target_code)
                == (terms.target_institution_id, terms.target_code)
            ):
                return f"conversion {c.id}"
        for o in self.outcomes.values():
            if (
                o.issuer_id == terms.target_institution_id
                and o.standard_code == terms.target_code
                and o.recognized_credits is not None
                and o.status
                in (OutcomeStatus.RECOGNIZED, OutcomeStatus.CONVERTED, OutcomeStatus.REDEEMED)
            ):
                return f"outcome {o.id}"
        return None

    class CreditsConverted(Aggregate.Event):
        class_version = 2
        conversion_id: UUID
        outcome_ids: tuple[UUID, ...]
        rule_id: UUID
        rule_version: int
        ratio: Decimal
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
        actor: str | None
        parts: tuple[ConvertedPart, ...]
        equivalence: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 took every named source whole and made one holding of them.
            state.update(parts=(), equivalence=False)

    @event(CreditsConverted)
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
        parts: tuple[ConvertedPart, ...],
        equivalence: bool,
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
            parts=tuple(parts),
            equivalence=equivalence,
        )
        if parts:
            for p in parts:
                self.outcomes[str(p.source_id)].consumed_by(conversion_id, p.consumed)
        else:
            for i in outcome_ids:
                o = self.outcomes[str(i)]
                o.consumed_by(conversion_id, o.available_credits)

    def converted_under(self, rule_id: UUID) -> Decimal:
        return sum(
            (c.credits for c in self.conversions.values() if c.rule_id == rule_id and c.active),
            ZERO,
        )

    def conversion_holding(self, holding_id: str) -> Conversion | None:
        """The conversion a holding (a conversion's part) belongs to."""
        found = self.conversions.get(holding_id)
        if found is not None:
            return found
        for c in self.conversions.values():
            if any(str(p.id) == holding_id for p in c.parts):
                return c
        return None

    # -- balance ------------------------------------------------------------------------------
    def balance(self) -> Balance:
        return balance(self.holdings())

    def conversion_options(
        self, rules: list[RuleVersion], goal: Goal, on: date, pathway: Pathway = NO_PATHWAY
    ) -> list[ConversionOption]:
        return conversion_options(self, rules, goal, on, pathway)

    # -- revocation and supersession -----------------------------------------------------------
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
            restored=set_aside_for(self.outcomes.values(), outcome),
        )
        return flagged

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

    # -- review of outcomes signed with a compromised key -------------------------------------
    def question(self, outcome_id: UUID, reason: object, actor: str) -> bool:
        """Puts an outcome under review (its issuer's key was compromised when it was signed):
        it and what was converted from it stop counting, and the awards that relied on it go
        under review. Only an officer clears it or revokes it. False: nothing to do (revoked,
        already under review, or already found genuine)."""
        outcome = self.outcome(outcome_id)
        if (
            outcome.status is OutcomeStatus.REVOKED
            or outcome.under_review is not None
            or outcome.review_cleared_by is not None  # an officer already found it genuine
        ):
            return False
        _, flagged = self._relying_on(outcome_id)
        self._outcome_questioned(
            outcome_id=outcome_id,
            reason=parse_text(reason, "reason"),
            flagged_redemptions=flagged,
            actor=actor,
        )
        return True

    @event("OutcomeQuestioned")
    def _outcome_questioned(
        self, outcome_id: UUID, reason: str, flagged_redemptions: tuple[UUID, ...], actor: str
    ) -> None:
        self.outcomes[str(outcome_id)].under_review = reason
        self._release(outcome_id, f"under review: {reason}", (), flagged_redemptions)

    def clear_review(self, outcome_id: UUID, reason: object, officer: str) -> None:
        """An officer found the outcome genuine after all: it counts again."""
        outcome = self.outcome(outcome_id)
        if outcome.under_review is None:
            raise InvalidInput("the outcome is not under review", ("outcomeId",))
        self._review_cleared(
            outcome_id=outcome_id, reason=parse_text(reason, "reason"), actor=officer
        )

    @event("ReviewCleared")
    def _review_cleared(self, outcome_id: UUID, reason: str, actor: str) -> None:
        outcome = self.outcomes[str(outcome_id)]
        outcome.under_review, outcome.review_cleared_by = None, actor
        self._mark_spent()


# Events of these kinds were recorded as ``CreditAccount``'s before its behaviour was split by
# area into the classes it inherits from; their stored topics name the classes that apply them.
for _moved in (
    Recognizing.OutcomeRecognized,
    Recognizing.RecognitionRejected,
    Superseding.OutcomeSuperseded,  # type: ignore[attr-defined]
    AccountMerging.OutcomeTransferred,  # type: ignore[attr-defined]
    AccountMerging.RecordsTransferred,  # type: ignore[attr-defined]
    AccountMerging.HandedOver,  # type: ignore[attr-defined]
    Awarding.CreditsRedeemed,
):
    register_topic(f"{__name__}:CreditAccount.{_moved.__name__}", _moved)


# The classes an account's events may come from (the chain and the views read this).
SPLIT_INTO: tuple[type[Aggregate], ...] = (
    CreditAccount,
    StatusWatching,
    Awarding,
    PriorLearning,
    Reviewing,
    Recognizing,
    AccountMerging,
    Superseding,
)
