"""Interval metrics by hand on DuckDB, PostgreSQL and chdb: each start event to the same user's next end event.

``reg_to_bind``: start register, end successful bind_card, window 1 day. Range 2026-03-02..03-08.
  I1 register 03-02 10:00, failed bind 10:05, bind 10:10              → 600 (a failed bind is no end)
  I2 register 03-02 12:00, bind 03-03 12:00                           → 86400 (exactly the window: inclusive)
  I3 register 03-03 08:00, bind 03-04 08:00:01                        → none (1 s too late)
  I4 register and bind at 03-04 09:00:00 (bind's id sorts first)      → 0 (a start comes before an end at its instant)
  I5 bind 03-05 09:00, then register 10:00, nothing after             → none (an end before the start is not next)
  I6 register 03-05 10:00, register 11:00, bind 12:00                 → 7200 and 3600 (each start pairs with the next end)
  I7 register 03-08 23:00 (the last day), bind 03-09 01:00           → 7200 (the end may fall after the range)
  I8 register 03-01 23:00 (before the range), bind 03-02 01:00       → none
Intervals [0, 600, 3600, 7200, 7200, 86400] of 5 users: mean 105000 / 6 = 17500; continuous percentiles at
position 5p: p10 300, p25 1350, p50 5400, p75 7200, p90 7200 + 0.5 * 79200 = 46800.
``invest_gap``: start and end both successful P2P_invest, window 30 days.
  J1 invest 03-02 10:00 twice (ids j1a, j1b), 03-04 10:00            → j1a→j1b 0, j1b→03-04 172800; the last has no next
"""

from __future__ import annotations

from datetime import date

import pytest

from finlens_common.errors import QueryError
from semantic import Drill, Query, compile_query, run_query, users_behind
from tests.catalog_helpers import catalog_with
from tests.warehouse_fixtures import ENGINES, engine_warehouse

YAML = """
metrics:
  - name: reg_to_bind
    type: interval
    start: {event: register}
    end: {event: bind_card, filter: is_success}
    window: 1d
    label: {zh: 注册到绑卡, en: Register to card}
    format: duration
    business_line: platform
  - name: invest_gap
    type: interval
    start: {event: P2P_invest, filter: is_success}
    end: {event: P2P_invest, filter: is_success}
    window: 30d
    label: {zh: 投资间隔, en: Between investments}
    format: duration
    business_line: p2p
"""


def ev(user, time, event, ok=None, platform="iOS", event_id=None):
    return dict(user_id=user, event_time=time, event=event, is_success=ok, platform=platform, event_id=event_id)


EVENTS = [
    ev("I1", "2026-03-02 10:00:00", "register"),
    ev("I1", "2026-03-02 10:05:00", "bind_card", False),
    ev("I1", "2026-03-02 10:10:00", "bind_card", True),
    ev("I2", "2026-03-02 12:00:00", "register", platform="Android"),
    ev("I2", "2026-03-03 12:00:00", "bind_card", True),
    ev("I3", "2026-03-03 08:00:00", "register"),
    ev("I3", "2026-03-04 08:00:01", "bind_card", True),
    ev("I4", "2026-03-04 09:00:00", "register", event_id="i4b"),
    ev("I4", "2026-03-04 09:00:00", "bind_card", True, event_id="i4a"),
    ev("I5", "2026-03-05 09:00:00", "bind_card", True),
    ev("I5", "2026-03-05 10:00:00", "register"),
    ev("I6", "2026-03-05 10:00:00", "register"),
    ev("I6", "2026-03-05 11:00:00", "register"),
    ev("I6", "2026-03-05 12:00:00", "bind_card", True),
    ev("I7", "2026-03-08 23:00:00", "register"),
    ev("I7", "2026-03-09 01:00:00", "bind_card", True),
    ev("I8", "2026-03-01 23:00:00", "register"),
    ev("I8", "2026-03-02 01:00:00", "bind_card", True),
    ev("J1", "2026-03-02 10:00:00", "P2P_invest", True, event_id="j1a"),
    ev("J1", "2026-03-02 10:00:00", "P2P_invest", True, event_id="j1b"),
    ev("J1", "2026-03-04 10:00:00", "P2P_invest", True, event_id="j1c"),
]
RANGE = dict(start=date(2026, 3, 2), end=date(2026, 3, 8))
STATS = [
    "users",
    "intervals",
    "mean_seconds",
    "p10_seconds",
    "p25_seconds",
    "p50_seconds",
    "p75_seconds",
    "p90_seconds",
]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return catalog_with(tmp_path_factory.mktemp("interval"), YAML)


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    with engine_warehouse(request, tmp_path_factory.mktemp("interval_wh"), EVENTS, []) as opened:
        yield opened


def run(catalog, warehouse, name="reg_to_bind", **options):
    return run_query(catalog, Query(metrics=(name,), **RANGE, **options), warehouse).rows


def test_intervals_over_the_range(catalog, warehouse):
    (row,) = run(catalog, warehouse)
    assert list(row) == STATS
    assert [row[s] for s in STATS] == pytest.approx([5, 6, 17500, 300, 1350, 5400, 7200, 46800])


def test_by_day_of_the_start_and_by_its_values(catalog, warehouse):
    by_day = {r["day"]: r for r in run(catalog, warehouse, grain="day")}
    assert sorted(by_day) == ["2026-03-02", "2026-03-04", "2026-03-05", "2026-03-08"]
    assert (by_day["2026-03-02"]["users"], by_day["2026-03-02"]["mean_seconds"]) == (2, 43500)
    assert by_day["2026-03-02"]["p50_seconds"] == pytest.approx(43500)
    assert (by_day["2026-03-05"]["users"], by_day["2026-03-05"]["intervals"]) == (1, 2)
    assert by_day["2026-03-08"]["p90_seconds"] == pytest.approx(7200)
    by_platform = {
        r["platform"]: (r["users"], r["intervals"]) for r in run(catalog, warehouse, dimensions=("platform",))
    }
    assert by_platform == {"Android": (1, 1), "iOS": (4, 5)}


def test_the_same_event_as_start_and_end_pairs_with_the_next_one(catalog, warehouse):
    (row,) = run(catalog, warehouse, "invest_gap")
    assert (row["users"], row["intervals"], row["mean_seconds"]) == (1, 2, 86400)
    assert row["p10_seconds"] == pytest.approx(17280)


def test_no_interval_gives_zero_users(catalog, warehouse):
    rows = run_query(
        catalog, Query(metrics=("reg_to_bind",), start=date(2026, 3, 3), end=date(2026, 3, 3)), warehouse
    ).rows
    assert [(r["users"], r["intervals"], r["mean_seconds"]) for r in rows] == [(0, 0, None)]


def test_users_behind_intervals(catalog, warehouse):
    query = Query(metrics=("reg_to_bind",), grain="day", **RANGE)
    listed = users_behind(catalog, query, Drill(bucket="2026-03-05"), warehouse)
    assert [(r["user_id"], r["intervals"], r["mean_seconds"]) for r in listed.rows] == [("I6", 2, 5400)]
    everyone = users_behind(catalog, Query(metrics=("reg_to_bind",), **RANGE), Drill(), warehouse)
    assert sorted(r["user_id"] for r in everyone.rows) == ["I1", "I2", "I4", "I6", "I7"]
    android = users_behind(
        catalog, Query(metrics=("reg_to_bind",), **RANGE), Drill(filters=(("platform", "Android"),)), warehouse
    )
    assert [r["user_id"] for r in android.rows] == ["I2"]


def test_interval_options_refused(catalog):
    with pytest.raises(QueryError, match="average over cohorts is for retentions"):
        compile_query(catalog, Query(metrics=("reg_to_bind",), average=True))
    with pytest.raises(QueryError, match="query it on its own"):
        compile_query(catalog, Query(metrics=("reg_to_bind", "invest_gap")))
