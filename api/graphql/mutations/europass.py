"""Europass (the learner): the record as a European Learning Model 3 credential (ELM 3 / EDC
JSON-LD), unsigned or as a VC-JWT signed by the bank (application/europass.py)."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.graphql.errors import UserError
from api.graphql.mutations.act import Back, command
from application.europass import EuropassExporter, Format


@strawberry.enum(description="JSON_LD: the unsigned JSON-LD document; VC_JWT: signed by the bank.")
class EuropassFormat(Enum):
    JSON_LD = "JSON_LD"
    VC_JWT = "VC_JWT"


@strawberry.input
class ExportEuropassInput:
    learner_id: strawberry.ID
    format: EuropassFormat = EuropassFormat.JSON_LD


@strawberry.type(
    description="document: an ELM 3 EuropeanDigitalCredential (JSON-LD text, or a compact "
    "VC-JWT signed by the bank)."
)
class ExportEuropassPayload:
    document: str | None = None
    errors: list[UserError]


async def _document(info: object, text: str) -> str:
    return text


@strawberry.type
class EuropassMutations:
    export_europass = command(
        "The learner exports their record as a Europass (ELM 3) credential.",
        ExportEuropassInput,
        ExportEuropassPayload,
        lambda c, ids, i: EuropassExporter(c.exporter).export(
            ids.learner_id, Format(i.format.value)
        ),
        Back("document", _document, lambda _, text: text),
    )
