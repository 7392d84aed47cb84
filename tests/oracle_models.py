"""Hand-written twins of the analysis models: funnel trends and time to convert, unbounded retention and any
cohort period, intervals, LTV and stickiness. Written from ``semantic/README.md`` without ``semantic``.

SQL twins are DuckDB SQL in the style of ``tests/oracle_cohorts.py`` (the benchmark times them); the funnel
trend is a plain Python loop like ``funnel_python``. Each takes an :class:`~tests.oracle_sql_base.Ask` and
predicates over the events alias ``e`` already written out (``tests/oracle_sql.py`` builds them from YAML).
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left
from dataclasses import replace
from itertools import groupby
from typing import Any

from tests.oracle_cohorts import Funnel, Retention, _plus_periods, retention_sql
from tests.oracle_sql_base import Ask, NoOracle, _group, _keys, _select, bucket, fetch, q

PERCENTILES = (10, 25, 50, 75, 90)


def percentile(values: list[float], p: float) -> float | None:
    """The continuous percentile (PERCENTILE_CONT): position (n - 1) p in the sorted values, interpolated."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _bucket_of(micros: int, grain: str) -> str:
    day = (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micros)).date()
    if grain == "week":
        day -= dt.timedelta(days=day.weekday())
    elif grain == "month":
        day = day.replace(day=1)
    elif grain == "quarter":
        day = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    elif grain == "year":
        day = day.replace(month=1, day=1)
    return day.isoformat()


def funnel_trend_python(con: Any, ask: Ask, funnel: Funnel) -> list[dict[str, Any]]:
    """The funnel per entry period: each user under the ``ask.grain`` bucket (and value) of their earliest
    in-range step-1 event, counted by their deepest path (the first start reaching it), as ``funnel_python``
    walks it; rows also carry the 10th..90th percentiles of the seconds to convert."""
    n = len(funnel.steps)
    flags = ", ".join(f"COALESCE({p}, FALSE)" for _, p in funnel.steps)
    any_step = " OR ".join(f"COALESCE({p}, FALSE)" for _, p in funnel.steps)
    sql = (
        f"SELECT e.user_id, epoch_us(e.event_time), e.event_id, {ask.dim}, {flags} FROM events e {ask.join} "
        f"WHERE e.user_id IS NOT NULL AND ({any_step}){ask.filter()} ORDER BY e.user_id, e.event_time, e.event_id"
    )
    lo = (ask.start - dt.date(1970, 1, 1)).days * 86_400_000_000
    hi = (ask.end + dt.timedelta(days=1) - dt.date(1970, 1, 1)).days * 86_400_000_000
    window = funnel.window_seconds * 1_000_000
    groups: dict[tuple, list[list[int]]] = {}
    for _, rows in groupby(fetch(con, sql)[1], key=lambda r: r[0]):
        events = list(rows)
        by_step = [[(r[1], i) for i, r in enumerate(events) if r[4 + k]] for k in range(n)]
        times = [[t for t, _ in s] for s in by_step]
        best: list[int] | None = None
        key: tuple = ()
        for i, row in enumerate(events):
            if not row[4] or not lo <= row[1] < hi:
                continue
            if best is None:
                key = (_bucket_of(row[1], ask.grain or "day") if ask.grain else None, row[3] if ask.by else None)
            used, path = {i}, [row[1]]
            for k in range(1, n):
                pos = bisect_left(times[k], path[-1])
                while pos < len(by_step[k]) and by_step[k][pos][1] in used:
                    pos += 1
                if pos == len(by_step[k]) or by_step[k][pos][0] > row[1] + window:
                    break
                used.add(by_step[k][pos][1])
                path.append(by_step[k][pos][0])
            if best is None or len(path) > len(best):
                best = path
        if best is not None:
            groups.setdefault(key, []).append(best)
    out = []
    for (period, value), paths in groups.items():
        reached = [sum(1 for p in paths if len(p) >= k) for k in range(1, n + 1)]
        for k, (step_name, _) in enumerate(funnel.steps, start=1):
            gaps = [(p[k - 1] - p[k - 2]) / 1_000_000 for p in paths if len(p) >= k] if k > 1 else []
            row: dict[str, Any] = {}
            if ask.grain:
                row[ask.grain] = period
            if ask.by:
                row[ask.by] = value
            row.update(
                step=k,
                step_name=step_name,
                users=reached[k - 1],
                conversion_from_previous=reached[k - 1] / reached[max(k - 2, 0)] if reached[max(k - 2, 0)] else None,
                conversion_from_first=reached[k - 1] / reached[0] if reached[0] else None,
                median_seconds_to_convert=percentile(gaps, 0.5),
                **{f"seconds_to_convert_p{p}": percentile(gaps, p / 100) for p in PERCENTILES},
            )
            out.append(row)
    return out


def retention_twin(ask: Ask, metric: Retention, mode: str = "exact") -> str:
    """Retention in either mode, with ``ask.grain`` as the cohort period when given."""
    if ask.grain:
        metric, ask = replace(metric, period=ask.grain), replace(ask, grain=None)
    if mode == "exact":
        return retention_sql(ask, metric)
    if ask.where:
        raise NoOracle("the spec defines no filter for retention")
    key = [f"c.dim_value AS {q(ask.by)}"] if ask.by else []
    outer_key = [q(ask.by)] if ask.by else []
    target = _plus_periods(metric.period, "c.cohort", "p.period")
    period_end = _plus_periods(metric.period, "cohort", "period + 1")
    return f"""
WITH first_cohort_events AS (
    SELECT DISTINCT ON (e.user_id) e.user_id, e.event_time, {ask.dim} AS dim_value
    FROM events e {ask.join}
    WHERE e.user_id IS NOT NULL AND ({metric.cohort})
    ORDER BY e.user_id, e.event_time, e.event_id
),
cohort_users AS (
    SELECT user_id, {bucket(metric.period, "event_time")} AS cohort, dim_value
    FROM first_cohort_events WHERE event_time >= {ask.lo} AND event_time < {ask.hi}
),
last_return AS (
    SELECT e.user_id, MAX({bucket(metric.period, "e.event_time")}) AS last_period
    FROM events e WHERE e.user_id IS NOT NULL AND ({metric.returning}) GROUP BY e.user_id
),
periods AS (SELECT CAST(range AS INTEGER) AS period FROM range(1, {metric.periods + 1})),
grid AS (
    SELECT c.cohort, {", ".join([*key, "p.period"])}, COUNT(*) AS cohort_size,
           COUNT(*) FILTER (WHERE r.last_period >= {target}) AS retained
    FROM cohort_users c CROSS JOIN periods p LEFT JOIN last_return r ON r.user_id = c.user_id
    GROUP BY ALL
)
SELECT {", ".join(["cohort", *outer_key, "period", "cohort_size"])},
       CASE WHEN CAST({period_end} AS TIMESTAMP) <= (SELECT MAX(event_time) FROM events) THEN retained END AS retained,
       CASE WHEN CAST({period_end} AS TIMESTAMP) <= (SELECT MAX(event_time) FROM events)
            THEN CAST(retained AS DOUBLE) / cohort_size END AS rate
FROM grid"""


def interval_sql(ask: Ask, start: str, end: str, window_seconds: int) -> str:
    """Each in-range start event and the earliest end event after it in (time, starts first, event id) order
    (a MIN over the following rows of a window), kept when within the window; stats over the intervals."""
    keys = _keys(ask, "event_time", "dim_value")
    stats = ", ".join(f"quantile_cont(seconds, {p / 100}) AS p{p}_seconds" for p in PERCENTILES)
    return f"""
WITH ev AS (
    SELECT e.user_id, e.event_time, e.event_id, {ask.dim} AS dim_value,
           COALESCE({start}, FALSE) AS is_start, COALESCE({end}, FALSE) AS is_end
    FROM events e {ask.join}
    WHERE e.user_id IS NOT NULL AND e.event_time >= {ask.lo}
      AND e.event_time < {ask.hi} + INTERVAL '{window_seconds} seconds'{ask.filter()}
),
marked AS (
    SELECT *, MIN(CASE WHEN is_end THEN event_time END) OVER (
        PARTITION BY user_id ORDER BY event_time, CASE WHEN is_start THEN 0 ELSE 1 END, event_id
        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_end
    FROM ev WHERE is_start OR is_end
),
intervals AS (
    SELECT user_id, event_time, dim_value, (epoch_us(next_end) - epoch_us(event_time)) / 1000000.0 AS seconds
    FROM marked
    WHERE is_start AND event_time < {ask.hi} AND next_end <= event_time + INTERVAL '{window_seconds} seconds'
)
{_select(keys, ["COUNT(DISTINCT user_id) AS users", "COUNT(*) AS intervals", "AVG(seconds) AS mean_seconds", stats])}
FROM intervals{_group(keys)}"""


def ltv_sql(ask: Ask, cohort: str, value: str, amount: str, period: str, periods: int) -> str:
    """Cohorts as retention's; each value event from the cohort event on, at period index
    (calendar periods from the cohort's), summed cumulatively over a 0..periods grid; NULL until elapsed."""
    if ask.where:
        raise NoOracle("the spec defines no filter for ltv")
    if ask.grain:
        period, ask = ask.grain, replace(ask, grain=None)
    index = {
        "day": "datediff('day', c.cohort, CAST(e.event_time AS DATE))",
        "week": f"datediff('day', c.cohort, {bucket('week', 'e.event_time')}) // 7",
        "month": f"datediff('month', c.cohort, {bucket('month', 'e.event_time')})",
    }[period]
    by = [f"s.dim_value AS {q(ask.by)}"] if ask.by else []
    period_end = _plus_periods(period, "s.cohort", "p.period + 1")
    known = f"CAST({period_end} AS TIMESTAMP) <= (SELECT MAX(event_time) FROM events)"
    return f"""
WITH first_cohort AS (
    SELECT DISTINCT ON (e.user_id) e.user_id, e.event_time, {ask.dim} AS dim_value
    FROM events e {ask.join}
    WHERE e.user_id IS NOT NULL AND ({cohort})
    ORDER BY e.user_id, e.event_time, e.event_id
),
cohort_users AS (
    SELECT user_id, event_time AS cohort_time, {bucket(period, "event_time")} AS cohort, dim_value
    FROM first_cohort WHERE event_time >= {ask.lo} AND event_time < {ask.hi}
),
vals AS (
    SELECT c.user_id, c.cohort, c.dim_value, {index} AS n, {amount} AS amount
    FROM cohort_users c JOIN events e ON e.user_id = c.user_id
    WHERE ({value}) AND e.event_time >= c.cohort_time
),
periods AS (SELECT CAST(range AS INTEGER) AS period FROM range(0, {periods + 1})),
sizes AS (SELECT cohort, dim_value, COUNT(*) AS cohort_size FROM cohort_users GROUP BY ALL),
sums AS (
    SELECT v.cohort, v.dim_value, p.period, SUM(v.amount) AS amount
    FROM vals v JOIN periods p ON v.n <= p.period GROUP BY ALL
)
SELECT {", ".join(["s.cohort AS cohort", *by, "p.period AS period", "s.cohort_size"])},
       CASE WHEN {known} THEN COALESCE(m.amount, 0) END AS amount,
       CASE WHEN {known} THEN COALESCE(m.amount, 0) / s.cohort_size END AS amount_per_user
FROM sizes s CROSS JOIN periods p
LEFT JOIN sums m ON m.cohort = s.cohort AND m.dim_value IS NOT DISTINCT FROM s.dim_value AND m.period = p.period"""


def stickiness_sql(ask: Ask, active: str | None, period: str) -> str:
    """Distinct (period, value, user, day) of the active events in range; users by their count of days."""
    name = ask.grain or period
    key = [f"dim_value AS {q(ask.by)}"] if ask.by else []
    return f"""
WITH days AS (
    SELECT DISTINCT {bucket(name, "e.event_time")} AS period_start, {ask.dim} AS dim_value, e.user_id,
           CAST(e.event_time AS DATE) AS active_day
    FROM events e {ask.join}
    WHERE e.user_id IS NOT NULL AND {ask.in_range()} AND ({active or "TRUE"}){ask.filter()}
),
per_user AS (SELECT period_start, dim_value, user_id, COUNT(*) AS active_days FROM days GROUP BY ALL)
SELECT {", ".join([f"period_start AS {q(name)}", *key, "active_days", "COUNT(*) AS users"])}
FROM per_user GROUP BY ALL"""
