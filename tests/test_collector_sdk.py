"""The real Sensors Python SDK sends to ``finlens collect``; the tables equal ``finlens import sensors``'s.

The events are those of ``test_sensors_import.py`` (worked out by hand there: 11 events, a-1's two
page views re-attributed to u1 by the signup, 4 bad lines), sent with the SDK's three network
consumers: day1 with DefaultConsumer (one request per record), day2 with BatchConsumer, day3 (3
more records, below) with AsyncBatchConsumer. The same calls also write log files through the
SDK's LoggingConsumer, which ``import_sensors`` loads into a second warehouse; every table must be
the same row for row, event ids included (a record's line is the same text either way).

day3: u2 deposits 500 at 12:00 (success), b-1 views home again at 12:05 on Web, a
profile_increment of u3's ``logins`` by 2 at 12:10 (profile records carry an explicit ``$time``: the SDK
would stamp them with the clock, and two sends would be two records). So: 13 events in all (b-1 2, u1 7, u2 3, u3 1), 4
rejects (the JSON-lines endpoint takes the 4 bad lines as they are), users u2 (gender m, Beijing,
real name; ``vip`` gold kept aside) and u3 (created by the increment: every column NULL, ``logins``
= 2 kept aside); u1 sent no profile record, so has no row.
"""

from __future__ import annotations

import gzip

import pytest
import sensorsanalytics

from connectors import connect
from ingest.sensors import import_sensors
from tests.collector_helpers import running_collector, sdk, wait_for
from tests.test_sensors_import import BAD_LINES, day1, day2, ms, sdk_log


def day3(sa) -> None:
    sa.track("u2", "deposit", {"$time": ms(12, 0), "amount": 500, "is_success": True}, is_login_id=True)
    sa.track("b-1", "$pageview", {"$time": ms(12, 5), "$lib": "js", "$os": "Windows", "$screen_name": "home"})
    sa.profile_increment("u3", {"$time": ms(12, 10), "logins": 2}, is_login_id=True)


def send(consumer, write) -> None:
    """``write``'s records through ``consumer``. The SDK puts the text of the calling line into each record
    (``$lib_detail``): it reads ``write(sa)`` here as in ``sdk_log``, so the records are the same text."""
    with sdk(consumer) as sa:
        write(sa)


TABLES = {
    "events": "SELECT * FROM events ORDER BY event_id",
    "users": "SELECT * FROM users ORDER BY user_id",
    "identity_map": "SELECT distinct_id, user_id FROM identity_map ORDER BY distinct_id",
    "user_properties": "SELECT user_id, properties FROM user_properties ORDER BY user_id",
    "profile_log": "SELECT record_id, distinct_id FROM profile_log ORDER BY record_id",
    "import_rejects": "SELECT raw, reason FROM import_rejects ORDER BY raw",
}


def rows(url: str) -> dict[str, list[tuple]]:
    with connect(url) as warehouse:
        return {name: warehouse.query(sql).rows for name, sql in TABLES.items()}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sdk")
    logs = [sdk_log(folder / f"day{i}.log", write) for i, write in enumerate((day1, day2, day3), start=1)]
    bad = folder / "bad.log"
    bad.write_text("\n".join(BAD_LINES) + "\n")
    imported = f"duckdb:///{(folder / 'imported.duckdb').as_posix()}"
    with connect(imported, read_only=False) as warehouse:
        import_sensors(warehouse, [*logs, bad])
    collected = f"duckdb:///{(folder / 'collected.duckdb').as_posix()}"
    with running_collector(collected, folder / "spool") as collector:
        send(sensorsanalytics.DefaultConsumer(collector.sa_url, request_timeout=10), day1)
        send(sensorsanalytics.BatchConsumer(collector.sa_url, max_size=4, request_timeout=10), day2)
        send(sensorsanalytics.AsyncBatchConsumer(collector.sa_url, flush_max_time=1, flush_size=2), day3)
        body = gzip.compress(("\n".join(BAD_LINES) + "\n").encode())
        status, _, _ = collector.post("/events", body, {"Content-Encoding": "gzip"})
        assert status == 200
        # 6 + 6 + 3 SDK records and 4 lines
        wait_for(lambda: collector.metric("finlens_collector_records_accepted_total") == 19, "19 records acknowledged")
        wait_for(collector.drained, "the collector to load every acknowledged record")
        live = rows(collected)  # read through the collector, which owns the file meanwhile
        requests = collector.metric("finlens_collector_requests_total")
    return imported, collected, live, requests


def test_every_table_equals_the_file_import(both):
    imported, collected, live, _ = both
    expected = rows(imported)
    assert live == expected
    assert rows(collected) == expected  # and the same once the collector has stopped and let the file go


def test_the_numbers_worked_out_by_hand(both):
    _, collected, _, requests = both
    with connect(collected) as warehouse:
        assert warehouse.query("SELECT count(*) FROM events").rows == [(13,)]
        by_user = warehouse.query("SELECT user_id, count(*) FROM events GROUP BY 1 ORDER BY 1").rows
        assert by_user == [("b-1", 2), ("u1", 7), ("u2", 3), ("u3", 1)]
        assert warehouse.query("SELECT user_id, gender, province, is_real_name FROM users ORDER BY 1").rows == [
            ("u2", "m", "Beijing", True),
            ("u3", None, None, None),
        ]
        assert warehouse.query("SELECT user_id, properties FROM user_properties ORDER BY 1").rows == [
            ("u2", '{"vip": "gold"}'),
            ("u3", '{"logins": 2}'),
        ]
        rejects = warehouse.query("SELECT file, line, reason FROM import_rejects ORDER BY line").rows
        assert [(line, reason.split(":")[0]) for _, line, reason in rejects] == [
            (1, "not valid JSON"),
            (2, "missing required field time"),
            (3, "property 'amount' (column amount) must be a number, got string"),
            (4, "a line must be a JSON object, got list"),
        ]
        assert len({file for file, _, _ in rejects}) == 1 and rejects[0][0].startswith("collector:")
    # DefaultConsumer: one request per record (6); BatchConsumer max 4: 2 requests; AsyncBatchConsumer: 1 or more;
    # and the JSON-lines request
    assert requests >= 6 + 2 + 1 + 1
