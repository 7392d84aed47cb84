"""PV/UV, sessions, bounce, depth, durations, new users, grains and filters on a hand-built fixture.

Every expected number below is worked out by hand from the rows in ``EVENTS``.

Sessions (30-minute gap; exactly 1800 s stays, 1801 s splits):
  A (iOS, F):  S1 03-01 10:00:00-10:30:00  2 page views, 0 clicks, 1800 s (app_error inside)
               S2 03-01 11:00:01-11:05:01  1 page view,  1 click,  300 s
  B (Android, M): S3 03-01 23:50:00-03-02 00:10:00  1 page view, 0 clicks, 1200 s  (bounce; day 03-01)
  C (Web, F):  S4 03-02 09:00:00-09:00:00  1 page view, 1 click, 0 s
               S5 03-02 12:00:00           login only, 0 s
  D (platform NULL, gender NULL): S6 03-02 13:00:00 login only, 0 s
  NULL user: one page view 03-02 08:00 (counts in pv, in no session, not in uv)
"""

from __future__ import annotations

from datetime import date

import pytest

from connectors import connect
from semantic import Query, run_query
from tests.warehouse_fixtures import build_rollups, make_warehouse

EVENTS = [
    dict(
        event_id="a1",
        event_time="2026-03-01 10:00:00",
        event="$AppViewScreen",
        user_id="A",
        platform="iOS",
        page="home",
    ),
    dict(event_id="a5", event_time="2026-03-01 10:10:00", event="app_error", user_id="A", platform="iOS", page="home"),
    dict(
        event_id="a2",
        event_time="2026-03-01 10:30:00",
        event="$AppViewScreen",
        user_id="A",
        platform="iOS",
        page="product_list",
    ),
    dict(
        event_id="a3",
        event_time="2026-03-01 11:00:01",
        event="$AppViewScreen",
        user_id="A",
        platform="iOS",
        page="home",
    ),
    dict(
        event_id="a4",
        event_time="2026-03-01 11:05:01",
        event="$AppClick",
        user_id="A",
        platform="iOS",
        page="home",
        element="banner",
    ),
    dict(
        event_id="b1",
        event_time="2026-03-01 23:50:00",
        event="$AppViewScreen",
        user_id="B",
        platform="Android",
        page="home",
    ),
    dict(event_id="b2", event_time="2026-03-02 00:10:00", event="$AppStart", user_id="B", platform="Android"),
    dict(event_id="c1", event_time="2026-03-02 09:00:00", event="$pageview", user_id="C", platform="Web", page="home"),
    dict(event_id="c2", event_time="2026-03-02 09:00:00", event="$WebClick", user_id="C", platform="Web"),
    dict(event_id="c3", event_time="2026-03-02 12:00:00", event="login", user_id="C", platform="Web"),
    dict(event_id="d1", event_time="2026-03-02 13:00:00", event="login", user_id="D"),
    dict(event_id="n1", event_time="2026-03-02 08:00:00", event="$pageview", user_id=None, platform="Web", page="home"),
]
USERS = [
    dict(user_id="A", gender="F", register_channel="invite"),
    dict(user_id="B", gender="M", register_channel="feed_ads"),
    dict(user_id="C", gender="F", register_channel="feed_ads"),
    dict(user_id="D", gender=None, register_channel=None),
]


@pytest.fixture(scope="module")
def catalog():
    """The shipped catalog loaded for this module: whether rollups answer depends on the definitions' fingerprint,
    and in a whole run the session's shared catalog object no longer fingerprints like a fresh load (another test
    leaves it changed; see the note on the rollups)."""
    from finlens_common.settings import DEFAULT_METRICS_ROOT
    from semantic import load_catalog

    return load_catalog(DEFAULT_METRICS_ROOT)


@pytest.fixture(scope="module", params=["events", "rollups"])
def warehouse(request, tmp_path_factory):
    """The fixture read from the events, and with the loaders' rollups built (the same numbers either way)."""
    url = make_warehouse(tmp_path_factory.mktemp("sessions") / "fixture.duckdb", EVENTS, USERS)
    if request.param == "rollups":
        build_rollups(url)
    with connect(url) as wh:
        yield wh


def rows(catalog, warehouse, *metrics, **options):
    return run_query(catalog, Query(metrics=metrics, **options), warehouse).rows


def test_totals(catalog, warehouse):
    (row,) = rows(
        catalog,
        warehouse,
        "pv",
        "uv",
        "clicks",
        "sessions",
        "avg_session_duration",
        "avg_visit_depth",
        "bounce_rate",
        "error_rate",
    )
    assert row["pv"] == 6  # a1 a2 a3 b1 c1 n1
    assert row["uv"] == 4  # A B C D; the NULL user is not a visitor
    assert row["clicks"] == 2
    assert row["sessions"] == 6
    assert row["avg_session_duration"] == pytest.approx((1800 + 300 + 1200 + 0 + 0 + 0) / 6)
    assert row["avg_visit_depth"] == pytest.approx(5 / 4)  # page views in sessions / sessions with a page view
    assert row["bounce_rate"] == pytest.approx(1 / 4)  # only S3
    assert row["error_rate"] == pytest.approx(1 / 6)


def test_session_belongs_to_day_of_first_event(catalog, warehouse):
    got = rows(catalog, warehouse, "sessions", "pv", grain="day")
    assert got == [
        {"day": "2026-03-01", "sessions": 3, "pv": 4},  # S1 S2 S3 (S3 ends after midnight)
        {"day": "2026-03-02", "sessions": 3, "pv": 2},
    ]


def test_gap_of_exactly_limit_stays_and_one_more_second_splits(catalog, warehouse):
    got = rows(catalog, warehouse, "sessions", "avg_session_duration", where="platform = 'iOS'")
    assert got == [{"sessions": 2, "avg_session_duration": pytest.approx((1800 + 300) / 2)}]


def test_date_range_selects_events_before_sessionizing(catalog, warehouse):
    (row,) = rows(
        catalog, warehouse, "sessions", "bounce_rate", "pv", "uv", start=date(2026, 3, 2), end=date(2026, 3, 2)
    )
    # b2 alone is a session without page views; C has S4 and S5; D has S6.
    assert row == {"sessions": 4, "bounce_rate": 0.0, "pv": 2, "uv": 3}


def test_null_dimension_values_are_a_group(catalog, warehouse):
    got = rows(catalog, warehouse, "uv", "sessions", dimensions=("platform",))
    assert got == [
        {"platform": "Android", "uv": 1, "sessions": 1},
        {"platform": "Web", "uv": 1, "sessions": 2},
        {"platform": "iOS", "uv": 1, "sessions": 2},
        {"platform": None, "uv": 1, "sessions": 1},
    ]


def test_joined_user_dimension_has_no_fan_out(catalog, warehouse):
    got = rows(catalog, warehouse, "pv", "uv", dimensions=("gender",))
    assert got == [
        {"gender": "F", "pv": 4, "uv": 2},  # A: 3 page views, C: 1
        {"gender": "M", "pv": 1, "uv": 1},
        {"gender": None, "pv": 1, "uv": 1},  # D has no page view; the NULL user's page view has no user row
    ]


def test_filter_on_joined_dimension_and_is_null(catalog, warehouse):
    assert rows(catalog, warehouse, "uv", where="gender = 'F'") == [{"uv": 2}]
    assert rows(catalog, warehouse, "uv", where="platform IS NULL") == [{"uv": 1}]
    assert rows(catalog, warehouse, "pv", where="platform IN ('Web', 'Android') AND NOT page = 'product_list'") == [
        {"pv": 3}
    ]


def test_new_users_by_day_and_in_range(catalog, warehouse):
    assert rows(catalog, warehouse, "new_users", grain="day") == [
        {"day": "2026-03-01", "new_users": 2},  # A, B
        {"day": "2026-03-02", "new_users": 2},  # C, D
    ]
    assert rows(catalog, warehouse, "new_users", start=date(2026, 3, 2), end=date(2026, 3, 2)) == [{"new_users": 2}]
    # A filter applies to the first event itself: B's first event is on Android.
    assert rows(catalog, warehouse, "new_users", where="platform = 'Android'") == [{"new_users": 1}]


def test_iso_weeks_start_on_monday(catalog, warehouse):
    # 2026-03-01 is a Sunday: it belongs to the week of Monday 2026-02-23.
    assert rows(catalog, warehouse, "sessions", grain="week") == [
        {"week": "2026-02-23", "sessions": 3},
        {"week": "2026-03-02", "sessions": 3},
    ]


@pytest.mark.parametrize(
    ("grain", "expected"),
    [
        (
            "hour",
            [
                ("2026-03-01 10:00:00", 3),
                ("2026-03-01 11:00:00", 2),
                ("2026-03-01 23:00:00", 1),
                ("2026-03-02 00:00:00", 1),
                ("2026-03-02 08:00:00", 1),
                ("2026-03-02 09:00:00", 2),
                ("2026-03-02 12:00:00", 1),
                ("2026-03-02 13:00:00", 1),
            ],
        ),
        ("month", [("2026-03-01", 12)]),
        ("quarter", [("2026-01-01", 12)]),
        ("year", [("2026-01-01", 12)]),
    ],
)
def test_grains(catalog, warehouse, grain, expected):
    got = rows(catalog, warehouse, "event_count", grain=grain)
    assert [(r[grain], r["event_count"]) for r in got] == expected


def test_the_rollups_answer_when_the_loader_built_them(catalog, warehouse):
    """With rollups built, the session and new-user numbers above came from them (not silently from the events)."""
    sql = run_query(catalog, Query(metrics=("sessions", "new_users"), grain="day"), warehouse).sql
    built = warehouse.has_table("rollup_state")
    why = ""
    if built:
        from semantic.compiler.rollup_state import expected_fingerprints

        why = f"stored {warehouse.query('SELECT * FROM rollup_state').rows}, expected {expected_fingerprints(catalog)}"
    assert ("rollup_session_days" in sql, "rollup_first_seen" in sql) == (built, built), why
