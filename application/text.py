"""Text no store can hold: a NUL character (PostgreSQL refuses it in text and JSONB) or an
unpaired UTF-16 surrogate (no UTF-8 encoding exists for it; Python's ``json`` decodes a lone
``"\\ud800"`` escape into one). Checked wherever decoded JSON enters the bank: the API's request
bodies and query literals (api.graphql), and the JSON inside credentials (application.credentials),
which the request check sees only as an escaped string."""

from __future__ import annotations

import re
from typing import Any

# NUL, and the surrogate code points (Python strings hold them unpaired: JSON "\ud800").
UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")
UNSAFE_MESSAGE = "text must not contain NUL characters or unpaired surrogates"


def first_unsafe(value: Any) -> str | None:
    """The first string (or object key) in a decoded JSON value holding unsafe text, else None.
    Iterative: a value nested as deep as the decoder allows must not overflow the stack here."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if UNSAFE_TEXT.search(item):
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
