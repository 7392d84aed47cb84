"""Rendering result rows as an aligned table, JSON or CSV for the command line."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Any

from semantic.catalog.formatting import format_value


def render_rows(columns: list[str], rows: list[dict[str, Any]], fmt: str, formats: dict[str, str] | None = None) -> str:
    """Rows as text in ``fmt`` (table, json or csv), ending with a newline.

    A table shows each column in its ``formats`` entry (a metric's YAML format: ``45.3%``, ``¥1,234.50``,
    ``1m 35s``); JSON and CSV keep the raw numbers, for programs.
    """
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    return render_table(columns, rows, formats)


def _cell(value: Any, fmt: str | None = None) -> str:
    if value is None:
        return "NULL"
    if fmt is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_value(value, fmt)
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:,.2f}"
    return str(value)


def render_table(columns: list[str], rows: list[dict[str, Any]], formats: dict[str, str] | None = None) -> str:
    formats = formats or {}
    cells = [[_cell(row.get(c), formats.get(c)) for c in columns] for row in rows]
    widths = [max([_width(c), *(_width(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(_pad(c, w) for c, w in zip(columns, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(_pad(v, w, right=_numeric(v)) for v, w in zip(r, widths)) for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Terminal columns ``text`` takes: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def _numeric(text: str) -> bool:
    try:
        float(text.replace(",", "").lstrip("¥").rstrip("%"))
        return True
    except ValueError:
        return False
