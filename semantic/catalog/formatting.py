"""Numbers as people read them, per the metric's YAML format (number, percent, cny, duration).

One rule for every place a number is shown (tiles, tables, charts, the CLI's tables):

- ``percent``: ``45.3%``, never the fraction ``0.453``;
- ``cny``: ``¥1,234.50`` below ¥10,000 and whole yuan with thousands separators from there
  (``¥537,421``); in Chinese ``万`` and ``亿`` from ten thousand (``¥53.74万``, ``¥1.23亿``);
- ``duration``: ``1m 35s``, ``24h 56m``, ``3d 4h``, never raw seconds;
- ``number``: thousands separators, two decimals when not whole.

CSV files keep the raw numbers (a spreadsheet computes with them); only their headers are labels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

# Result columns that are not metrics but have a format of their own (funnels, retention, experiments).
RESULT_COLUMN_FORMATS = {
    "conversion_from_previous": "percent",
    "conversion_from_first": "percent",
    "median_seconds_to_convert": "duration",
    "rate": "percent",
    "users": "number",
    "cohort_size": "number",
    "retained": "number",
}
TEN_THOUSAND, HUNDRED_MILLION = 10_000, 100_000_000


def format_value(value: float | int | None, fmt: str, language: str = "en") -> str:
    """``0.2834`` as ``28.3%``, ``1234.5`` CNY as ``¥1,234.50``, ``95`` seconds as ``1m 35s``.

    >>> format_value(0.2834, "percent"), format_value(1234.5, "cny"), format_value(95, "duration")
    ('28.3%', '¥1,234.50', '1m 35s')
    >>> format_value(537420.5, "cny"), format_value(537420.5, "cny", "zh"), format_value(123456789, "cny", "zh")
    ('¥537,421', '¥53.74万', '¥1.23亿')
    >>> format_value(89819, "duration"), format_value(277200, "duration")
    ('24h 56m', '3d 5h')
    """
    if value is None:
        return "–"
    if fmt == "percent":
        return f"{value:.1%}"
    if fmt == "cny":
        return _money(float(value), language)
    if fmt == "duration":
        return _duration(float(value))
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _money(value: float, language: str) -> str:
    size = abs(value)
    if language == "zh" and size >= HUNDRED_MILLION:
        return f"¥{value / HUNDRED_MILLION:,.2f}亿"
    if language == "zh" and size >= TEN_THOUSAND:
        return f"¥{value / TEN_THOUSAND:,.2f}万"
    if size >= TEN_THOUSAND:  # whole yuan, halves rounded away from zero (format() would round them to even)
        return f"¥{int(math.copysign(math.floor(size + 0.5), value)):,}"
    return f"¥{value:,.2f}"


def _duration(value: float) -> str:
    seconds = int(round(value))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 3:
        return f"{days}d {hours}h"
    hours += 24 * days
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def format_p_value(p: float | None) -> str:
    """A p-value as people read it: ``< 0.001`` for the tiny ones (never ``9.488e-24``), else three decimals.

    >>> format_p_value(9.488e-24), format_p_value(0.04213), format_p_value(None)
    ('< 0.001', '0.042', '–')
    """
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def format_change(value: float | None) -> str:
    """A relative change or lift with its sign: ``+12.3%`` (``–`` when unknown).

    >>> format_change(0.1234), format_change(-0.05), format_change(None)
    ('+12.3%', '-5.0%', '–')
    """
    return "–" if value is None else f"{value:+.1%}"


def format_points(value: float | None) -> str:
    """A difference of two rates in percentage points: ``+4.2 pp``.

    >>> format_points(0.0421), format_points(None)
    ('+4.2 pp', '–')
    """
    return "–" if value is None else f"{value * 100:+.1f} pp"


def column_formats(columns: Iterable[str], metric_formats: Mapping[str, str]) -> dict[str, str]:
    """The format of each result column that has one: the metric's, or a funnel's, retention's own."""
    out = {}
    for column in columns:
        if column in metric_formats:
            out[column] = metric_formats[column]
        elif column in RESULT_COLUMN_FORMATS:
            out[column] = RESULT_COLUMN_FORMATS[column]
    return out


def format_cell(value: Any, fmt: str | None, language: str = "en") -> Any:
    """A table cell: formatted when the column has a format and the value is a number, else as it is ('' for NULL)."""
    if value is None:
        return ""
    if fmt is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_value(value, fmt, language)
    return value
