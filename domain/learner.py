"""Learner: registration, identity verification, consents and erasure.

Personal data is never held in clear: the aggregate keeps a keyed hash of the identity document
(for lookup) and the rest sealed (encrypted with the learner's own key, which lives outside the
event store). Erasure deletes that key, so the sealed data becomes unreadable while the credit
history stays auditable (crypto-shredding).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput, NotFound
from domain.values import (
    ConsentScope,
    IdentityVerification,
    OutcomeKind,
    parse_day,
    parse_enum,
    parse_text,
    shared_copy,
    utc,
)

DOCUMENT_TYPES = frozenset({"RESIDENT_ID", "PASSPORT", "RESIDENCE_PERMIT", "NATIONAL_ID"})


@dataclass(frozen=True, kw_only=True)
class Consent:
    __deepcopy__ = shared_copy

    organization_id: UUID
    scope: ConsentScope
    expires_on: date | None
    granted_at: datetime

    def in_force(self, on: date) -> bool:
        return self.expires_on is None or on <= self.expires_on

    def covers(self, kind: OutcomeKind, issuer_id: UUID) -> bool:
        return scope_covers(self.scope.value, self.organization_id, kind.value, issuer_id)


def scope_covers(scope: str, organization_id: object, kind: str, issuer_id: object) -> bool:
    """Whether a consent of ``scope`` to an organisation shows an outcome (kind, issuer): OWN
    what it issued, TRAINING enterprise training whoever issued it, ALL everything."""
    if scope == ConsentScope.ALL.value:
        return True
    if scope == ConsentScope.TRAINING.value:
        return kind == OutcomeKind.ENTERPRISE_TRAINING.value
    return str(issuer_id) == str(organization_id)


class LearnerErased(InvalidInput):
    """The learner's personal data was erased; the account only serves audits now."""


class LearnerMerged(InvalidInput):
    """The account was merged into another of the same person's: that one takes everything."""


class Learner(Aggregate):
    # 2: a learner may be merged into another account of the same person (snapshots of version
    # 1: never merged).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.update(merged_into=None, absorbed=[])

    @event("Registered")
    def __init__(self, document_hash: str, sealed_personal_data: str, registered_at: datetime):
        # Generation 1 kept the identity key here; since, the link lives only in the identity
        # index, sealed, so that erasure can cut it (an empty string).
        self.document_hash = document_hash
        self.sealed_personal_data: str | None = sealed_personal_data
        self.verification = IdentityVerification.UNVERIFIED
        self.verified_by: str | None = None
        self.verified_at: datetime | None = None
        self.consents: dict[str, Consent] = {}  # keyed by str(organisation id)
        self.erased_at: datetime | None = None
        self.merged_into: UUID | None = None  # the account that took this one's place
        self.absorbed: list[UUID] = []  # the accounts of the same person merged into this one

    @classmethod
    def register(
        cls, *, id: UUID, document_hash: str, sealed_personal_data: str, at: datetime
    ) -> Learner:
        if not sealed_personal_data:
            raise InvalidInput("a learner needs personal data")
        return cls._create(
            cls.Registered,  # type: ignore[attr-defined]  # made by @event
            id=id,
            document_hash=document_hash,
            sealed_personal_data=sealed_personal_data,
            registered_at=utc(at),
        )

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    @property
    def identity_verified(self) -> bool:
        return self.verification is not IdentityVerification.UNVERIFIED

    def _check_not_erased(self) -> None:
        if self.erased:
            raise LearnerErased("the learner's personal data was erased")

    # -- identity -----------------------------------------------------------------------------
    def verify_identity(self, method: IdentityVerification, by: str, at: datetime) -> None:
        self._check_not_erased()
        method = parse_enum(IdentityVerification, method, "method")
        by = parse_text(by, "officer", max_length=200)
        if method is IdentityVerification.UNVERIFIED:
            raise InvalidInput("method must be DOCUMENT_CHECKED or ELECTRONIC_ID", ("method",))
        ranks = list(IdentityVerification)
        if ranks.index(method) < ranks.index(self.verification):
            raise InvalidInput(
                f"identity is already verified by {self.verification.value}", ("method",)
            )
        self._identity_verified(method=method, verified_by=by, verified_at=utc(at))

    @event("IdentityVerified")
    def _identity_verified(
        self, method: IdentityVerification, verified_by: str, verified_at: datetime
    ) -> None:
        self.verification = method
        self.verified_by = verified_by
        self.verified_at = verified_at

    # -- consents -----------------------------------------------------------------------------
    def grant_consent(
        self,
        organization_id: UUID,
        scope: ConsentScope,
        expires_on: date | None,
        at: datetime,
    ) -> None:
        self._check_not_erased()
        scope = parse_enum(ConsentScope, scope, "scope")
        if expires_on is not None and parse_day(expires_on, "expiresOn") < utc(at).date():
            raise InvalidInput("expiresOn is in the past", ("expiresOn",))
        self._consent_granted(
            organization_id=organization_id, scope=scope, expires_on=expires_on, granted_at=utc(at)
        )

    @event("ConsentGranted")
    def _consent_granted(
        self,
        organization_id: UUID,
        scope: ConsentScope,
        expires_on: date | None,
        granted_at: datetime,
    ) -> None:
        self.consents[str(organization_id)] = Consent(
            organization_id=organization_id,
            scope=scope,
            expires_on=expires_on,
            granted_at=granted_at,
        )

    def revoke_consent(self, organization_id: UUID) -> None:
        if str(organization_id) not in self.consents:
            raise NotFound("no consent to that organisation", ("organizationId",))
        self._consent_revoked(organization_id=organization_id)

    @event("ConsentRevoked")
    def _consent_revoked(self, organization_id: UUID) -> None:
        del self.consents[str(organization_id)]

    def consent_for(self, organization_id: UUID, on: date) -> Consent | None:
        consent = self.consents.get(str(organization_id))
        return consent if consent is not None and consent.in_force(on) else None

    # -- merging two accounts of one person ---------------------------------------------------
    def _check_mergeable(self) -> None:
        self._check_not_erased()
        if self.merged_into is not None:
            raise LearnerMerged(f"the account was merged into {self.merged_into}")

    def merge_into(self, survivor_id: UUID, reason: str, by: str, at: datetime) -> None:
        """This account gives way to ``survivor_id`` (the same person's): it stays, for audits."""
        self._check_mergeable()
        if survivor_id == self.id:
            raise InvalidInput("an account is not merged into itself", ("duplicateId",))
        self._merged_into(survivor_id=survivor_id, reason=reason, merged_by=by, at=utc(at))

    @event("MergedInto")
    def _merged_into(self, survivor_id: UUID, reason: str, merged_by: str, at: datetime) -> None:
        self.merged_into = survivor_id

    def absorb(self, duplicate_id: UUID, reason: str, by: str, at: datetime) -> None:
        self._check_mergeable()
        self._absorbed(duplicate_id=duplicate_id, reason=reason, merged_by=by, at=utc(at))

    @event("Absorbed")
    def _absorbed(self, duplicate_id: UUID, reason: str, merged_by: str, at: datetime) -> None:
        self.absorbed.append(duplicate_id)

    # -- erasure ------------------------------------------------------------------------------
    def erase(self, by: str, at: datetime) -> None:
        self._check_not_erased()
        self._erased(erased_by=parse_text(by, "by", max_length=200), erased_at=utc(at))

    @event("Erased")
    def _erased(self, erased_by: str, erased_at: datetime) -> None:
        self.sealed_personal_data = None
        self.consents.clear()
        self.erased_at = erased_at
