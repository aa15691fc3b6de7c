"""Uniqueness indexes: aggregates whose id is derived from the unique value.

Saving a second index aggregate with the same id at version 1 fails in the event store, so a
uniqueness rule holds across processes when the index is saved in the same transaction as the
aggregate it guards.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput


class CredentialIndex(Aggregate):
    """A credential (issuer + credential id) enters at most one account, once."""

    @staticmethod
    def create_id(issuer_id: UUID, credential_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"creditbank:/credentials/{issuer_id}/{credential_id}")

    @event("Claimed")
    def __init__(self, issuer_id: UUID, credential_id: str, account_id: UUID, outcome_id: UUID):
        self.account_id = account_id
        self.outcome_id = outcome_id

    @event("Updated")
    def updated(self, outcome_id: UUID, account_id: UUID) -> None:
        """An updated version of the credential is now the outcome it names, in the account
        that holds it (the same person's, after a merge)."""
        self.outcome_id, self.account_id = outcome_id, account_id


class IdentityIndex(Aggregate):
    """One person holds at most one learner account at a time. The index is keyed by the keyed
    hash of the identity document: its issuing country and normalised number (the document's
    type is not part of it, so one citizen number cannot open two accounts).

    Who holds it is sealed under a key of the claim's own (``claim_id``, in the vault, outside
    the event store). Erasure shreds that key and releases the index: nothing then links the
    document to the erased account, and the person may open a new one. Claims written before
    this version (generation 1) name the learner in clear and were keyed by document type and
    number; the bank still honours them (application/commands/learners.py).
    """

    @staticmethod
    def create_id(document_hash: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"creditbank:/identities/{document_hash}")

    class Claimed(Aggregate.Created):
        class_version = 2
        document_hash: str
        learner_id: UUID | None
        claim_id: UUID | None
        sealed_holder: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 named the learner in clear (learner_id), with the hash beside it.
            state["claim_id"] = None
            state["sealed_holder"] = None

    @event(Claimed)
    def __init__(
        self,
        document_hash: str,
        learner_id: UUID | None,
        claim_id: UUID | None,
        sealed_holder: str | None,
    ) -> None:
        self.learner_id = learner_id  # generation 1 only
        self.claim_id = claim_id
        self.sealed_holder = sealed_holder
        self.released = False

    @classmethod
    def claim(cls, *, id: UUID, claim_id: UUID, sealed_holder: str) -> IdentityIndex:
        return cls._create(
            cls.Claimed,
            id=id,
            document_hash="",
            learner_id=None,
            claim_id=claim_id,
            sealed_holder=sealed_holder,
        )

    def release(self) -> None:
        if self.released:
            raise InvalidInput("the identity document is not held by an account")
        self._released()

    @event("Released")
    def _released(self) -> None:
        self.released = True
        self.learner_id = None
        self.sealed_holder = None

    def reclaim(self, claim_id: UUID, sealed_holder: str) -> None:
        """A released document opens an account again (or is handed to another account of the
        same person, when two are merged)."""
        self._reclaimed(claim_id=claim_id, sealed_holder=sealed_holder)

    @event("Reclaimed")
    def _reclaimed(self, claim_id: UUID, sealed_holder: str) -> None:
        self.released = False
        self.learner_id = None
        self.claim_id = claim_id
        self.sealed_holder = sealed_holder


class IssuerIndex(Aggregate):
    """An issuer URI names exactly one institution (credentials are matched by issuer.id)."""

    @staticmethod
    def create_id(issuer_uri: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"creditbank:/issuers/{issuer_uri}")

    @event("Claimed")
    def __init__(self, issuer_uri: str, institution_id: UUID):
        self.institution_id = institution_id
