"""Hand-written twins of the funnel and retention metrics (see ``tests/oracle_sql.py``).

Funnels: an ``ASOF``-join SQL twin for the benchmark and a plain Python loop as the
oracle; retention: its own cohort x period grid. Written from the specification in
``semantic/README.md``, without ``semantic``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from bisect import bisect_left
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from tests.oracle_sql_base import (
    Ask,
    NoOracle,
    _select,
    bucket,
    fetch,
    q,
)

# --- funnels ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    name: str
    steps: tuple[tuple[str, str], ...]  # (step name, SQL predicate over alias e)
    window_seconds: int


BIND_CARD_FUNNEL = Funnel(
    "bind_card_funnel",
    (
        ("register", "e.event = 'register'"),
        ("realname_auth", "e.event = 'realname_auth' AND e.is_success"),
        ("bind_card", "e.event = 'bind_card' AND e.is_success"),
    ),
    7 * 86_400,
)

INVEST_FUNNEL = Funnel(
    "invest_funnel",
    (
        ("product_list", "e.event IN ('$AppViewScreen', '$pageview') AND e.page = 'product_list'"),
        ("product_detail", "e.event IN ('$AppViewScreen', '$pageview') AND e.page = 'product_detail'"),
        ("invest_click", "e.event IN ('$AppClick', '$WebClick') AND e.element = 'invest_button'"),
        ("order_submit", "e.event = 'P2P_order_submit'"),
        ("invest_success", "e.event = 'P2P_invest' AND e.is_success"),
    ),
    86_400,
)

CHANNEL_FUNNEL = Funnel(
    "channel_funnel",
    (
        ("channel_visit", "e.event IN ('$AppViewScreen', '$pageview') AND e.utm_source IS NOT NULL"),
        ("register", "e.event = 'register'"),
        ("bind_card", "e.event = 'bind_card' AND e.is_success"),
        ("first_invest", "e.event = 'P2P_invest' AND e.is_success"),
    ),
    30 * 86_400,
)


def funnel_sql(ask: Ask, funnel: Funnel) -> str:
    """Each in-range step-1 event, then per later step the earliest matching event at or after the
    previous one (an ASOF join), kept while within the window; the user's deepest path, earliest start.

    Exact when no event matches two steps (true of the shipped funnels).
    """
    if ask.grain:
        raise NoOracle("a funnel has no grain")
    n = len(funnel.steps)
    window_end = f"{ask.hi} + INTERVAL '{funnel.window_seconds} seconds'"
    ctes = []
    for k, (_, predicate) in enumerate(funnel.steps, start=1):
        extra = f", e.event_id, {ask.dim} AS dim_value" if k == 1 else ""
        until = ask.hi if k == 1 else window_end
        join = ask.join if k == 1 or (ask.where and "u." in ask.where) else ""
        ctes.append(
            f"s{k} AS (SELECT e.user_id, e.event_time AS t{extra} FROM events e {join} "
            f"WHERE e.user_id IS NOT NULL AND ({predicate}) AND e.event_time >= {ask.lo} AND e.event_time < {until}{ask.filter()})"
        )
    joins = " ".join(
        f"ASOF LEFT JOIN s{k} ON s{k}.user_id = s1.user_id AND s{k}.t >= s{k - 1}.t" for k in range(2, n + 1)
    )
    deadline = f"s1.t + INTERVAL '{funnel.window_seconds} seconds'"
    depth = " + ".join(["1", *(f"CASE WHEN s{k}.t <= {deadline} THEN 1 ELSE 0 END" for k in range(2, n + 1))])
    times = ", ".join(f"s{k}.t AS t{k}" for k in range(1, n + 1))
    ctes.append(f"paths AS (SELECT s1.user_id, s1.event_id, s1.dim_value, {times}, {depth} AS depth FROM s1 {joins})")
    all_times = ", ".join(f"t{k}" for k in range(1, n + 1))
    ctes.append(
        f"best AS (SELECT DISTINCT ON (user_id) user_id, depth, {all_times} FROM paths ORDER BY user_id, depth DESC, t1, event_id)"
    )
    ctes.append("firsts AS (SELECT DISTINCT ON (user_id) user_id, dim_value FROM paths ORDER BY user_id, t1, event_id)")
    counts = ["COUNT(*) AS u1"]
    for k in range(2, n + 1):
        counts.append(f"COUNT(*) FILTER (WHERE b.depth >= {k}) AS u{k}")
        counts.append(
            f"quantile_cont((epoch_us(b.t{k}) - epoch_us(b.t{k - 1})) / 1000000.0, 0.5) FILTER (WHERE b.depth >= {k}) AS m{k}"
        )
    group, key = (" GROUP BY f.dim_value", ["f.dim_value"]) if ask.by else ("", [])
    ctes.append(f"counts AS (SELECT {', '.join([*key, *counts])} FROM best b JOIN firsts f USING (user_id){group})")
    rows = []
    for k, (step_name, _) in enumerate(funnel.steps, start=1):
        dim = [f"dim_value AS {q(ask.by)}"] if ask.by else []
        previous = f"u{max(k - 1, 1)}"
        median = f"m{k}" if k > 1 else "CAST(NULL AS DOUBLE)"
        rows.append(
            _select(
                dim,
                [
                    f"{k} AS step",
                    f"'{step_name}' AS step_name",
                    f"u{k} AS users",
                    f"CAST(u{k} AS DOUBLE) / NULLIF({previous}, 0) AS conversion_from_previous",
                    f"CAST(u{k} AS DOUBLE) / NULLIF(u1, 0) AS conversion_from_first",
                    f"{median} AS median_seconds_to_convert",
                ],
            )
            + " FROM counts"
        )
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL\n".join(rows)


def funnel_python(con: Any, ask: Ask, funnel: Funnel) -> list[dict[str, Any]]:
    """The same funnel by a loop over each user's matching events (no time pre-filter, no SQL path logic).

    For every in-range step-1 event (in time, event-id order) walk the steps: take the earliest unused
    event matching the step whose time is >= the previous step's time, while within the window. The
    user's deepest path (the first start reaching it) gives the times; the earliest start, the group.
    """
    if ask.grain:
        raise NoOracle("a funnel has no grain")
    n = len(funnel.steps)
    flags = ", ".join(f"COALESCE({p}, FALSE)" for _, p in funnel.steps)
    any_step = " OR ".join(f"COALESCE({p}, FALSE)" for _, p in funnel.steps)
    sql = (
        f"SELECT e.user_id, epoch_us(e.event_time), e.event_id, {ask.dim}, {flags} FROM events e {ask.join} "
        f"WHERE e.user_id IS NOT NULL AND ({any_step}){ask.filter()} ORDER BY e.user_id, e.event_time, e.event_id"
    )
    lo = _epoch_us(ask.start)
    hi = _epoch_us(ask.end + dt.timedelta(days=1))
    window = funnel.window_seconds * 1_000_000
    per_user: list[tuple[Any, list[int]]] = []  # (group value, best path times in microseconds)
    for _, rows in groupby(fetch(con, sql)[1], key=lambda r: r[0]):
        events = list(rows)
        by_step = [[(r[1], i) for i, r in enumerate(events) if r[4 + k]] for k in range(n)]
        step_times = [[t for t, _ in s] for s in by_step]
        best: list[int] | None = None
        group = None
        for i, row in enumerate(events):
            t0 = row[1]
            if not row[4] or not lo <= t0 < hi:
                continue
            if best is None:
                group = row[3]
            used, path = {i}, [t0]
            for k in range(1, n):
                pos = bisect_left(step_times[k], path[-1])
                while pos < len(by_step[k]) and by_step[k][pos][1] in used:
                    pos += 1
                if pos == len(by_step[k]) or by_step[k][pos][0] > t0 + window:
                    break
                used.add(by_step[k][pos][1])
                path.append(by_step[k][pos][0])
            if best is None or len(path) > len(best):
                best = path
        if best is not None:
            per_user.append((group, best))
    groups: dict[Any, list[list[int]]] = {}
    for group, path in per_user:
        groups.setdefault(group if ask.by else None, []).append(path)
    if not ask.by and not groups:
        groups[None] = []
    out = []
    for group, paths in groups.items():
        reached = [sum(1 for p in paths if len(p) >= k) for k in range(1, n + 1)]
        for k, (step_name, _) in enumerate(funnel.steps, start=1):
            gaps = [(p[k - 1] - p[k - 2]) / 1_000_000 for p in paths if len(p) >= k] if k > 1 else []
            row: dict[str, Any] = {ask.by: group} if ask.by else {}
            row.update(
                step=k,
                step_name=step_name,
                users=reached[k - 1],
                conversion_from_previous=_div(reached[k - 1], reached[max(k - 2, 0)]),
                conversion_from_first=_div(reached[k - 1], reached[0]),
                median_seconds_to_convert=float(statistics.median(gaps)) if gaps else None,
            )
            out.append(row)
    return out


def _div(a: int, b: int) -> float | None:
    return a / b if b else None


def _epoch_us(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * 86_400 * 1_000_000


# --- retention -------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    name: str
    cohort: str  # SQL predicate over alias e
    returning: str
    period: str  # day, week, month
    periods: int


BIND_CARD_RETENTION = Retention(
    "bind_card_retention",
    "e.event = 'bind_card' AND e.is_success",
    "e.event = '$AppStart'",
    "day",
    30,
)


def _period_start(period: str, t: str) -> str:
    return bucket(period, t)


def _plus_periods(period: str, day: str, n: str) -> str:
    if period == "day":
        return f"({day} + CAST({n} AS INTEGER))"
    if period == "week":
        return f"({day} + CAST(7 * ({n}) AS INTEGER))"
    return f"CAST({day} + to_months(CAST({n} AS INTEGER)) AS DATE)"


def retention_sql(ask: Ask, metric: Retention) -> str:
    """Cohorts by the period of each user's first-ever cohort event in the range; a cohort-by-period grid
    LEFT JOINed to distinct (user, return period); a period ending after the last event is NULL."""
    if ask.grain:
        raise NoOracle("a retention has no grain")
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
    SELECT user_id, {_period_start(metric.period, "event_time")} AS cohort, dim_value
    FROM first_cohort_events WHERE event_time >= {ask.lo} AND event_time < {ask.hi}
),
returned AS (
    SELECT DISTINCT e.user_id, {_period_start(metric.period, "e.event_time")} AS return_period
    FROM events e WHERE e.user_id IS NOT NULL AND ({metric.returning})
),
periods AS (SELECT CAST(range AS INTEGER) AS period FROM range(1, {metric.periods + 1})),
grid AS (
    SELECT c.cohort, {", ".join([*key, "p.period"])}, COUNT(*) AS cohort_size, COUNT(r.user_id) AS retained
    FROM cohort_users c CROSS JOIN periods p
    LEFT JOIN returned r ON r.user_id = c.user_id AND r.return_period = {target}
    GROUP BY ALL
)
SELECT {", ".join(["cohort", *outer_key, "period", "cohort_size"])},
       CASE WHEN CAST({period_end} AS TIMESTAMP) <= (SELECT MAX(event_time) FROM events) THEN retained END AS retained,
       CASE WHEN CAST({period_end} AS TIMESTAMP) <= (SELECT MAX(event_time) FROM events)
            THEN CAST(retained AS DOUBLE) / cohort_size END AS rate
FROM grid"""
