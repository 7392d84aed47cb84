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
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

from tests.oracle_cohorts import (
    BIND_CARD_FUNNEL,
    BIND_CARD_RETENTION,
    CHANNEL_FUNNEL,
    INVEST_FUNNEL,
    Funnel,
    Retention,
    funnel_python,
    funnel_sql,
)
from tests.oracle_models import funnel_trend_python, interval_sql, ltv_sql, retention_twin, stickiness_sql
from tests.oracle_sql_base import (
    CLICK,
    CORE_FILE,
    METRICS_ROOT,
    PAGE_VIEW,
    SESSION_GAP_US,
    Ask,
    NoOracle,
    _group,
    _keys,
    _select,
    fetch,
    key_names,
    q,
)

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
    return event_aggregate(
        ask, "realname_users", "COUNT(DISTINCT e.user_id)", "e.event = 'realname_auth' AND e.is_success"
    )


def bind_card_users(ask: Ask) -> str:
    return event_aggregate(
        ask, "bind_card_users", "COUNT(DISTINCT e.user_id)", "e.event = 'bind_card' AND e.is_success"
    )


def deposit_amount(ask: Ask) -> str:
    return event_aggregate(ask, "deposit_amount", "COALESCE(SUM(e.amount), 0)", "e.event = 'deposit' AND e.is_success")


def invest_amount(ask: Ask) -> str:
    return event_aggregate(
        ask, "invest_amount", "COALESCE(SUM(e.amount), 0)", "e.event = 'P2P_invest' AND e.is_success"
    )


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


# --- the core catalog, by hand --------------------------------------------------------------------------------------------

CORE: dict[str, Callable[[Ask], str]] = {
    "pv": pv,
    "event_count": event_count,
    "uv": uv,
    "clicks": clicks,
    "sessions": sessions,
    "bounce_rate": bounce_rate,
    "avg_session_duration": avg_session_duration,
    "avg_visit_depth": avg_visit_depth,
    "new_users": new_users,
    "registrations": registrations,
    "realname_users": realname_users,
    "bind_card_users": bind_card_users,
    "deposit_amount": deposit_amount,
    "invest_amount": invest_amount,
    "invest_users": invest_users,
    "app_errors": app_errors,
    "error_rate": error_rate,
    "bind_card_funnel": lambda ask: funnel_sql(ask, BIND_CARD_FUNNEL),
    "invest_funnel": lambda ask: funnel_sql(ask, INVEST_FUNNEL),
    "channel_funnel": lambda ask: funnel_sql(ask, CHANNEL_FUNNEL),
    "bind_card_retention": lambda ask: retention_twin(ask, BIND_CARD_RETENTION),
}
CORE_FUNNELS = {"bind_card_funnel": BIND_CARD_FUNNEL, "invest_funnel": INVEST_FUNNEL, "channel_funnel": CHANNEL_FUNNEL}
# Counts and sums are 0 where a group exists without matching rows; other values are NULL there.
CORE_ZERO_WHEN_EMPTY = {
    "pv",
    "event_count",
    "uv",
    "clicks",
    "sessions",
    "new_users",
    "registrations",
    "realname_users",
    "bind_card_users",
    "deposit_amount",
    "invest_amount",
    "invest_users",
    "app_errors",
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
        return kind in ("count", "count_distinct", "sum", "first_seen") or (
            kind == "session" and item.get("measure") == "sessions"
        )

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
            return retention_twin(ask, self.retention(name), str(item.get("mode", "exact")))
        if kind == "interval":
            start, end = item["start"], item["end"]
            return interval_sql(
                ask,
                _match(start.get("event"), start.get("filter")),
                _match(end.get("event"), end.get("filter")),
                _seconds(str(item["window"])),
            )
        if kind == "ltv":
            cohort, value = item["cohort"], item["value"]
            return ltv_sql(
                ask,
                _match(cohort.get("event"), cohort.get("filter")),
                _match(value.get("event"), value.get("filter")),
                _qualify(str(value["amount"])),
                str(item.get("period", "week")),
                int(item.get("periods", 12)),
            )
        if kind == "stickiness":
            active = item.get("active")
            predicate = _match(active.get("event"), active.get("filter")) if active else None
            return stickiness_sql(ask, predicate, str(item.get("period", "week")))
        raise NoOracle(f"metric {name!r}: no oracle for type {kind!r}")

    def rows(self, con: Any, name: str, ask: Ask) -> list[dict[str, Any]]:
        """The oracle's answer as run_query-like rows: funnels by the Python loop, the rest by twin SQL."""
        if self.kind(name) == "funnel":
            if ask.grain:
                return funnel_trend_python(con, ask, self.funnel(name))
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
            name,
            _match(cohort.get("event"), cohort.get("filter")),
            _match(back.get("event"), back.get("filter")),
            str(item.get("period", "day")),
            int(item.get("periods", 30)),
        )

    # -- builders over YAML text --

    def _aggregate(self, ask: Ask, name: str, kind: str, item: dict[str, Any]) -> str:
        expr = item.get("expr")
        expr = f"({expr})" if expr is not None else ("e.user_id" if kind == "count_distinct" else None)
        value = {
            "count": f"COUNT({expr})" if expr else "COUNT(*)",
            "count_distinct": f"COUNT(DISTINCT {expr})",
            "sum": f"COALESCE(SUM({expr}), 0)",
            "avg": f"AVG({expr})",
            "min": f"MIN({expr})",
            "max": f"MAX({expr})",
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
                return exp.Div(
                    this=exp.cast(node.this, "double"),
                    expression=exp.Nullif(this=node.expression, expression=exp.Literal.number(0)),
                )
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
