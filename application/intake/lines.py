"""An upload's lines: split from the body as it streams in (never held whole), and each read as
one deposit, ``{"learnerId": ..., "credential": <compact VC-JWT> | {<JSON with a proof>}}``.

Lines are numbered as the institution's file numbers them (blank lines count, and are skipped),
so a refusal names the line the registrar can open. A line refused on arrival (longer than a
deposit may be, not UTF-8, not JSON) is recorded as refused and never reaches the worker.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.intake.jobs import IntakeStore, Line
from domain.errors import DomainError, InvalidInput

# A line as long as a whole GraphQL request may be (api.middleware.MAX_BODY_BYTES): a deposit
# the mutation could not receive is not received here either.
MAX_LINE_BYTES = 1024 * 1024


class Splitter:
    """Feeds on the body's chunks and gives back whole lines; keeps at most one line's bytes."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self.count = 0  # lines numbered so far
        self.received = 0  # non-blank lines given out
        self._partial = bytearray()
        self._too_long = False  # the current line passed the limit: its bytes are dropped

    def feed(self, chunk: bytes) -> list[Line]:
        lines: list[Line] = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                self._keep(chunk[start:])
                return lines
            self._keep(chunk[start:end])
            lines.extend(self._line())
            start = end + 1

    def close(self) -> list[Line]:
        """The last line, when the body does not end with a newline."""
        if self._partial or self._too_long:
            return self._line()
        return []

    def _keep(self, piece: bytes) -> None:
        if self._too_long:
            return
        if len(self._partial) + len(piece) > self.max_line:
            self._too_long = True
            self._partial.clear()
            return
        self._partial += piece

    def _line(self) -> list[Line]:
        self.count += 1
        raw = bytes(self._partial).rstrip(b"\r")
        too_long, self._too_long = self._too_long, False
        self._partial.clear()
        if not too_long and not raw.strip():
            return []
        self.received += 1
        if too_long:
            message = f"line {self.count} is longer than {self.max_line} bytes"
            return [Line(self.count, None, "", None, ("INVALID_INPUT", message))]
        return [received(self.count, raw)]


def received(number: int, raw: bytes) -> Line:
    """A line as it arrived: refused at once when it is not a JSON object, else kept (with the
    learner it names, as given) for the worker."""
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode()
        if "\x00" in text:
            raise ValueError("NUL")
        value = json.loads(text)
    except ValueError:
        message = f"line {number} is not a JSON object in UTF-8"
        return Line(number, None, digest, None, ("INVALID_INPUT", message))
    if not isinstance(value, dict):
        message = f"line {number} is not a JSON object"
        return Line(number, None, digest, None, ("INVALID_INPUT", message))
    learner = value.get("learnerId")
    return Line(number, learner if isinstance(learner, str) else None, digest, text)


@dataclass(frozen=True)
class Deposit:
    learner_id: UUID
    credential: str
    statement: bool = False  # ``credential`` is {"statement", "signature"}: xAPI evidence


def deposit(line: Line) -> Deposit:
    """The deposit a kept line asks for; ``InvalidInput`` naming what is wrong. A line may carry
    a learning platform's signed xAPI statement instead of a credential:
    ``{"learnerId", "statement": {...}, "signature": "<compact JWS>"}`` (docs/xapi.md)."""
    value: Any = json.loads(line.body or "null")
    if not isinstance(value, dict):
        raise InvalidInput(f"line {line.number} is not a JSON object")
    try:
        learner_id = UUID(str(value["learnerId"]))
    except (KeyError, ValueError):
        raise InvalidInput(
            f"line {line.number}: learnerId is missing or not a valid id", ("learnerId",)
        ) from None
    if "statement" in value and "credential" not in value:
        signed = {"statement": value["statement"], "signature": value.get("signature")}
        return Deposit(learner_id, json.dumps(signed, ensure_ascii=False), statement=True)
    credential = value.get("credential")
    if isinstance(credential, dict):  # JSON with a Data Integrity proof, verified as sent
        return Deposit(learner_id, json.dumps(credential, ensure_ascii=False))
    if not isinstance(credential, str) or not credential.strip():
        raise InvalidInput(
            f"line {line.number}: credential must be a compact VC-JWT or a JSON object",
            ("credential",),
        )
    return Deposit(learner_id, credential)


def refusal(exc: DomainError) -> tuple[str, str]:
    return exc.code, exc.message


FLUSH_LINES = 1000  # lines written to the store together while an upload streams in
FLUSH_BYTES = 8 * 1024 * 1024


class Upload:
    """One upload as it is received: its lines go to the store in batches (memory holds at most
    a batch), and the job is acknowledged (QUEUED) only once the whole body is stored."""

    def __init__(
        self, store: IntakeStore, institution_id: UUID, actor: str | None, now: datetime
    ) -> None:
        self.store = store
        self.now = now
        self.job_id = store.open(institution_id, actor, now)
        self._splitter = Splitter()
        self._lines: list[Line] = []
        self._bytes = 0

    def feed(self, chunk: bytes) -> None:
        for line in self._splitter.feed(chunk):
            self._lines.append(line)
            self._bytes += len(line.body or "")
            if len(self._lines) >= FLUSH_LINES or self._bytes >= FLUSH_BYTES:
                self._flush()

    def finish(self) -> UUID:
        self._lines.extend(self._splitter.close())
        self._flush()
        self.store.queue(self.job_id, self._splitter.received)
        return self.job_id

    def abandon(self) -> None:
        self.store.abandon(self.job_id, self.now)

    def _flush(self) -> None:
        self.store.add(self.job_id, self._lines)
        self._lines, self._bytes = [], 0
