"""Hostile requests: each is refused in one line with its status, stores nothing, and the next request is served.

One collector on DuckDB with small bounds (200 KB bodies, 100 records a request). After every
hostile request a good one-record request must be acknowledged; in the end the warehouse holds
exactly the good records (one per hostile case plus the good records of mixed batches) and the
bad records of mixed batches are in ``import_rejects`` with their reasons.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
from urllib.parse import urlencode

import pytest

from connectors import connect
from tests.collector_helpers import running_collector, wait_for

BASE_MS = 1_790_000_000_000


def record(n: int, **properties) -> str:
    props = {"amount": 1, **properties}
    return json.dumps(
        {"type": "track", "event": "deposit", "time": BASE_MS + n, "distinct_id": f"d{n}", "properties": props}
    )


def form(*, data_list: list[str] | None = None, text: str | None = None, gzip_it: bool = True, **fields) -> bytes:
    raw = (text if text is not None else "[" + ",".join(data_list or []) + "]").encode()
    encoded = base64.b64encode(gzip.compress(raw) if gzip_it else raw).decode()
    return urlencode({"data_list": encoded, "gzip": 1 if gzip_it else 0, **fields}).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DEEP = "[" * 5000 + "]" * 5000
BOMB = gzip.compress(b" " * (100 * 1024 * 1024), compresslevel=9)  # 100 MB of spaces in ~100 KB

# (name, path, body, headers, status, the refusal's words)
HOSTILE = [
    ("oversized body", "/sa", b"data_list=" + b"A" * 300_000, FORM, 413, "exceeds 204,800 bytes"),
    ("bad base64", "/sa", b"data_list=%21%21not*base64%21%21&gzip=1", FORM, 400, "not valid base64"),
    (
        "not gzip",
        "/sa",
        urlencode({"data_list": base64.b64encode(b"plain"), "gzip": 1}).encode(),
        FORM,
        400,
        "not gzip",
    ),
    (
        "gzip bomb (form)",
        "/sa",
        urlencode({"data_list": base64.b64encode(BOMB), "gzip": 1}).encode(),
        FORM,
        413,
        "decompressed data exceeds",
    ),
    ("gzip bomb (lines)", "/events", BOMB, {"Content-Encoding": "gzip"}, 413, "decompressed data exceeds"),
    ("deep JSON", "/sa", form(text=DEEP), FORM, 400, "nested too deeply"),
    (
        "deep record",
        "/sa",
        form(text="[" + record(0).replace('"amount": 1', '"amount": ' + DEEP) + "]"),
        FORM,
        400,
        "nested too deeply",
    ),
    ("not an array", "/sa", form(text='{"type": "track"}'), FORM, 400, "not a JSON array"),
    ("trailing text", "/sa", form(text="[] []"), FORM, 400, "text after the array"),
    ("too many records", "/sa", form(data_list=[record(i) for i in range(101)]), FORM, 413, "more than 100 records"),
    ("gzip flag", "/sa", form(data_list=[record(1)], gzip="2"), FORM, 400, "gzip must be 0 or 1"),
    ("both fields", "/sa", b"data=eyJ9&data_list=W10%3D", FORM, 400, "exactly one of"),
    ("no field", "/sa", b"", FORM, 400, "exactly one of"),
    (
        "not UTF-8",
        "/sa",
        urlencode({"data_list": base64.b64encode(b'["\xff"]'), "gzip": 0}).encode(),
        FORM,
        400,
        "not UTF-8",
    ),
    ("another project", "/sa?project=other", form(data_list=[record(1)]), FORM, 404, "unknown project 'other'"),
]


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    url = f"duckdb:///{(folder / 'w.duckdb').as_posix()}"
    with running_collector(url, folder / "spool", "--max-body-mb", str(200 / 1024), "--max-records", "100") as running:
        yield running, url


def good(collector, n: int) -> None:
    status, body, _ = collector.post("/sa", form(data_list=[record(n)]), FORM)
    assert status == 200, body


@pytest.mark.parametrize("case", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_a_hostile_request_is_refused_in_one_line_and_the_next_is_served(collector, case):
    running, _ = collector
    name, path, body, headers, status, words = case
    got, text, _ = running.post(path, body, headers)
    assert got == status, text
    line = text.decode()
    assert line.count("\n") == 1 and line.endswith("\n") and words in line
    good(running, 1000 + HOSTILE.index(case))


def test_a_chunked_body_is_cut_off_at_the_bound(collector):
    running, _ = collector
    connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
    connection.putrequest("POST", "/events")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    try:
        for _ in range(40):  # 40 chunks of 10 KB, no Content-Length
            connection.send(b"2800\r\n" + b"x" * 10240 + b"\r\n")
        connection.send(b"0\r\n\r\n")
    except OSError:
        pass  # the collector may close the connection once it has refused
    response = connection.getresponse()
    assert response.status == 413 and b"request body exceeds 204,800 bytes" in response.read()
    good(running, 2000)


def test_bad_records_are_kept_aside_and_the_good_ones_stored(collector):
    """A batch of 4: a good deposit, a NaN amount, a string time, a numeric distinct_id; then JSON lines
    with a good line, a line nested 2,000 deep and an amount of the wrong type."""
    running, url = collector
    nan = record(3001).replace('"amount": 1', '"amount": NaN')
    text_time = record(3002).replace(f'"time": {BASE_MS + 3002}', '"time": "yesterday"')
    numeric_id = record(3003).replace('"distinct_id": "d3003"', '"distinct_id": 3003')
    status, _, _ = running.post("/sa", form(data_list=[record(3000), nan, text_time, numeric_id]), FORM)
    assert status == 200
    deep_line = record(3005, x=[]).replace("[]", "[" * 2000 + "]" * 2000)
    lines = "\n".join([record(3004), deep_line, record(3006, amount="12")]).encode()
    status, _, _ = running.post("/events", lines)
    assert status == 200
    wait_for(running.drained, "the collector to load the batches")
    with connect(url) as warehouse:
        stored = warehouse.query("SELECT distinct_id FROM events WHERE distinct_id LIKE 'd300%' ORDER BY 1").rows
        rejects = warehouse.query("SELECT line, reason FROM import_rejects ORDER BY file, line").rows
    assert stored == [("d3000",), ("d3004",)]
    reasons = sorted(reason.split(",")[0] for _, reason in rejects)
    assert reasons == sorted(
        [
            "property 'amount' (column amount) must be a finite number",
            "time must be epoch milliseconds (an integer)",
            "distinct_id must be a string",
            "not valid JSON: nested deeper than 1024 levels",
            "property 'amount' (column amount) must be a number",
        ]
    ), rejects


def test_only_the_good_requests_reached_the_warehouse(collector):
    running, url = collector
    wait_for(running.drained, "the collector to load the batches")
    with connect(url) as warehouse:
        good_ones = warehouse.query("SELECT count(*) FROM events WHERE distinct_id NOT LIKE 'd300%'").rows
    # one good record after each hostile case and after the chunked body, each its own distinct_id
    assert good_ones == [(len(HOSTILE) + 1,)]


def test_rate_and_backlog_are_answered_429_with_retry_after(tmp_path):
    # the warehouse is a PostgreSQL port nobody listens on: the loader keeps retrying, the backlog grows
    url = "postgresql://nobody:x@127.0.0.1:9/none?connect_timeout=1"
    with running_collector(
        url, tmp_path / "spool", "--rate", "150", "--max-backlog-mb", "0.001", connected=False
    ) as running:
        batch = form(data_list=[record(i) for i in range(100)])
        first, _, _ = running.post("/sa", batch, FORM)
        second, text, headers = running.post("/sa", batch, FORM)
        assert (first, second) == (200, 429)
        assert "behind the warehouse" in text.decode() and int(headers["retry-after"]) >= 1
        status, body = running.get("/health")
        assert status == 200 and json.loads(body)["warehouse"] == "retrying"
    with running_collector(
        f"duckdb:///{(tmp_path / 'r.duckdb').as_posix()}", tmp_path / "spool2", "--rate", "150"
    ) as running:
        batch = form(data_list=[record(i) for i in range(100)])
        first, _, _ = running.post("/sa", batch, FORM)
        second, text, headers = running.post("/sa", form(data_list=[record(i) for i in range(100, 200)]), FORM)
        assert (first, second) == (200, 429)
        assert "more than 150 records a second" in text.decode() and int(headers["retry-after"]) >= 1
        wait_for(lambda: running.post("/sa", batch, FORM)[0] == 200, "the rate window to pass")
