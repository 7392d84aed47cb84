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
import hashlib
import json
import logging
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sensorsanalytics

from connectors import connect
from finlens.cli import main
from ingest import sensors
from ingest.sensors import import_sensors
from ingest.sensors_columns import ROW_COLUMNS, _fast_dumps, bindings_of, map_event_ordered
from ingest.sensors_parse import parse_chunk, plain_track
from ingest.sensors_read import Chunk, check_record, spans
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
    profile = {"$time": ms(11, 20), "gender": "m", "$province": "Beijing", "is_real_name": True, "vip": "gold"}
    sa.profile_set("u2", profile, is_login_id=True)


def day2(sa) -> None:
    sa.track_signup("u1", "a-1", {"$time": ms(9, 10)})
    sa.track("u1", "register", {"$time": ms(9, 10), "is_success": True, "method": "phone"}, is_login_id=True)
    sa.track("u1", "realname_auth", {"$time": ms(9, 20), "is_success": True}, is_login_id=True)
    sa.track("u1", "bind_card", {"$time": ms(9, 30), "is_success": True}, is_login_id=True)
    sa.track(
        "u1",
        "P2P_invest",
        {"$time": ms(10, 0), "amount": 1000, "is_success": True, "product_id": "p1", "product_type": "bond"},
        is_login_id=True,
    )
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
    got = rows(
        url,
        "SELECT event_time, event, user_id, distinct_id, platform, page, utm_source, device_model, "
        "app_version, business_line FROM events WHERE distinct_id = 'a-1' ORDER BY event_time",
    )
    assert got == [
        (
            datetime(2026, 3, 10, 9, 0),
            "$AppViewScreen",
            "u1",
            "a-1",
            "iOS",
            "home",
            "douyin",
            "iPhone15,2",
            "5.2.1",
            "platform",
        ),
        (
            datetime(2026, 3, 10, 9, 1),
            "$AppViewScreen",
            "u1",
            "a-1",
            "iOS",
            "product_list",
            "douyin",
            "iPhone15,2",
            "5.2.1",
            "platform",
        ),
    ]
    assert rows(url, "SELECT platform, user_id FROM events WHERE distinct_id = 'b-1'") == [("Web", "b-1")]
    assert rows(
        url,
        "SELECT amount, is_success, product_id, product_type, business_line, platform FROM events "
        "WHERE event = 'P2P_invest'",
    ) == [(1000.0, True, "p1", "bond", "p2p", None)]
    assert rows(
        url,
        "SELECT json_extract_string(properties, '$.card_index'), json_extract_string(properties, '$.method') "
        "FROM events WHERE event = 'bind_card' AND user_id = 'u2'",
    ) == [("1", None)]
    assert rows(url, "SELECT count(*), count(DISTINCT event_id) FROM events") == [(11, 11)]
    assert rows(url, "SELECT distinct_id, user_id FROM identity_map") == [("a-1", "u1")]


def test_rejects_table_has_file_line_and_reason(imported, logs):
    got = rows(imported[0], "SELECT file, line, raw, reason FROM import_rejects ORDER BY line")
    assert [(f, line, raw) for f, line, raw, _ in got] == [
        (str(logs[1].resolve()), 7 + i, raw) for i, raw in enumerate(BAD_LINES)
    ]
    reasons = [reason for *_, reason in got]
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1] == "missing required field time"
    assert reasons[2] == "property 'amount' (column amount) must be a number, got string"
    assert reasons[3] == "a line must be a JSON object, got list"


def test_profiles_fill_users(imported):
    assert rows(imported[0], "SELECT user_id, gender, province, is_real_name FROM users") == [
        ("u2", "m", "Beijing", True)
    ]
    assert rows(imported[0], "SELECT properties FROM user_properties") == [('{"vip": "gold"}',)]


def test_catalog_metrics_on_imported_data(imported, catalog):
    with connect(imported[0]) as warehouse:
        (totals,) = run_query(catalog, Query(metrics=("uv", "pv")), warehouse).rows
        funnel = run_query(catalog, Query(metrics=("bind_card_funnel",)), warehouse).rows
    assert (totals["uv"], totals["pv"]) == (4, 3)
    assert [(step["step_name"], step["users"]) for step in funnel] == [
        ("register", 2),
        ("realname_auth", 1),
        ("bind_card", 1),
    ]


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
    assert err.splitlines() == [
        f"finlens: error: {tmp_path / 'missing.log'}: no such file",
        "finlens: error: unknown time zone 'Mars/Base': use an IANA name such as Asia/Shanghai or UTC",
    ]


def test_truncated_gzip_is_one_line_error(logs, tmp_path, capsys):
    packed = tmp_path / "cut.log.gz"
    packed.write_bytes(gzip.compress(logs[0].read_bytes())[:-30])
    url = f"duckdb:///{(tmp_path / 'cut.duckdb').as_posix()}"
    assert main(["import", "sensors", str(packed), "--warehouse", url]) == 4
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"finlens: error: {packed}: cannot read past line 1")


# --- The fast paths: plain track records, orjson, worker processes and batched appends ---------------------------

T0 = 1773104400000  # 2026-03-10 09:00 +08:00


def line(**record) -> str:
    return json.dumps(record, separators=(",", ":"))


def test_plain_track_gives_the_general_paths_row():
    """``plain_track`` maps the commonest records itself and must equal check_record + map_event + bindings_of.

    Worked by hand for the first record: P2P_invest from the iOS SDK → platform iOS, business line p2p
    (prefix P2P_), amount 100, is_success true, app_version 5.2.1, device_model iPhone15,2; properties keeps
    $lib, $os and note; event_id t:<_track_id>:<time>:<distinct_id>.
    """
    ios = {"$lib": "iOS", "$os": "iOS", "$app_version": "5.2.1", "$model": "iPhone15,2"}
    plain = [
        {
            "type": "track",
            "event": "P2P_invest",
            "distinct_id": "u1",
            "time": T0,
            "_track_id": 42,
            "properties": {**ios, "amount": 100, "is_success": True, "note": "x"},
        },
        {
            "type": "track",
            "event": "view",
            "distinct_id": "u2",
            "time": T0,
            "anonymous_id": "a2",
            "properties": {"$lib": "js", "$os": "Android", "$is_login_id": True, "$utm_source": None},
        },
        {
            "type": "track",
            "event": "view",
            "distinct_id": "u3",
            "time": T0,
            "_track_id": True,
            "properties": {"platform": "Web", "$lib": "MiniProgram"},
        },
        {
            "type": "track",
            "event": "view",
            "distinct_id": "u4",
            "time": T0,
            "_track_id": "",
            "properties": {"$lib": "MiniProgram", "page": "home", "duration": 1.5},
        },
        {
            "type": "track",
            "event": "forex_trade",
            "distinct_id": "u5",
            "time": T0,
            "_track_id": "abc",
            "properties": {"$lib": "python", "$os": "Linux", "business_line": "fx"},
        },
    ]
    general = [
        {
            "type": "track",
            "event": "view",
            "distinct_id": "u6",
            "time": T0,  # two sources of app_version
            "properties": {"app_version": "1", "$app_version": "2"},
        },
        {"type": "track", "event": "deposit", "distinct_id": "u7", "time": T0, "properties": {"amount": "abc"}},
        {"type": "track", "event": "view", "distinct_id": "u8", "time": T0, "login_id": "L8", "properties": {}},
        {"type": "track", "event": "$SignUp", "distinct_id": "u9", "time": T0, "original_id": "a9", "properties": {}},
        {"type": "track", "event": "view", "distinct_id": "u10", "time": float(T0), "properties": {}},
        {"type": "track", "event": "view", "distinct_id": "u11", "time": T0},
        {
            "type": "track_signup",
            "event": "x",
            "distinct_id": "u12",
            "time": T0,
            "original_id": "a12",
            "properties": {},
        },
        {
            "type": "track",
            "event": "view",
            "distinct_id": "u13",
            "time": T0,
            "properties": {},
            "identities": {"$identity_login_id": "u13"},
        },
    ]
    for record in plain:
        raw = line(**record).encode()
        got = plain_track(record, raw, _fast_dumps)
        assert got is not None, record
        assert check_record(record) is None
        assert got == (map_event_ordered(record, raw, _fast_dumps), bindings_of(record))
    for record in general:
        assert plain_track(record, line(**record).encode(), _fast_dumps) is None, record
    ((row, pairs),) = [plain_track(plain[0], line(**plain[0]).encode(), _fast_dumps)]
    got = dict(zip(ROW_COLUMNS, row))
    assert (got["event_id"], got["platform"], got["business_line"], got["amount"], got["is_success"]) == (
        f"t:42:{T0}:u1",
        "iOS",
        "p2p",
        100,
        True,
    )
    assert (got["app_version"], got["device_model"], got["properties"]) == (
        "5.2.1",
        "iPhone15,2",
        '{"$lib":"iOS","$os":"iOS","note":"x"}',
    )
    # $is_login_id with anonymous_id binds a2 -> u2; js on Android is H5; a null column property stays in properties.
    row, pairs = plain_track(plain[1], line(**plain[1]).encode(), _fast_dumps)
    assert pairs == [("a2", "u2")] and row[5] == "H5" and '"$utm_source":null' in row[6] and row[0].startswith("h:")
    # an explicit platform wins and leaves properties; a bool or empty _track_id falls back to the content hash
    assert plain_track(plain[2], b"r", _fast_dumps)[0][5:7] == ("Web", '{"$lib":"MiniProgram"}')
    assert plain_track(plain[3], b"r", _fast_dumps)[0][0] == "h:" + hashlib.blake2b(b"r", digest_size=16).hexdigest()
    assert dict(zip(ROW_COLUMNS, plain_track(plain[4], b"r", _fast_dumps)[0]))["business_line"] == "fx"


def test_lines_orjson_refuses_keep_the_json_module_semantics():
    """orjson refuses NaN and integers beyond 64 bits; ``json`` accepts them, so they are imported as before.

    Line 3 has a trailing comma: invalid for both, rejected with json's message. Line 4's _track_id is
    2**64 = 18446744073709551616, an int for ``json`` (orjson would read a float), so its id is the t: form.
    """
    lines = [
        line(type="track", event="e", distinct_id="d", time=T0, _track_id=1, properties={}).replace("{}", '{"x":NaN}'),
        line(type="track", event="e", distinct_id="d", time=T0, _track_id=2, properties={"big": 10**30}),
        line(type="track", event="e", distinct_id="d", time=T0, _track_id=3, properties={}).replace("{}", '{"a":1,}'),
        line(type="track", event="e", distinct_id="d", time=T0, _track_id=2**64, properties={}),
    ]
    result = parse_chunk(Chunk("f.log", 1, ("\n".join(lines) + "\n").encode()), "UTC")
    assert result.events.column("properties").to_pylist() == [
        '{"x":NaN}',
        '{"big":1000000000000000000000000000000}',
        "{}",
    ]
    assert result.events.column("event_id").to_pylist()[2] == f"t:18446744073709551616:{T0}:d"
    assert [(r[1], r[3].split(":")[0]) for r in result.rejects] == [(3, "not valid JSON")]


PARALLEL_LOG = [
    line(
        type="track",
        event="login",
        distinct_id="u7",
        anonymous_id="anon-7",
        time=T0,
        _track_id=1,
        properties={"$is_login_id": True},
    ),
    line(
        type="track",
        event="$AppViewScreen",
        distinct_id="anon-7",
        time=T0 + 1000,
        _track_id=2,
        properties={"$lib": "iOS", "$screen_name": "home"},
    ),
    "{broken",
    line(
        type="track",
        event="view",
        distinct_id="anon-8",
        time=T0 + 2000,
        _track_id=3,
        properties={"$lib": "js", "$os": "Android"},
    ),
    line(
        type="track",
        event="$AppViewScreen",
        distinct_id="anon-7",
        time=T0 + 1000,
        _track_id=2,
        properties={"$lib": "iOS", "$screen_name": "home"},
    ),
    line(
        type="track",
        event="P2P_invest",
        distinct_id="u7",
        time=T0 + 3000,
        _track_id=4,
        properties={"$is_login_id": True, "amount": 100},
    ),
    line(type="profile_set", distinct_id="u7", time=T0 + 3000, properties={"gender": "f"}),
    line(type="track", event="x", distinct_id="anon-8", time=T0 + 4000, properties={}),
    line(type="track", event="x", distinct_id="anon-8", time=T0 + 4000, properties={}),
    line(type="track", event="deposit", distinct_id="d", time=T0, properties={"amount": "abc"}),
]


@pytest.mark.parametrize("packed, batch_rows", [(False, 3), (True, 100)])
def test_worker_processes_and_batches_keep_lines_duplicates_and_identity(tmp_path, monkeypatch, packed, batch_rows):
    """PARALLEL_LOG through two worker processes, one line per chunk, plain (byte ranges) and gzip.

    By hand: 10 lines; line 3 (not JSON) and line 10 (amount "abc") are rejected; line 5 repeats line 2
    (same _track_id, time, distinct_id) and line 9 repeats line 8 (same bytes, same content hash), so
    they are duplicates: with batches of 3 events the warehouse catches them, with one batch of 100 the
    batch itself does. Events: lines 1, 2, 4, 6, 8 = 5. Line 1 binds anon-7 to u7 before line 2 is
    stored, so line 2's user is u7 at once (nothing re-attributed). Line 4 is js on Android: H5.
    A second import adds nothing: all 7 event lines are duplicates, the 2 rejects are not stored again.
    """
    monkeypatch.setattr(sensors, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(sensors, "BATCH_ROWS", batch_rows)
    text = ("\n".join(PARALLEL_LOG) + "\n").encode()
    log = tmp_path / ("p.log.gz" if packed else "p.log")
    log.write_bytes(gzip.compress(text) if packed else text)
    url = f"duckdb:///{(tmp_path / 'p.duckdb').as_posix()}"
    seen: list[tuple[int, int]] = []
    with connect(url, read_only=False) as warehouse:
        threads = warehouse.query("SELECT current_setting('threads')").rows
        first = import_sensors(
            warehouse, [log], jobs=2, chunk_bytes=1, progress=lambda done, total: seen.append((done, total))
        )
        again = import_sensors(warehouse, [log], jobs=2, chunk_bytes=1)
        assert warehouse.query("SELECT current_setting('threads')").rows == threads  # put back after the import
    assert (first.lines, first.events, first.duplicates, first.rejected, first.profiles) == (10, 5, 2, 2, 1)
    assert (first.identities, first.reattributed) == (1, 0)
    assert (again.events, again.duplicates, again.rejected) == (0, 7, 2)
    assert rows(url, "SELECT line FROM import_rejects ORDER BY line") == [(3,), (10,)]
    assert rows(url, "SELECT user_id, platform FROM events WHERE distinct_id = 'anon-7'") == [("u7", "iOS")]
    assert rows(url, "SELECT platform FROM events WHERE distinct_id = 'anon-8' AND event = 'view'") == [("H5",)]
    assert rows(url, "SELECT count(*), count(DISTINCT event_id) FROM events") == [(5, 5)]
    assert rows(url, "SELECT user_id, gender FROM users") == [("u7", "f")]
    assert [done for done, _ in seen] == sorted(done for done, _ in seen) and seen[-1] == (log.stat().st_size,) * 2


def test_spans_cut_after_a_newline(tmp_path):
    """b"a\\nbb\\nccc" (8 bytes, no final newline) in 2-byte spans: each span runs on to the next newline.

    From 0: 0+2 = 2 is just after "a\\n" → (0, 2); from 2: 4 falls inside "bb\\n", which ends at 5 → (2, 5);
    from 5: 7 falls inside "ccc", which runs to the end of the file → (5, 8).
    """
    log = tmp_path / "s.log"
    log.write_bytes(b"a\nbb\nccc")
    got = list(spans(log, chunk_bytes=2))
    assert [(c.span, c.position) for c in got] == [((0, 2), 2), ((2, 5), 5), ((5, 8), 8)]
    assert [c.read() for c in got] == [b"a\n", b"bb\n", b"ccc"]


def test_profile_operations_on_a_value_of_another_type_leave_it_unchanged():
    """increment onto the text 'gold' and append onto the number 3 keep the stored values; a number still adds."""
    from ingest.sensors_users import apply

    row, extra = apply(
        None, {"level": "gold", "tags": 3, "points": 10}, "profile_increment", {"level": 5, "points": 2}, "UTC"
    )
    assert extra == {"level": "gold", "tags": 3, "points": 12}
    row, extra = apply(row, extra, "profile_append", {"tags": ["vip"], "list": ["a"]}, "UTC")
    assert extra == {"level": "gold", "tags": 3, "points": 12, "list": ["a"]}


def test_a_profile_record_named_signup_with_a_numeric_original_id_binds_nothing():
    from ingest.sensors_columns import bindings_of

    record = {"type": "profile_set", "event": "$SignUp", "distinct_id": "u1", "original_id": 42, "properties": {"a": 1}}
    assert bindings_of(record) == []
    record.update(type="track_signup", original_id="anon")
    assert bindings_of(record) == [("anon", "u1")]


def test_gzip_through_the_reader_process_reports_truncation_and_leaves_no_parts(logs, tmp_path, monkeypatch):
    """A truncated gzip log decompressed by the reader process (two workers, 1-byte chunks) fails with the
    same one-line error as in-process decompression, and its folder of decompressed parts is gone afterwards;
    a whole log leaves nothing either."""
    import tempfile

    from finlens_common.errors import IngestError

    monkeypatch.setattr(sensors, "PARALLEL_MIN_BYTES", 0)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(gzip.compress(logs[0].read_bytes())[:-30])
    whole = tmp_path / "whole.log.gz"
    whole.write_bytes(gzip.compress(logs[0].read_bytes()))
    url = f"duckdb:///{(tmp_path / 'g.duckdb').as_posix()}"
    with connect(url, read_only=False) as warehouse:
        with pytest.raises(IngestError, match=rf"^{re.escape(str(cut))}: cannot read past line \d+"):
            import_sensors(warehouse, [cut], jobs=2, chunk_bytes=1)
        assert list(scratch.iterdir()) == []
        summary = import_sensors(warehouse, [whole], jobs=2, chunk_bytes=1)
        assert list(scratch.iterdir()) == []
    plain = len(logs[0].read_bytes().splitlines())
    assert summary.lines == plain
