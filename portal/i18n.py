"""Languages: English (the source texts) and Chinese, from gettext catalogues read with Babel.

Each area of the portal keeps its own catalogue (``locale/zh/LC_MESSAGES/<area>.po``); they are
merged when the portal starts, so no build step is needed. The language comes from ``?lang=``
(remembered in a cookie), else the cookie, else the browser's Accept-Language.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from fastapi import Request

LANGUAGES = ("en", "zh")
COOKIE = "creditbank_lang"
LOCALES = Path(__file__).parent / "locale"


@cache
def catalogue(language: str, area: str = "") -> dict[str, str]:
    """msgid -> translation: every area's catalogue merged, the page's own area last, so that
    a word two areas translate differently reads as its own area says (English: none needed)."""
    table: dict[str, str] = {}
    folder = LOCALES / language / "LC_MESSAGES"
    files = sorted(folder.glob("*.po")) if folder.is_dir() else []
    for po in sorted(files, key=lambda f: (f.stem == area, f.stem == "shell", f.stem)):
        with po.open("rb") as f:
            for message in read_po(f, locale=language):
                if message.id and message.string and not message.fuzzy:
                    table[str(message.id)] = str(message.string)
    return table


def gettext(language: str, area: str = "") -> Any:
    table = catalogue(language, area)

    def translate(text: str, **values: Any) -> str:
        found = table.get(text, text)
        return found % values if values else found

    return translate


def chosen(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGUAGES:
        return str(asked)
    header = request.headers.get("accept-language", "")
    wanted = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",") if part]
    try:
        best = Locale.negotiate(wanted, ["en", "zh"], sep="_")
    except (UnknownLocaleError, ValueError):
        best = None
    return best.language if best is not None else "en"


def formatters(language: str) -> dict[str, Any]:
    locale = "zh_Hans_CN" if language == "zh" else "en_GB"

    def day(value: date | str | None) -> str:
        if not value:
            return ""
        value = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return format_date(value, format="medium", locale=locale)

    def moment(value: datetime | str | None) -> str:
        if not value:
            return ""
        value = datetime.fromisoformat(value) if isinstance(value, str) else value
        return format_datetime(value, format="medium", locale=locale)

    def number(value: Decimal | float | int | str | None, digits: int = 2) -> str:
        if value is None or value == "":
            return ""
        return format_decimal(Decimal(str(value)), format=f"#,##0.{'#' * digits}", locale=locale)

    return {"day": day, "moment": moment, "number": number}
