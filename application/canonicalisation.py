"""Bounded RDFC-1.0 (URDNA2015) canonicalisation for Data Integrity proofs.

Why bounded: URDNA2015 is exponential in blank nodes that look alike. A 1.7 KB credential whose
seven blank nodes form a clique, or two identical blank nodes with eight identical blank
children each, costs pyld seconds to minutes of CPU, with the GIL held all along: a few such
credentials sent at once stalled every request of the API process. So:

1. ``check`` bounds the JSON before any JSON-LD work: its size, its nesting and its blank nodes
   (objects without an id, and ``_:`` labels). Cheap, in the caller's process.
2. The canonicalisation itself runs in a worker process (pebble's ``ProcessPool``, started with
   ``spawn``: never a fork of a threaded server) with a hard deadline counted from when a worker
   takes the task. A worker that overruns is killed and replaced; the caller gets
   INVALID_CREDENTIAL "too costly to canonicalise". The API process only waits on a pipe (no
   GIL held), so it keeps answering other requests meanwhile.

Every real OB 3.0 / CLR 2.0 credential the bank has seen (the 1EdTech vectors, the examples, the
tests' credentials) is far inside the bounds: see tests/security/test_canonicalisation.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import re
import threading
from collections.abc import Sequence
from concurrent import futures
from pathlib import Path
from typing import Any

from pebble import ProcessExpired, ProcessPool

from application.standards import Standards, StandardsUnavailable
from application.worker_processes import exit_with
from domain.errors import InvalidCredential, Unavailable

# Bounds on the JSON, checked before anything is sent to JSON-LD. The shipped OB 3.0 and CLR 2.0
# examples and vectors stay under 4 KB, nesting depth 7 and 5 blank nodes; a CLR 2.0 of 100 OB
# 3.0 credentials is 118 KB with 201 blank nodes and canonicalises in 0.3 s. At the bounds, even
# 1,000 identical blank siblings (the worst flat shape) take 0.6 s.
MAX_BYTES = 256 * 1024  # compact JSON, all documents of one proof together
MAX_DEPTH = 32  # objects and arrays, the outermost counted as 1
MAX_BLANK_NODES = 1000  # objects without an id, plus distinct "_:" labels
DEFAULT_TIMEOUT = 2.0  # seconds of a worker's time for one proof's documents
# Seconds a caller also allows for a worker to start (imports, one warm-up canonicalisation) or
# be replaced: 0.3 s idle, 1.7 s with four busy processes a core on this 2-core machine.
STARTUP = 10.0
# Seconds a caller waits for a free worker. Callers wait in the server's threadpool (anyio's 40
# threads, shared with every database read): waiting long there let a few requests of aliased
# anonymous verifications hold every thread. Past it: UNAVAILABLE, retry shortly.
SLOT_WAIT = 0.5
WORKER_NICENESS = 10  # the workers yield the CPU to the API process (its event loop, its reads)
MEMORY_LIMIT = 1024**3  # address space of a worker: a memory bomb fails there, not here

TOO_COSTLY = "the credential's JSON-LD is too costly to canonicalise"
BUSY = "the bank is busy verifying other credentials; send this one again shortly"
RESTARTING = "credential verification is restarting; send it again"


def check(documents: Sequence[Any]) -> None:
    """Raises INVALID_CREDENTIAL when the documents exceed the bounds; walks them iteratively (a
    deep document cannot exhaust the recursion limit here) and stops at the first bound hit."""
    blank_nodes = 0
    labels: set[str] = set()
    for document in documents:
        stack: list[tuple[Any, int, bool]] = [(document, 1, False)]
        while stack:
            value, depth, in_context = stack.pop()
            if isinstance(value, dict | list):
                if depth > MAX_DEPTH:
                    raise InvalidCredential(
                        f"{TOO_COSTLY}: it nests deeper than {MAX_DEPTH} levels", ("credential",)
                    )
                if isinstance(value, dict):
                    if not in_context and _is_blank_node(value):
                        blank_nodes += 1
                    stack.extend(
                        (item, depth + 1, in_context or key == "@context")
                        for key, item in value.items()
                    )
                else:
                    stack.extend((item, depth + 1, in_context) for item in value)
            elif isinstance(value, str) and value.startswith("_:") and not in_context:
                labels.add(value)
            if blank_nodes + len(labels) > MAX_BLANK_NODES:
                raise InvalidCredential(
                    f"{TOO_COSTLY}: it has more than {MAX_BLANK_NODES} blank nodes",
                    ("credential",),
                )
    size = sum(len(_compact(document)) for document in documents)
    if size > MAX_BYTES:
        raise InvalidCredential(
            f"{TOO_COSTLY}: it is larger than {MAX_BYTES // 1024} KiB", ("credential",)
        )


def _is_blank_node(value: dict[str, Any]) -> bool:
    """An object that becomes a node without an IRI: no id, or a ``_:`` one (value and list
    objects are not nodes). The ``_:`` label itself is counted with the other labels."""
    if "@value" in value or "@list" in value or "@set" in value:
        return False
    ident = value.get("id", value.get("@id"))
    return not isinstance(ident, str)


def _compact(document: Any) -> bytes:
    try:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError, UnicodeEncodeError):
        raise InvalidCredential("the credential is not JSON", ("credential",)) from None


class Canonicaliser:
    """A small pool of worker processes (one a core) that canonicalise with a deadline.

    ``timeout`` is a worker's time for one call (every document of one proof). At most one call
    a worker is in flight: a caller waits at most ``SLOT_WAIT`` for a free one, then gets
    UNAVAILABLE. So a burst of costly credentials is refused, never queued in front of the real
    ones (nor parked on the server's threads), and every deadline counts only the work itself.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, workers: int | None = None) -> None:
        self.timeout = timeout
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPool | None = None
        self._slots = threading.BoundedSemaphore(self.workers)
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def _running(self, directory: Path) -> ProcessPool:
        with self._lock:
            if self._pool is None or not self._pool.active:
                if self._pool is not None:  # broken: its workers may still run, stop them
                    threading.Thread(
                        target=_retire,
                        args=(self._pool,),
                        name="canonicaliser-retire",
                        daemon=True,
                    ).start()
                self._pool = ProcessPool(
                    max_workers=self.workers,
                    initializer=_warm_up,
                    initargs=(os.getpid(), str(directory)),
                    context=multiprocessing.get_context("spawn"),  # never a fork of this process
                )
            return self._pool

    def _forked(self) -> None:
        """A pool belongs to the process that started it (its threads do not survive a fork):
        a forked child starts its own."""
        if self._pid != os.getpid():
            self._pool, self._pid = None, os.getpid()
            self._slots = threading.BoundedSemaphore(self.workers)
            self._lock = threading.Lock()

    def canonicalise(self, documents: Sequence[dict[str, Any]], directory: Path) -> list[str]:
        """The N-Quads of each document, with the JSON-LD contexts of ``directory``."""
        check(documents)
        self._forked()
        slots = self._slots
        if not slots.acquire(timeout=SLOT_WAIT):
            raise Unavailable(BUSY)
        try:
            future = self._running(directory).schedule(
                _work, args=(list(documents), str(directory)), timeout=self.timeout
            )
            outcome = _settle(future, self.timeout + STARTUP)
        finally:
            slots.release()
        results: list[str] = []
        for kind, text in outcome:
            if kind == "invalid":
                raise InvalidCredential(text)
            if kind == "unavailable":
                raise StandardsUnavailable(text)
            results.append(text)
        return results

    def start(self, directory: Path) -> None:
        """Starts the workers now, each warming up in its own process, so the first credential
        a server verifies does not wait for them (0.3 s idle, seconds on a busy machine)."""
        self._forked()
        self._running(directory).active  # noqa: B018  # pebble starts a pool's workers here

    def close(self) -> None:
        """Stops the workers, even one busy on a costly credential; the next call starts more."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join()


def _settle(future: Any, wait: float) -> list[tuple[str, str]]:
    """The worker's answer, waiting at most ``wait``. What a finished task means is read from the
    task itself, never from which wait ran out first: one that succeeded as the caller's wait
    expired is a success, and TOO_COSTLY is only pebble's own deadline (or a worker's death)."""
    done, _ = futures.wait([future], timeout=wait)
    if not done:
        future.cancel()  # no worker took it in time (or pebble is killing it right now)
        raise Unavailable(BUSY)
    if future.cancelled():
        raise Unavailable(RESTARTING)
    error = future.exception()
    if error is None:
        result: list[tuple[str, str]] = future.result()
        return result
    if isinstance(error, TimeoutError | ProcessExpired):
        # pebble's TimeoutError: the worker's deadline passed and pebble killed it;
        # ProcessExpired: the worker died on it (its memory limit, or killed)
        raise InvalidCredential(TOO_COSTLY, ("credential",))
    if isinstance(error, RuntimeError | OSError | EOFError | futures.BrokenExecutor):
        raise Unavailable(RESTARTING)  # the pool was stopped or broke under it
    raise error


def _retire(pool: ProcessPool) -> None:
    """Stops a broken pool's workers and joins its threads (off the caller's thread: joining
    can wait on a worker being killed)."""
    try:
        pool.stop()  # type: ignore[no-untyped-call]
        pool.join()
    except Exception:  # it is being discarded: say so, nothing more to do
        logging.getLogger("creditbank.canonicalisation").warning(
            "a broken canonicalisation pool did not stop cleanly", exc_info=True
        )


# -- the process-wide pool (one per process, like a connection pool shared by every bank) ---------
shared = Canonicaliser()


def configure(timeout: float) -> None:
    """The deadline from the settings (bootstrap); applies to the next call."""
    shared.timeout = timeout


def canonicalise(documents: Sequence[dict[str, Any]], directory: Path) -> list[str]:
    return shared.canonicalise(documents, directory)


def start(directory: Path) -> None:
    """The workers started ahead of the first call (a serving process); else they start lazily."""
    shared.start(directory)


def shutdown() -> None:
    """Stops the workers (the application closing); a later call starts them again."""
    shared.close()


# -- in the worker process -------------------------------------------------------------------------
_standards: dict[str, Standards] = {}


def _warm_up(parent: int, directory: str) -> None:
    """Imports, the memory limit, the parent watch and one small canonicalisation, once per
    worker, before it takes a task (and so outside the deadline); niced only then. Niced from
    the start, a worker's start took 3-5 s on a busy 2-core machine (0.45 s idle) and the
    first caller was told UNAVAILABLE: its start is the bank's, not a burst of costly work."""
    exit_with(parent)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):  # not on this platform: the deadline still holds
        pass
    with contextlib.suppress(Exception):  # a task would meet the same failure, and report it
        _work([_WARM_UP_DOCUMENT], directory)  # pyld imported, its contexts parsed and cached
    # below the API process: a burst of costly credentials must not starve its loop
    with contextlib.suppress(AttributeError, OSError):  # not on this platform
        os.nice(WORKER_NICENESS)


_WARM_UP_DOCUMENT = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
    "type": ["VerifiableCredential"],
    "issuer": "urn:uuid:00000000-0000-4000-8000-000000000001",
    "credentialSubject": {"id": "urn:uuid:00000000-0000-4000-8000-000000000002"},
}


def _work(documents: list[dict[str, Any]], directory: str) -> list[tuple[str, str]]:
    """Each document as ("ok", n-quads), or the first failure as ("invalid" | "unavailable",
    message): plain tuples cross the pipe, whatever the exception classes."""
    standards = _standards.get(directory)
    if standards is None:
        standards = _standards[directory] = Standards(Path(directory))
    results: list[tuple[str, str]] = []
    for document in documents:
        try:
            results.append(("ok", normalize(document, standards)))
        except StandardsUnavailable as exc:
            return [("unavailable", exc.message)]
        except InvalidCredential as exc:
            return [("invalid", exc.message)]
        except MemoryError:
            return [("invalid", TOO_COSTLY)]
    return results


def normalize(document: dict[str, Any], standards: Standards) -> str:
    """RDFC-1.0 N-Quads by pyld, unbounded: only for the worker (and the tests' comparisons).

    JSON-LD safe mode, as pyld does not offer it whole: the document is expanded first (with no
    base IRI), refused if expansion dropped a term or left a relative IRI, then the expanded form
    (the same RDF dataset) is canonicalised."""
    from pyld import jsonld

    # Safe mode: a term the contexts do not define is dropped from the canonical form, so the
    # proof would not cover it while the bank might still read it (e.g. achievement.ECTS).
    dropped: list[str | None] = []
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    try:
        expanded = processor.expand(
            document, {"documentLoader": standards.document_loader, "base": None}
        )
        if dropped:
            raise InvalidCredential(
                "the credential uses terms its JSON-LD contexts have not defined: "
                + ", ".join(sorted({str(term) for term in dropped}))[:200]
            )
        relative = _first_relative_iri(expanded)
        if relative is not None:
            # RDF has no relative IRIs: pyld resolves them against a made-up base (or drops
            # them), so what the proof covers would not be what the bank reads.
            raise InvalidCredential(
                f"the credential uses a relative IRI, which JSON-LD safe mode refuses: "
                f"{relative[:120]!r}"
            )
        result = processor.normalize(
            expanded,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": standards.document_loader,
                "base": None,
            },
        )
    except jsonld.JsonLdError as exc:
        unknown = _loader_refusal(exc)
        if unknown is not None:  # "unknown JSON-LD context <url>", not pyld's wrapper
            raise unknown from None
        raise InvalidCredential(f"the credential is not valid JSON-LD: {_reason(exc)}") from None
    except (ValueError, TypeError, RecursionError):  # pyld raises these for some bad input too
        raise InvalidCredential("the credential is not valid JSON-LD") from None
    return str(result)


_ABSOLUTE_IRI = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*|_):\S*$")


def _first_relative_iri(expanded: Any) -> str | None:
    """The first node id, reference or type in the expanded form that is not an absolute IRI
    (nor a blank node label): what JSON-LD safe mode calls a relative reference."""
    stack = [expanded]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            if "@value" in value:  # a literal: its @type is a datatype IRI
                kind = value.get("@type")
                if isinstance(kind, str) and kind != "@json" and not _ABSOLUTE_IRI.match(kind):
                    return kind
                continue
            ident = value.get("@id")
            if isinstance(ident, str) and not _ABSOLUTE_IRI.match(ident):
                return ident
            for kind in value.get("@type") or ():
                if isinstance(kind, str) and not _ABSOLUTE_IRI.match(kind):
                    return kind
            stack.extend(v for k, v in value.items() if k not in ("@id", "@type"))
    return None


def _loader_refusal(error: Any) -> InvalidCredential | None:
    """The document loader's own refusal (an unknown context), wherever pyld wrapped it."""
    cause: object = error
    seen = 0
    while cause is not None and seen < 20:
        if isinstance(cause, InvalidCredential):
            return InvalidCredential(cause.message, ("credential", "@context"))
        details = getattr(cause, "details", None)
        nested = details.get("cause") if isinstance(details, dict) else None
        if isinstance(nested, InvalidCredential):
            return InvalidCredential(nested.message, ("credential", "@context"))
        cause = (
            getattr(cause, "cause", None)
            or getattr(cause, "__cause__", None)
            or getattr(cause, "__context__", None)
        )
        seen += 1
    return None


def _reason(error: Any) -> str:
    """The innermost cause pyld names (e.g. "protected term redefinition"), not its wrapper."""
    from pyld import jsonld

    reason = str(error.type)
    cause: object = error
    while isinstance(cause, jsonld.JsonLdError):
        reason = str(cause.code or cause.type)
        cause = cause.__cause__ or cause.__context__
    return reason
