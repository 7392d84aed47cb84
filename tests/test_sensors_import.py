"""``finlens import sensors`` on logs written by the real Sensors Python SDK, numbers worked out by hand.

day1.log (SDK): anonymous a-1 views home 09:00 and product_list 09:01 on iOS (from douyin);
anonymous b-1 views home 10:00 in a desktop browser (Web); login id u2 logs in 11:00 and binds
a card 11:10; a profile_set for u2. day2.log (SDK): a-1 signs up as u1 09:10 ($SignUp), u1
registers 09:10, passes real-name 09:20, binds a card 09:30, invests 1000 in p1 10:00;
u3 registers 12:00. Then four hand-made bad lines (lines 7-10 of day2.log).

So: 11 events; a-1's two page views belong to u1 once day2 is imported (re-attributed);
uv = 4 (u1, b-1, u2, u3), pv = 3; bind_card_funnel: 2 registered (u1, u3), 1 verified,
1 bound (u2's bind_card has no register before it).
"""
from __future__ import annotations

import gzip
import logging
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sensorsanalytics

from connectors import connect
from finlens.cli import main
from ingest.sensors import import_sensors
from semantic import Query, run_query

CST = timezone(timedelta(hours=8))
BAD_LINES = [
    "{broken json",
    '{"type":"track","event":"login","distinct_id":"u9","properties":{}}',
    '{"type":"track","event":"deposit","time":1773104400000,"distinct_id":"u9","properties":{"amount":"abc"}}',
    "[1, 2]",
]


def ms(hour: int, minute: int) -> int:
    return int(datetime(2026, 3, 10, hour, minute, tzinfo=CST).timestamp() * 1000)


def sdk_log(path: Path, write) -> Path:
    """Let the real SDK's LoggingConsumer write ``path``; the SDK's logger is shared, so detach after."""
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
    ios = {"$lib": "iOS", "$os": "iOS", "$model": "iPhone15,2", "$app_version": "5.2.1", "$utm_source": "douyin"}
    sa.track("a-1", "$AppViewScreen", {"$time": ms(9, 0), "$screen_name": "home", **ios})
    sa.track("a-1", "$AppViewScreen", {"$time": ms(9, 1), "$screen_name": "product_list", **ios})
    sa.track("b-1", "$pageview", {"$time": ms(10, 0), "$lib": "js", "$os": "Windows", "$screen_name": "home"})
    sa.track("u2", "login", {"$time": ms(11, 0), "method": "password"}, is_login_id=True)
    sa.track("u2", "bind_card", {"$time": ms(11, 10), "is_success": True, "card_index": 1}, is_login_id=True)
    sa.profile_set("u2", {"gender": "m", "$province": "Beijing", "is_real_name": True, "vip": "gold"}, is_login_id=True)


def day2(sa) -> None:
    sa.track_signup("u1", "a-1", {"$time": ms(9, 10)})
    sa.track("u1", "register", {"$time": ms(9, 10), "is_success": True, "method": "phone"}, is_login_id=True)
    sa.track("u1", "realname_auth", {"$time": ms(9, 20), "is_success": True}, is_login_id=True)
    sa.track("u1", "bind_card", {"$time": ms(9, 30), "is_success": True}, is_login_id=True)
    sa.track("u1", "P2P_invest", {"$time": ms(10, 0), "amount": 1000, "is_success": True, "product_id": "p1",
                                  "product_type": "bond"}, is_login_id=True)
    sa.track("u3", "register", {"$time": ms(12, 0), "is_success": True}, is_login_id=True)


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sensors")
    first = sdk_log(folder / "day1.log", day1)
    second = sdk_log(folder / "day2.log", day2)
    with open(second, "a", encoding="utf-8") as out:
        out.write("\n".join(BAD_LINES) + "\n")
    return first, second


@pytest.fixture(scope="module")
def imported(logs, tmp_path_factory):
    """day1 then day2 imported one after the other (the signup arrives in the later file)."""
    url = f"duckdb:///{(tmp_path_factory.mktemp('wh') / 'w.duckdb').as_posix()}"
    with connect(url, read_only=False) as warehouse:
        first = import_sensors(warehouse, [logs[0]])
        second = import_sensors(warehouse, [logs[1]])
        again = import_sensors(warehouse, list(logs))
    return url, first, second, again


def rows(url: str, sql: str) -> list[tuple]:
    with connect(url) as warehouse:
        return warehouse.query(sql).rows


def test_sdk_log_is_what_the_importer_expects(logs):
    first_line = logs[0].read_text().splitlines()[0]
    assert '"type":"track"' in first_line and '"distinct_id":"a-1"' in first_line and '"time":' in first_line


def test_summaries_count_every_line(imported):
    _, first, second, again = imported
    assert (first.lines, first.events, first.rejected, first.profiles, first.reattributed) == (6, 5, 0, 1, 0)
    assert (second.lines, second.events, second.rejected, second.identities, second.reattributed) == (10, 6, 4, 1, 2)
    assert (again.events, again.duplicates, again.rejected, again.reattributed) == (0, 11, 4, 0)


def test_events_columns_and_identity(imported):
    url = imported[0]
    got = rows(url, "SELECT event_time, event, user_id, distinct_id, platform, page, utm_source, device_model, "
                    "app_version, business_line FROM events WHERE distinct_id = 'a-1' ORDER BY event_time")
    assert got == [
        (datetime(2026, 3, 10, 9, 0), "$AppViewScreen", "u1", "a-1", "iOS", "home", "douyin", "iPhone15,2", "5.2.1", "platform"),
        (datetime(2026, 3, 10, 9, 1), "$AppViewScreen", "u1", "a-1", "iOS", "product_list", "douyin", "iPhone15,2", "5.2.1", "platform"),
    ]
    assert rows(url, "SELECT platform, user_id FROM events WHERE distinct_id = 'b-1'") == [("Web", "b-1")]
    assert rows(url, "SELECT amount, is_success, product_id, product_type, business_line, platform FROM events "
                     "WHERE event = 'P2P_invest'") == [(1000.0, True, "p1", "bond", "p2p", None)]
    assert rows(url, "SELECT json_extract_string(properties, '$.card_index'), json_extract_string(properties, '$.method') "
                     "FROM events WHERE event = 'bind_card' AND user_id = 'u2'") == [("1", None)]
    assert rows(url, "SELECT count(*), count(DISTINCT event_id) FROM events") == [(11, 11)]
    assert rows(url, "SELECT distinct_id, user_id FROM identity_map") == [("a-1", "u1")]


def test_rejects_table_has_file_line_and_reason(imported, logs):
    got = rows(imported[0], "SELECT file, line, raw, reason FROM import_rejects ORDER BY line")
    assert [(f, line, raw) for f, line, raw, _ in got] == [(str(logs[1].resolve()), 7 + i, raw) for i, raw in enumerate(BAD_LINES)]
    reasons = [reason for *_, reason in got]
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1] == "missing required field time"
    assert reasons[2] == "property 'amount' (column amount) must be a number, got string"
    assert reasons[3] == "a line must be a JSON object, got list"


def test_profiles_fill_users(imported):
    assert rows(imported[0], "SELECT user_id, gender, province, is_real_name FROM users") == [("u2", "m", "Beijing", True)]
    assert rows(imported[0], "SELECT properties FROM user_properties") == [('{"vip": "gold"}',)]


def test_catalog_metrics_on_imported_data(imported, catalog):
    with connect(imported[0]) as warehouse:
        (totals,) = run_query(catalog, Query(metrics=("uv", "pv")), warehouse).rows
        funnel = run_query(catalog, Query(metrics=("bind_card_funnel",)), warehouse).rows
    assert (totals["uv"], totals["pv"]) == (4, 3)
    assert [(step["step_name"], step["users"]) for step in funnel] == [
        ("register", 2), ("realname_auth", 1), ("bind_card", 1)]


def test_gzip_log_and_time_zone(logs, tmp_path):
    packed = tmp_path / "day1.log.gz"
    with open(logs[0], "rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    url = f"duckdb:///{(tmp_path / 'gz.duckdb').as_posix()}"
    with connect(url, read_only=False) as warehouse:
        summary = import_sensors(warehouse, [packed], time_zone="UTC")
    assert (summary.events, summary.rejected) == (5, 0)
    assert rows(url, "SELECT min(event_time) FROM events") == [(datetime(2026, 3, 10, 1, 0),)]


def test_cli_exit_status_and_one_line_errors(logs, tmp_path, capsys):
    url = f"duckdb:///{(tmp_path / 'cli.duckdb').as_posix()}"
    assert main(["import", "sensors", str(logs[0]), "--warehouse", url]) == 0
    assert main(["import", "sensors", str(logs[1]), "--warehouse", url]) == 5
    out, err = capsys.readouterr()
    assert "6 new events" in out and "4 rejected" in out and "import_rejects" in err
    assert main(["import", "sensors", str(tmp_path / "missing.log"), "--warehouse", url]) == 4
    assert main(["import", "sensors", str(logs[0]), "--time-zone", "Mars/Base", "--warehouse", url]) == 4
    _, err = capsys.readouterr()
    assert err.splitlines() == [f"finlens: error: {tmp_path / 'missing.log'}: no such file",
                                "finlens: error: unknown time zone 'Mars/Base': use an IANA name such as Asia/Shanghai or UTC"]


def test_truncated_gzip_is_one_line_error(logs, tmp_path, capsys):
    packed = tmp_path / "cut.log.gz"
    packed.write_bytes(gzip.compress(logs[0].read_bytes())[:-30])
    url = f"duckdb:///{(tmp_path / 'cut.duckdb').as_posix()}"
    assert main(["import", "sensors", str(packed), "--warehouse", url]) == 4
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"finlens: error: {packed}: cannot read past line 1")
