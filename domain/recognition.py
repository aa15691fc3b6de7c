"""Recognition: an account's outcomes placed on the framework, by a rule (measured against the
standard it cites, judged by when the learning was completed) or by an officer; the same
learning counts once (docs/domain.md, rules 1, 3 and 4)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.account_merging import AccountMerging
from domain.errors import IdentityNotVerified, InvalidInput, RuleNotApplicable
from domain.records import OfficerDecision, Outcome
from domain.rules import RecognitionTerms, RuleVersion
from domain.same_learning import replaced_by
from domain.standard import OutcomeStandard
from domain.values import (
    InstitutionKind,
    OutcomeKind,
    OutcomeStatus,
    RuleModel,
    parse_credits,
    parse_level,
    parse_text,
)


class Recognizing(AccountMerging):
    """(No class-level annotations: see ``Superseding``. Events recorded before this class was
    split out of ``CreditAccount`` keep their topics: they resolve through it.)"""

    if TYPE_CHECKING:

        def _propose(
            self,
            action: str,
            subject_id: UUID,
            decision: OfficerDecision | None,
            officer: str,
            justification: str,
            at: datetime | None,
        ) -> UUID: ...

        def outcome(self, outcome_id: UUID) -> Outcome: ...

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
        if outcome.kind is OutcomeKind.PRIOR_LEARNING:
            raise RuleNotApplicable("prior learning is assessed by an officer, not by a rule")
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
        replaced = replaced_by(self.outcomes.values(), outcome, None if version is None else code)
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
            justification=None,
            approved_by=None,
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
        justification: object = None,
        threshold: Decimal | None = None,
        at: datetime | None = None,
    ) -> UUID | None:
        """An officer's decision, with its own values; against ``standard`` when given (the
        officer attests the outcome meets it: it must have been in force at completion).

        A decision beyond the standard's value, beyond what the credential states, or above
        ``threshold`` credits needs a written justification and a second officer: it is
        proposed and waits (returns the waiting decision's id); else it is made at once (returns
        None)."""
        outcome = self._recognizable(outcome_id, identity_verified, on)
        level = parse_level(outcome.level if level is None else level, max_level)
        value = outcome.framework_credits if credits is None else parse_credits(credits)
        if not value:
            raise InvalidInput(
                "the outcome's credits cannot be placed on the framework: give the credits",
                ("credits",),
            )
        if outcome.kind is OutcomeKind.PRIOR_LEARNING and standard is None:
            raise InvalidInput(
                "prior learning is assessed against a standard of the catalogue",
                ("standardCode",),
            )
        version = None
        if standard is not None:
            version = standard.version_on(outcome.completed_on)
            if version is None:
                raise RuleNotApplicable(
                    f"standard {standard.code} was not in force for learning completed on "
                    f"{outcome.completed_on}"
                )
        decision = OfficerDecision(
            credits=value,
            level=level,
            category=parse_text(category, "category", max_length=50),
            standard_code=None if standard is None else standard.code,
            standard_version=None if version is None else version.version,
        )
        # Refused now if another attempt at the same learning counts (not at approval).
        replaced_by(self.outcomes.values(), outcome, decision.standard_code)
        why = None if justification is None else parse_text(justification, "justification")
        beyond = decision.beyond(outcome, version, threshold)
        if beyond is not None:
            if why is None:
                raise InvalidInput(
                    f"the decision is {beyond}: give a written justification; a second "
                    "officer approves it",
                    ("justification",),
                )
            return self._propose("RECOGNITION", outcome_id, decision, officer, why, at)
        self._decide(outcome, decision, officer, why, approved_by=None)
        return None

    def _decide(
        self,
        outcome: Outcome,
        decision: OfficerDecision,
        officer: str,
        justification: str | None,
        approved_by: str | None,
    ) -> None:
        replaced = replaced_by(self.outcomes.values(), outcome, decision.standard_code)
        self._outcome_recognized(
            outcome_id=outcome.id,
            credits=decision.credits,
            level=decision.level,
            category=decision.category,
            rule_id=None,
            rule_version=None,
            actor=officer,
            standard_code=decision.standard_code,
            standard_version=decision.standard_version,
            claimed_code_counts=False,
            justification=justification,
            approved_by=approved_by,
        )
        for earlier in replaced:
            self._supersede(earlier, outcome.id, "retake", officer)

    def _recognizable(self, outcome_id: UUID, identity_verified: bool, on: date) -> Outcome:
        outcome = self.outcome(outcome_id)
        if outcome.status not in (OutcomeStatus.DEPOSITED, OutcomeStatus.REJECTED):
            raise InvalidInput(
                f"outcome is {outcome.status.value}; only deposited or rejected outcomes can be "
                "recognised",
                ("outcomeId",),
            )
        if outcome.under_review is not None:
            raise RuleNotApplicable(f"the outcome is under review: {outcome.under_review}")
        if outcome.status_unknown is not None:
            raise RuleNotApplicable(
                "the credential's status is not established yet (its issuer's status list "
                f"could not be read: {outcome.status_unknown}); it is checked again shortly"
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
        class_version = 3
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
        justification: str | None
        approved_by: str | None  # the second officer of a decision beyond the bounds

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 recognised against no standard, and a qualification's required standard
            # counted the code the credential claimed: those decisions keep what they counted.
            state.update(standard_code=None, standard_version=None, claimed_code_counts=True)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.update(justification=None, approved_by=None)  # no decision needed two then

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
        justification: str | None,
        approved_by: str | None,
    ) -> None:
        o = self.outcomes[str(outcome_id)]
        o.justification, o.approved_by = justification, approved_by
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
            outcome_id=outcome_id, reason=parse_text(reason, "reason"), actor=officer, named=True
        )

    class RecognitionRejected(Aggregate.Event):
        class_version = 2
        outcome_id: UUID
        reason: str
        actor: str | None
        named: bool  # the outcome records who rejected it (for an appeal to someone else)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Snapshots of accounts before version 5 never recorded it: neither does replay.
            state["named"] = False

    @event(RecognitionRejected)
    def _recognition_rejected(
        self, outcome_id: UUID, reason: str, actor: str | None, named: bool
    ) -> None:
        self.outcomes[str(outcome_id)].rejection_reason = reason
        self.outcomes[str(outcome_id)].rejected_by = actor if named else None
