"""Stickiness by hand on DuckDB, PostgreSQL and chdb: users by distinct days with an $AppStart per week or month.

``app_stickiness`` (shipped: active = $AppStart, period week). Range 2026-03-02 (Monday)..03-10.
  S1 $AppStart 03-02 09:00 and 18:00 (one day), 03-03, 03-08 (Sunday)  → week 03-02: 3 days; March: 3 days
  S2 $AppStart 03-04, 03-09                                             → week 03-02: 1, week 03-09: 1; March: 2
  S3 only a login 03-05                                                 → not active
  S4 $AppStart 03-01 (before the range)                                 → nothing
Weeks: 03-02 → 1 day: 1 user (S2), 3 days: 1 user (S1); 03-09 → 1 day: 1 user (S2). March → 2: S2, 3: S1.
The range cuts periods: from 03-03, S1's week 03-02 has 2 days (03-03, 03-08).
"""

from __future__ import annotations

from datetime import date

import pytest

from finlens_common.errors import QueryError
from semantic import Drill, Query, compile_query, run_query, users_behind
from tests.warehouse_fixtures import ENGINES, engine_warehouse


def ev(user, time, event="$AppStart", platform="iOS"):
    return dict(user_id=user, event_time=time, event=event, platform=platform)


EVENTS = [
    ev("S1", "2026-03-02 09:00:00"),
    ev("S1", "2026-03-02 18:00:00", platform="Android"),
    ev("S1", "2026-03-03 09:00:00"),
    ev("S1", "2026-03-08 09:00:00"),
    ev("S2", "2026-03-04 09:00:00"),
    ev("S2", "2026-03-09 09:00:00"),
    ev("S3", "2026-03-05 09:00:00", "login"),
    ev("S4", "2026-03-01 09:00:00"),
]
RANGE = dict(start=date(2026, 3, 2), end=date(2026, 3, 10))


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    with engine_warehouse(request, tmp_path_factory.mktemp("stickiness"), EVENTS, []) as opened:
        yield opened


def table(catalog, warehouse, grain=None, **range_):
    query = Query(metrics=("app_stickiness",), grain=grain, **(range_ or RANGE))
    result = run_query(catalog, query, warehouse)
    period = grain or "week"
    assert result.columns == [period, "active_days", "users"]
    return [(r[period], r["active_days"], r["users"]) for r in result.rows]


def test_users_by_active_days_per_week_and_month(catalog, warehouse):
    assert table(catalog, warehouse) == [("2026-03-02", 1, 1), ("2026-03-02", 3, 1), ("2026-03-09", 1, 1)]
    assert table(catalog, warehouse, "month") == [("2026-03-01", 2, 1), ("2026-03-01", 3, 1)]


def test_the_range_cuts_a_period(catalog, warehouse):
    assert table(catalog, warehouse, start=date(2026, 3, 3), end=date(2026, 3, 8)) == [
        ("2026-03-02", 1, 1),
        ("2026-03-02", 2, 1),
    ]


def test_a_breakdown_counts_a_user_under_each_value_with_its_days(catalog, warehouse):
    rows = run_query(catalog, Query(metrics=("app_stickiness",), dimensions=("platform",), **RANGE), warehouse).rows
    got = {(r["week"], r["platform"], r["active_days"]): r["users"] for r in rows}
    assert got == {
        ("2026-03-02", "Android", 1): 1,  # S1's evening start
        ("2026-03-02", "iOS", 1): 1,  # S2
        ("2026-03-02", "iOS", 3): 1,  # S1
        ("2026-03-09", "iOS", 1): 1,
    }


def test_users_behind_a_bar(catalog, warehouse):
    query = Query(metrics=("app_stickiness",), **RANGE)
    listed = users_behind(catalog, query, Drill(bucket="2026-03-02", active_days=3), warehouse)
    assert [(r["user_id"], r["active_days"]) for r in listed.rows] == [("S1", 3)]
    week = users_behind(catalog, query, Drill(bucket="2026-03-02"), warehouse)
    assert [(r["user_id"], r["active_days"]) for r in week.rows] == [("S1", 3), ("S2", 1)]


def test_a_day_grain_is_refused(catalog):
    with pytest.raises(QueryError, match="a stickiness takes the grain week, month, not 'day'"):
        compile_query(catalog, Query(metrics=("app_stickiness",), grain="day"))
