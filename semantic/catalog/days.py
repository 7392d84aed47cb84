"""Days a person types or writes in YAML: one reader, one range.

Every date reaches SQL as a literal, and date arithmetic (``end + 1 day``,
``as of - 30 days``) runs in Python first, so a day near the end of the
calendar overflows before any query is built. Days outside
:data:`FIRST_DAY`..:data:`LAST_DAY` are refused in one line instead.
"""

from __future__ import annotations

from datetime import date, datetime

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)


class DayError(ValueError):
    """Not a day finlens accepts; the message is one line."""


def as_day(value: object) -> date:
    """``value`` (a date, a datetime or text ``YYYY-MM-DD``) as a day within the accepted range.

    >>> as_day("2026-03-10")
    datetime.date(2026, 3, 10)

    Raises:
        DayError: not a day, or outside 1900-01-01 .. 2200-12-31.
    """
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        try:
            day = date.fromisoformat(text) if len(text) == 10 else _fail(text)
        except ValueError:
            raise DayError(f"bad date {text[:40]!r}: use YYYY-MM-DD, e.g. 2026-03-10") from None
    check_day(day)
    return day


def check_day(day: date) -> date:
    """``day`` itself when within the accepted range.

    Raises:
        DayError: before 1900-01-01 or after 2200-12-31.
    """
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DayError(f"date {day.isoformat()} is out of range: use a day between {FIRST_DAY} and {LAST_DAY}")
    return day


def _fail(text: str) -> date:
    raise ValueError(text)
