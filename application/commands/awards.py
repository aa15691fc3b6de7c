"""Awards (docs/domain.md, awards): qualifications redeemed with exactly the credits they count,
along their pathways, and reviewed by an officer when credit under them is revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID, uuid4

from eventsourcing.domain import DomainEvent

from application.base import Pending
from application.commands.accounts import AccountCommands
from domain.assessment import Assessment, Goal
from domain.awards import Pathway, pathway_of
from domain.conversion import ConversionOption
from domain.credit_account import CreditAccount
from domain.errors import NotFound
from domain.qualification import Qualification, Requirements
from domain.records import Redemption
from domain.rules import RecognitionRule
from domain.standard import OutcomeStandard
from domain.study_plan import StudyPlan, study_plan
from domain.values import ZERO, AwardStatus


@dataclass(frozen=True, kw_only=True)
class PastProgress:
    """Progress as it stood at a version of an account."""

    qualification_version: int  # the version of the requirements in force then
    assessment: Assessment
    award: Redemption | None  # its award then (standing: the assessment is what it counted)


@dataclass(frozen=True, kw_only=True)
class PlanFor:
    """A study plan with the routes that would close it."""

    plan: StudyPlan
    conversions: list[ConversionOption]  # conversions that close or bring closer
    standards: list[OutcomeStandard]  # required standards not held yet
    routes: list[RecognitionRule]  # rules in force recognising into a short category


class AwardCommands(AccountCommands):
    def goal_for(self, qualification: Qualification) -> Goal:
        """What an assessment for it decides, with the bank's calendar and level share."""
        return qualification.goal(self.calendar, self.level_share)

    def pathway_for(self, qualification: Qualification, at: datetime | None = None) -> Pathway:
        """Its pathway (``at``: through the qualifications as they stood then)."""

        def lookup(qid: UUID) -> tuple[str, Requirements] | None:
            found = self.qualification(qid) if at is None else self.qualification_as_of(qid, at)
            return None if found is None else (found.name, found.requirements)

        return pathway_of(qualification.requirements, lookup)

    def awarded_qualification(self, award: Redemption) -> Qualification:
        """The qualification as the version an award met stated it (requirements version n is
        the aggregate's version n: retiring is its last event)."""
        return self.qualification(award.qualification_id, award.qualification_version)

    def qualification_as_of(self, qualification_id: UUID, at: datetime) -> Qualification | None:
        """The qualification as it stood at a moment (None: it did not exist yet)."""
        version = None
        for e in self.repository.event_store.get(qualification_id):
            if cast(DomainEvent, e).timestamp > at:
                break
            version = e.originator_version
        return None if version is None else self.qualification(qualification_id, version)

    def progress_as_of(
        self, learner_id: UUID, version: int, qualification_id: UUID, at: datetime | None = None
    ) -> PastProgress:
        """What the account's progress toward a qualification was at one of its versions (at
        ``at``, by default when that version was made), under the requirements in force then:
        what an officer or the learner saw."""
        account = self.account(learner_id, version)
        at = at or account.modified_on
        qualification = self.qualification_as_of(qualification_id, at)
        if qualification is None:
            raise NotFound("the qualification did not exist then", ("qualificationId",))
        award = next(
            (
                r
                for r in account.redemptions.values()
                if r.qualification_id == qualification_id and r.active
            ),
            None,
        )
        if award is not None and award.status is AwardStatus.STANDING:
            assessment = Assessment(
                met=True,
                unmet=(),
                credits_counted=award.credits_counted,
                allocations={UUID(k): v for k, v in award.allocations.items()},
            )
        else:
            if award is not None:  # under review: under the version it met
                qualification = self.awarded_qualification(award)
            assessment = account.assess(
                self.goal_for(qualification),
                at.date(),
                self.pathway_for(qualification, at),
                releasing=None if award is None else award.id,
            )
        return PastProgress(
            qualification_version=qualification.requirements_version,
            assessment=assessment,
            award=award,
        )

    def study_plan(self, learner_id: UUID, qualification_id: UUID) -> PlanFor:
        """What is left toward a qualification, what would close it, and the earliest date it
        can be met given the semester and yearly caps."""
        qualification = self.qualification(qualification_id)
        account = self.account(learner_id)
        today = self.now().date()
        goal = self.goal_for(qualification)
        pathway = self.pathway_for(qualification)
        assessment = account.assess(goal, today, pathway)
        unheld = [
            s
            for code in qualification.requirements.required_standards
            if f"required standard {code}" in assessment.shortfalls
            and (s := self.standard_by_code(code)) is not None
        ]
        plan = study_plan(
            goal,
            assessment,
            account.holdings(today, pathway),
            today,
            sum((s.credits for s in unheld), ZERO),
        )
        short = {k.removeprefix("category ") for k in plan.shortfalls if k.startswith("category ")}
        routes = [
            r
            for r in self.recognition_rules()
            if not r.retired and getattr(r.terms, "category", None) in short
        ]
        rules = [
            r.current() for r in self.conversion_rules() if not r.retired and r.awaiting() is None
        ]
        conversions = [
            o
            for o in account.conversion_options(rules, goal, today, pathway)
            if o.closes or o.closer
        ]
        return PlanFor(plan=plan, conversions=conversions, standards=unheld, routes=routes)

    def redeem_qualification(
        self, learner_id: UUID, qualification_id: UUID, actor: str | None = None
    ) -> UUID:
        """Returns the award's id."""
        redemption_id = uuid4()

        def decide() -> tuple[UUID, Pending]:
            qualification = self._active_qualification(qualification_id)
            self._check_active(self.learner(learner_id))
            account = self.account(learner_id)
            account.redeem(
                qualification_id,
                qualification.requirements_version,
                self.goal_for(qualification),
                redemption_id,
                self.now(),
                actor=actor,
                pathway=self.pathway_for(qualification),
            )
            return redemption_id, (account,)

        return self._command(decide)

    def review_award(
        self, learner_id: UUID, award_id: UUID, decision: object, reason: object, officer: str
    ) -> UUID:
        """An officer reaffirms an award under review (re-assessed under the version it was
        awarded under) or rescinds an award."""

        def review(account: CreditAccount) -> UUID:
            award = account.award(award_id)
            awarded = self.awarded_qualification(award)
            account.review_award(
                award_id,
                decision,
                reason,
                officer,
                self.now(),
                self.goal_for(awarded),
                self.pathway_for(awarded),
            )
            return award_id

        return self._update(
            CreditAccount,
            self.account_id(self.survivor_of(learner_id)),
            "account for learner",
            review,
        )
