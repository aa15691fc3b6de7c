"""A compromised signing key: what it may have signed goes under review (security finding 6).

Revocation itself is the institution's (``revoke_institution_key``): from then on the key
verifies nothing, whatever date a credential claims. What it verified before is reviewed here:
every outcome signed with it that claims a signing date on or after ``compromisedAt``, or that
was deposited on or after it (whoever held the key then could claim any date). An officer then
clears each (``clear_outcome_review``) or revokes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from application.commands.accounts import AccountCommands
from domain.credit_account import CreditAccount
from domain.errors import InvalidInput, KeyNotValid
from domain.institution import Institution
from domain.records import Outcome


class CompromiseCommands(AccountCommands):
    def review_compromised(
        self,
        institution_id: UUID,
        kid: str,
        candidates: Iterable[tuple[UUID, UUID]],
        actor: str,
    ) -> list[UUID]:
        """Puts under review each candidate (learner id, outcome id) that the revoked key may
        have signed since its compromise; returns the outcomes put under review now. The
        candidates come from the views; each is checked here against the account itself."""
        institution: Institution = self._get(Institution, institution_id, "institution")
        key = institution.keys.get(kid)
        if key is None or key.revoked_at is None or key.compromised_at is None:
            raise KeyNotValid(f"key {kid!r} of {institution.name} is not revoked", ("kid",))
        since = key.compromised_at
        reason = f"signed with key {kid!r} of {institution.name}, compromised since {since}"

        def suspect(o: Outcome) -> bool:
            signed = o.issued_at is not None and o.issued_at >= since
            return (
                o.issuer_id == institution_id
                and o.key_id == kid
                and (signed or o.deposited_at >= since)
            )

        by_learner: dict[UUID, list[UUID]] = {}
        for learner_id, outcome_id in candidates:
            by_learner.setdefault(learner_id, []).append(outcome_id)
        questioned: list[UUID] = []
        for learner_id, outcome_ids in by_learner.items():

            def question(account: CreditAccount, ids: list[UUID] = outcome_ids) -> list[UUID]:
                found = [i for i in ids if str(i) in account.outcomes]
                chosen = [i for i in found if suspect(account.outcome(i))]
                return [i for i in chosen if account.question(i, reason, actor)]

            account_id = self.account_id(self.survivor_of(learner_id))
            questioned += self._update(CreditAccount, account_id, "account for learner", question)
        return questioned

    def clear_outcome_review(
        self, learner_id: UUID, outcome_id: UUID, reason: str, officer: str
    ) -> None:
        """An officer found an outcome under review genuine: it counts again."""
        if not isinstance(officer, str) or not officer:
            raise InvalidInput("an officer clears a review", ("officer",))
        account_id = self.account_id(self.survivor_of(learner_id))
        self._update(
            CreditAccount,
            account_id,
            "account for learner",
            lambda account: account.clear_review(outcome_id, reason, officer),
        )
