"""Decisions seen by two officers, reversals and appeals (docs/domain.md, governance).

An officer's recognition beyond its bounds and an officer's reversal of a conversion are
proposed with a written justification and take effect only when a second officer approves; a
learner may undo their own conversion within a window; a learner may appeal a decision once, to
an officer other than the one who made it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.errors import Forbidden, InvalidInput, NotFound, RuleNotApplicable
from domain.recognition import Recognizing
from domain.records import Appeal, Conversion, OfficerDecision, Proposal
from domain.same_learning import replaced_by
from domain.standard import OutcomeStandard
from domain.values import (
    OutcomeStatus,
    parse_credits,
    parse_flag,
    parse_level,
    parse_text,
    utc,
)

# How long a learner may undo their own conversion (an officer may at any time, with a reason
# and a second officer).
LEARNER_REVERSAL_WINDOW = timedelta(days=30)


class Reviewing(Recognizing):
    """(No class-level annotations: see ``Superseding``.)"""

    if TYPE_CHECKING:
        proposals: dict[str, Proposal]

    # -- four-eyes ------------------------------------------------------------------------------
    def _propose(
        self,
        action: str,
        subject_id: UUID,
        decision: OfficerDecision | None,
        officer: str,
        justification: str,
        at: datetime | None,
    ) -> UUID:
        if any(p.subject_id == subject_id for p in self.proposals.values()):
            raise InvalidInput(
                "a decision on it already waits for a second officer", ("outcomeId",)
            )
        proposal = Proposal(
            id=uuid4(),
            action=action,
            subject_id=subject_id,
            decision=decision,
            proposed_by=officer,
            justification=justification,
            proposed_at=None if at is None else utc(at),
        )
        self._decision_proposed(proposal=proposal)
        return proposal.id

    @event("DecisionProposed")
    def _decision_proposed(self, proposal: Proposal) -> None:
        self.proposals[str(proposal.id)] = proposal

    def proposal(self, proposal_id: UUID) -> Proposal:
        try:
            return self.proposals[str(proposal_id)]
        except KeyError:
            raise NotFound(
                f"no decision {proposal_id} waits in this account", ("decisionId",)
            ) from None

    def approve(self, proposal_id: UUID, officer: str, on: date) -> tuple[UUID, ...]:
        """A second officer approves: the decision takes effect, recorded as the proposer's
        with the approver's name. Returns the outcomes it changed."""
        p = self.proposal(proposal_id)
        if officer == p.proposed_by:
            raise Forbidden("a second officer approves: not the one who proposed it")
        # Still possible? (Checked before anything is recorded.)
        if p.action == "REVERSAL":
            conversion = self._reversible(p.subject_id)
            self._decision_approved(proposal_id=p.id, officer=officer)
            self._reverse(conversion, p.justification, p.proposed_by, officer)
            return conversion.consumed_from
        assert p.decision is not None
        outcome = self._recognizable(p.subject_id, True, on)
        replaced_by(self.outcomes.values(), outcome, p.decision.standard_code)
        self._decision_approved(proposal_id=p.id, officer=officer)
        self._decide(outcome, p.decision, p.proposed_by, p.justification, approved_by=officer)
        return (outcome.id,)

    @event("DecisionApproved")
    def _decision_approved(self, proposal_id: UUID, officer: str) -> None:
        del self.proposals[str(proposal_id)]

    def decline(self, proposal_id: UUID, officer: str, reason: object) -> None:
        """Any officer declines a waiting decision (the proposer may withdraw it)."""
        p = self.proposal(proposal_id)
        self._decision_declined(
            proposal_id=p.id, officer=officer, reason=parse_text(reason, "reason")
        )

    @event("DecisionDeclined")
    def _decision_declined(self, proposal_id: UUID, officer: str, reason: str) -> None:
        del self.proposals[str(proposal_id)]

    # -- reversal -------------------------------------------------------------------------------
    def reverse_by_learner(self, conversion_id: UUID, actor: str, at: datetime) -> None:
        """The learner undoes their own conversion, within the window."""
        c = self._reversible(conversion_id)
        if utc(at) - c.converted_at > LEARNER_REVERSAL_WINDOW:
            raise RuleNotApplicable(
                f"a learner may undo a conversion within {LEARNER_REVERSAL_WINDOW.days} days; "
                "ask an officer",
                ("conversionId",),
            )
        self._reverse(c, "undone by the learner", actor, None)

    def propose_reversal(
        self, conversion_id: UUID, officer: str, justification: object, at: datetime
    ) -> UUID:
        """An officer reverses a conversion at any time, with a written reason that a second
        officer approves."""
        c = self._reversible(conversion_id)
        why = parse_text(justification, "justification")
        return self._propose("REVERSAL", c.id, None, officer, why, at)

    def _conversion(self, conversion_id: UUID) -> Conversion:
        try:
            return self.conversions[str(conversion_id)]
        except KeyError:
            raise NotFound(
                f"no conversion {conversion_id} in this account", ("conversionId",)
            ) from None

    def _reversible(self, conversion_id: UUID) -> Conversion:
        c = self._conversion(conversion_id)
        if not c.active:
            raise RuleNotApplicable("the conversion no longer counts", ("conversionId",))
        sources = [self.outcomes[str(i)] for i in c.consumed_from]
        spent = c.redemption_id or next(
            (s.redemption_id for s in sources if s.redemption_id is not None), None
        )
        if spent is not None:
            # What it gave, or what is left of a source, counts toward an award: credits given
            # back now would sit under it, unusable. The award is reviewed first.
            raise RuleNotApplicable(
                f"the conversion or its sources count toward redemption {spent}: that award "
                "is reviewed first",
                ("conversionId",),
            )
        return c

    def _reverse(self, c: Conversion, reason: str, actor: str, approved_by: str | None) -> None:
        self._reversible(c.id)
        self._conversion_reversed(
            conversion_id=c.id, reason=reason, actor=actor, approved_by=approved_by
        )

    @event("ConversionReversed")
    def _conversion_reversed(
        self, conversion_id: UUID, reason: str, actor: str, approved_by: str | None
    ) -> None:
        c = self.conversions[str(conversion_id)]
        c.reversed_reason, c.reversed_by = reason, actor
        self._return_sources(c)

    # -- appeals --------------------------------------------------------------------------------
    def lodge_appeal(self, outcome_id: UUID, grounds: object, at: datetime) -> None:
        """The learner appeals the decision on an outcome (its recognition or rejection): once,
        while nothing was built on it."""
        o = self.outcome(outcome_id)
        if o.status not in (OutcomeStatus.RECOGNIZED, OutcomeStatus.REJECTED):
            raise InvalidInput(
                f"outcome is {o.status.value}: only a recognition or a rejection is appealed",
                ("outcomeId",),
            )
        if o.converted_credits:
            raise RuleNotApplicable("part of it was converted: undo the conversion first")
        if o.appeal is not None:
            raise InvalidInput("a decision is appealed once", ("outcomeId",))
        decided_by = o.recognized_by if o.recognized_credits is not None else o.rejected_by
        self._appeal_lodged(
            outcome_id=o.id,
            appeal=Appeal(
                id=uuid4(),
                grounds=parse_text(grounds, "grounds", max_length=4000),
                lodged_at=utc(at),
                decided_by=decided_by or "unknown",
            ),
        )

    @event("AppealLodged")
    def _appeal_lodged(self, outcome_id: UUID, appeal: Appeal) -> None:
        self.outcomes[str(outcome_id)].appeal = appeal

    def hear_appeal(
        self,
        outcome_id: UUID,
        officer: str,
        upheld: object,
        reason: object,
        *,
        credits: Decimal | None = None,
        level: int | None = None,
        category: object = None,
        standard: OutcomeStandard | None = None,
        max_level: int,
        on: date,
        threshold: Decimal | None = None,
        at: datetime | None = None,
    ) -> UUID | None:
        """An officer other than the one who decided hears the appeal. Dismissed, the decision
        stands; upheld, it is replaced by the officer's own (same bounds, same four-eyes).
        Returns the waiting decision's id when the new one waits for a second officer."""
        o = self.outcome(outcome_id)
        appeal = o.appeal
        if appeal is None or appeal.heard_by is not None:
            raise InvalidInput("no appeal waits on this outcome", ("outcomeId",))
        if officer in (appeal.decided_by, o.approved_by):
            raise Forbidden(
                "an appeal is heard by an officer other than those who made the decision"
            )
        upheld = parse_flag(upheld, "upheld")
        why = parse_text(reason, "reason")
        if upheld and category is None:
            raise InvalidInput("an upheld appeal gives the new decision's category", ("category",))
        if upheld:  # the new values are checked before anything is recorded
            parse_text(category, "category", max_length=50)
            if credits is not None:
                parse_credits(credits)
            if level is not None:
                parse_level(level, max_level)
        if o.converted_credits or o.redemption_id is not None:
            raise RuleNotApplicable("the outcome was spent since the appeal was lodged")
        self._appeal_heard(outcome_id=o.id, officer=officer, upheld=upheld, reason=why)
        if not upheld:
            return None
        return self.recognize_by_officer(
            o.id,
            credits=credits,
            level=level,
            category=category,
            officer=officer,
            max_level=max_level,
            identity_verified=True,
            on=on,
            standard=standard,
            justification=f"appeal upheld: {why}",
            threshold=threshold,
            at=at,
        )

    @event("AppealHeard")
    def _appeal_heard(self, outcome_id: UUID, officer: str, upheld: bool, reason: str) -> None:
        o = self.outcomes[str(outcome_id)]
        assert o.appeal is not None
        o.appeal.heard_by, o.appeal.upheld, o.appeal.reason = officer, upheld, reason
        if upheld:  # the decision appealed is set aside; the officer's new one follows
            o.recognized_credits = o.recognized_level = o.category = None
            o.rule_id = o.rule_version = o.recognized_by = None
            o.recognized_standard = o.standard_version = None
            o.rejection_reason = o.rejected_by = None
            o.justification = o.approved_by = None
