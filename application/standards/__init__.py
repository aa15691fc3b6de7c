"""The official standards material the bank verifies against, shipped inside the package: the
OB 3.0, CLR 2.0, VC 2.0 and xAPI JSON Schemas, the JSON-LD contexts for an offline document loader
(no network at verification time), and the conformance vectors the tests reproduce.

``manifest.json`` names every file with its source, version, licence and sha256 (PROVENANCE.md
says the same for people). ``CREDITBANK_STANDARDS_DIR`` may point at another folder of the same
layout; its own manifest then applies. A missing or altered file is a server problem, reported
as such (``StandardsUnavailable``, UNAVAILABLE), never blamed on a credential.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft201909Validator

from domain.errors import InvalidCredential, Unavailable

PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST = "manifest.json"
OB3_SCHEMA = "schemas/ob3/ob_v3p0_achievementcredential_schema.json"
CLR2_SCHEMA = "schemas/clr2/clr_v2p0_clrcredential_schema.json"
XAPI_SCHEMA = "schemas/xapi/statement-2.0.schema.json"


class StandardsUnavailable(Unavailable):
    """The bank's own standards material is missing or altered: an operator's problem."""


class Standards:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = (directory or PACKAGE_DIR).resolve()
        self._checked = False
        self._lock = threading.Lock()
        self._schemas: dict[str, _Schema] = {}
        self._schemas_lock = threading.Lock()

    # -- integrity -------------------------------------------------------------------------------
    @cached_property
    def manifest(self) -> dict[str, dict[str, Any]]:
        files: dict[str, dict[str, Any]] = json.loads(
            (self.directory / MANIFEST).read_text(encoding="utf-8")
        )["files"]
        return files

    def problems(self) -> list[str]:
        """What is missing or altered, each as a short phrase (empty: all present and intact)."""
        try:
            files = self.manifest
        except (OSError, ValueError, KeyError):
            return [f"no readable {MANIFEST} in {self.directory}"]
        found: list[str] = []
        for relative, entry in files.items():
            try:
                data = (self.directory / relative).read_bytes()
            except OSError:
                found.append(f"{relative} is missing")
                continue
            if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                found.append(f"{relative} does not match its sha256")
        return found

    def check(self) -> None:
        """Raises StandardsUnavailable naming the first problems; checked once, then trusted."""
        if self._checked:
            return
        with self._lock:
            if self._checked:
                return
            problems = self.problems()
            if problems:
                shown = "; ".join(problems[:3]) + (" ..." if len(problems) > 3 else "")
                raise StandardsUnavailable(
                    f"the standards material in {self.directory} is not usable ({shown}); "
                    "credentials cannot be verified until it is restored"
                )
            self._checked = True

    def path(self, relative: str) -> Path:
        return self.directory / relative

    def load(self, relative: str) -> Any:
        return json.loads(self.path(relative).read_text(encoding="utf-8"))

    # -- JSON-LD ---------------------------------------------------------------------------------
    @cached_property
    def _contexts(self) -> dict[str, Any]:
        self.check()
        return {
            url: self.load(relative)
            for relative, entry in self.manifest.items()
            for url in entry.get("urls", ())
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

    # -- JSON Schemas ----------------------------------------------------------------------------
    def _schema(self, relative: str) -> _Schema:
        """A shipped schema, loaded and compiled once (both validators), then shared."""
        schema = self._schemas.get(relative)
        if schema is None:
            self.check()
            with self._schemas_lock:
                schema = self._schemas.get(relative)
                if schema is None:
                    schema = _Schema(self.load(relative))
                    self._schemas[relative] = schema
        return schema

    @property
    def _ob3(self) -> Draft201909Validator:
        return self._schema(OB3_SCHEMA).full

    @property
    def _ob3_compiled(self) -> Any:
        return self._schema(OB3_SCHEMA).compiled

    def check_achievement_credential(self, credential: dict[str, Any]) -> None:
        """Raises INVALID_CREDENTIAL naming the first schema violations."""
        self._schema(OB3_SCHEMA).validate(
            credential,
            "the credential does not validate against the OB 3.0 schema",
            ("credential",),
        )

    def check_xapi_statement(self, statement: dict[str, Any]) -> None:
        """Raises INVALID_CREDENTIAL naming the first violations of the xAPI 2.0 Statement schema
        (the curated one shipped: xAPI publishes no normative JSON Schema)."""
        message = "the statement does not validate against the xAPI 2.0 schema"
        self._schema(XAPI_SCHEMA).validate(statement, message, ("statement",))


class _Schema:
    """One JSON Schema (draft 2019-09) with its two validators. jsonschema-rs answers "valid"
    in ~3 µs a document instead of ~1 ms; a document it refuses goes to jsonschema, whose
    verdict and messages are the ones given. Formats are checked by neither."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.full = Draft201909Validator(schema)
        self.compiled: Any = jsonschema_rs.Draft201909Validator(schema, validate_formats=False)

    def validate(self, document: Any, message: str, field: tuple[str, ...]) -> None:
        try:
            valid = self.compiled.is_valid(document)
        except Exception:  # noqa: BLE001 - not plain JSON to it (keys that are not text...)
            valid = False  # jsonschema decides
        if valid:
            return
        errors = sorted(self.full.iter_errors(document), key=lambda e: list(e.path))
        if errors:
            where = ["/".join(map(str, e.path)) or "(root)" for e in errors[:3]]
            details = "; ".join(
                f"{w}: {e.message[:120]}" for w, e in zip(where, errors, strict=False)
            )
            raise InvalidCredential(f"{message}: {details}", field)
