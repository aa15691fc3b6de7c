"""Awards: qualifications redeemed with exactly the credits they count, stacked along pathways,
and reviewed when credit under them is revoked (docs/domain.md, awards).

A redemption spends what its assessment counted, no more: the rest of a holding stays
available. A qualification that others stack into (a certificate into its diploma) lets the
diploma count the certificate's credits again instead of spending new ones. When credit under an
award is revoked or superseded, the award goes under review: an officer reaffirms it (the
assessment re-run on what remains, and re-allocated) or rescinds it (its credits released).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event

from domain.assessment import Assessment, Goal, Holding, assess
from domain.errors import InvalidInput, NotFound, RequirementsNotMet, RuleNotApplicable
from domain.prior_learning import PriorLearning
from domain.records import AwardReview, Redemption, holdings, spending
from domain.values import ZERO, AwardDecision, AwardStatus, parse_enum, parse_text, utc

if TYPE_CHECKING:
    from domain.qualification import Requirements
    from domain.records import Conversion, Outcome


# An account's plain holdings (no day, no pathway) by the object and its version: a batch of the
# views asks three times per account (balances, progress twice), each an O(account) fold. A new
# event changes the version, so a remembered answer is never stale; a copy is another object.
_plain_holdings: dict[int, tuple[weakref.ref[Any], int, list[Holding]]] = {}
MAX_REMEMBERED = 4096


def _remember(account: Any, found: list[Holding]) -> None:
    if len(_plain_holdings) >= MAX_REMEMBERED:
        for key in [k for k, v in list(_plain_holdings.items()) if v[0]() is None]:
            _plain_holdings.pop(key, None)
        if len(_plain_holdings) >= MAX_REMEMBERED:
            _plain_holdings.clear()
    _plain_holdings[id(account)] = (weakref.ref(account), account.version, found)


@dataclass(frozen=True, kw_only=True)
class Pathway:
    """Where a qualification sits among others: the qualifications (transitively) whose
    awards' credits count again toward it, and those whose award it requires."""

    counts_again: frozenset[UUID] = frozenset()
    requires: tuple[tuple[UUID, str], ...] = ()  # (qualification id, name)
    names: tuple[tuple[UUID, str], ...] = ()  # of those counted again


NO_PATHWAY = Pathway()


def with_contributions(
    result: Assessment, pathway: Pathway, spent_by: dict[str, dict[UUID, Decimal]]
) -> Assessment:
    """Notes how each earned award on the pathway contributes: the credits of it counted
    again. ``spent_by``: holding id -> standing award's qualification -> what it spent (a
    holding counted again from several is shared in the order of their ids)."""
    if not result.again:
        return result
    names = dict(pathway.names)
    contributed: dict[UUID, Decimal] = {}
    for holding_id, again in result.again.items():
        left = again
        for qid, fresh in sorted(
            spent_by.get(str(holding_id), {}).items(), key=lambda kv: str(kv[0])
        ):
            if left <= 0 or qid not in pathway.counts_again:
                continue
            share = min(left, fresh)
            contributed[qid] = contributed.get(qid, ZERO) + share
            left -= share
    notes = tuple(
        f"award {names.get(qid, str(qid))}: {credits} credits counted again"
        for qid, credits in sorted(contributed.items(), key=lambda kv: str(kv[0]))
    )
    return replace(result, notes=result.notes + notes)


def pathway_of(
    requirements: Requirements, lookup: Callable[[UUID], tuple[str, Requirements] | None]
) -> Pathway:
    """A qualification's pathway: the qualifications whose awards count again toward it
    (followed through the ones stacking into those), and those whose award it requires.
    ``lookup``: a qualification's name and requirements (None: unknown)."""
    again: set[UUID] = set()
    names: dict[UUID, str] = {}
    todo = [s for s in requirements.stacks_from if s.counts_again]
    while todo:
        stacking = todo.pop()
        if stacking.qualification_id in again:
            continue
        again.add(stacking.qualification_id)
        below = lookup(stacking.qualification_id)
        if below is not None:
            names[stacking.qualification_id] = below[0]
            todo += [s for s in below[1].stacks_from if s.counts_again]
    requires = []
    for s in requirements.stacks_from:
        found = lookup(s.qualification_id) if s.required else None
        if found is not None:
            requires.append((s.qualification_id, found[0]))
    return Pathway(
        counts_again=frozenset(again),
        requires=tuple(requires),
        names=tuple(sorted(names.items(), key=lambda kv: str(kv[0]))),
    )


class Awarding(PriorLearning):
    """(No class-level annotations: see ``Superseding``.)"""

    if TYPE_CHECKING:
        version: int
        outcomes: dict[str, Outcome]
        conversions: dict[str, Conversion]
        redemptions: dict[str, Redemption]

    # -- holdings as one qualification sees them ------------------------------------------------
    def holdings(
        self,
        on: date | None = None,
        pathway: Pathway = NO_PATHWAY,
        releasing: UUID | None = None,
    ) -> list[Holding]:
        """What counts (on a day: without credentials expired by then); for a qualification on
        a pathway, what its stacking awards spent counts again; ``releasing``: an award whose
        own spending is set aside (it is being reviewed)."""
        plain = on is None and pathway is NO_PATHWAY and releasing is None
        if plain:
            known = _plain_holdings.get(id(self))
            if known is not None and known[0]() is self and known[1] == self.version:
                return list(known[2])
        found = self._holdings(on, pathway, releasing)
        if plain:
            _remember(self, found)
        return list(found)

    def _holdings(self, on: date | None, pathway: Pathway, releasing: UUID | None) -> list[Holding]:
        awards = list(self.redemptions.values())
        # Only a standing award's credits count again (one under review may yet be rescinded).
        recountable = frozenset(
            str(r.id)
            for r in awards
            if r.status is AwardStatus.STANDING
            and r.qualification_id in pathway.counts_again
            and r.id != releasing
        )
        released = frozenset({str(releasing)} if releasing is not None else ())
        return holdings(
            self.outcomes.values(),
            self.conversions.values(),
            on,
            spending(awards),
            recountable,
            released,
        )

    def assess(
        self,
        goal: Goal,
        on: date | None = None,
        pathway: Pathway = NO_PATHWAY,
        releasing: UUID | None = None,
    ) -> Assessment:
        """``releasing``: an award whose own credits are set aside (one under review is
        assessed on what remains)."""
        result = assess(goal, self.holdings(on, pathway, releasing))
        return self._with_required_awards(self._with_contributions(result, pathway), pathway)

    def _with_contributions(self, result: Assessment, pathway: Pathway) -> Assessment:
        by_qualification: dict[str, dict[UUID, Decimal]] = {}
        for holding_id, given in spending(self.redemptions.values()).items():
            for rid, fresh in given.items():
                award = self.redemptions[rid]
                if award.status is AwardStatus.STANDING:
                    mine = by_qualification.setdefault(holding_id, {})
                    mine[award.qualification_id] = mine.get(award.qualification_id, ZERO) + fresh
        return with_contributions(result, pathway, by_qualification)

    def _with_required_awards(self, result: Assessment, pathway: Pathway) -> Assessment:
        missing = [
            (qid, name)
            for qid, name in pathway.requires
            if not any(
                r.qualification_id == qid and r.status is AwardStatus.STANDING
                for r in self.redemptions.values()
            )
        ]
        if not missing:
            return result
        lines = tuple(f"award {name}: not held" for _, name in missing)
        return Assessment(
            met=False,
            unmet=result.unmet + lines,
            credits_counted=result.credits_counted,
            allocations=result.allocations,
            notes=result.notes,
            shortfalls={**result.shortfalls, **{f"award {n}": Decimal(1) for _, n in missing}},
            again=result.again,
        )

    def award(self, redemption_id: UUID) -> Redemption:
        try:
            return self.redemptions[str(redemption_id)]
        except KeyError:
            raise NotFound(f"no award {redemption_id} in this account", ("awardId",)) from None

    # -- redemption -----------------------------------------------------------------------------
    def redeem(
        self,
        qualification_id: UUID,
        qualification_version: int,
        goal: Goal,
        redemption_id: UUID,
        at: datetime,
        actor: str | None = None,
        pathway: Pathway = NO_PATHWAY,
    ) -> Redemption:
        """Redeems a qualification once: spends exactly what the assessment counts."""
        self._check_new_id(redemption_id, "redemptionId")
        if any(
            r.qualification_id == qualification_id and r.active for r in self.redemptions.values()
        ):
            raise InvalidInput("this qualification was already redeemed", ("qualificationId",))
        result = self.assess(goal, utc(at).date(), pathway)
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
            stacks_from=tuple(sorted(pathway.counts_again, key=str)),
            requires=tuple(qid for qid, _ in pathway.requires),
        )
        return self.redemptions[str(redemption_id)]

    class CreditsRedeemed(PriorLearning.Event):
        class_version = 2
        redemption_id: UUID
        qualification_id: UUID
        qualification_version: int
        allocations: dict[str, Decimal]
        credits_counted: Decimal
        redeemed_at: datetime
        actor: str | None
        stacks_from: tuple[UUID, ...]
        requires: tuple[UUID, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 knew no pathways. (Its allocations were always what it counted: the
            # whole holdings it marked spent were the fold's error, not the event's.)
            state.update(stacks_from=(), requires=())

    @event(CreditsRedeemed)
    def _credits_redeemed(
        self,
        redemption_id: UUID,
        qualification_id: UUID,
        qualification_version: int,
        allocations: dict[str, Decimal],
        credits_counted: Decimal,
        redeemed_at: datetime,
        actor: str | None,
        stacks_from: tuple[UUID, ...],
        requires: tuple[UUID, ...],
    ) -> None:
        self.redemptions[str(redemption_id)] = Redemption(
            id=redemption_id,
            qualification_id=qualification_id,
            qualification_version=qualification_version,
            allocations=dict(allocations),
            credits_counted=credits_counted,
            redeemed_at=redeemed_at,
            stacks_from=tuple(stacks_from),
            requires=tuple(requires),
        )
        self._mark_spent()

    # -- review ---------------------------------------------------------------------------------
    def review_award(
        self,
        redemption_id: UUID,
        decision: object,
        reason: object,
        officer: str,
        at: datetime,
        goal: Goal,
        pathway: Pathway = NO_PATHWAY,
    ) -> Redemption:
        """Reaffirms an award under review (its assessment re-run on the remaining credits, under
        the qualification version it was awarded under, and re-allocated; refused if no longer
        met) or rescinds an award (its credits released)."""
        award = self.award(redemption_id)
        choice = parse_enum(AwardDecision, decision, "decision")
        why = parse_text(reason, "reason")
        if award.status is AwardStatus.RESCINDED:
            raise RuleNotApplicable("the award was rescinded", ("awardId",))
        if choice is AwardDecision.RESCIND:
            self._award_rescinded(
                redemption_id=award.id,
                reason=why,
                actor=officer,
                at=utc(at),
                stacked=self._on(award),
            )
            return award
        if award.status is not AwardStatus.UNDER_REVIEW:
            raise RuleNotApplicable("only an award under review is reaffirmed", ("awardId",))
        result = self.assess(goal, utc(at).date(), pathway, releasing=award.id)
        if not result.met:
            raise RequirementsNotMet(["the award is no longer met: rescind it", *result.unmet])
        self._award_reaffirmed(
            redemption_id=award.id,
            allocations={str(k): v for k, v in result.allocations.items()},
            credits_counted=result.credits_counted,
            reason=why,
            actor=officer,
            at=utc(at),
            stacks_from=tuple(sorted(pathway.counts_again, key=str)),
            requires=tuple(qid for qid, _ in pathway.requires),
        )
        return award

    def _on(self, award: Redemption) -> tuple[UUID, ...]:
        """The active awards that count this one's credits again, or require it."""
        return tuple(
            r.id
            for r in self.redemptions.values()
            if r.active
            and r.id != award.id
            and award.qualification_id in (*r.stacks_from, *r.requires)
        )

    @event("AwardReaffirmed")
    def _award_reaffirmed(
        self,
        redemption_id: UUID,
        allocations: dict[str, Decimal],
        credits_counted: Decimal,
        reason: str,
        actor: str,
        at: datetime,
        stacks_from: tuple[UUID, ...],
        requires: tuple[UUID, ...],
    ) -> None:
        award = self.redemptions[str(redemption_id)]
        award.allocations = dict(allocations)
        award.credits_counted = credits_counted
        award.stacks_from, award.requires = tuple(stacks_from), tuple(requires)
        award.status = AwardStatus.STANDING
        award.reviews.append(
            AwardReview(decision=AwardDecision.REAFFIRM, reason=reason, by=actor, at=at)
        )
        self._mark_spent()

    @event("AwardRescinded")
    def _award_rescinded(
        self,
        redemption_id: UUID,
        reason: str,
        actor: str,
        at: datetime,
        stacked: tuple[UUID, ...],
    ) -> None:
        award = self.redemptions[str(redemption_id)]
        award.status = AwardStatus.RESCINDED
        award.reviews.append(
            AwardReview(decision=AwardDecision.RESCIND, reason=reason, by=actor, at=at)
        )
        for rid in stacked:  # what counted its credits again, or required it: reviewed
            on = self.redemptions[str(rid)]
            on.status = AwardStatus.UNDER_REVIEW
            on.flags.append(f"award {redemption_id} it stacks on was rescinded: {reason}")
        self._mark_spent()
