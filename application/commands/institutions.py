"""Institutions: registration, signing keys, suspension."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.base import BankBase, Pending
from application.credentials import verifying_key
from domain.credit_schemes import CreditScheme
from domain.errors import InvalidInput, NotFound
from domain.indexes import IssuerIndex
from domain.institution import Institution
from domain.values import InstitutionKind


class InstitutionCommands(BankBase):
    def register_institution(
        self,
        name: str,
        kind: InstitutionKind,
        public_key_jwk: dict[str, Any],
        issuer_uri: str | None = None,
        key_valid_from: datetime | None = None,
        key_valid_until: datetime | None = None,
        hours_per_credit: Decimal | None = None,
    ) -> UUID:
        """Registers an issuer (or an accepting institution, or an enterprise) with its first
        key and, if given, its credit scheme (notional hours per one of its credits)."""
        institution_id = uuid4()

        def decide() -> tuple[UUID, Pending]:
            now = self.now()
            institution = Institution.register(
                id=institution_id, name=name, kind=kind, issuer_uri=issuer_uri, at=now
            )
            _add_usable_key(institution, public_key_jwk, key_valid_from or now, key_valid_until)
            if hours_per_credit is not None:
                institution.declare_credit_scheme(CreditScheme(hours_per_credit=hours_per_credit))
            index_id = IssuerIndex.create_id(institution.issuer_uri)
            if self._exists(index_id):
                raise InvalidInput(
                    f"issuer URI {institution.issuer_uri} belongs to another institution",
                    ("issuerUri",),
                )
            index = IssuerIndex(issuer_uri=institution.issuer_uri, institution_id=institution_id)
            return institution_id, (
                institution,
                index,
                self._listed("institutions", institution_id),
            )

        return self._command(decide)

    def institution(self, institution_id: UUID) -> Institution:
        return self._get(Institution, institution_id, "institution")

    def institution_by_issuer(self, issuer_uri: str) -> Institution | None:
        index = self._find(IssuerIndex, IssuerIndex.create_id(issuer_uri))
        return None if index is None else self.institution(index.institution_id)

    def institutions(self) -> list[Institution]:
        return self._list("institutions", Institution)

    def add_institution_key(
        self,
        institution_id: UUID,
        public_key_jwk: dict[str, Any],
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> str:
        return self._update(
            Institution,
            institution_id,
            "institution",
            lambda i: _add_usable_key(i, public_key_jwk, valid_from or self.now(), valid_until),
        )

    def retire_institution_key(self, institution_id: UUID, kid: str) -> None:
        self._update(
            Institution, institution_id, "institution", lambda i: i.retire_key(kid, self.now())
        )

    def revoke_institution_key(
        self, institution_id: UUID, kid: str, compromised_at: datetime, reason: str
    ) -> None:
        """A compromised key: it verifies nothing from now on (``review_compromised`` then puts
        what it may have signed since ``compromised_at`` under review)."""
        self._update(
            Institution,
            institution_id,
            "institution",
            lambda i: i.revoke_key(kid, compromised_at, reason, self.now()),
        )

    def declare_credit_scheme(self, institution_id: UUID, scheme: CreditScheme) -> None:
        """How the institution's credits compare with the framework's, for the learning
        completed from the scheme's effective date (default: all its learning)."""
        self._update(
            Institution, institution_id, "institution", lambda i: i.declare_credit_scheme(scheme)
        )

    def suspend_institution(self, institution_id: UUID, reason: str) -> None:
        self._update(Institution, institution_id, "institution", lambda i: i.suspend(reason))

    def reactivate_institution(self, institution_id: UUID) -> None:
        self._update(Institution, institution_id, "institution", lambda i: i.reactivate())

    def _check_institution(self, institution_id: UUID | None, field: str) -> None:
        if institution_id is not None and not self._exists(institution_id):
            raise NotFound(f"no institution {institution_id}", (field,))


def _add_usable_key(
    institution: Institution, jwk: object, valid_from: datetime, valid_until: datetime | None
) -> str:
    """Adds the key only if it constructs as a verifying key (checked before anything is saved)."""
    key = institution.add_key(jwk, valid_from, valid_until)
    verifying_key(key)
    return key.kid
