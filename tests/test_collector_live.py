"""Collected events are visible to ``finlens query`` and to the running app while the collector runs.

Visibility: on DuckDB, PostgreSQL and chdb, the collector writes (owning the embedded file or
folder) while ``finlens query`` runs with the same warehouse URL (the SELECT-only role on
PostgreSQL). Two deposits of 100 and 250 sent by the SDK: ``deposit_amount`` for their day goes
0 → 100 → 350 and the watermark's load count grows with each (waits, never timings; the time to
visibility is measured by ``bench/collector.py``).

The app (AppTest, one session, no restart) on a small demo owned by the collector: a new user's
``register`` event on the demo's last day raises the Registrations tile by exactly one, and the
watermark pinned for the run moves.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter
from datetime import date

import pytest
import sensorsanalytics
from streamlit.testing.v1 import AppTest

from connectors import connect
from ingest.loads import read_watermark
from tests.app_helpers import APP, make_demo, problems
from tests.collector_helpers import FINLENS, running_collector, sdk, wait_for

DAY_MS = 1_795_440_000_000  # 2026-11-23 21:20 in Asia/Shanghai
DAY = "2026-11-23"
LAST_DAY_NOON_MS = 1_793_419_200_000  # 2026-10-31 12:00 in Asia/Shanghai: the demo's last day


def query(url: str, *args: str) -> list[dict]:
    done = subprocess.run(
        [FINLENS, "query", *args, "--warehouse", url, "--format", "json"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def deposit(url: str, amount: int, n: int) -> None:
    with sdk(sensorsanalytics.DefaultConsumer(url, request_timeout=10)) as sa:
        sa.track(f"live-{n}", "deposit", {"$time": DAY_MS + n, "amount": amount, "is_success": True}, is_login_id=True)


def loads(read_url: str) -> int:
    with connect(read_url) as warehouse:
        mark = read_watermark(warehouse)
    return mark.loads if mark else 0


@pytest.fixture(params=["duckdb", "postgres", "chdb"])
def engine(request, tmp_path):
    if request.param == "duckdb":
        url = f"duckdb:///{(tmp_path / 'w.duckdb').as_posix()}"
        return url, url
    if request.param == "chdb":
        url = f"chdb:///{(tmp_path / 'ch').as_posix()}"
        return url, url
    server = request.getfixturevalue("postgres_server")
    with connect(server.url, read_only=False) as warehouse:
        warehouse.execute("CREATE DATABASE live_visibility")
    url = server.url.rsplit("/", 1)[0] + "/live_visibility"
    return url, server.reader(url)


def test_finlens_query_sees_collected_events_while_the_collector_runs(engine, tmp_path):
    write_url, read_url = engine
    with running_collector(write_url, tmp_path / "spool") as collector:
        empty = query(read_url, "deposit_amount", "--from", DAY, "--to", DAY)
        assert empty == [{"deposit_amount": 0}]  # a sum over no rows is 0 (the semantic layer coalesces)
        before = loads(read_url)
        deposit(collector.sa_url, 100, 1)
        wait_for(
            lambda: query(read_url, "deposit_amount", "--from", DAY, "--to", DAY) == [{"deposit_amount": 100}], "100"
        )
        # ClickHouse has no transactions: the events can be visible a moment before the load's watermark row
        wait_for(lambda: loads(read_url) > before, "the load recorded")
        middle = loads(read_url)
        deposit(collector.sa_url, 250, 2)
        wait_for(
            lambda: query(read_url, "deposit_amount", "--from", DAY, "--to", DAY) == [{"deposit_amount": 350}], "350"
        )
        wait_for(lambda: loads(read_url) > middle, "the second load recorded")


@pytest.fixture(scope="module")
def owned_demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live-app")
    url = make_demo(folder / "demo.duckdb", users=600, days=40)
    with running_collector(url, folder / "spool") as collector:
        yield url, collector


def tile(at, label: str) -> int:
    return int(next(m.value for m in at.metric if m.label == label).replace(",", ""))


def test_the_app_shows_a_collected_event_without_a_restart(owned_demo, monkeypatch):
    from finlens.app import state as app_state

    url, collector = owned_demo
    monkeypatch.setenv("FINLENS_WAREHOUSE", url)
    baseline = Counter(app_state.QUERY_RUNS)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert problems(at) == []
    registrations = tile(at, "Registrations")
    mark = at.session_state["finlens_watermark"]
    caption = [c.value for c in at.sidebar.caption if "Data up to" in c.value]
    assert len(caption) == 1
    runs = app_state.QUERY_RUNS - baseline
    assert runs and set(runs.values()) == {1}  # a cold page runs each distinct query once
    at.run()
    assert app_state.QUERY_RUNS - baseline == runs  # same data: nothing runs again
    with sdk(sensorsanalytics.DefaultConsumer(collector.sa_url, request_timeout=10)) as sa:
        sa.track("newcomer", "register", {"$time": LAST_DAY_NOON_MS, "is_success": True}, is_login_id=True)
    wait_for(lambda: loads(url) > mark.loads, "the collector to commit the event")
    # the app asks for the watermark at most once a second: a rerun within that second still shows the old data
    wait_for(lambda: at.run().session_state["finlens_watermark"].loads > mark.loads, "the app to see the new watermark")
    assert problems(at) == []
    assert tile(at, "Registrations") == registrations + 1
    assert [c.value for c in at.sidebar.caption if "Data up to" in c.value] != caption
    assert set((app_state.QUERY_RUNS - baseline).values()) == {2}  # the new data version: each query once more


def test_sessions_asking_for_the_same_cold_query_run_it_once(owned_demo, catalog):
    """Six threads (as six browser sessions) ask at once for each of three slow queries on a cold cache."""
    from finlens.app import state as app_state
    from semantic import Query, compile_query

    url, _ = owned_demo
    questions = [
        Query(metrics=("bind_card_retention",), start=date(2026, 9, 22), end=date(2026, 10, 31)),
        Query(metrics=("invest_funnel",), dimensions=("platform",), start=date(2026, 9, 22), end=date(2026, 10, 31)),
        Query(metrics=("sessions", "bounce_rate"), grain="day", start=date(2026, 9, 22), end=date(2026, 10, 31)),
    ]
    compiled = [compile_query(catalog, q, "duckdb") for q in questions]
    key = f"{url}{app_state.KEY_MARK}single-flight"
    before = {c.sql: app_state.QUERY_RUNS[c.sql] for c in compiled}
    start = threading.Barrier(6 * len(compiled))
    results: dict[str, list] = {c.sql: [] for c in compiled}

    def session(c) -> None:
        start.wait()
        _, rows = app_state._rows(c.sql, key, c)  # the cached columns and rows
        results[c.sql].append(rows)

    threads = [threading.Thread(target=session, args=(c,)) for c in compiled for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert {c.sql: app_state.QUERY_RUNS[c.sql] - before[c.sql] for c in compiled} == {c.sql: 1 for c in compiled}
    for c in compiled:
        assert len(results[c.sql]) == 6 and all(r == results[c.sql][0] for r in results[c.sql])
