"""``kill -9`` of the collector mid-stream, a restart, and a client resending what was not acknowledged.

A client (the Sensors SDK's own encoding and request code) sends 2,400 events in batches of 40,
one batch at a time, resending a batch until it is acknowledged. The collector is killed with
SIGKILL twice while the client sends (once a third and two thirds of the batches were
acknowledged; the client holds its next batch until the kill, so it always meets the dead
collector however fast the machine) and started again on the same spool, while the loader may
still be writing what was acknowledged. Some acknowledged batches are also sent a
second time, as a client does when an acknowledgement is lost. Event i (0..2399) is a
``P2P_invest`` of user ``u{i % 60}`` with amount i + 1, so the warehouse must end with exactly
2,400 events, 2,400 distinct ids, amounts summing to 2400 * 2401 / 2 = 2,881,200, and 40 events
per user: nothing lost, nothing twice. On DuckDB (the collector owns the file) and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
import urllib.error

import pytest
import sensorsanalytics

from connectors import connect
from tests.collector_helpers import kill9, start_collector, stop, wait_for

EVENTS, BATCH, USERS = 2_400, 40, 60
BASE_MS = 1_790_000_000_000  # 2026-09-21 (any fixed time inside 2000-2100)


class Capture:
    """An SDK consumer that keeps each record's JSON text (what the SDK would send)."""

    def __init__(self):
        self.messages: list[str] = []

    def send(self, message: str) -> None:
        self.messages.append(message)

    def flush(self) -> None: ...

    def close(self) -> None: ...


def records() -> list[str]:
    capture = Capture()
    sa = sensorsanalytics.SensorsAnalytics(capture)
    for i in range(EVENTS):
        properties = {"$time": BASE_MS + i * 1000, "amount": i + 1, "is_success": True, "seq": i}
        sa.track(f"u{i % USERS}", "P2P_invest", properties, is_login_id=True)
    return capture.messages


class Client(threading.Thread):
    """Sends every batch until acknowledged; ``acked`` counts acknowledged batches."""

    def __init__(self, url: str, batches: list[list[str]], resend: set[int], hold_before: set[int]):
        super().__init__(daemon=True)
        self.consumer = sensorsanalytics.DefaultConsumer(url, request_timeout=10)
        self.batches, self.resend = batches, resend
        self.holds = {number: threading.Event() for number in hold_before}
        self.acked = 0
        self.failures = 0

    def post(self, batch: list[str]) -> None:
        while True:
            try:
                self.consumer._do_request({"data_list": self.consumer._encode_msg_list(batch), "gzip": 1})
                return
            except (sensorsanalytics.SensorsAnalyticsNetworkException, urllib.error.URLError, OSError):
                self.failures += 1
                time.sleep(0.05)

    def run(self) -> None:
        for number, batch in enumerate(self.batches):
            if number in self.holds:  # wait for the test to kill the collector
                self.holds[number].wait(timeout=120)
            self.post(batch)
            self.acked += 1
            if number in self.resend:  # the acknowledgement "got lost": the client sends it again
                self.post(batch)


@pytest.fixture(params=["duckdb", "postgres"])
def target(request, tmp_path):
    if request.param == "duckdb":
        url = f"duckdb:///{(tmp_path / 'live.duckdb').as_posix()}"
        return url, url
    server = request.getfixturevalue("postgres_server")
    with connect(server.url, read_only=False) as warehouse:
        for table in ("events", "users", "import_rejects", "import_files", "identity_map", "profile_log"):
            warehouse.execute(f"DROP TABLE IF EXISTS {table}")
        warehouse.execute("DROP TABLE IF EXISTS user_properties")
        warehouse.execute("DROP TABLE IF EXISTS ingest_loads")
    return server.url, server.reader_url


def test_kill_9_mid_stream_loses_nothing_and_stores_nothing_twice(target, tmp_path):
    write_url, read_url = target
    spool = tmp_path / "spool"
    messages = records()
    batches = [messages[i : i + BATCH] for i in range(0, EVENTS, BATCH)]
    collector = start_collector(write_url, spool)
    holds = (len(batches) // 3, 2 * len(batches) // 3)
    client = Client(collector.sa_url, batches, resend={3, 25, 50}, hold_before=set(holds))
    client.start()
    for number in holds:
        wait_for(lambda n=number: client.acked >= n, f"{number} batches acknowledged")
        kill9(collector)
        client.holds[number].set()  # the client's next batch meets the dead collector
        collector = start_collector(write_url, spool, port=collector.port)
    client.join(timeout=300)
    assert not client.is_alive() and client.acked == len(batches)
    wait_for(collector.drained, "the collector to load everything acknowledged")
    assert client.failures > 0  # the client did meet the dead collector
    with connect(read_url) as warehouse:
        summary = warehouse.query("SELECT count(*), count(DISTINCT event_id), sum(amount) FROM events").rows
        per_user = warehouse.query(
            "SELECT min(n), max(n), count(*) FROM (SELECT user_id, count(*) AS n FROM events GROUP BY 1) t"
        ).rows
        seq = warehouse.query(
            "SELECT count(DISTINCT event_id) FROM events WHERE event = 'P2P_invest' AND is_success"
        ).rows
    assert [tuple(int(v) for v in row) for row in summary] == [(EVENTS, EVENTS, EVENTS * (EVENTS + 1) // 2)]
    assert [tuple(int(v) for v in row) for row in per_user] == [(EVENTS // USERS, EVENTS // USERS, USERS)]
    assert [tuple(int(v) for v in row) for row in seq] == [(EVENTS,)]
    assert stop(collector) == 0
