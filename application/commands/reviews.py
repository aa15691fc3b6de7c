"""Decisions that need a second look (docs/domain.md, governance): officers' decisions beyond
their bounds wait for a second officer; conversions are reversed (by the learner within a
window, by officers with a reason and a second officer); learners appeal a decision once, and
apply for recognition of their prior learning."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from application.base import Pending
from application.commands.accounts import AccountCommands
from domain.credit_account import CreditAccount
from domain.errors import NotFound
from domain.institution import Institution
from domain.prior_learning import check_portfolio
from domain.records import EvidenceItem
from domain.standard import OutcomeStandard
from domain.values import InstitutionKind, parse_text

# The bank assesses prior learning itself: its outcomes name the bank as their issuer.
BANK_ASSESSOR_ID = UUID("6f1c3a52-8d1e-5b7a-9c0e-4b2f1d3e5a71")


class ReviewCommands(AccountCommands):
    # -- four-eyes -------------------------------------------------------------------------------
    def approve_decision(
        self, learner_id: UUID, decision_id: UUID, officer: str
    ) -> tuple[UUID, ...]:
        """A second officer approves a decision waiting in the learner's account; returns the
        outcomes it changed."""
        return self._update(
            CreditAccount,
            self.account_id(self.survivor_of(learner_id)),
            "account for learner",
            lambda account: account.approve(decision_id, officer, self.now().date()),
        )

    def decline_decision(
        self, learner_id: UUID, decision_id: UUID, officer: str, reason: str
    ) -> None:
        self._update(
            CreditAccount,
            self.account_id(self.survivor_of(learner_id)),
            "account for learner",
            lambda account: account.decline(decision_id, officer, reason),
        )

    # -- reversal --------------------------------------------------------------------------------
    def reverse_conversion(
        self,
        learner_id: UUID,
        conversion_id: UUID,
        actor: str,
        *,
        by_officer: bool,
        justification: str | None = None,
    ) -> UUID | None:
        """The learner's own undo (within the window) takes effect at once; an officer's is
        proposed (returns the decision id) for a second officer."""

        def reverse(account: CreditAccount) -> UUID | None:
            self._check_active(self.learner(learner_id))
            if by_officer:
                return account.propose_reversal(conversion_id, actor, justification, self.now())
            account.reverse_by_learner(conversion_id, actor, self.now())
            return None

        return self._update(
            CreditAccount, self.account_id(learner_id), "account for learner", reverse
        )

    # -- appeals ---------------------------------------------------------------------------------
    def appeal_decision(self, learner_id: UUID, outcome_id: UUID, grounds: str) -> None:
        def appeal(account: CreditAccount) -> None:
            self._check_active(self.learner(learner_id))
            account.lodge_appeal(outcome_id, grounds, self.now())

        self._update(CreditAccount, self.account_id(learner_id), "account for learner", appeal)

    def hear_appeal(
        self,
        learner_id: UUID,
        outcome_id: UUID,
        officer: str,
        upheld: bool,
        reason: str,
        credits: Decimal | None = None,
        level: int | None = None,
        category: str | None = None,
        standard_code: str | None = None,
    ) -> UUID | None:
        """Returns the waiting decision's id when the new one waits for a second officer."""
        standard = self._standard_named(standard_code)

        def hear(account: CreditAccount) -> UUID | None:
            self._check_active(self.learner(learner_id))
            return account.hear_appeal(
                outcome_id,
                officer,
                upheld,
                reason,
                credits=credits,
                level=level,
                category=category,
                standard=standard,
                max_level=self.framework.max_level,
                on=self.now().date(),
                threshold=self.four_eyes_credits,
                at=self.now(),
            )

        return self._update(CreditAccount, self.account_id(learner_id), "account for learner", hear)

    def _standard_named(self, code: str | None) -> OutcomeStandard | None:
        if code is None:
            return None
        standard = self.standard_by_code(parse_text(code, "standardCode", max_length=50))
        if standard is None:
            raise NotFound(f"no standard {code} in the catalogue", ("standardCode",))
        return standard

    # -- recognition of prior learning ----------------------------------------------------------
    def apply_for_prior_learning(
        self,
        learner_id: UUID,
        title: str,
        completed_on: date,
        description: str,
        evidence: list[EvidenceItem],
        hours: Decimal | None = None,
        actor: str | None = None,
    ) -> UUID:
        """The learner's portfolio enters the account, for an officer to assess against a
        standard (``recognize_outcome`` with ``standard_code``); returns the outcome id."""
        portfolio = check_portfolio(description, hours, evidence)
        outcome_id = uuid4()

        def decide() -> tuple[UUID, Pending]:
            self._check_active(self.learner(learner_id))
            account = self.account(learner_id)
            account.claim_prior_learning(
                outcome_id,
                assessor_id=BANK_ASSESSOR_ID,
                title=title,
                completed_on=completed_on,
                portfolio=portfolio,
                at=self.now(),
                actor=actor,
            )
            assessor = self._find(Institution, BANK_ASSESSOR_ID)
            if assessor is None:  # the first application: the bank joins its own register
                assessor = Institution.register(
                    id=BANK_ASSESSOR_ID,
                    name="Credit Bank (recognition of prior learning)",
                    kind=InstitutionKind.CERTIFICATION_BODY,
                    issuer_uri=None,
                    at=self.now(),
                )
                return outcome_id, (account, assessor, self._listed("institutions", assessor.id))
            return outcome_id, (account,)

        return self._command(decide)
