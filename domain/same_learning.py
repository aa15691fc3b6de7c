"""The same learning counts once (docs/domain.md, rule 4).

Two outcomes are the same learning when they were recognised against the same standard, or
claim the same course code of the same issuer. An updated credential (the same id from the same
issuer, signed later) supersedes the version before it; a retake replaces an earlier attempt
that still only counts as recognised credit; what is converted or spent is never replaced, and
revoking a retake makes the attempt it replaced count again. The functions decide over an
account's outcomes; ``Superseding`` holds the account's event for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DuplicateCredential, RuleNotApplicable
from domain.records import Conversion, DepositedOutcome, Outcome, Redemption
from domain.values import CREDIT_QUANTUM, ZERO, AwardStatus, OutcomeStatus

# The statuses of an outcome whose credit counts (recognised, or moved on by conversion or spent).
COUNTING = (OutcomeStatus.RECOGNIZED, OutcomeStatus.CONVERTED, OutcomeStatus.REDEEMED)


def learning_keys(o: Outcome, standard: str | None) -> frozenset[tuple[str, ...]]:
    """What makes two outcomes the same learning, which counts once: the standard recognised
    against, or the issuer's own course code; two outcomes sharing either are the same."""
    keys: set[tuple[str, ...]] = set()
    if standard is not None:
        keys.add(("standard", standard))
    if o.standard_code is not None:
        keys.add(("course", str(o.issuer_id), o.standard_code))
    return frozenset(keys)


def counting(
    outcomes: Iterable[Outcome], keys: frozenset[tuple[str, ...]], besides: UUID
) -> list[Outcome]:
    """The outcomes (other than ``besides``) that count for the learning ``keys`` name."""
    if not keys:
        return []
    return [
        o
        for o in outcomes
        if o.id != besides
        and o.status in COUNTING
        and keys & learning_keys(o, o.recognized_standard)
    ]


def earlier_version(outcomes: Iterable[Outcome], deposited: DepositedOutcome) -> Outcome | None:
    """The version an updated credential supersedes (OB 3.0: the same id from the same issuer,
    signed later); any other repeat of a credential id is a duplicate."""
    same = [
        o
        for o in outcomes
        if o.issuer_id == deposited.issuer_id and o.credential_id == deposited.credential_id
    ]
    if not same:
        return None
    latest = max(same, key=lambda o: o.deposited_at)
    if (
        latest.status is OutcomeStatus.SUPERSEDED
        or deposited.issued_at is None
        or latest.issued_at is None
        or deposited.issued_at <= latest.issued_at
    ):
        # (An update of it would be signed later than the version it replaces.)
        raise DuplicateCredential("this credential was already deposited")
    if latest.status is OutcomeStatus.REVOKED:
        return None  # re-issued after its revocation: a new version, nothing left to replace
    if latest.moved_on:
        # Its credit is spent or converted: an update would count it again. An officer
        # revokes the earlier version first (its redemption then goes under review).
        raise RuleNotApplicable(
            f"the earlier version of this credential is {latest.status.value.lower()}: it "
            "cannot be replaced until an officer revokes it"
        )
    return latest


def replaced_by(
    outcomes: Iterable[Outcome], outcome: Outcome, standard: str | None
) -> list[Outcome]:
    """What recognising ``outcome`` (against ``standard``) replaces: an earlier attempt that
    still only counts (a retake replaces). Refused while an attempt already converted or spent
    counts, or a later one does."""
    counted = counting(outcomes, learning_keys(outcome, standard), outcome.id)
    for o in counted:
        if o.status is not OutcomeStatus.RECOGNIZED or o.moved_on:
            raise RuleNotApplicable(
                f"the same learning already counts ({o.title!r}, {o.status.value.lower()})"
            )
        if o.completed_on > outcome.completed_on:
            raise RuleNotApplicable(
                f"a later attempt at the same learning already counts ({o.title!r}, "
                f"completed {o.completed_on})"
            )
    return counted


def set_aside_for(outcomes: Iterable[Outcome], outcome: Outcome) -> tuple[UUID, ...]:
    """The attempt ``outcome`` replaced as a retake (through any revoked retakes in between),
    if nothing else counts for that learning now: revoking the retake makes it count again."""
    everything = list(outcomes)
    if counting(everything, learning_keys(outcome, outcome.recognized_standard), outcome.id):
        return ()
    found: list[Outcome] = []
    replaced = [outcome.id]
    while replaced:
        current = replaced.pop()
        for o in everything:
            if o.superseded_by == current and o.superseded_because == "retake":
                if o.revoked_reason is not None:
                    replaced.append(o.id)  # revoked itself: look at what it replaced
                else:
                    found.append(o)
    latest = max(found, key=lambda o: o.completed_on, default=None)
    return () if latest is None else (latest.id,)


def reserve(
    award: Redemption, conversion: Conversion, lost: UUID, outcomes: dict[str, Outcome]
) -> None:
    """A cancelled conversion counted toward an award under review: what the award counted of
    it stays reserved for the award, as the credits of the other sources it came from (in
    proportion, when the award counted only part of a part), until the award is reviewed, so
    they cannot be spent twice meanwhile."""
    for p in conversion.parts:
        counted = award.allocations.pop(str(p.id), None)
        if counted is None or p.source_id == lost or p.credits <= 0:
            continue
        share = min(
            p.consumed, (p.consumed * counted / p.credits).quantize(CREDIT_QUANTUM, ROUND_DOWN)
        )
        if share > 0:
            key = str(p.source_id)
            award.allocations[key] = award.allocations.get(key, ZERO) + share
    if not conversion.parts and award.allocations.pop(str(conversion.id), None) is not None:
        for source_id in conversion.source_ids:
            source = outcomes[str(source_id)]
            if source_id != lost and source.available_credits > 0:
                award.allocations[str(source_id)] = source.available_credits


def mark_spent(
    outcomes: dict[str, Outcome], conversions: dict[str, Conversion], awards: dict[str, Redemption]
) -> None:
    """Outcomes and conversions an active award counts are REDEEMED (a retake, an update or a
    conversion never takes them)."""
    counted: dict[str, UUID] = {}
    for r in awards.values():
        if r.active:
            for holding_id in r.allocations:
                counted.setdefault(holding_id, r.id)
    for o in outcomes.values():
        o.redemption_id = counted.get(str(o.id))
    for c in conversions.values():
        c.redemption_id = next((counted[str(h)] for h in c.holding_ids if str(h) in counted), None)


class Superseding(Aggregate):
    """The account's side of it: an outcome superseded (its conversions cancelled, the
    redemptions that relied on it flagged, as a revocation does).

    (No class-level annotations: the library would read them as constructor fields; the ones
    below exist for the type checker only.)"""

    if TYPE_CHECKING:
        outcomes: dict[str, Outcome]
        conversions: dict[str, Conversion]
        redemptions: dict[str, Redemption]

    def _relying_on(self, outcome_id: UUID) -> tuple[tuple[UUID, ...], tuple[UUID, ...]]:
        """The active conversions of an outcome that stops counting (cancelled: their other
        sources return) and the redemptions that relied on it (flagged for review)."""
        cancelled = tuple(
            c.id for c in self.conversions.values() if c.active and outcome_id in c.consumed_from
        )
        relied_on = {str(outcome_id)} | {
            str(h) for cid in cancelled for h in self.conversions[str(cid)].holding_ids
        }
        flagged = tuple(r.id for r in self.redemptions.values() if relied_on & r.allocations.keys())
        return cancelled, flagged

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
            self._return_sources(conversion)
        for rid in flagged_redemptions:
            award = self.redemptions[str(rid)]
            if award.status is AwardStatus.RESCINDED:
                continue
            award.status = AwardStatus.UNDER_REVIEW
            award.flags.append(f"outcome {outcome_id} {note}")
            for cid in cancelled_conversions:
                reserve(award, self.conversions[str(cid)], outcome_id, self.outcomes)
        self._mark_spent()

    def _return_sources(self, conversion: Conversion) -> None:
        """The sources get back exactly what it took, as recognised credits."""
        for source_id in conversion.consumed_from:
            self.outcomes[str(source_id)].returned_by(conversion.id)

    def _mark_spent(self) -> None:
        mark_spent(self.outcomes, self.conversions, self.redemptions)
