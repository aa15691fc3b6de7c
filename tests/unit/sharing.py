"""What a deep copy of an aggregate shares with the original: only what cannot change.

The aggregate cache hands each command a deep copy (``copy.deepcopy``), and the records copy only
their mutable parts (domain/records.py): a record that shared a mutable part with the cached one
would let a refused command change the cache. This walks both object graphs."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.values import shared_copy

ATOMS = (str, bytes, int, float, bool, Decimal, UUID, date, datetime, enum.Enum, type(None))


def _frozen(value: Any) -> bool:
    params = getattr(type(value), "__dataclass_params__", None)
    return bool(params is not None and params.frozen)


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if dataclasses.is_dataclass(value):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    if hasattr(value, "__dict__"):
        return list(vars(value).values())
    return []


def _reachable(root: Any) -> Iterator[Any]:
    """Every object reachable from ``root`` but atoms, once each."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, ATOMS) or id(value) in seen:
            continue
        seen.add(id(value))
        yield value
        stack.extend(_children(value))


def mutable_parts(root: Any) -> dict[int, Any]:
    """Every object reachable from ``root`` that can be changed in place, by id."""
    return {
        id(value): value
        for value in _reachable(root)
        if not isinstance(value, (tuple, frozenset)) and not _frozen(value)
    }


def shared_mutables(original: Any, copied: Any) -> list[str]:
    """The mutable objects the copy shares with the original (none, for a safe copy)."""
    mine = mutable_parts(original)
    return [repr(v)[:80] for i, v in mutable_parts(copied).items() if i in mine]


def immutable_records_hold_only_immutables(root: Any) -> list[str]:
    """Records shared by copies (``shared_copy``) whose contents could still change."""
    problems = []
    for value in _reachable(root):
        if getattr(type(value), "__deepcopy__", None) is shared_copy:
            inner = mutable_parts(value)
            inner.pop(id(value), None)
            problems += [f"{type(value).__name__} holds {type(v).__name__}" for v in inner.values()]
    return problems
