"""Learners: registration, identity verification, consents, erasure (crypto-shredding)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from application.base import Pending
from application.commands.institutions import InstitutionCommands
from application.countries import parse_country
from domain.credit_account import CreditAccount
from domain.errors import DuplicateIdentity, InvalidInput, NotFound
from domain.indexes import IdentityIndex
from domain.learner import DOCUMENT_TYPES, Learner, LearnerErased, LearnerMerged
from domain.values import ConsentScope, InstitutionKind, parse_text


def parse_document_number(value: object) -> str:
    number = parse_text(value, "identityDocumentNumber", max_length=64)
    if not any(c.isalnum() for c in number):
        raise InvalidInput(
            "identityDocumentNumber is not a document number", ("identityDocumentNumber",)
        )
    return number


class LearnerCommands(InstitutionCommands):
    def register_learner(
        self,
        name: str,
        identity_document_type: str,
        identity_document_number: str,
        birth_date: date,
        identity_document_country: str | None = None,
    ) -> UUID:
        """Opens a learner's account. One person, one account: the identity is the document's
        issuing country (default: the bank's) and its normalised number, whatever its type."""
        name = parse_text(name, "name", max_length=200)
        doc_type = parse_text(identity_document_type, "identityDocumentType", max_length=40)
        doc_type = doc_type.upper()
        if doc_type not in DOCUMENT_TYPES:
            raise InvalidInput(
                f"identityDocumentType must be one of {', '.join(sorted(DOCUMENT_TYPES))}",
                ("identityDocumentType",),
            )
        number = parse_document_number(identity_document_number)
        country = parse_country(
            self.country if identity_document_country is None else identity_document_country
        )
        if not isinstance(birth_date, date) or isinstance(birth_date, datetime):
            raise InvalidInput("birthDate must be a date", ("birthDate",))
        if not date(1900, 1, 1) <= birth_date <= self.now().date():
            raise InvalidInput("birthDate is not plausible", ("birthDate",))
        index_id = IdentityIndex.create_id(self.vault.identity_hash(country, number))
        if self._identity_holder(index_id, country, number) is not None:
            raise DuplicateIdentity("this identity document already opened a learner account")
        learner_id, claim_id = uuid4(), uuid4()
        sealed = self.vault.seal(
            learner_id,
            {
                "name": name,
                "identityDocumentType": doc_type,
                "identityDocumentNumber": number,
                "identityDocumentCountry": country,
                "birthDate": birth_date.isoformat(),
            },
        )
        holder = self.vault.seal(claim_id, {"learnerId": str(learner_id)})

        def decide() -> tuple[UUID, Pending]:
            if self._identity_holder(index_id, country, number) is not None:
                raise DuplicateIdentity("this identity document already opened a learner account")
            learner = Learner.register(
                id=learner_id, document_hash="", sealed_personal_data=sealed, at=self.now()
            )
            account = CreditAccount(learner_id=learner_id)
            index = self._find(IdentityIndex, index_id)
            if index is None:
                index = IdentityIndex.claim(id=index_id, claim_id=claim_id, sealed_holder=holder)
            else:
                index.reclaim(claim_id, holder)  # released by an erasure
            return learner_id, (learner, account, index, self._listed("learners", learner_id))

        try:
            return self._command(decide)
        except BaseException:
            # The keys of a learner and a claim that were never stored.
            self.vault.discard(learner_id, claim_id)
            raise

    def find_learner(
        self, identity_document_number: str, identity_document_country: str | None = None
    ) -> UUID | None:
        """The learner whose account this identity document opened, if any."""
        number = parse_document_number(identity_document_number)
        country = parse_country(
            self.country if identity_document_country is None else identity_document_country
        )
        index_id = IdentityIndex.create_id(self.vault.identity_hash(country, number))
        holder = self._identity_holder(index_id, country, number)
        return None if holder is None else self.survivor_of(holder)

    def survivor_of(self, learner_id: UUID) -> UUID:
        """The learner whose account holds ``learner_id``'s records now (itself, unless merged
        into another account of the same person)."""
        while (merged := self.learner(learner_id).merged_into) is not None:
            learner_id = merged  # a merge refuses a merged account: no cycle
        return learner_id

    def _identity_holder(self, index_id: UUID, country: str, number: str) -> UUID | None:
        """Who holds the document now: its claim, or a claim of generation 1 (keyed by type and
        number, in the bank's own country) whose learner was not erased since."""
        index = self._find(IdentityIndex, index_id)
        if index is not None and not index.released:
            return self._holder(index)
        if country != self.country:
            return None
        for legacy in self.vault.legacy_hashes(number):
            old = self._find(IdentityIndex, IdentityIndex.create_id(legacy))
            if (
                old is not None
                and not old.released
                and old.learner_id is not None
                and not self.learner(old.learner_id).erased
            ):
                return old.learner_id
        return None

    def _holder(self, index: IdentityIndex) -> UUID | None:
        if index.learner_id is not None:
            return index.learner_id
        if index.claim_id is None:
            return None
        data = self.vault.open(index.claim_id, index.sealed_holder)
        return None if data is None else UUID(str(data["learnerId"]))

    def _identity_index(self, learner: Learner, data: dict[str, Any] | None) -> UUID | None:
        """The index that links this learner's document to the account (None once unknown)."""
        if learner.document_hash:  # generation 1: the key is in the learner's event
            return IdentityIndex.create_id(learner.document_hash)
        if data is None:
            return None
        country = str(data.get("identityDocumentCountry") or self.country)
        number = str(data["identityDocumentNumber"])
        return IdentityIndex.create_id(self.vault.identity_hash(country, number))

    def learner(self, learner_id: UUID) -> Learner:
        return self._get(Learner, learner_id, "learner")

    def learner_ids(self) -> list[UUID]:
        return self._log_ids("learners")

    def _open_personal_data(self, learner_ids: Iterable[UUID]) -> None:
        """In a ``_read_once()`` scope: many learners' personal data opened at once (their keys
        in one read), for ``personal_data`` to hand out."""
        sealed: dict[UUID, str | None] = {}
        for learner_id in learner_ids:
            try:
                sealed[learner_id] = self.learner(learner_id).sealed_personal_data
            except NotFound:
                continue
        for learner_id, data in self.vault.open_many(sealed).items():
            self._read_once_value(("personal data", learner_id), functools.partial(_given, data))

    def personal_data(self, learner_id: UUID) -> dict[str, Any] | None:
        return self._read_once_value(
            ("personal data", learner_id),
            lambda: self.vault.open(learner_id, self.learner(learner_id).sealed_personal_data),
        )

    def grant_consent(
        self,
        learner_id: UUID,
        organization_id: UUID,
        scope: ConsentScope = ConsentScope.OWN,
        expires_on: date | None = None,
    ) -> None:
        """Lets an enterprise see part of the record: by default (OWN) only what it issued."""
        organization = self.institution(organization_id)
        if organization.kind is not InstitutionKind.ENTERPRISE:
            raise InvalidInput("consents are granted to enterprises", ("organizationId",))
        self._update(
            Learner,
            learner_id,
            "learner",
            lambda learner: learner.grant_consent(organization_id, scope, expires_on, self.now()),
        )

    def revoke_consent(self, learner_id: UUID, organization_id: UUID) -> None:
        self._update(
            Learner, learner_id, "learner", lambda learner: learner.revoke_consent(organization_id)
        )

    def erase_learner(self, learner_id: UUID, by: str) -> None:
        """Crypto-shreds the personal data and releases the identity document: afterwards nothing
        links the document to this account, and the person may open a new one. The accounts
        merged into this one are the same person's: they are erased first."""
        for absorbed in self.learner(learner_id).absorbed:
            if not self.learner(absorbed).erased:
                self.erase_learner(absorbed, by)

        def decide() -> tuple[UUID | None, Pending]:
            learner = self.learner(learner_id)
            index_id = self._identity_index(learner, self.personal_data(learner_id))
            learner.erase(by, self.now())
            index = None if index_id is None else self._find(IdentityIndex, index_id)
            if index is None or index.released or self._holder(index) != learner_id:
                return None, (learner,)
            claim = index.claim_id
            index.release()
            return claim, (learner, index)

        claim_id = self._command(decide)
        self.vault.shred(learner_id, *([] if claim_id is None else [claim_id]))

    @staticmethod
    def _check_active(learner: Learner) -> None:
        """An erased or merged learner's account serves audits (and revocations) only."""
        if learner.erased:
            raise LearnerErased("the learner was erased; the account only serves audits now")
        if learner.merged_into is not None:
            raise LearnerMerged(
                f"the account was merged into {learner.merged_into}: use that one", ("learnerId",)
            )


def _given(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return value
