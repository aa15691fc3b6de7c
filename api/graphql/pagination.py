"""Relay cursor pagination over a stably ordered sequence (cursor = opaque encoding of the key)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from api.graphql.errors import ApiError

T = TypeVar("T")
DEFAULT_PAGE = 20
MAX_PAGE = 100


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise ApiError("INVALID_INPUT", "after is not a cursor from this API") from None
    if "\x00" in key:  # never in a key this API encodes; PostgreSQL text cannot hold it
        raise ApiError("INVALID_INPUT", "after is not a cursor from this API")
    return key


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0:
        raise ApiError("INVALID_INPUT", "first must not be negative")
    if first > MAX_PAGE:
        raise ApiError("INVALID_INPUT", f"first must be at most {MAX_PAGE}")
    return first


@dataclass
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, item)
    has_next: bool
    has_previous: bool


def paginate(
    items: Sequence[T], key: Callable[[T], str], first: int | None, after: str | None
) -> Page[T]:
    """``items`` must be sorted by ``key``; pages continue strictly after the cursor's key."""
    size = page_size(first)
    start = 0
    if after is not None:
        after_key = decode_cursor(after)
        start = next((i for i, item in enumerate(items) if key(item) > after_key), len(items))
    window = items[start : start + size]
    return Page(
        [(encode_cursor(key(item)), item) for item in window],
        has_next=start + size < len(items),
        has_previous=start > 0,
    )


def keyset_page(rows: list[T], key: Callable[[T], str], limit: int, after: str | None) -> Page[T]:
    """``rows`` were fetched with LIMIT ``limit + 1`` after the cursor: the extra row only tells
    that another page exists."""
    window = rows[:limit]
    return Page(
        [(encode_cursor(key(r)), r) for r in window],
        has_next=len(rows) > limit,
        has_previous=after is not None,
    )


def after_int(after: str | None) -> int:
    if after is None:
        return 0
    try:
        value = int(decode_cursor(after))
    except ValueError:
        value = -1
    if not 0 <= value < 2**62:  # cursors are positions: a 64-bit column holds them
        raise ApiError("INVALID_INPUT", "after is not a cursor from this API")
    return value
