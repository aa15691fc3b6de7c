"""Tamper evidence: every account's events form a hash chain.

Each stored account event carries ``_prev_``: the hash of the stored event before it in the same
account (empty for the first). An event's hash covers its account id, version, topic and stored
bytes, so editing, deleting, inserting or reordering stored events breaks the chain at a place
the audit can name. The chain is kept by the mapper, the one place every event passes through on
its way in and out of the store; the domain never sees ``_prev_``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from domain.credit_account import SPLIT_INTO

# An account's events are chained: those of CreditAccount and of the classes its behaviour is
# split into (recognition, merging, supersession), whose events carry their own topics.
CHAINED_TOPIC_PREFIXES = tuple(f"{cls.__module__}:{cls.__qualname__}." for cls in SPLIT_INTO)
PREV = "_prev_"


def event_hash(originator_id: UUID | str, version: int, topic: str, state: bytes) -> str:
    h = hashlib.sha256()
    h.update(f"{originator_id}\n{version}\n{topic}\n".encode())
    h.update(state)
    return h.hexdigest()


def stored_hash(stored: StoredEvent) -> str:
    return event_hash(stored.originator_id, stored.originator_version, stored.topic, stored.state)


def previous_of(state: bytes) -> str | None:
    """The ``_prev_`` link in a stored event's state (None if it has none or is unreadable)."""
    try:
        value = json.loads(state).get(PREV)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class ChainingMapper(Mapper[UUID]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorder: ApplicationRecorder | None = None  # set once the recorder exists
        self._known: OrderedDict[tuple[UUID, int], str] = OrderedDict()  # read or committed
        self._local = threading.local()  # this thread's save in progress: encoded, uncommitted
        self._lock = threading.Lock()

    @property
    def _pending(self) -> dict[tuple[UUID, int], str]:
        if not hasattr(self._local, "pending"):
            self._local.pending = {}
        pending: dict[tuple[UUID, int], str] = self._local.pending
        return pending

    def begin(self) -> None:
        """Forget links encoded by an earlier attempt of this thread that did not commit."""
        self._local.pending = {}

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if not get_topic(type(domain_event)).startswith(CHAINED_TOPIC_PREFIXES):
            return super().to_stored_event(domain_event)
        version = domain_event.originator_version
        prev = "" if version == 1 else self._hash_of(domain_event.originator_id, version - 1)
        # Encode with the link as one more attribute; the event object itself is untouched.
        linked = object.__new__(type(domain_event))
        object.__setattr__(linked, "__dict__", {**vars(domain_event), PREV: prev})
        stored = super().to_stored_event(linked)
        self._pending[(domain_event.originator_id, version)] = stored_hash(stored)
        return stored

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        if PREV in event.__dict__:
            del event.__dict__[PREV]
            self._remember(
                (event.originator_id, event.originator_version), stored_hash(stored_event)
            )
        return event

    def committed(self, originator_id: UUID, version: int) -> None:
        """Called after a save committed: the encoded hash is now the stored one."""
        value = self._pending.pop((originator_id, version), None)
        if value is not None:
            self._remember((originator_id, version), value)

    def _remember(self, key: tuple[UUID, int], value: str) -> None:
        with self._lock:
            self._known[key] = value
            self._known.move_to_end(key)
            while len(self._known) > 100_000:
                self._known.popitem(last=False)

    def _hash_of(self, originator_id: UUID, version: int) -> str:
        key = (originator_id, version)
        if key in self._pending:  # an earlier event of the same save
            return self._pending[key]
        with self._lock:
            known = self._known.get(key)
        if known is not None:
            return known
        assert self.recorder is not None
        found = self.recorder.select_events(originator_id, gt=version - 1, lte=version)
        if not found:
            raise LookupError(f"no stored event {originator_id} v{version} to chain to")
        value = stored_hash(found[0])
        self._remember((originator_id, version), value)
        return value
