"""Cron expressions as people write them (``0 9 * * 1-5``), checked and made ready for APScheduler.

Standard cron counts weekdays from Sunday = 0 (7 is Sunday too); APScheduler 3 counts from
Monday = 0. Weekdays are therefore rewritten as names (``mon,tue,...``) before a trigger sees
them, so ``1-5`` means Monday to Friday as in crontab. Cron ORs a restricted day of month with a
restricted weekday while APScheduler ANDs them, so restricting both is refused rather than
guessed.
"""

from __future__ import annotations

import re

WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ITEM = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d{1,2}))?$")
_FIELD = re.compile(r"^[0-9*/,\-a-z]{1,60}$")
FIELD_NAMES = ("minute", "hour", "day", "month", "day_of_week")


class CronProblem(ValueError):
    """Not a five-field cron expression this project accepts; the message says which field and why."""


def cron_fields(text: object) -> dict[str, str]:
    """The five fields of ``text`` for ``apscheduler.triggers.cron.CronTrigger(**fields)``.

    >>> cron_fields("0 9 * * 1-5")["day_of_week"]
    'mon,tue,wed,thu,fri'
    >>> cron_fields("*/15 * * * *")["minute"]
    '*/15'
    """
    if not isinstance(text, str) or len(text) > 200:
        raise CronProblem('a schedule is a cron expression in quotes, e.g. "0 9 * * *"')
    parts = text.lower().split()
    if len(parts) != 5:
        raise CronProblem(f"{text!r} has {len(parts)} fields; cron takes 5: minute hour day month weekday")
    for name, part in zip(FIELD_NAMES, parts):
        if not _FIELD.match(part):
            raise CronProblem(f"{text!r}: the {name} field {part!r} is not cron syntax")
    if parts[2] not in ("*", "?") and parts[4] not in ("*", "?"):
        raise CronProblem(f"{text!r} restricts both the day of month and the weekday; restrict one of them")
    fields = dict(zip(FIELD_NAMES, ["*" if p == "?" else p for p in parts]))
    fields["day_of_week"] = _weekdays(fields["day_of_week"], text)
    _check_with_apscheduler(fields, text)
    return fields


def _weekday(token: str, text: str) -> int:
    if token in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(token)
    if token.isdigit() and int(token) <= 7:
        return int(token) % 7
    raise CronProblem(f"{text!r}: {token!r} is not a weekday (0-7 or sun-sat; 0 and 7 are Sunday)")


def _weekdays(field: str, text: str) -> str:
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        match = _ITEM.match(item)
        if not match:
            raise CronProblem(f"{text!r}: the weekday field item {item!r} is not cron syntax")
        span, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise CronProblem(f"{text!r}: a step of 0 in the weekday field")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-")
            first, last = _weekday(low, text), _weekday(high, text)
            if last == 0 and first > 0:  # "5-7", "fri-sun": up to Sunday at the end of the week
                last = 7
            if last < first:
                raise CronProblem(f"{text!r}: the weekday range {span!r} runs backwards")
        else:
            first = last = _weekday(span, text)
        days.update(day % 7 for day in range(first, last + 1, step))
    ordered = sorted(days, key=lambda d: (d + 6) % 7)  # Monday first, as people read a week
    return ",".join(WEEKDAY_NAMES[d] for d in ordered)


def _check_with_apscheduler(fields: dict[str, str], text: str) -> None:
    """APScheduler's own parser decides what each field accepts (ranges, steps, names, bounds)."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger(**fields, timezone="UTC")
    except ValueError as err:
        raise CronProblem(f"{text!r}: {err}") from None
