"""Charts as inline SVG, drawn on the server: no chart library, nothing for the browser to fetch,
readable without scripts, and each chart carries its figures as text for screen readers (a
``<title>`` per bar and the table next to it in the page)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

ROW = 26  # px per bar
LABEL = 190  # px for the labels on the left
WIDTH = 640


def bars(
    rows: Sequence[tuple[str, Decimal | float | int]],
    title: str,
    unit: str = "",
    targets: Sequence[Decimal | float | int | None] | None = None,
) -> Markup:
    """Horizontal bars, one per (label, value); with ``targets``, each bar is drawn against its
    target (what is still missing in a lighter colour), as a progress chart."""
    values = [float(v) for _, v in rows]
    goals = [float(t) if t is not None else None for t in (targets or [None] * len(rows))]
    scale = max([*values, *(g for g in goals if g is not None), 1.0])
    span = WIDTH - LABEL - 70
    height = ROW * len(rows) + 8
    parts = [
        f'<svg class="bars" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, ((label, _), value, goal) in enumerate(zip(rows, values, goals, strict=True)):
        y = 4 + i * ROW
        text = f"{_figure(value)}{unit}" + (f" / {_figure(goal)}{unit}" if goal else "")
        parts.append(f'<text x="{LABEL - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>')
        if goal:
            width = span * goal / scale
            parts.append(
                f'<rect class="bar missing" x="{LABEL}" y="{y + 3}" width="{width:.1f}" '
                'height="18" rx="2"/>'
            )
        width = span * min(value, goal or value) / scale
        parts.append(
            f'<rect class="bar" x="{LABEL}" y="{y + 3}" width="{width:.1f}" height="18" rx="2">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        parts.append(
            f'<text x="{LABEL + span * max(value, goal or 0) / scale + 6:.1f}" y="{y + 16}">'
            f"{escape(text)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it was escaped above


def _figure(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
