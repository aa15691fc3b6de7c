"""Awards (docs/domain.md, awards): an officer reviews an award (reaffirms one under review,
re-assessed on what remains, or rescinds one); the learner exports a standing award as an OB 3.0
AchievementCredential signed by the bank."""

from __future__ import annotations

import strawberry

from api.graphql.awards import Award, AwardDecision, read_award
from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, command
from api.graphql.mutations.exports import SIGNED

AWARD = Back("award", read_award, lambda ids, _: ids.award_id)


@strawberry.input(
    description="REAFFIRM: an award under review, re-assessed under the version it met on the "
    "credits that remain (refused if no longer met); RESCIND: the award ends, its credits are "
    "released and its exported credential shows revoked."
)
class ReviewAwardInput:
    learner_id: strawberry.ID
    award_id: strawberry.ID
    decision: AwardDecision  # type: ignore[valid-type]
    reason: str


@strawberry.type
class ReviewAwardPayload:
    award: Award | None = None
    errors: list[UserError]


@strawberry.input
class ExportAwardInput:
    learner_id: strawberry.ID
    award_id: strawberry.ID


@strawberry.type(
    description="credential: an OB 3.0 AchievementCredential for the qualification, signed by "
    "the bank as VC-JWT, with a credentialStatus."
)
class ExportAwardPayload:
    credential: str | None = None
    errors: list[UserError]


@strawberry.type
class AwardMutations:
    review_award = command(
        "An officer reaffirms an award under review or rescinds an award.",
        ReviewAwardInput,
        ReviewAwardPayload,
        lambda c, ids, i: c.bank.review_award(
            ids.learner_id, ids.award_id, i.decision, i.reason, c.principal.actor
        ),
        AWARD,
    )
    export_award = command(
        "The learner exports a standing award as a signed OB 3.0 AchievementCredential.",
        ExportAwardInput,
        ExportAwardPayload,
        lambda c, ids, i: c.exporter.export_award(ids.learner_id, ids.award_id),
        SIGNED,
    )
