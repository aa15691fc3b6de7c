"""Recognition of prior learning (docs/domain.md, RPL): a learner applies with a portfolio (what
they learnt, the hours, the evidence); it enters the account as an outcome of kind
PRIOR_LEARNING that only an officer recognises, against a standard of the catalogue, under the
same bounds and four-eyes as any officer's decision."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import InvalidInput
from domain.records import EvidenceItem, Outcome, Portfolio
from domain.review import Reviewing
from domain.values import (
    MAX_HOURS,
    OutcomeKind,
    parse_credits,
    parse_day,
    parse_instance,
    parse_text,
    utc,
)

MAX_EVIDENCE = 20
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
WEB_ADDRESS = re.compile(r"https?://[^\s]+")


def check_portfolio(description: object, hours: object, evidence: object) -> Portfolio:
    if not isinstance(evidence, (list, tuple)) or not 1 <= len(evidence) <= MAX_EVIDENCE:
        raise InvalidInput(
            f"a portfolio lists 1 to {MAX_EVIDENCE} items of evidence", ("evidence",)
        )
    items = []
    for item in evidence:
        item = parse_instance(item, EvidenceItem, "evidence")
        url = None if item.url is None else parse_text(item.url, "evidence.url", max_length=1000)
        if url is not None and not WEB_ADDRESS.fullmatch(url):
            raise InvalidInput("evidence.url must be an http(s) address", ("evidence", "url"))
        digest = item.digest
        if digest is not None and (not isinstance(digest, str) or not DIGEST.fullmatch(digest)):
            raise InvalidInput("evidence.digest must be sha256:<64 hex>", ("evidence", "digest"))
        items.append(
            EvidenceItem(
                description=parse_text(item.description, "evidence.description", max_length=300),
                url=url,
                digest=digest,
            )
        )
    return Portfolio(
        description=parse_text(description, "description", max_length=4000),
        hours=None if hours is None else parse_credits(hours, "hours", maximum=MAX_HOURS),
        evidence=tuple(items),
    )


class PriorLearning(Reviewing):
    """(No class-level annotations: see ``Superseding``.)"""

    def claim_prior_learning(
        self,
        outcome_id: UUID,
        *,
        assessor_id: UUID,
        title: object,
        completed_on: object,
        portfolio: Portfolio,
        at: datetime,
        actor: str | None,
    ) -> Outcome:
        """The learner's application; ``assessor_id``: the bank, which assesses it."""
        self._check_new_id(outcome_id, "outcomeId")
        ended = parse_day(completed_on, "completedOn")
        if ended > utc(at).date():
            raise InvalidInput("completedOn is in the future", ("completedOn",))
        self._prior_learning_claimed(
            outcome_id=outcome_id,
            assessor_id=assessor_id,
            title=parse_text(title, "title", max_length=300),
            completed_on=ended,
            portfolio=portfolio,
            claimed_at=utc(at),
            actor=actor,
        )
        return self.outcomes[str(outcome_id)]

    @event("PriorLearningClaimed")
    def _prior_learning_claimed(
        self,
        outcome_id: UUID,
        assessor_id: UUID,
        title: str,
        completed_on: date,
        portfolio: Portfolio,
        claimed_at: datetime,
        actor: str | None,
    ) -> None:
        digest = hashlib.sha256(
            json.dumps(
                {
                    "title": title,
                    "description": portfolio.description,
                    "hours": None if portfolio.hours is None else str(portfolio.hours),
                    "evidence": [[e.description, e.url, e.digest] for e in portfolio.evidence],
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()
        self.outcomes[str(outcome_id)] = Outcome(
            id=outcome_id,
            issuer_id=assessor_id,
            credential_id=f"rpl:{outcome_id}",
            kind=OutcomeKind.PRIOR_LEARNING,
            title=title,
            standard_code=None,
            level=None,
            credits_claimed=Decimal(0),
            hours=portfolio.hours,
            result=None,
            completed_on=completed_on,
            evidence_digest=f"sha256:{digest}",
            key_id=None,
            deposited_at=claimed_at,
            framework_credits=None,
            portfolio=portfolio,
        )
