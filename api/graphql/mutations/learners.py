"""Learners (officers): opening an account, verifying identity, erasure."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql.common import IdentityVerification
from api.graphql.errors import UserError
from api.graphql.learners import Learner
from api.graphql.mutations.act import Back, command, result, shown_as
from domain.learner import DOCUMENT_TYPES


@strawberry.input
class RegisterLearnerInput:
    name: str
    identity_document_type: str = strawberry.field(
        description="one of " + ", ".join(sorted(DOCUMENT_TYPES)) + " (case-insensitive)"
    )
    identity_document_number: str = strawberry.field(
        description="as printed; compared without spaces, dashes or case"
    )
    birth_date: date
    identity_document_country: str | None = strawberry.field(
        default=None,
        description="ISO 3166-1 alpha-2 country that issued the document; default: the bank's "
        "configured country",
    )


@strawberry.type
class RegisterLearnerPayload:
    learner: Learner | None = None
    errors: list[UserError]


@strawberry.input
class VerifyLearnerIdentityInput:
    learner_id: strawberry.ID
    method: IdentityVerification  # type: ignore[valid-type]


@strawberry.type
class VerifyLearnerIdentityPayload:
    learner: Learner | None = None
    errors: list[UserError]


@strawberry.input
class EraseLearnerInput:
    learner_id: strawberry.ID


@strawberry.type
class EraseLearnerPayload:
    errors: list[UserError]


@strawberry.input
class MergeLearnersInput:
    survivor_id: strawberry.ID
    duplicate_id: strawberry.ID
    reason: str


@strawberry.type
class MergeLearnersPayload:
    learner: Learner | None = None
    errors: list[UserError]


NEW = Back("learner", shown_as(Learner), result)
LEARNER = Back("learner", shown_as(Learner), lambda ids, _: ids.learner_id)


@strawberry.type
class LearnerMutations:
    register_learner = command(
        "Officers open a learner's account.",
        RegisterLearnerInput,
        RegisterLearnerPayload,
        lambda c, ids, i: c.bank.register_learner(
            i.name,
            i.identity_document_type,
            i.identity_document_number,
            i.birth_date,
            i.identity_document_country,
        ),
        NEW,
    )
    verify_learner_identity = command(
        "Officers record how a learner's identity was verified.",
        VerifyLearnerIdentityInput,
        VerifyLearnerIdentityPayload,
        lambda c, ids, i: c.bank.verify_learner_identity(
            ids.learner_id, i.method, c.principal.actor
        ),
        LEARNER,
    )
    merge_learners = command(
        "Officers merge two accounts of one person: the survivor takes every record of the "
        "duplicate (each event kept, the merge audited); the duplicate serves audits only.",
        MergeLearnersInput,
        MergeLearnersPayload,
        lambda c, ids, i: c.bank.merge_learners(
            ids.survivor_id, ids.duplicate_id, i.reason, c.principal.actor
        ),
        NEW,
    )
    erase_learner = command(
        "Officers erase a learner's personal data (crypto-shredding).",
        EraseLearnerInput,
        EraseLearnerPayload,
        lambda c, ids, i: c.bank.erase_learner(ids.learner_id, c.principal.actor),
    )
