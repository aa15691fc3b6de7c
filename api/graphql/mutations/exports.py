"""Exports (the learner): the record as a signed CLR 2.0 transcript, or one outcome as an
OB 3.0 AchievementCredential, both signed by the bank."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, Ids, mutate, mutation
from application.bank import CreditBank
from application.export import Exporter
from domain.errors import InvalidInput


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


def _exporter(info: Info) -> Exporter:
    exporter: Exporter | None = info.context.exporter
    if exporter is None:
        raise InvalidInput("export is not configured on this service")
    return exporter


@strawberry.type
class ExportMutations:
    @mutation(description="The learner exports their record as a signed CLR 2.0 credential.")
    async def export_transcript(
        self, info: Info, input: ExportTranscriptInput
    ) -> ExportTranscriptPayload:
        def command(bank: CreditBank, ids: Ids) -> str:
            return _exporter(info).export_transcript(ids.learner_id)

        return await mutate(info, ExportTranscriptPayload, input, command, SIGNED)

    @mutation(
        description="The learner exports one recognised outcome as an OB 3.0 AchievementCredential."
    )
    async def export_outcome(
        self, info: Info, input: ExportOutcomeInput
    ) -> ExportTranscriptPayload:
        def command(bank: CreditBank, ids: Ids) -> str:
            return _exporter(info).export_outcome(ids.learner_id, ids.outcome_id)

        return await mutate(info, ExportTranscriptPayload, input, command, SIGNED)
