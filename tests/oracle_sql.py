"""Hand-written twins of every catalog metric: the answers finlens must give, worked out without finlens.

Nothing here imports ``semantic``: each metric of ``metrics/catalog/core.yml``
has its SQL written out by hand below from the written specification (see
``semantic/README.md``), with its own bucket expressions, its own session
numbering, its own funnel path search (``ASOF`` joins in SQL, a plain loop in
Python) and its own retention grid. Metrics of the business-line files
(``platform.yml``, ``p2p.yml``...) get a straightforward query built from their
YAML text (``SELECT <agg>(<expr>) FROM events WHERE <filter> ...``), by type.

Two uses:

* ``tests/test_catalog_oracles.py`` compares ``run_query`` with
  :func:`oracle_rows` for every metric (funnels through the Python oracle);
* ``bench/run.py`` times the compiled query against :func:`twin_sql`, the
  query an analyst would write by hand.

A question is an :class:`Ask`: inclusive date range, at most one group-by
dimension (``by``), an optional grain, and an optional hand-written SQL
predicate over the events alias ``e`` (``"e.platform = 'iOS'"``). Rows come
back as dicts keyed like ``run_query``'s: the bucket under the grain's name
(ISO strings), the dimension under its name, then the metric (or the funnel
and retention columns).
"""
from __future__ import annotations

import datetime as dt
import re
import statistics
from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any, Callable

import sqlglot
import yaml
from sqlglot import exp

METRICS_ROOT = Path(__file__).resolve().parent.parent / "metrics"
CORE_FILE = "core.yml"

PAGE_VIEW = "e.event IN ('$AppViewScreen', '$pageview')"
CLICK = "e.event IN ('$AppClick', '$WebClick')"
SESSION_GAP_US = 30 * 60 * 1_000_000

# Dimensions the oracles know, written out by hand (events alias e; users, renamed, alias u).
EVENT_DIMENSIONS = {
    "platform": "e.platform",
    "business_line": "e.business_line",
    "channel": "e.utm_source",
    "page": "e.page",
    "event": "e.event",
    "product_type": "e.product_type",
    "ab_opening_screen": "json_extract_string(e.properties, '$.ab_opening_screen')",
}
USER_DIMENSIONS = {
    "register_channel": "u.register_channel",
    "register_platform": "u.register_platform",
    "gender": "u.gender",
    "age_group": "u.age_group",
    "campaign_group": "u.campaign_group",
    "user_province": "u.user_province",
}
# Users' columns renamed so that unqualified names in YAML snippets (user_id, province, city) mean the event's.
USERS_JOIN = (
    "LEFT JOIN (SELECT user_id AS uid, register_channel, register_platform, gender, age_group, campaign_group, "
    "province AS user_province FROM users) AS u ON u.uid = e.user_id"
)


class NoOracle(Exception):
    """A metric (or a question about it) that no oracle here can answer: a test must fail on it."""


@dataclass(frozen=True)
class Ask:
    """Inclusive days, one optional group-by dimension, an optional grain and event predicate (alias ``e``)."""

    start: dt.date
    end: dt.date
    by: str | None = None
    grain: str | None = None
    where: str | None = None

    @property
    def lo(self) -> str:
        return f"TIMESTAMP '{self.start} 00:00:00'"

    @property
    def hi(self) -> str:
        return f"TIMESTAMP '{self.end + dt.timedelta(days=1)} 00:00:00'"

    def in_range(self, column: str = "e.event_time") -> str:
        return f"{column} >= {self.lo} AND {column} < {self.hi}"

    @property
    def dim(self) -> str:
        """SQL of the group-by dimension (NULL when there is none)."""
        if self.by is None:
            return "NULL"
        if self.by in EVENT_DIMENSIONS:
            return EVENT_DIMENSIONS[self.by]
        if self.by in USER_DIMENSIONS:
            return USER_DIMENSIONS[self.by]
        raise NoOracle(f"no hand-written expression for dimension {self.by!r}")

    @property
    def join(self) -> str:
        return USERS_JOIN if self.by in USER_DIMENSIONS or (self.where and "u." in self.where) else ""

    def filter(self) -> str:
        return f" AND ({self.where})" if self.where else ""


def bucket(grain: str, t: str) -> str:
    """The start of ``t``'s bucket, written without date_trunc: weeks start on Monday (ISO)."""
    day = f"CAST({t} AS DATE)"
    return {
        "hour": f"strftime({t}, '%Y-%m-%d %H:00:00')",
        "day": day,
        "week": f"({day} - CAST(isodow({t}) - 1 AS INTEGER))",
        "month": f"make_date(year({t}), month({t}), 1)",
        "quarter": f"make_date(year({t}), 3 * quarter({t}) - 2, 1)",
        "year": f"make_date(year({t}), 1, 1)",
    }[grain]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _keys(ask: Ask, t: str, dim: str | None = None) -> list[str]:
    """SELECT items for the bucket of ``t`` and the dimension, named like run_query's columns."""
    keys = []
    if ask.grain:
        keys.append(f"{bucket(ask.grain, t)} AS {q(ask.grain)}")
    if ask.by:
        keys.append(f"{dim if dim is not None else ask.dim} AS {q(ask.by)}")
    return keys


def key_names(ask: Ask) -> list[str]:
    return [n for n in (ask.grain, ask.by) if n]


def _select(keys: list[str], values: list[str]) -> str:
    return "SELECT " + ", ".join([*keys, *values])


def _group(keys: list[str]) -> str:
    return " GROUP BY ALL" if keys else ""


# --- plain event aggregates ---------------------------------------------------------------------------------

def event_aggregate(ask: Ask, name: str, value: str, where: str | None) -> str:
    """``SELECT <bucket>, <dim>, <value> FROM events e WHERE <where> AND <range> GROUP BY ...``."""
    keys = _keys(ask, "e.event_time")
    condition = f"({where}) AND " if where else ""
    return (
        f"{_select(keys, [f'{value} AS {q(name)}'])} FROM events e {ask.join} "
        f"WHERE {condition}{ask.in_range()}{ask.filter()}{_group(keys)}"
    )


def pv(ask: Ask) -> str:
    return event_aggregate(ask, "pv", "COUNT(*)", "e.event IN ('$AppViewScreen', '$pageview')")


def event_count(ask: Ask) -> str:
    return event_aggregate(ask, "event_count", "COUNT(*)", None)


def uv(ask: Ask) -> str:
    return event_aggregate(ask, "uv", "COUNT(DISTINCT e.user_id)", None)


def clicks(ask: Ask) -> str:
    return event_aggregate(ask, "clicks", "COUNT(*)", "e.event IN ('$AppClick', '$WebClick')")


def registrations(ask: Ask) -> str:
    return event_aggregate(ask, "registrations", "COUNT(DISTINCT e.user_id)", "e.event = 'register'")


def realname_users(ask: Ask) -> str:
    return event_aggregate(ask, "realname_users", "COUNT(DISTINCT e.user_id)", "e.event = 'realname_auth' AND e.is_success")


def bind_card_users(ask: Ask) -> str:
    return event_aggregate(ask, "bind_card_users", "COUNT(DISTINCT e.user_id)", "e.event = 'bind_card' AND e.is_success")


def deposit_amount(ask: Ask) -> str:
    return event_aggregate(ask, "deposit_amount", "COALESCE(SUM(e.amount), 0)", "e.event = 'deposit' AND e.is_success")


def invest_amount(ask: Ask) -> str:
    return event_aggregate(ask, "invest_amount", "COALESCE(SUM(e.amount), 0)", "e.event = 'P2P_invest' AND e.is_success")


def invest_users(ask: Ask) -> str:
    return event_aggregate(ask, "invest_users", "COUNT(DISTINCT e.user_id)", "e.event = 'P2P_invest' AND e.is_success")


def app_errors(ask: Ask) -> str:
    return event_aggregate(ask, "app_errors", "COUNT(*)", "e.event = 'app_error'")


def error_rate(ask: Ask) -> str:
    """app_error events per page view; NULL where a group has no page view."""
    value = (
        "CAST(COUNT(*) FILTER (WHERE e.event = 'app_error') AS DOUBLE)"
        " / NULLIF(COUNT(*) FILTER (WHERE e.event IN ('$AppViewScreen', '$pageview')), 0)"
    )
    return event_aggregate(ask, "error_rate", value, "e.event IN ('app_error', '$AppViewScreen', '$pageview')")


# --- sessions --------------------------------------------------------------------------------------------------

SESSION_MEASURES = {
    "sessions": "COUNT(*)",
    "avg_duration": "AVG((epoch_us(ended_at) - epoch_us(started_at)) / 1000000.0)",
    "avg_depth": "CAST(SUM(page_views) AS DOUBLE) / NULLIF(COUNT(*) FILTER (WHERE page_views > 0), 0)",
    "bounce_rate": (
        "CAST(COUNT(*) FILTER (WHERE page_views = 1 AND clicks = 0) AS DOUBLE)"
        " / NULLIF(COUNT(*) FILTER (WHERE page_views > 0), 0)"
    ),
}


def session_measure(ask: Ask, name: str, measure: str) -> str:
    """Sessions of the selected events: a gap over 30 minutes (in microseconds, > not >=) starts a new one."""
    keys = _keys(ask, "started_at", "dim_value")
    return f"""
WITH picked AS (
    SELECT e.user_id, e.event_time, e.event_id, {ask.dim} AS dim_value,
           CASE WHEN {PAGE_VIEW} THEN 1 ELSE 0 END AS is_page_view,
           CASE WHEN {CLICK} THEN 1 ELSE 0 END AS is_click,
           epoch_us(e.event_time) - epoch_us(LAG(e.event_time) OVER (PARTITION BY e.user_id ORDER BY e.event_time, e.event_id)) AS gap_us
    FROM events e {ask.join}
    WHERE e.user_id IS NOT NULL AND {ask.in_range()}{ask.filter()}
),
numbered AS (
    SELECT *, SUM(CASE WHEN gap_us IS NULL OR gap_us > {SESSION_GAP_US} THEN 1 ELSE 0 END)
               OVER (PARTITION BY user_id ORDER BY event_time, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
    FROM picked
),
per_session AS (
    SELECT user_id, session_no, MIN(event_time) AS started_at, MAX(event_time) AS ended_at,
           first(dim_value ORDER BY event_time, event_id) AS dim_value,
           SUM(is_page_view) AS page_views, SUM(is_click) AS clicks
    FROM numbered GROUP BY user_id, session_no
)
{_select(keys, [f"{SESSION_MEASURES[measure]} AS {q(name)}"])} FROM per_session{_group(keys)}"""


def sessions(ask: Ask) -> str:
    return session_measure(ask, "sessions", "sessions")


def bounce_rate(ask: Ask) -> str:
    return session_measure(ask, "bounce_rate", "bounce_rate")


def avg_session_duration(ask: Ask) -> str:
    return session_measure(ask, "avg_session_duration", "avg_duration")


def avg_visit_depth(ask: Ask) -> str:
    return session_measure(ask, "avg_visit_depth", "avg_depth")


# --- first-seen users ----------------------------------------------------------------------------------------------

def first_seen(ask: Ask, name: str) -> str:
    """Users whose first event over the whole table (ties by event_id) falls in the range, under its values."""
    if ask.where:
        raise NoOracle("the spec defines no filter for first-seen users")
    keys = _keys(ask, "event_time", "dim_value")
    return f"""
WITH first_events AS (
    SELECT DISTINCT ON (e.user_id) e.user_id, e.event_time, {ask.dim} AS dim_value
    FROM events e {ask.join}
    WHERE e.user_id IS NOT NULL
    ORDER BY e.user_id, e.event_time, e.event_id
)
{_select(keys, [f"COUNT(*) AS {q(name)}"])} FROM first_events
WHERE event_time >= {ask.lo} AND event_time < {ask.hi}{_group(keys)}"""


def new_users(ask: Ask) -> str:
    return first_seen(ask, "new_users")


# --- funnels ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Funnel:
    name: str
    steps: tuple[tuple[str, str], ...]  # (step name, SQL predicate over alias e)
    window_seconds: int


BIND_CARD_FUNNEL = Funnel("bind_card_funnel", (
    ("register", "e.event = 'register'"),
    ("realname_auth", "e.event = 'realname_auth' AND e.is_success"),
    ("bind_card", "e.event = 'bind_card' AND e.is_success"),
), 7 * 86_400)

INVEST_FUNNEL = Funnel("invest_funnel", (
    ("product_list", "e.event IN ('$AppViewScreen', '$pageview') AND e.page = 'product_list'"),
    ("product_detail", "e.event IN ('$AppViewScreen', '$pageview') AND e.page = 'product_detail'"),
    ("invest_click", "e.event IN ('$AppClick', '$WebClick') AND e.element = 'invest_button'"),
    ("order_submit", "e.event = 'P2P_order_submit'"),
    ("invest_success", "e.event = 'P2P_invest' AND e.is_success"),
), 86_400)


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
    ctes.append(f"best AS (SELECT DISTINCT ON (user_id) user_id, depth, {all_times} FROM paths ORDER BY user_id, depth DESC, t1, event_id)")
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
        rows.append(_select(dim, [
            f"{k} AS step", f"'{step_name}' AS step_name", f"u{k} AS users",
            f"CAST(u{k} AS DOUBLE) / NULLIF({previous}, 0) AS conversion_from_previous",
            f"CAST(u{k} AS DOUBLE) / NULLIF(u1, 0) AS conversion_from_first",
            f"{median} AS median_seconds_to_convert",
        ]) + " FROM counts")
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
                step=k, step_name=step_name, users=reached[k - 1],
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
    cohort: str   # SQL predicate over alias e
    returning: str
    period: str   # day, week, month
    periods: int


BIND_CARD_RETENTION = Retention(
    "bind_card_retention", "e.event = 'bind_card' AND e.is_success", "e.event = '$AppStart'", "day", 30,
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
    SELECT user_id, {_period_start(metric.period, 'event_time')} AS cohort, dim_value
    FROM first_cohort_events WHERE event_time >= {ask.lo} AND event_time < {ask.hi}
),
returned AS (
    SELECT DISTINCT e.user_id, {_period_start(metric.period, 'e.event_time')} AS return_period
    FROM events e WHERE e.user_id IS NOT NULL AND ({metric.returning})
),
periods AS (SELECT CAST(range AS INTEGER) AS period FROM range(1, {metric.periods + 1})),
grid AS (
    SELECT c.cohort, {', '.join([*key, 'p.period'])}, COUNT(*) AS cohort_size, COUNT(r.user_id) AS retained
    FROM cohort_users c CROSS JOIN periods p
    LEFT JOIN returned r ON r.user_id = c.user_id AND r.return_period = {target}
    GROUP BY ALL
)
SELECT {', '.join(['cohort', *outer_key, 'period', 'cohort_size'])},
       CASE WHEN CAST({period_end} AS TIMESTAMP) <= (SELECT MAX(event_time) FROM events) THEN retained END AS retained,
       CASE WHEN CAST({period_end} AS TIMESTAMP) <= (SELECT MAX(event_time) FROM events)
            THEN CAST(retained AS DOUBLE) / cohort_size END AS rate
FROM grid"""


# --- the core catalog, by hand --------------------------------------------------------------------------------------------

CORE: dict[str, Callable[[Ask], str]] = {
    "pv": pv, "event_count": event_count, "uv": uv, "clicks": clicks,
    "sessions": sessions, "bounce_rate": bounce_rate, "avg_session_duration": avg_session_duration,
    "avg_visit_depth": avg_visit_depth, "new_users": new_users,
    "registrations": registrations, "realname_users": realname_users, "bind_card_users": bind_card_users,
    "deposit_amount": deposit_amount, "invest_amount": invest_amount, "invest_users": invest_users,
    "app_errors": app_errors, "error_rate": error_rate,
    "bind_card_funnel": lambda ask: funnel_sql(ask, BIND_CARD_FUNNEL),
    "invest_funnel": lambda ask: funnel_sql(ask, INVEST_FUNNEL),
    "bind_card_retention": lambda ask: retention_sql(ask, BIND_CARD_RETENTION),
}
CORE_FUNNELS = {"bind_card_funnel": BIND_CARD_FUNNEL, "invest_funnel": INVEST_FUNNEL}
# Counts and sums are 0 where a group exists without matching rows; other values are NULL there.
CORE_ZERO_WHEN_EMPTY = {
    "pv", "event_count", "uv", "clicks", "sessions", "new_users", "registrations", "realname_users",
    "bind_card_users", "deposit_amount", "invest_amount", "invest_users", "app_errors",
}


# --- the business-line files, from their YAML text -----------------------------------------------------------------------

def raw_metrics(root: Path | str | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every metric mapping in ``<root>/catalog/*.yml``, as plain YAML: name -> (file name, mapping)."""
    folder = Path(root or METRICS_ROOT) / "catalog"
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("metrics") or []:
            found[str(item["name"])] = (path.name, item)
    return found


AGGREGATES = {"count", "count_distinct", "sum", "avg", "min", "max"}


class Oracles:
    """Twins for every metric of a catalog folder: hand-written for core.yml, from YAML text for the rest."""

    def __init__(self, root: Path | str | None = None):
        self.raw = raw_metrics(root)

    def names(self) -> list[str]:
        return sorted(self.raw)

    def spec(self, name: str) -> tuple[str, dict[str, Any]]:
        if name not in self.raw:
            raise NoOracle(f"metric {name!r} is not in the catalog YAML")
        file, item = self.raw[name]
        if item.get("model", "events") != "events":
            raise NoOracle(f"metric {name!r}: no oracle for model {item.get('model')!r}")
        return file, item

    def kind(self, name: str) -> str:
        return str(self.spec(name)[1].get("type", "")).lower()

    def zero_when_empty(self, name: str) -> bool:
        file, item = self.spec(name)
        if file == CORE_FILE:
            return name in CORE_ZERO_WHEN_EMPTY
        kind = self.kind(name)
        return kind in ("count", "count_distinct", "sum", "first_seen") or (kind == "session" and item.get("measure") == "sessions")

    def twin_sql(self, name: str, ask: Ask) -> str:
        """The hand-written SQL answering ``ask`` for metric ``name``."""
        file, item = self.spec(name)
        if file == CORE_FILE:
            if name not in CORE:
                raise NoOracle(f"core metric {name!r} has no hand-written oracle in tests/oracle_sql.py")
            return CORE[name](ask)
        kind = self.kind(name)
        if kind in AGGREGATES:
            return self._aggregate(ask, name, kind, item)
        if kind == "ratio":
            num, den = str(item["numerator"]), str(item["denominator"])
            return self._combine(ask, name, f"CAST({{{num}}} AS DOUBLE) / NULLIF({{{den}}}, 0)", [num, den])
        if kind == "derived":
            return self._derived(ask, name, str(item["expr"]))
        if kind == "session":
            measure = str(item.get("measure"))
            if measure not in SESSION_MEASURES:
                raise NoOracle(f"metric {name!r}: no oracle for session measure {measure!r}")
            return session_measure(ask, name, measure)
        if kind == "first_seen":
            return first_seen(ask, name)
        if kind == "funnel":
            return funnel_sql(ask, self.funnel(name))
        if kind == "retention":
            return retention_sql(ask, self.retention(name))
        raise NoOracle(f"metric {name!r}: no oracle for type {kind!r}")

    def rows(self, con: Any, name: str, ask: Ask) -> list[dict[str, Any]]:
        """The oracle's answer as run_query-like rows: funnels by the Python loop, the rest by twin SQL."""
        if self.kind(name) == "funnel":
            return funnel_python(con, ask, self.funnel(name))
        columns, rows = fetch(con, self.twin_sql(name, ask))
        return [{c: plain(v) for c, v in zip(columns, row)} for row in rows]

    def funnel(self, name: str) -> Funnel:
        file, item = self.spec(name)
        if file == CORE_FILE:
            if name not in CORE_FUNNELS:
                raise NoOracle(f"core funnel {name!r} has no hand-written oracle in tests/oracle_sql.py")
            return CORE_FUNNELS[name]
        steps = []
        for step in item["steps"]:
            steps.append((str(step["name"]), _match(step.get("event"), step.get("filter"))))
        return Funnel(name, tuple(steps), _seconds(str(item.get("window", "1d"))))

    def retention(self, name: str) -> Retention:
        file, item = self.spec(name)
        if file == CORE_FILE:
            if name != BIND_CARD_RETENTION.name:
                raise NoOracle(f"core retention {name!r} has no hand-written oracle in tests/oracle_sql.py")
            return BIND_CARD_RETENTION
        cohort, back = item["cohort"], item["return"]
        return Retention(
            name, _match(cohort.get("event"), cohort.get("filter")), _match(back.get("event"), back.get("filter")),
            str(item.get("period", "day")), int(item.get("periods", 30)),
        )

    # -- builders over YAML text --

    def _aggregate(self, ask: Ask, name: str, kind: str, item: dict[str, Any]) -> str:
        expr = item.get("expr")
        expr = f"({expr})" if expr is not None else ("e.user_id" if kind == "count_distinct" else None)
        value = {
            "count": f"COUNT({expr})" if expr else "COUNT(*)",
            "count_distinct": f"COUNT(DISTINCT {expr})",
            "sum": f"COALESCE(SUM({expr}), 0)",
            "avg": f"AVG({expr})", "min": f"MIN({expr})", "max": f"MAX({expr})",
        }[kind]
        filter_ = item.get("filter")
        return event_aggregate(ask, name, value, str(filter_) if filter_ is not None else None)

    def _derived(self, ask: Ask, name: str, text: str) -> str:
        """``expr`` over other metrics: names become their (0 when empty) values, ``/`` a NULL-safe division."""
        tree = sqlglot.parse_one(text, read="duckdb")
        refs = sorted({c.name for c in tree.find_all(exp.Column)})
        for ref in refs:
            self.spec(ref)

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                return exp.column(f"{{{node.name}}}")  # placeholder, replaced in _combine
            if isinstance(node, exp.Div):
                return exp.Div(this=exp.cast(node.this, "double"), expression=exp.Nullif(this=node.expression, expression=exp.Literal.number(0)))
            return node

        formula = tree.transform(swap).sql(dialect="duckdb")
        formula = re.sub(r'"?\{(\w+)\}"?', r"{\1}", formula)
        return self._combine(ask, name, formula, refs)

    def _combine(self, ask: Ask, name: str, formula: str, refs: list[str]) -> str:
        """Each referenced metric's twin as a CTE; every group any of them has; ``formula`` over their values."""
        refs = list(dict.fromkeys(refs))
        ctes = [f"m{i} AS ({self.twin_sql(ref, ask)})" for i, ref in enumerate(refs)]
        names = key_names(ask)

        def value(ref: str) -> str:
            column = f"m{refs.index(ref)}.{q(ref)}"
            return f"COALESCE({column}, 0)" if self.zero_when_empty(ref) else column

        expression = re.sub(r"\{(\w+)\}", lambda m: value(m.group(1)), formula)
        if not names:
            sources = " CROSS JOIN ".join(f"m{i}" for i in range(len(refs)))
            return f"WITH {', '.join(ctes)} SELECT {expression} AS {q(name)} FROM {sources}"
        key_list = ", ".join(q(k) for k in names)
        all_keys = " UNION ".join(f"SELECT {key_list} FROM m{i}" for i in range(len(refs)))
        joins = " ".join(
            f"LEFT JOIN m{i} ON " + " AND ".join(f"m{i}.{q(k)} IS NOT DISTINCT FROM g.{q(k)}" for k in names)
            for i in range(len(refs))
        )
        return (
            f"WITH {', '.join(ctes)}, groups_ AS ({all_keys}) "
            f"SELECT {', '.join(f'g.{q(k)}' for k in names)}, {expression} AS {q(name)} FROM groups_ g {joins}"
        )


def _match(events: Any, filter_: Any) -> str:
    names = events if isinstance(events, list) else [events]
    literals = ", ".join("'" + str(n).replace("'", "''") + "'" for n in names)
    test = f"e.event IN ({literals})"
    return f"{test} AND ({_qualify(str(filter_))})" if filter_ is not None else test


def _qualify(snippet: str) -> str:
    """Step and cohort filters from YAML read unqualified event columns; our funnel SQL reads ``e``."""
    tree = sqlglot.parse_one(snippet, read="duckdb")
    for column in tree.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier("e"))
    return tree.sql(dialect="duckdb")


def _seconds(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if not match:
        raise NoOracle(f"cannot read funnel window {text!r}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}[match.group(2)]


# --- running SQL and plain values -----------------------------------------------------------------------------------------

def fetch(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) from a duckdb connection or a finlens Warehouse."""
    if hasattr(con, "description") and hasattr(con, "fetchall"):
        cursor = con.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()
    result = con.query(sql)
    return list(result.columns), list(result.rows)


def plain(value: Any) -> Any:
    """ISO strings for dates and times, ints/floats for numbers, None for NaN."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value != value:
        return None
    return value
