"""First-touch and latest-touch channels on every event, from logs the real Sensors SDK writes.

day1.log: P views a page at 09:00 from toutiao ($utm_source), at 09:05 untagged, at 09:10 with the SDK's
``$latest_utm_source`` wechat, at 09:15 untagged, at 09:20 from baidu_sem. Q logs in at 10:00 untagged, views a
page at 10:05 from seo and at 10:10 untagged; Q's profile says ``$utm_source`` invite. Anonymous r-1 views a page
at 11:00 from douyin. day2.log: r-1 signs up as L (09:00), L registers at 09:01; P views a page at 10:00.

Worked out by the rules in ingest/touch.py:
- P: first touch toutiao (no profile channel; earliest tagged event). Latest: toutiao, toutiao, wechat (sent),
  wechat (carried), baidu_sem (own), and on day 2 baidu_sem (carried from day 1's stored rows).
- Q: first touch invite (the profile wins over the seo event). Latest: invite before any tag (the first touch),
  then seo, seo.
- L: r-1's events move to L at the signup; first touch douyin; latest douyin on all three events.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sensorsanalytics

from connectors import connect
from ingest.schema import EVENTS_TABLE, TABLES
from ingest.sensors import import_sensors
from ingest.touch import fill_touch_channels
from semantic import Query, load_catalog, run_query
from tests.warehouse_fixtures import ENGINES, load

CST = timezone(timedelta(hours=8))
WEB = {"$lib": "js", "$os": "Windows"}


def at(day: int, hour: int, minute: int) -> int:
    return int(datetime(2026, 3, day, hour, minute, tzinfo=CST).timestamp() * 1000)


def sdk_log(path: Path, write) -> Path:
    consumer = sensorsanalytics.LoggingConsumer(str(path))
    sa = sensorsanalytics.SensorsAnalytics(consumer)
    try:
        write(sa)
        sa.flush()
    finally:
        sa.close()
        logger = logging.getLogger("SensorsAnalyticsLogger")
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
    return path


def day1(sa) -> None:
    view = "$pageview"
    sa.track("P", view, {"$time": at(10, 9, 0), "$utm_source": "toutiao", **WEB}, is_login_id=True)
    sa.track("P", view, {"$time": at(10, 9, 5), **WEB}, is_login_id=True)
    sa.track("P", view, {"$time": at(10, 9, 10), "$latest_utm_source": "wechat", **WEB}, is_login_id=True)
    sa.track("P", view, {"$time": at(10, 9, 15), **WEB}, is_login_id=True)
    sa.track("P", view, {"$time": at(10, 9, 20), "$utm_source": "baidu_sem", **WEB}, is_login_id=True)
    sa.track("Q", "login", {"$time": at(10, 10, 0)}, is_login_id=True)
    sa.track("Q", view, {"$time": at(10, 10, 5), "$utm_source": "seo", **WEB}, is_login_id=True)
    sa.track("Q", view, {"$time": at(10, 10, 10), **WEB}, is_login_id=True)
    sa.profile_set("Q", {"$utm_source": "invite"}, is_login_id=True)
    sa.track("r-1", view, {"$time": at(10, 11, 0), "$utm_source": "douyin", **WEB})


def day2(sa) -> None:
    sa.track_signup("L", "r-1", {"$time": at(11, 9, 0)})
    sa.track("L", "register", {"$time": at(11, 9, 1), "is_success": True}, is_login_id=True)
    sa.track("P", "$pageview", {"$time": at(11, 10, 0), **WEB}, is_login_id=True)


EXPECTED = [
    # (user_id, time, first touch, latest touch)
    ("L", "2026-03-10 11:00", "douyin", "douyin"),
    ("L", "2026-03-11 09:00", "douyin", "douyin"),
    ("L", "2026-03-11 09:01", "douyin", "douyin"),
    ("P", "2026-03-10 09:00", "toutiao", "toutiao"),
    ("P", "2026-03-10 09:05", "toutiao", "toutiao"),
    ("P", "2026-03-10 09:10", "toutiao", "wechat"),
    ("P", "2026-03-10 09:15", "toutiao", "wechat"),
    ("P", "2026-03-10 09:20", "toutiao", "baidu_sem"),
    ("P", "2026-03-11 10:00", "toutiao", "baidu_sem"),
    ("Q", "2026-03-10 10:00", "invite", "invite"),
    ("Q", "2026-03-10 10:05", "invite", "seo"),
    ("Q", "2026-03-10 10:10", "invite", "seo"),
]
TOUCHES = (
    "SELECT user_id, strftime(event_time, '%Y-%m-%d %H:%M'), first_utm_source, latest_utm_source "
    "FROM events ORDER BY user_id, event_time"
)


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("touch")
    return sdk_log(folder / "day1.log", day1), sdk_log(folder / "day2.log", day2)


def test_each_event_carries_the_users_first_and_latest_touch(logs, tmp_path):
    url = f"duckdb:///{(tmp_path / 'w.duckdb').as_posix()}"
    with connect(url, read_only=False) as warehouse:
        import_sensors(warehouse, [logs[0]])
        import_sensors(warehouse, [logs[1]])  # the signup and P's day-2 view arrive in a later run
        assert warehouse.query(TOUCHES).rows == EXPECTED
        import_sensors(warehouse, list(logs))  # importing again changes nothing
        assert warehouse.query(TOUCHES).rows == EXPECTED
    # the catalog's "by channel" is the first touch: P's five day-1 views are toutiao's, Q's two views invite's
    with connect(url) as warehouse:
        rows = run_query(
            load_catalog(),
            Query(
                metrics=("pv",),
                dimensions=("channel",),
                start=datetime(2026, 3, 10).date(),
                end=datetime(2026, 3, 10).date(),
            ),
            warehouse,
        ).rows
    assert sorted((r["channel"], r["pv"]) for r in rows) == [("douyin", 1), ("invite", 2), ("toutiao", 5)]


def test_a_warehouse_from_an_older_schema_gets_the_columns_filled_for_every_user(logs, tmp_path):
    url = f"duckdb:///{(tmp_path / 'old.duckdb').as_posix()}"
    old = [(n, k) for n, k, _ in TABLES[EVENTS_TABLE] if n not in ("first_utm_source", "latest_utm_source")]
    with connect(url, read_only=False) as warehouse:
        warehouse.execute(f"CREATE TABLE events ({', '.join(f'{n} {k}' for n, k in old)})")
        # an event stored before the upgrade, by a user the new logs never mention: tagged seo
        warehouse.execute(
            "INSERT INTO events (event_id, event_time, event, user_id, distinct_id, utm_source, properties) "
            "VALUES ('old-1', TIMESTAMP '2026-03-01 08:00:00', '$pageview', 'Z', 'Z', 'seo', '{}')"
        )
        import_sensors(warehouse, [logs[0], logs[1]])
        assert warehouse.query(
            "SELECT first_utm_source, latest_utm_source FROM events WHERE event_id = 'old-1'"
        ).rows == [("seo", "seo")]
        assert [r for r in warehouse.query(TOUCHES).rows if r[0] != "Z"] == EXPECTED  # the new events too
        filled = warehouse.query(
            "SELECT count(*) FROM events WHERE user_id IS NOT NULL AND first_utm_source IS NULL"
        ).rows
    assert filled == [(0,)]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_fills_the_same_touches(engine, tmp_path, request):
    """By hand: u1 came through wechat (day 1), bound a card untagged (day 2), came back through seo (day 3), then
    clicked untagged: first touch wechat on all four events; latest touch wechat, wechat, seo, seo. u2 was never
    tagged: no touch. A second run changes nothing."""
    if engine == "duckdb":
        url = f"duckdb:///{tmp_path.as_posix()}/touch.duckdb"
    elif engine == "postgres":
        url = request.getfixturevalue("postgres_server").url
    else:
        url = f"chdb:///{tmp_path.as_posix()}/ch"
    rows = [
        dict(event_id="e1", event_time="2026-01-01 10:00:00", event="$AppStart", user_id="u1", utm_source="wechat"),
        dict(event_id="e2", event_time="2026-01-02 10:00:00", event="bind_card", user_id="u1"),
        dict(event_id="e3", event_time="2026-01-03 10:00:00", event="$AppStart", user_id="u1", utm_source="seo"),
        dict(event_id="e4", event_time="2026-01-03 11:00:00", event="$AppClick", user_id="u1"),
        dict(event_id="e5", event_time="2026-01-01 10:00:00", event="$AppClick", user_id="u2"),
    ]
    with connect(url, read_only=False) as warehouse:
        load(warehouse, [{**r, "distinct_id": r["user_id"]} for r in rows], [])
        fill_touch_channels(warehouse, ["u1", "u2"])
        stored = warehouse.query(
            "SELECT event_id, first_utm_source, latest_utm_source FROM events ORDER BY event_id"
        ).rows
        again = (
            warehouse.query("SELECT event_id, first_utm_source, latest_utm_source FROM events ORDER BY event_id").rows
            if fill_touch_channels(warehouse, ["u1"]) == 0
            else None
        )
    assert [tuple(r) for r in stored] == [
        ("e1", "wechat", "wechat"),
        ("e2", "wechat", "wechat"),
        ("e3", "wechat", "seo"),
        ("e4", "wechat", "seo"),
        ("e5", None, None),
    ]
    assert again == stored
