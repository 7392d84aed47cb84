"""Evaluating alerts: the latest finished period at an instant, or every period of a range.

Both go through the same code, so a range evaluated at once (the app's chart, the history
benchmark) gives the same verdicts as evaluating it period by period with ``--at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from connectors.base import Warehouse
from semantic.analyses.alert_conditions import Outcome, Point, judge
from semantic.analyses.alert_periods import Period, latest_period, periods_between
from semantic.analyses.alert_series import Series, fetch, key_text
from semantic.catalog.alert_specs import Alert
from semantic.catalog.catalog import Catalog


@dataclass(frozen=True)
class Evaluation:
    """One alert, one ``by`` value, one period: the number, its baseline and bounds, and the verdict."""

    alert: str
    by: dict[str, Any]
    period: Period
    outcome: Outcome

    @property
    def key(self) -> str:
        return key_text(self.by)

    @property
    def fired(self) -> bool:
        return self.outcome.fired

    def to_json(self) -> dict[str, Any]:
        """``alert, by, period, value, baseline, threshold, fired, reason`` plus status, band, volume and grain."""
        o = self.outcome
        return {
            "alert": self.alert,
            "by": self.by,
            "period": self.period.bucket,
            "grain": self.period.grain,
            "value": o.value,
            "baseline": o.baseline,
            "threshold": o.threshold,
            "low": o.low,
            "high": o.high,
            "volume": o.volume,
            "fired": o.fired,
            "status": o.status,
            "reason": o.reason,
        }


def history_needed(alert: Alert) -> int:
    """How many periods before the evaluated one are read: what the condition compares with, and at least one.

    The one before finds the ``by`` values that went silent: a platform with page views yesterday and
    none today is evaluated at 0 (a count) rather than forgotten.
    """
    condition = alert.condition
    if condition.kind == "change":
        return 1 if condition.vs == "previous_period" else (7 if alert.grain == "day" else 168)
    if condition.kind == "anomaly":
        return max(1, condition.baseline_periods or 0)
    return 1


def evaluate_periods(
    catalog: Catalog, alert: Alert, warehouse: Warehouse, periods: list[Period]
) -> tuple[list[Evaluation], Series]:
    """Every ``by`` value in each of ``periods``, by period then value, and the series they were judged on."""
    if not periods:
        return [], Series(by=alert.by)
    periods = sorted(periods)
    back = history_needed(alert)
    span = periods_between(periods[0].shifted(-back), periods[-1])
    series = fetch(catalog, alert, warehouse, span)
    evaluations = []
    for key in series.keys():
        values, volumes = series.values.get(key, {}), series.volumes.get(key, {})
        points = {p: Point(p, values.get(p.bucket), volumes.get(p.bucket)) for p in span}
        for period in periods:
            history = [points[p] for p in span if period.shifted(-back) <= p < period]
            outcome = judge(alert.condition, points[period], history, alert.min_volume)
            evaluations.append(Evaluation(alert.name, series.by_dict(key), period, outcome))
    evaluations.sort(key=lambda e: (e.period, e.key))
    return evaluations, series


def evaluate_at(catalog: Catalog, alert: Alert, warehouse: Warehouse, at: datetime) -> list[Evaluation]:
    """The last period that ended (and matured) at or before ``at``, for every ``by`` value."""
    evaluations, _ = evaluate_periods(catalog, alert, warehouse, [latest_period(catalog, alert, at)])
    return evaluations


def evaluate_range(catalog: Catalog, alert: Alert, warehouse: Warehouse, first: date, last: date) -> list[Evaluation]:
    """Every period from the start of ``first`` to the end of ``last`` (a funnel's only once matured)."""
    start = datetime.combine(first, datetime.min.time())
    final = latest_period(catalog, alert, datetime.combine(last + timedelta(days=1), datetime.min.time()))
    first_period = Period(start, alert.grain)
    if final < first_period:
        return []
    evaluations, _ = evaluate_periods(catalog, alert, warehouse, periods_between(first_period, final))
    return evaluations
