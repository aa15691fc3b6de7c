"""Uniqueness indexes: aggregates whose id is derived from the unique value.

Saving a second index aggregate with the same id at version 1 fails in the event store, so a
uniqueness rule holds across processes when the index is saved in the same transaction as the
aggregate it guards.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


class CredentialIndex(Aggregate):
    """A credential (issuer + credential id) enters at most one account, once."""

    @staticmethod
    def create_id(issuer_id: UUID, credential_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"creditbank:/credentials/{issuer_id}/{credential_id}")

    @event("Claimed")
    def __init__(self, issuer_id: UUID, credential_id: str, account_id: UUID, outcome_id: UUID):
        self.account_id = account_id
        self.outcome_id = outcome_id


class IdentityIndex(Aggregate):
    """An identity document (by its keyed hash) opens at most one learner."""

    @staticmethod
    def create_id(document_hash: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"creditbank:/identities/{document_hash}")

    @event("Claimed")
    def __init__(self, document_hash: str, learner_id: UUID):
        self.learner_id = learner_id


class IssuerIndex(Aggregate):
    """An issuer URI names exactly one institution (credentials are matched by issuer.id)."""

    @staticmethod
    def create_id(issuer_uri: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"creditbank:/issuers/{issuer_uri}")

    @event("Claimed")
    def __init__(self, issuer_uri: str, institution_id: UUID):
        self.institution_id = institution_id
