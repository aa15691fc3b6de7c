"""Audit of the tamper-evident history: walk every account's hash chain and the signed
checkpoints, and name exactly what is broken.

A checkpoint records every account's chain head (version and hash) and the log position, signed
with the bank's key. Between checkpoints the chains themselves show edits, deletions and
reorderings; the checkpoint anchors the heads, so the last events and whole accounts are covered
too. (Events written after the newest checkpoint are protected only by the chain: sign
checkpoints often; ``serve`` does so periodically.)
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder

from application.chain import CHAINED_TOPIC_PREFIXES, previous_of, stored_hash
from application.database import Database
from application.signing import BankKeys

PAGE = 2000


@dataclass
class ChainEvent:
    version: int
    notification_id: int
    hash: str
    link: str | None


@dataclass
class AuditReport:
    accounts: int = 0
    events: int = 0
    checkpoint_id: str | None = None
    checkpoint_position: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_chains(recorder: ApplicationRecorder) -> dict[str, list[ChainEvent]]:
    """Every account's stored events, straight from the store (not through the domain)."""
    chains: dict[str, list[ChainEvent]] = defaultdict(list)
    # From the very first row, whatever its position: a row written at position 0 or below is
    # still loaded with its account, so the audit must see it too.
    position: int | None = None
    while True:
        page = recorder.select_notifications(start=position, limit=PAGE, inclusive_of_start=False)
        if not page:
            break
        for n in page:
            if n.topic.startswith(CHAINED_TOPIC_PREFIXES):
                chains[str(n.originator_id)].append(
                    ChainEvent(n.originator_version, n.id, stored_hash(n), previous_of(n.state))
                )
        position = page[-1].id
    return chains


def _canonical(heads: dict[str, list[Any]], position: int, created_at: str) -> bytes:
    body = {"createdAt": created_at, "heads": heads, "position": position}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_checkpoint(
    recorder: ApplicationRecorder, database: Database, keys: BankKeys, at: datetime
) -> str:
    """Signs the current head of every account's chain at ``at`` (the bank's clock); returns the
    checkpoint id."""
    position = int(recorder.max_notification_id() or 0)
    chains = read_chains(recorder)
    heads: dict[str, list[Any]] = {}
    for account, events in sorted(chains.items()):
        # Events committed after ``position`` was read (a concurrent save) are not covered.
        covered = [e for e in events if e.notification_id <= position]
        if covered:
            heads[account] = [covered[-1].version, covered[-1].hash]
    created_at = at.isoformat()
    checkpoint_id = str(uuid.uuid4())
    signature = keys.sign(_canonical(heads, position, created_at))
    with database.transaction() as cur:
        cur.execute(
            "INSERT INTO audit_checkpoints (checkpoint_id, created_at, position, heads, kid, "
            "signature) VALUES (?, ?, ?, ?, ?, ?)",
            [
                checkpoint_id,
                created_at,
                position,
                json.dumps(heads, sort_keys=True),
                keys.kid,
                signature,
            ],
        )
    return checkpoint_id


def verify(recorder: ApplicationRecorder, database: Database, keys: BankKeys) -> AuditReport:
    report = AuditReport()
    # The checkpoint first: everything it covers is committed, so the chains read next hold it
    # (a checkpoint signed while the chains were being read could name heads not read yet).
    with database.transaction(readonly=True) as cur:
        cur.execute(
            "SELECT checkpoint_id, created_at, position, heads, kid, signature FROM "
            "audit_checkpoints ORDER BY position DESC, created_at DESC LIMIT 1"
        )
        row = cur.fetchone()
    chains = read_chains(recorder)
    report.accounts = len(chains)
    for account, events in sorted(chains.items()):
        report.events += len(events)
        report.problems += _check_chain(account, sorted(events, key=lambda e: e.version))
    if row is not None:
        report.problems += _check_checkpoint(row, chains, keys, report)
    return report


def _check_chain(account: str, events: list[ChainEvent]) -> list[str]:
    problems: list[str] = []
    by_version = {e.version: e for e in events}
    hashes = {e.hash: e.version for e in events}
    followers: dict[str, list[int]] = defaultdict(list)  # hash -> versions whose link names it
    for e in events:
        if e.link is not None:
            followers[e.link].append(e.version)
    expected = 1
    for e in events:
        where = f"account {account} event v{e.version}"
        if e.version > expected:
            missing = (
                f"v{expected}" if e.version == expected + 1 else f"v{expected}..v{e.version - 1}"
            )
            problems.append(f"account {account}: event {missing} deleted")
        expected = e.version + 1
        before = by_version.get(e.version - 1)
        if before is not None and e.notification_id < before.notification_id:
            problems.append(f"{where}: reordered (stored before v{before.version})")
        if e.link is None:
            problems.append(f"{where}: modified (unreadable, or its chain link was removed)")
        elif e.version == 1:
            if e.link != "":
                problems.append(f"{where}: modified (the first event links to a predecessor)")
        elif before is not None and e.link != before.hash:
            other = hashes.get(e.link)
            # Another event linking to the same predecessor: this one is an inserted copy.
            twins = [v for v in followers[e.link] if v != e.version]
            # Another event linking to v-1: v-1 is intact and this one is out of place.
            successor = [v for v in followers[before.hash] if v != e.version]
            if other is not None and other != e.version - 1 and twins:
                problems.append(
                    f"{where}: inserted (it links to v{other}, which v{twins[0]} follows)"
                )
            elif other is not None and other != e.version - 1:
                problems.append(f"{where}: reordered (it links to v{other}, not v{e.version - 1})")
            elif successor:
                problems.append(
                    f"{where}: reordered (v{successor[0]} is the event that links "
                    f"to v{e.version - 1})"
                )
            else:
                problems.append(
                    f"account {account} event v{e.version - 1}: modified (its hash no longer "
                    f"matches the link stored in v{e.version})"
                )
    return problems


def _check_checkpoint(
    row: Any, chains: dict[str, list[ChainEvent]], keys: BankKeys, report: AuditReport
) -> list[str]:
    checkpoint_id, created_at, position, heads_json, kid, signature = row
    report.checkpoint_id, report.checkpoint_position = str(checkpoint_id), int(position)
    heads: dict[str, list[Any]] = json.loads(heads_json)
    problems: list[str] = []
    if kid != keys.kid or not keys.verify(_canonical(heads, int(position), created_at), signature):
        problems.append(f"checkpoint {checkpoint_id}: signature does not verify (altered)")
    for account, (version, head_hash) in sorted(heads.items()):
        events = {e.version: e for e in chains.get(account, [])}
        if not events:
            problems.append(
                f"account {account}: deleted (checkpoint {checkpoint_id} has it at v{version})"
            )
            continue
        head = events.get(version)
        if head is None:
            problems.append(
                f"account {account} event v{version}: deleted (it is the head in "
                f"checkpoint {checkpoint_id})"
            )
        elif head.hash != head_hash:
            problems.append(
                f"account {account} event v{version}: modified (does not match "
                f"checkpoint {checkpoint_id})"
            )
        for e in events.values():
            if e.version > version and e.notification_id <= int(position):
                problems.append(
                    f"account {account} event v{e.version}: inserted before "
                    f"checkpoint {checkpoint_id} but not in it"
                )
    for account, chain in sorted(chains.items()):
        if (
            account not in heads
            and chain
            and min(e.notification_id for e in chain) <= int(position)
        ):
            problems.append(
                f"account {account}: inserted (older than checkpoint {checkpoint_id} but not in it)"
            )
    return problems
