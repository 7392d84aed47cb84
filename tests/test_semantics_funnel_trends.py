"""Funnel trends and time to convert by hand: bind_card_funnel (register → successful realname_auth →
successful bind_card, 7-day window) by entry week, on DuckDB, PostgreSQL and chdb.

Range 2026-03-02 (Monday) .. 2026-03-15 (Sunday): weeks 03-02 and 03-09. Per user (deepest step, gaps in s):
  T1 3  all three at 03-02 10:00:00 (ids in reverse order): gaps 0, 0; week 03-02
  T2 3  register Sun 03-08 23:00, realname Mon 03-09 01:00 (next week), bind 03-15 23:00 (exactly 7 days):
        gaps 7200, 597600; the late steps count in the entry week 03-02
  T3 3  register 03-03 09:00 (iOS, no realname within 7 days), register again 03-10 09:00 (Android), realname
        10:00, bind 11:00: the deepest path starts 03-10 (gaps 3600, 3600) but T3 entered in week 03-02, on iOS
  T4 1  register 03-09 12:00, realname 03-16 12:00:01 (7 days + 1 s): week 03-09
  T5 2  register Sun 03-15 22:00, realname 03-16 08:00 (after the range, inside the window): gap 36000; week 03-09
  T6 -  register 03-01 (before the range): not in the funnel
  T7 1  register 03-11 08:00, realname failed: week 03-09

Week 03-02: T1, T2, T3 reach step 3 → 3, 3, 3. Week 03-09: T4, T5, T7 → 3, 1 (T5), 0. Totals 6, 4, 3.
Time to convert (continuous percentiles, position (n - 1) p between the sorted values):
  week 03-02 step 2: [0, 3600, 7200]    → p10 720, p25 1800, p50 3600, p75 5400, p90 6480
  week 03-02 step 3: [0, 3600, 597600]  → p10 720, p25 1800, p50 3600, p75 300600, p90 478800
  week 03-09 step 2: [36000]            → every percentile 36000; step 3: nobody, NULL
"""

from __future__ import annotations

from datetime import date

import pytest

from finlens_common.errors import QueryError
from semantic import Drill, Query, run_query, users_behind
from tests.warehouse_fixtures import ENGINES, engine_warehouse


def ev(user, time, event, ok=None, platform=None, event_id=None):
    return dict(user_id=user, event_time=time, event=event, is_success=ok, platform=platform, event_id=event_id)


EVENTS = [
    ev("T1", "2026-03-02 10:00:00", "bind_card", True, event_id="t1a"),
    ev("T1", "2026-03-02 10:00:00", "realname_auth", True, event_id="t1b"),
    ev("T1", "2026-03-02 10:00:00", "register", True, "iOS", event_id="t1c"),
    ev("T2", "2026-03-08 23:00:00", "register", True, "Android"),
    ev("T2", "2026-03-09 01:00:00", "realname_auth", True),
    ev("T2", "2026-03-15 23:00:00", "bind_card", True),
    ev("T3", "2026-03-03 09:00:00", "register", True, "iOS"),
    ev("T3", "2026-03-10 09:00:00", "register", True, "Android"),
    ev("T3", "2026-03-10 10:00:00", "realname_auth", True),
    ev("T3", "2026-03-10 11:00:00", "bind_card", True),
    ev("T4", "2026-03-09 12:00:00", "register", True, "Web"),
    ev("T4", "2026-03-16 12:00:01", "realname_auth", True),
    ev("T5", "2026-03-15 22:00:00", "register", True, "Web"),
    ev("T5", "2026-03-16 08:00:00", "realname_auth", True),
    ev("T6", "2026-03-01 23:59:59", "register", True, "iOS"),
    ev("T6", "2026-03-02 08:00:00", "realname_auth", True),
    ev("T7", "2026-03-11 08:00:00", "register", True, "iOS"),
    ev("T7", "2026-03-11 08:05:00", "realname_auth", False),
]
RANGE = dict(start=date(2026, 3, 2), end=date(2026, 3, 15))


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    with engine_warehouse(request, tmp_path_factory.mktemp("funnel_trends"), EVENTS, []) as opened:
        yield opened


def rows(catalog, warehouse, **options):
    return run_query(catalog, Query(metrics=("bind_card_funnel",), **RANGE, **options), warehouse).rows


def test_users_belong_to_their_entry_week_and_late_steps_count_there(catalog, warehouse):
    got = rows(catalog, warehouse, grain="week")
    assert [(r["week"], r["step"], r["users"]) for r in got] == [
        ("2026-03-02", 1, 3),
        ("2026-03-02", 2, 3),
        ("2026-03-02", 3, 3),
        ("2026-03-09", 1, 3),
        ("2026-03-09", 2, 1),
        ("2026-03-09", 3, 0),
    ]
    later = [r for r in got if r["week"] == "2026-03-09"]
    assert [r["conversion_from_previous"] for r in later] == pytest.approx([1.0, 1 / 3, 0.0])
    assert [r["conversion_from_first"] for r in later] == pytest.approx([1.0, 1 / 3, 0.0])


def test_periods_add_up_to_the_funnel_without_a_grain(catalog, warehouse):
    total = rows(catalog, warehouse)
    assert [r["users"] for r in total] == [6, 4, 3]
    for grain in ("day", "week", "month"):
        by_period = rows(catalog, warehouse, grain=grain)
        sums = [sum(r["users"] for r in by_period if r["step"] == step) for step in (1, 2, 3)]
        assert sums == [6, 4, 3], grain
    days = {(r["day"], r["step"]): r["users"] for r in rows(catalog, warehouse, grain="day")}
    # each user under the day of their earliest in-range register
    assert {d for d, s in days if s == 1} == {
        "2026-03-02",
        "2026-03-03",
        "2026-03-08",
        "2026-03-09",
        "2026-03-11",
        "2026-03-15",
    }
    assert days[("2026-03-03", 3)] == 1  # T3, whose deepest path starts a week later


def test_time_to_convert_percentiles_on_the_deepest_path(catalog, warehouse):
    got = {(r["week"], r["step"]): r for r in rows(catalog, warehouse, grain="week", time_to_convert=True)}
    names = [f"seconds_to_convert_p{p}" for p in (10, 25, 50, 75, 90)]
    assert [got[("2026-03-02", 2)][n] for n in names] == pytest.approx([720, 1800, 3600, 5400, 6480])
    assert [got[("2026-03-02", 3)][n] for n in names] == pytest.approx([720, 1800, 3600, 300600, 478800])
    assert [got[("2026-03-09", 2)][n] for n in names] == pytest.approx([36000] * 5)
    assert [got[("2026-03-09", 3)][n] for n in names] == [None] * 5
    assert all(got[(w, 1)][n] is None for w in ("2026-03-02", "2026-03-09") for n in names)
    assert got[("2026-03-02", 3)]["median_seconds_to_convert"] == pytest.approx(3600)


def test_a_trend_by_a_dimension_uses_the_entry_event(catalog, warehouse):
    got = {
        (r["week"], r["platform"], r["step"]): r["users"]
        for r in rows(catalog, warehouse, grain="week", dimensions=("platform",))
    }
    assert got[("2026-03-02", "iOS", 3)] == 2  # T1 and T3 (whose first register was on iOS)
    assert got[("2026-03-02", "Android", 3)] == 1  # T2
    assert got[("2026-03-09", "Web", 1)] == 2 and got[("2026-03-09", "Web", 2)] == 1  # T4, T5


def test_drill_into_a_period_lists_its_users(catalog, warehouse):
    query = Query(metrics=("bind_card_funnel",), grain="week", **RANGE)

    def ids(drill):
        return sorted(r["user_id"] for r in users_behind(catalog, query, drill, warehouse).rows)

    assert ids(Drill(bucket="2026-03-02", step=3)) == ["T1", "T2", "T3"]
    assert ids(Drill(bucket="2026-03-09", step=1)) == ["T4", "T5", "T7"]
    assert ids(Drill(bucket="2026-03-09", step=2, dropped=True)) == ["T4", "T7"]
    assert ids(Drill(bucket="2026-03-09", step=3, dropped=True)) == ["T5"]


def test_grains_a_funnel_refuses(catalog):
    from semantic import compile_query

    with pytest.raises(QueryError, match="a funnel takes the grain day, week, month, quarter, year, not 'hour'"):
        compile_query(catalog, Query(metrics=("bind_card_funnel",), grain="hour", **RANGE))
    with pytest.raises(QueryError, match="time to convert is for funnels"):
        compile_query(catalog, Query(metrics=("pv",), time_to_convert=True, **RANGE))
