"""The official standards material the bank verifies against: the OB 3.0 JSON Schema and the
JSON-LD contexts (for an offline document loader: no network at verification time).

They are read from the standards folder (``CREDITBANK_STANDARDS_DIR``; by default the
``shared/standards`` folder beside the project), never fetched.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator

from domain.errors import InvalidCredential

CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-3.0.3.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json": "clr-v2p0-2.0.1.json",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
}
OB3_SCHEMA = "ob3/ob_v3p0_achievementcredential_schema.json"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "standards"


class Standards:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or DEFAULT_DIR

    @property
    def available(self) -> bool:
        return (self.directory / OB3_SCHEMA).is_file()

    @cached_property
    def _contexts(self) -> dict[str, Any]:
        return {
            url: json.loads((self.directory / "contexts" / name).read_text())
            for url, name in CONTEXT_FILES.items()
        }

    def document_loader(self, url: str, options: Any = None) -> dict[str, Any]:
        """pyld document loader over the shipped contexts only."""
        try:
            document = self._contexts[url]
        except KeyError:
            raise InvalidCredential(f"unknown JSON-LD context {url} (no network lookups)") from None
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": document,
        }

    @cached_property
    def _ob3(self) -> Draft201909Validator:
        return Draft201909Validator(json.loads((self.directory / OB3_SCHEMA).read_text()))

    def check_achievement_credential(self, credential: dict[str, Any]) -> None:
        """Raises INVALID_CREDENTIAL naming the first schema violations."""
        if not self.available:
            raise InvalidCredential(
                f"the OB 3.0 JSON Schema is not available at {self.directory}; cannot verify"
            )
        errors = sorted(self._ob3.iter_errors(credential), key=lambda e: list(e.path))
        if errors:
            where = ["/".join(map(str, e.path)) or "(root)" for e in errors[:3]]
            details = "; ".join(
                f"{w}: {e.message[:120]}" for w, e in zip(where, errors, strict=False)
            )
            raise InvalidCredential(
                f"the credential does not validate against the OB 3.0 schema: {details}",
                ("credential",),
            )
