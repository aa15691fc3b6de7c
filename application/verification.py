"""The seam where a deposit's evidence is verified before the bank accepts it.

The bank calls ``verifier.check`` with the issuing institution, the outcome the evidence states,
the evidence bytes and the time; a verifier raises a domain error to refuse the deposit. The
default checks what the bank's own records can prove: the issuer is registered and active and the
key named was valid at completion. Signature verification of Open Badges credentials plugs in here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Protocol

from domain.errors import InvalidInput, KeyNotValid, UnknownIssuer
from domain.institution import Institution
from domain.records import DepositedOutcome


class DepositVerifier(Protocol):
    def check(
        self, issuer: Institution, outcome: DepositedOutcome, evidence: bytes, at: datetime
    ) -> None: ...


class RegisteredIssuerVerifier:
    def check(
        self, issuer: Institution, outcome: DepositedOutcome, evidence: bytes, at: datetime
    ) -> None:
        if not issuer.active:
            raise UnknownIssuer(f"{issuer.name} is suspended and cannot deposit")
        if outcome.key_id is None:
            raise KeyNotValid("the deposit names no signing key", ("keyId",))
        issuer.key_for(outcome.key_id, issued_at(outcome))


def issued_at(outcome: DepositedOutcome) -> datetime:
    """When the credential was signed: as stated, else the end of its completion day."""
    if outcome.issued_at is not None:
        return outcome.issued_at
    if not isinstance(outcome.completed_on, date):
        raise InvalidInput("completedOn must be a date", ("completedOn",))
    return datetime.combine(outcome.completed_on, time.max, tzinfo=UTC)
