"""The users behind a number, one user's sequence and a dimension's values, on a hand-built warehouse.

Every expected list below is worked out by hand from EVENTS (see the comments), not copied from output.
"""

from __future__ import annotations

from datetime import date

import pytest

from connectors import connect
from finlens_common.errors import QueryError
from semantic import Query
from semantic.drill.lookup import dimension_values, user_events
from semantic.drill.users import Drill, bucket_range, users_behind
from tests.warehouse_fixtures import make_warehouse


def ev(time: str, event: str, user: str | None, platform: str = "iOS", **extra):
    return dict(event_time=f"2026-{time}", event=event, user_id=user, platform=platform, **extra)


EVENTS = [
    ev("03-01 09:00:00", "$AppStart", "a"),
    ev("03-01 09:01:00", "register", "a"),
    ev("03-01 09:10:00", "realname_auth", "a", is_success=True),
    ev("03-01 09:20:00", "bind_card", "a", is_success=True),
    ev("03-02 08:00:00", "$AppStart", "a"),
    ev("03-03 10:00:00", "deposit", "a", is_success=True, amount=100.0),
    ev("03-04 10:00:00", "deposit", "a", is_success=True, amount=50.0),
    ev("03-01 12:00:00", "register", "b", "Android"),
    ev("03-01 12:30:00", "realname_auth", "b", "Android", is_success=True),
    ev("03-01 13:00:00", "bind_card", "b", "Android", is_success=False, fail_reason="card_expired"),
    ev("03-02 09:00:00", "bind_card", "b", "Android", is_success=True),
    ev("03-03 09:00:00", "deposit", "b", "Android", is_success=True, amount=30.0),
    ev("03-02 10:00:00", "register", "c"),
    ev("03-02 10:05:00", "realname_auth", "c", is_success=False, fail_reason="id_mismatch"),
    ev("02-20 10:00:00", "$AppStart", "d"),
    ev("03-03 10:00:00", "bind_card", "d", is_success=True),
    ev("03-04 10:00:00", "$AppStart", "d", "Web"),
    ev("03-04 10:00:00", "register", "e", "H5"),
    ev("03-04 10:10:00", "realname_auth", "e", "H5", is_success=True),
    ev("03-02 11:00:00", "$pageview", None, "Web"),
]
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 4)}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    url = make_warehouse(tmp_path_factory.mktemp("drill") / "drill.duckdb", EVENTS)
    with connect(url) as wh:
        yield wh


def ids(result) -> list[str]:
    return [row["user_id"] for row in result.rows]


def test_count_distinct_users_follow_the_metric_filter(catalog, warehouse):
    # successful bind_card in March: a (03-01), b (03-02; its 03-01 failure does not count), d (03-03)
    result = users_behind(catalog, Query(metrics=("bind_card_users",), **MARCH), Drill(), warehouse)
    assert sorted(ids(result)) == ["a", "b", "d"] and result.total == 3
    assert all(row["events"] == 1 for row in result.rows)


def test_breakdown_value_and_time_bucket_narrow_the_users(catalog, warehouse):
    query = Query(metrics=("bind_card_users",), dimensions=("platform",), grain="day", **MARCH)
    assert sorted(ids(users_behind(catalog, query, Drill(filters=(("platform", "iOS"),)), warehouse))) == ["a", "d"]
    assert ids(users_behind(catalog, query, Drill(bucket="2026-03-02"), warehouse)) == ["b"]
    assert (
        ids(users_behind(catalog, query, Drill(filters=(("platform", "iOS"),), bucket="2026-03-02"), warehouse)) == []
    )


def test_sum_users_carry_their_own_sum_most_active_first(catalog, warehouse):
    # deposits: a 100 + 50 (two events), b 30 (one)
    result = users_behind(catalog, Query(metrics=("deposit_amount",), **MARCH), Drill(), warehouse)
    assert [(r["user_id"], r["events"], r["value"]) for r in result.rows] == [("a", 2, 150), ("b", 1, 30)]


def test_paging_keeps_the_total(catalog, warehouse):
    query = Query(metrics=("bind_card_users",), **MARCH)
    first = users_behind(catalog, query, Drill(), warehouse, limit=2)
    second = users_behind(catalog, query, Drill(), warehouse, limit=2, offset=2)
    assert (len(first.rows), first.total, len(second.rows), second.total) == (2, 3, 1, 3)
    assert sorted(ids(first) + ids(second)) == ["a", "b", "d"]


def test_new_users_are_first_seen_in_range_under_the_first_events_values(catalog, warehouse):
    # first events: a 03-01 iOS, b 03-01 Android, c 03-02 iOS, e 03-04 H5; d first seen 02-20
    assert sorted(ids(users_behind(catalog, Query(metrics=("new_users",), **MARCH), Drill(), warehouse))) == [
        "a",
        "b",
        "c",
        "e",
    ]
    ios = users_behind(catalog, Query(metrics=("new_users",), where="platform = 'iOS'", **MARCH), Drill(), warehouse)
    assert sorted(ids(ios)) == ["a", "c"]


def test_funnel_step_users_and_drop_offs(catalog, warehouse):
    query = Query(metrics=("bind_card_funnel",), **MARCH)
    # register: a b c e; real-name success: a b e (c failed); card bound within 7 days: a b
    assert sorted(ids(users_behind(catalog, query, Drill(step=1), warehouse))) == ["a", "b", "c", "e"]
    assert sorted(ids(users_behind(catalog, query, Drill(step=2), warehouse))) == ["a", "b", "e"]
    assert sorted(ids(users_behind(catalog, query, Drill(step=3), warehouse))) == ["a", "b"]
    assert ids(users_behind(catalog, query, Drill(step=2, dropped=True), warehouse)) == ["c"]
    assert ids(users_behind(catalog, query, Drill(step=3, dropped=True), warehouse)) == ["e"]
    android = users_behind(catalog, query, Drill(step=3, filters=(("platform", "Android"),)), warehouse)
    assert ids(android) == ["b"]


def test_retention_cohort_users_retained_or_not(catalog, warehouse):
    query = Query(metrics=("bind_card_retention",), **MARCH)
    # cohorts by first successful bind_card: a 03-01, b 03-02, d 03-03; day-1 $AppStart: a (03-02), d (03-04)
    assert ids(users_behind(catalog, query, Drill(cohort="2026-03-01"), warehouse)) == ["a"]
    day1 = users_behind(catalog, query, Drill(period=1), warehouse)
    assert {r["user_id"]: r["returned"] for r in day1.rows} == {"a": True, "b": False, "d": True}
    assert ids(users_behind(catalog, query, Drill(period=1, retained=False), warehouse)) == ["b"]


def test_ratio_drills_into_its_numerator_and_sessions_are_refused(catalog, warehouse):
    ratio = next(m for m in catalog.metrics.values() if m.type == "ratio" and m.numerator == "bind_card_users")
    result = users_behind(catalog, Query(metrics=(ratio.name,), **MARCH), Drill(), warehouse)
    assert sorted(ids(result)) == ["a", "b", "d"]
    with pytest.raises(QueryError, match="session metric has no single set of users"):
        users_behind(catalog, Query(metrics=("sessions",), **MARCH), Drill(), warehouse)
    with pytest.raises(QueryError, match="step of funnel"):
        users_behind(catalog, Query(metrics=("bind_card_funnel",), **MARCH), Drill(), warehouse)


def test_bucket_ranges():
    assert bucket_range("month", "2026-02-01") == (date(2026, 2, 1), date(2026, 2, 28))
    assert bucket_range("quarter", "2026-10-01") == (date(2026, 10, 1), date(2026, 12, 31))
    with pytest.raises(QueryError):
        bucket_range("hour", "2026-10-01 10:00:00")


def test_user_events_split_sessions_and_flag_failures(catalog, warehouse):
    seq = user_events(catalog, "b", warehouse)
    # 12:00, 12:30, 13:00 (gaps of exactly 30 minutes stay in one session), then 03-02 and 03-03
    assert [r["event"] for r in seq.rows] == ["register", "realname_auth", "bind_card", "bind_card", "deposit"]
    assert [r["session"] for r in seq.rows] == [1, 1, 1, 2, 3] and seq.sessions == 3
    assert [r["failed"] for r in seq.rows] == [False, False, True, False, False]
    assert seq.rows[2]["fail_reason"] == "card_expired"
    assert user_events(catalog, "nobody' OR 1=1 --", warehouse).rows == []


def test_dimension_values_in_range(catalog, warehouse):
    assert dimension_values(catalog, "platform", warehouse, **MARCH) == ["Android", "H5", "Web", "iOS"]
    assert dimension_values(catalog, "platform", warehouse, start=date(2026, 3, 1), end=date(2026, 3, 1)) == [
        "Android",
        "iOS",
    ]
    with pytest.raises(QueryError, match="did you mean 'platform'"):
        dimension_values(catalog, "platfrom", warehouse)
