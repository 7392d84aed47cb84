"""The periods an alert evaluates: whole hours or days of local wall-clock time, as event times are.

A period is evaluated once it has ended and its number can no longer change: an hour or a day
at once, a funnel's day once its conversion window has passed for every user who entered that
day, a retention cohort's day once period N has ended. So ``--at`` in the past never reads what
happened after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from semantic.catalog.alert_specs import Alert
from semantic.catalog.catalog import Catalog
from semantic.catalog.specs import FunnelMetric

STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True, order=True)
class Period:
    """``[start, start + one grain)``; ``bucket`` is how query results name it."""

    start: datetime
    grain: str

    @property
    def end(self) -> datetime:
        return self.start + STEP[self.grain]

    @property
    def bucket(self) -> str:
        """``2026-07-16`` for a day, ``2026-07-16 14:00:00`` for an hour (the query's own bucket text)."""
        return self.start.strftime("%Y-%m-%d") if self.grain == "day" else self.start.strftime("%Y-%m-%d %H:%M:%S")

    @property
    def label(self) -> str:
        """How people read it: ``2026-07-16`` or ``2026-07-16 14:00–15:00``."""
        if self.grain == "day":
            return self.bucket
        return f"{self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"

    def shifted(self, periods: int) -> Period:
        return Period(self.start + periods * STEP[self.grain], self.grain)

    def phase(self, seasonality: str | None) -> int:
        """Where the period falls in its season: the weekday, the hour of day, or the hour of the week."""
        if seasonality == "weekly":
            return self.start.weekday() if self.grain == "day" else self.start.weekday() * 24 + self.start.hour
        if seasonality == "daily" and self.grain == "hour":
            return self.start.hour
        return 0


def floor(moment: datetime, grain: str) -> datetime:
    """The start of the hour or day holding ``moment``."""
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if grain == "day" else moment


def maturity(catalog: Catalog, alert: Alert) -> timedelta:
    """How long after a period ends its number is final: a funnel's window, a retention's N days."""
    metric = catalog.metrics[alert.metric.metric]
    if alert.metric.kind.startswith("funnel") and isinstance(metric, FunnelMetric):
        return timedelta(seconds=metric.window_seconds)
    if alert.metric.kind == "retention_rate":
        return timedelta(days=alert.metric.period or 0)
    if alert.metric.kind == "retention_cohort":
        return timedelta(0)
    return timedelta(0)


def latest_period(catalog: Catalog, alert: Alert, at: datetime) -> Period:
    """The last period that ended (and matured) at or before ``at`` (naive local time).

    >>> from types import SimpleNamespace as S
    >>> hourly = S(grain="hour", metric=S(kind="metric", metric="pv"))
    >>> latest_period(S(metrics={"pv": None}), hourly, datetime(2026, 7, 17, 9, 30)).label
    '2026-07-17 08:00–09:00'
    """
    end = floor(at - maturity(catalog, alert), alert.grain)
    return Period(end - STEP[alert.grain], alert.grain)


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every period from ``first`` to ``last``, both included."""
    out = []
    current = first
    while current <= last:
        out.append(current)
        current = current.shifted(1)
    return out
