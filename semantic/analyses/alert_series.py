"""An alert's numbers for a set of periods, per ``by`` value, asked of the semantic layer.

Catalog metrics come from one grouped query over the whole span (grain hour or day); a
retention from one query over the cohort days; a funnel from one query per day (a funnel has no
time grain). The ``min_volume`` metric rides in the same query when it reads the same model.
Nothing here builds SQL: every question is a :class:`~semantic.compiler.query.Query`.

A ``by`` value that has no row in a period counts as 0 for counts and sums (nothing happened)
and as unknown for rates and averages. A period outside the data's first and last day is unknown
for every metric: before the warehouse begins nothing was measured, which is not zero.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from connectors.base import Warehouse
from semantic.analyses.alert_periods import Period
from semantic.catalog.alert_specs import Alert, MetricRef
from semantic.catalog.catalog import Catalog
from semantic.catalog.specs import AggregateMetric, FirstSeenMetric, SessionMetric
from semantic.compiler.query import Query
from semantic.compiler.results import run_query
from semantic.compiler.span import time_span

MAX_KEYS = 500  # by values kept per alert (the largest by volume): a dimension with more is not an alert
Key = tuple[Any, ...]


@dataclass
class Series:
    """``values[key][bucket]`` and ``volumes[key][bucket]`` for the fetched periods."""

    by: tuple[str, ...]
    values: dict[Key, dict[str, float | None]] = field(default_factory=dict)
    volumes: dict[Key, dict[str, float | None]] = field(default_factory=dict)

    def keys(self) -> list[Key]:
        return list(dict.fromkeys([*self.values, *self.volumes]))

    def by_dict(self, key: Key) -> dict[str, Any]:
        return dict(zip(self.by, key))


def key_text(by: dict[str, Any]) -> str:
    """A stable text for one ``by`` value (``{}`` without ``by``), used to store and link to it."""
    return json.dumps(by, sort_keys=True, ensure_ascii=False, default=str)


def counts_as_zero(catalog: Catalog, ref: MetricRef) -> bool:
    """Whether a missing row means 0 for ``ref`` (counts, sums, users, cohorts), rather than unknown."""
    if ref.kind in ("funnel_users", "retention_cohort"):
        return True
    if ref.kind != "metric":
        return False
    metric = catalog.metrics[ref.metric]
    if isinstance(metric, AggregateMetric):
        return metric.aggregation in ("count", "count_distinct", "sum")
    return isinstance(metric, FirstSeenMetric) or (isinstance(metric, SessionMetric) and metric.measure == "sessions")


def fetch(catalog: Catalog, alert: Alert, warehouse: Warehouse, periods: Iterable[Period]) -> Series:
    """The alert's value (and volume) for each of ``periods``, every ``by`` value found in them."""
    wanted = sorted(set(periods))
    series = Series(by=alert.by)
    if not wanted:
        return series
    volume = alert.min_volume.metric if alert.min_volume else None
    ref = alert.metric
    same_query = volume is not None and volume.kind == ref.kind == "metric"
    if ref.kind == "metric":
        metrics = (ref.metric, *((volume.metric,) if same_query and volume else ()))
        rows = _aggregate(catalog, alert, warehouse, wanted, metrics)
        _put(series.values, rows, alert, ref.metric)
        if same_query and volume:
            _put(series.volumes, rows, alert, volume.metric)
    elif ref.kind.startswith("funnel"):
        for period in wanted:
            rows = run_query(catalog, _query(alert, (ref.metric,), period, period), warehouse).rows
            for row in rows:
                key = tuple(row.get(d) for d in alert.by)
                if row["step"] == ref.step:
                    value = row["users"] if ref.kind == "funnel_users" else row["conversion_from_first"]
                    series.values.setdefault(key, {})[period.bucket] = value
                if volume is not None and volume.kind == "funnel_users" and row["step"] == volume.step:
                    series.volumes.setdefault(key, {})[period.bucket] = row["users"]
    else:
        rows = run_query(catalog, _query(alert, (ref.metric,), wanted[0], wanted[-1]), warehouse).rows
        buckets = {p.bucket for p in wanted}
        for row in rows:
            bucket = str(row["cohort"])[:10]
            if bucket not in buckets:
                continue
            key = tuple(row.get(d) for d in alert.by)
            if ref.kind == "retention_cohort" or row["period"] == ref.period:
                value = row["cohort_size"] if ref.kind == "retention_cohort" else row["rate"]
                series.values.setdefault(key, {})[bucket] = value
            if volume is not None and volume.kind == "retention_cohort":
                series.volumes.setdefault(key, {})[bucket] = row["cohort_size"]
    if volume is not None and volume.kind == "metric" and not same_query:
        _put(series.volumes, _aggregate(catalog, alert, warehouse, wanted, (volume.metric,)), alert, volume.metric)
    span = time_span(catalog, warehouse, catalog.metrics[ref.metric].model)
    measured = [p for p in wanted if span is not None and span[0] <= p.start.date() <= span[1]]
    _fill(catalog, alert, series, wanted, set(measured))
    return series


def _query(alert: Alert, metrics: tuple[str, ...], first: Period, last: Period, grain: str | None = None) -> Query:
    return Query(
        metrics=metrics,
        dimensions=alert.by,
        grain=grain,
        start=first.start.date(),
        end=(last.end - timedelta(microseconds=1)).date(),
        where=alert.where,
    )


def _aggregate(
    catalog: Catalog, alert: Alert, warehouse: Warehouse, wanted: list[Period], metrics: tuple[str, ...]
) -> list[dict[str, Any]]:
    buckets = {p.bucket for p in wanted}
    rows = run_query(catalog, _query(alert, metrics, wanted[0], wanted[-1], alert.grain), warehouse).rows
    return [row for row in rows if str(row[alert.grain]) in buckets]


def _put(target: dict[Key, dict[str, float | None]], rows: list[dict[str, Any]], alert: Alert, metric: str) -> None:
    for row in rows:
        key = tuple(row.get(d) for d in alert.by)
        target.setdefault(key, {})[str(row[alert.grain])] = row.get(metric)


def _fill(catalog: Catalog, alert: Alert, series: Series, wanted: list[Period], measured: set[Period]) -> None:
    """Every key gets every period: 0 for counts with no row in a measured period, else unknown; at most MAX_KEYS keys."""
    keys = series.keys()
    if not alert.by and not keys:
        keys = [()]
    if len(keys) > MAX_KEYS:
        totals = {k: sum(v or 0 for v in (series.volumes.get(k) or series.values.get(k) or {}).values()) for k in keys}
        keys = sorted(keys, key=lambda k: -totals[k])[:MAX_KEYS]
    zero_value = counts_as_zero(catalog, alert.metric)
    zero_volume = alert.min_volume is not None and counts_as_zero(catalog, alert.min_volume.metric)
    values, volumes = series.values, series.volumes
    series.values, series.volumes = {}, {}
    for key in keys:
        series.values[key] = {p.bucket: _known(values, key, p, measured, zero_value) for p in wanted}
        if alert.min_volume is not None:
            series.volumes[key] = {p.bucket: _known(volumes, key, p, measured, zero_volume) for p in wanted}


def _known(
    found: dict[Key, dict[str, float | None]], key: Key, period: Period, measured: set[Period], zero: bool
) -> float | None:
    """The number found, 0 for a count with no row, None outside the data's days (whatever a query filled in)."""
    if period not in measured:
        return None
    return found.get(key, {}).get(period.bucket, 0 if zero else None)
