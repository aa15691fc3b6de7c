"""Countries that issue identity documents: ISO 3166-1 alpha-2 codes (pycountry's copy of the
Debian iso-codes data, a maintained list, rather than a table of our own)."""

from __future__ import annotations

from functools import cache

import pycountry

from domain.errors import InvalidInput


@cache
def codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def parse_country(value: object, field: str = "identityDocumentCountry") -> str:
    """An assigned ISO 3166-1 alpha-2 code, upper case."""
    if not isinstance(value, str) or value.strip().upper() not in codes():
        raise InvalidInput(
            f"{field} must be an ISO 3166-1 alpha-2 country code, got {value!r}", (field,)
        )
    return value.strip().upper()
