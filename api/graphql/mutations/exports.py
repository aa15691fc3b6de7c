"""Exports (the learner): the record as a signed CLR 2.0 transcript, or one outcome as an
OB 3.0 AchievementCredential, both signed by the bank."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, command


@strawberry.input
class ExportTranscriptInput:
    learner_id: strawberry.ID


@strawberry.input
class ExportOutcomeInput:
    learner_id: strawberry.ID
    outcome_id: strawberry.ID


@strawberry.type(
    description="credential: a CLR 2.0 ClrCredential signed by the bank, as compact VC-JWT."
)
class ExportTranscriptPayload:
    credential: str | None = None
    errors: list[UserError]


async def _credential(info: Info, token: str) -> str:
    return token


SIGNED = Back("credential", _credential, lambda _, token: token)


@strawberry.type
class ExportMutations:
    export_transcript = command(
        "The learner exports their record as a signed CLR 2.0 credential.",
        ExportTranscriptInput,
        ExportTranscriptPayload,
        lambda c, ids, i: c.exporter.export_transcript(ids.learner_id),
        SIGNED,
    )
    export_outcome = command(
        "The learner exports one recognised outcome as an OB 3.0 AchievementCredential.",
        ExportOutcomeInput,
        ExportTranscriptPayload,
        lambda c, ids, i: c.exporter.export_outcome(ids.learner_id, ids.outcome_id),
        SIGNED,
    )
