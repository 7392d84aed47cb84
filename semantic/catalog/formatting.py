"""Numbers as people read them, per the metric's YAML format (number, percent, cny, duration)."""

from __future__ import annotations


def format_value(value: float | int | None, fmt: str) -> str:
    """``0.2834`` as ``28.3%``, ``1234.5`` CNY as ``¥1,234.50``, ``95`` seconds as ``1m 35s``.

    >>> format_value(0.2834, "percent"), format_value(1234.5, "cny"), format_value(95, "duration")
    ('28.3%', '¥1,234.50', '1m 35s')
    """
    if value is None:
        return "–"
    if fmt == "percent":
        return f"{value:.1%}"
    if fmt == "cny":
        return f"¥{value:,.2f}"
    if fmt == "duration":
        seconds = int(round(value))
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        if hours:
            return f"{hours}h {minutes}m"
        return f"{minutes}m {secs}s" if minutes else f"{secs}s"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
