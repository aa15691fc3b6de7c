"""Learners: registration, identity verification, consents, erasure (crypto-shredding)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from application.base import Pending
from application.commands.institutions import InstitutionCommands
from domain.credit_account import CreditAccount
from domain.errors import DuplicateIdentity, InvalidInput
from domain.indexes import IdentityIndex
from domain.learner import DOCUMENT_TYPES, Learner, LearnerErased
from domain.values import ConsentScope, InstitutionKind, parse_text


class LearnerCommands(InstitutionCommands):
    def register_learner(
        self,
        name: str,
        identity_document_type: str,
        identity_document_number: str,
        birth_date: date,
    ) -> UUID:
        name = parse_text(name, "name", max_length=200)
        doc_type = parse_text(identity_document_type, "identityDocumentType", max_length=40)
        doc_type = doc_type.upper()
        if doc_type not in DOCUMENT_TYPES:
            raise InvalidInput(
                f"identityDocumentType must be one of {', '.join(sorted(DOCUMENT_TYPES))}",
                ("identityDocumentType",),
            )
        number = parse_text(identity_document_number, "identityDocumentNumber", max_length=64)
        if not any(c.isalnum() for c in number):
            raise InvalidInput(
                "identityDocumentNumber is not a document number", ("identityDocumentNumber",)
            )
        if not isinstance(birth_date, date) or isinstance(birth_date, datetime):
            raise InvalidInput("birthDate must be a date", ("birthDate",))
        if not date(1900, 1, 1) <= birth_date <= self.now().date():
            raise InvalidInput("birthDate is not plausible", ("birthDate",))
        document_hash = self.vault.document_hash(doc_type, number)
        index_id = IdentityIndex.create_id(document_hash)
        if self._exists(index_id):
            raise DuplicateIdentity("this identity document already opened a learner account")
        learner_id = uuid4()
        sealed = self.vault.seal(
            learner_id,
            {
                "name": name,
                "identityDocumentType": doc_type,
                "identityDocumentNumber": number,
                "birthDate": birth_date.isoformat(),
            },
        )

        def decide() -> tuple[UUID, Pending]:
            if self._exists(index_id):
                raise DuplicateIdentity("this identity document already opened a learner account")
            learner = Learner.register(
                id=learner_id,
                document_hash=document_hash,
                sealed_personal_data=sealed,
                at=self.now(),
            )
            account = CreditAccount(learner_id=learner_id)
            index = IdentityIndex(document_hash=document_hash, learner_id=learner_id)
            return learner_id, (learner, account, index, self._listed("learners", learner_id))

        try:
            return self._command(decide)
        except BaseException:
            self.vault.shred(learner_id)  # the key of a learner that was never stored
            raise

    def find_learner(
        self, identity_document_type: str, identity_document_number: str
    ) -> UUID | None:
        """The learner whose account this identity document opened, if any."""
        document_hash = self.vault.document_hash(
            str(identity_document_type).upper(), str(identity_document_number)
        )
        index = self._find(IdentityIndex, IdentityIndex.create_id(document_hash))
        return None if index is None else index.learner_id

    def learner(self, learner_id: UUID) -> Learner:
        return self._get(Learner, learner_id, "learner")

    def learner_ids(self) -> list[UUID]:
        return self._log_ids("learners")

    def personal_data(self, learner_id: UUID) -> dict[str, Any] | None:
        learner = self.learner(learner_id)
        return self.vault.open(learner_id, learner.sealed_personal_data)

    def grant_consent(
        self,
        learner_id: UUID,
        organization_id: UUID,
        scope: ConsentScope,
        expires_on: date | None = None,
    ) -> None:
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
        self._update(Learner, learner_id, "learner", lambda learner: learner.erase(by, self.now()))
        self.vault.shred(learner_id)

    @staticmethod
    def _check_active(learner: Learner) -> None:
        """An erased learner's account serves audits (and revocations) only: nothing new."""
        if learner.erased:
            raise LearnerErased("the learner was erased; the account only serves audits now")
