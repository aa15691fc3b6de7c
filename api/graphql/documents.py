"""Each distinct GraphQL document parsed and validated once, not on every request.

Clients send the same few query texts again and again; parsing and validating one (the
transcript page) was a quarter of a read's server CPU. ``CachedDocuments`` keeps, per schema, a
bounded LRU of documents by (text, parse options), each with its validation errors by rule set
(the rule classes are fixed, so a document meets one or two rule sets: with and without
``OperationNamed``). A document's verdict depends on its text and the rules only: validation does
not see variables (``QueryCost`` counts a variable page as the largest) nor the caller.

On a hit the whole validation step is skipped: the cached errors, ``DocumentSize``'s included,
are the answer (strawberry does not validate a context that already has errors set). On a miss
strawberry parses and validates as before, and the outcome is stored afterwards, so parse
errors and every refusal look exactly as without the cache. Texts over ``MAX_CACHED_TEXT``
characters (a credential written inline, say) are never stored: the cache's memory stays bounded
by ``maxsize`` times a small document (tokens are bounded by ``MaxTokensLimiter`` too).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

from graphql import ASTValidationRule, DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension

MAX_CACHED_TEXT = 16 * 1024  # characters
DEFAULT_MAXSIZE = 256

Rules = tuple[type[ASTValidationRule], ...]


@dataclass
class Entry:
    document: DocumentNode
    errors: dict[Rules, tuple[GraphQLError, ...]] = field(default_factory=dict)


class DocumentCache:
    """A bounded LRU of parsed documents and their validation errors. Thread-safe: a schema
    may also be executed synchronously from worker threads."""

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, document: DocumentNode) -> None:
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = Entry(document)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)


class CachedDocuments(SchemaExtension):
    """Parsing and validation through a ``DocumentCache``. It must come after every extension
    that sets parse options or validation rules in ``on_operation``, and before any other
    ``on_validate`` (``DocumentSize``): on a hit, none of them has anything left to do."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache
        self._key: Hashable | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        text = context.query
        self._key = None
        if text is None or len(text) > MAX_CACHED_TEXT or context.graphql_document is not None:
            yield
            return
        key = (text, tuple(sorted(context.parse_options.items())))
        entry = self.cache.get(key)
        if entry is not None:
            context.graphql_document = entry.document  # strawberry then skips its parse
        yield
        if context.graphql_document is not None:
            self._key = key
            if entry is None:
                self.cache.put(key, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry = self.cache.get(self._key) if self._key is not None else None
        if entry is None or entry.document is not context.graphql_document:
            yield
            return
        rules = context.validation_rules
        cached = entry.errors.get(rules)
        if cached is not None and context.pre_execution_errors is None:
            context.pre_execution_errors = list(cached)
            yield
            return
        yield
        if cached is None and context.pre_execution_errors is not None:
            entry.errors[rules] = tuple(context.pre_execution_errors)
