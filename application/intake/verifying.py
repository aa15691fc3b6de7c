"""An upload's VC-JWTs verified in worker processes, ahead of their deposits.

Verifying a credential (its signature, the OB 3.0 JSON Schema, its claims) is pure CPU, and the
intake worker's process holds the GIL for the deposits and the views: a pool of processes
(``concurrent.futures``, spawned) verifies the next transaction's credentials while the worker
deposits the current one's. A pool worker knows only the job's institution (sent with each
chunk, as it stands when the window starts); a credential naming any other issuer comes back
"unknown issuer" and is verified again in the bank's process, so every line still gets exactly
the answer ``depositCredential`` gives. The key is checked again inside each deposit's
transaction (a key revoked meanwhile lets nothing in), as for a single deposit.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from typing import Any

from application.credentials import VerifiedCredential, verify
from application.standards import Standards
from application.worker_processes import exit_with
from domain.errors import DomainError, UnknownIssuer
from domain.institution import Institution

Verdict = VerifiedCredential | DomainError

_standards: Standards | None = None


def _start(parent: int) -> None:
    global _standards
    exit_with(parent)
    os.nice(5)  # below the service's own requests
    _standards = Standards()


def _verify_chunk(tokens: list[str], institution: Institution, now: datetime) -> list[Any]:
    """Each token's verdict: what it states (without the issuer, which the caller holds: an
    aggregate is costly to send back a line), or its error by name (some errors take other
    arguments)."""
    assert _standards is not None

    def by_uri(uri: str) -> Institution | None:
        return institution if uri == institution.issuer_uri else None

    verdicts: list[Any] = []
    for token in tokens:
        try:
            v = verify(token, by_uri, now, _standards)
        except DomainError as exc:
            verdicts.append(("error", type(exc).__name__, exc.message, exc.field))
        else:
            verdicts.append(("verified", v.credential, v.kid, v.valid_from, v.valid_until))
    return verdicts


def _error(name: str, message: str, field: tuple[str, ...] | None) -> DomainError:
    import domain.errors

    cls = getattr(domain.errors, name, DomainError)
    error: DomainError = cls.__new__(cls)
    DomainError.__init__(error, message, field)
    return error


class VerifyPool:
    """Verifies chunks of VC-JWTs in ``workers`` processes (started on first use)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    @classmethod
    def sized(cls, workers: int) -> VerifyPool | None:
        """``workers`` processes (0: one per core but one, left to the service); None on a
        single core, where a pool would only add its start and its copies (measured on two
        cores: 546 credentials/s with two processes, 660 with one, 656 with none)."""
        count = workers or (os.cpu_count() or 1) - 1
        return cls(count) if count > 0 else None

    def submit(
        self, tokens: list[str], institution: Institution, now: datetime
    ) -> Future[list[Any]]:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")  # never fork a threaded server
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_start, initargs=(os.getpid(),)
            )
        return self._pool.submit(_verify_chunk, tokens, institution, now)

    @staticmethod
    def verdicts(
        tokens: list[str], future: Future[list[Any]], institution: Institution
    ) -> dict[str, Verdict]:
        """The chunk's verdicts by token (``institution``: the one sent with it); an unknown
        issuer is left out (verified again in the bank's process, which knows every issuer)."""
        found: dict[str, Verdict] = {}
        for token, verdict in zip(tokens, future.result(), strict=True):
            if verdict[0] == "error":
                error = _error(*verdict[1:])
                if not isinstance(error, UnknownIssuer):
                    found[token] = error
            else:
                found[token] = VerifiedCredential(institution, *verdict[1:])
        return found

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
