"""Shared pieces of the hand-written oracles: the question (:class:`Ask`), buckets, keys, dimensions.

The oracles themselves are in ``tests/oracle_sql.py`` and ``tests/oracle_cohorts.py``. Hand-written twins of every catalog metric: the answers finlens must give, worked out without finlens.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METRICS_ROOT = Path(__file__).resolve().parent.parent / "metrics"
CORE_FILE = "core.yml"

PAGE_VIEW = "e.event IN ('$AppViewScreen', '$pageview')"
CLICK = "e.event IN ('$AppClick', '$WebClick')"
SESSION_GAP_US = 30 * 60 * 1_000_000

# Dimensions the oracles know, written out by hand (events alias e; users, renamed, alias u).
EVENT_DIMENSIONS = {
    "platform": "e.platform",
    "business_line": "e.business_line",
    # first touch, worked out from the raw rows (not the stored first_utm_source column): FIRST_TOUCH_JOIN
    "channel": "ft.first_touch",
    "utm_source": "e.utm_source",
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

# The user's first-touch channel (metrics/README.md): the profile's channel, else the utm_source of the user's
# earliest event carrying one (by time, then event id).
FIRST_TOUCH_JOIN = (
    "LEFT JOIN (SELECT e2.user_id AS ft_uid, COALESCE(ANY_VALUE(r.register_channel), "
    "first(e2.utm_source ORDER BY e2.utm_source IS NULL, e2.event_time, e2.event_id)) AS first_touch "
    "FROM events AS e2 LEFT JOIN users AS r ON r.user_id = e2.user_id WHERE e2.user_id IS NOT NULL "
    "GROUP BY e2.user_id) AS ft ON ft.ft_uid = e.user_id"
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
        users = USERS_JOIN if self.by in USER_DIMENSIONS or (self.where and "u." in self.where) else ""
        return " ".join(part for part in (users, FIRST_TOUCH_JOIN if self.by == "channel" else "") if part)

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


def fetch(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) from a duckdb connection or a finlens Warehouse."""
    if hasattr(con, "description") and hasattr(con, "fetchall"):
        cursor = con.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()
    result = con.query(sql)
    return list(result.columns), list(result.rows)
