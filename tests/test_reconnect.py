"""The app survives a warehouse outage: a real PostgreSQL is stopped while the app is open, then started again.

During the outage a page whose queries are not cached says so in one line (not one error per chart); once
the server is back, the next run reconnects by itself, says so in one line, and shows the numbers, which
equal a hand-written count on the server.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from connectors import connect
from ingest.demo import generate_demo
from tests.app_helpers import APP, DEMO_END
from tests.pg_server import find_bindir, start_postgres


@pytest.fixture()
def server():
    if find_bindir() is None:
        pytest.fail("PostgreSQL server binaries missing: scripts/install-postgres installs them")
    server = start_postgres()
    with connect(server.url, read_only=False) as warehouse:
        generate_demo(warehouse, users=400, days=30, end=DEMO_END)
    yield server
    server.stop()


def messages(at) -> tuple[list[str], list[str]]:
    return [e.value for e in at.error], [s.value for s in at.success]


def test_the_app_reconnects_after_the_warehouse_comes_back(server, monkeypatch):
    monkeypatch.setenv("FINLENS_WAREHOUSE", server.reader_url)
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    assert messages(at) == ([], []) and not at.exception

    server.pause()
    # a page never opened before: its queries are not cached, so they need the server
    at.switch_page("finlens/pages/board.py").run()
    errors, _ = messages(at)
    assert not at.exception
    assert len(errors) == 1, errors  # the outage, once, not once per tile and chart
    assert "unreachable since" in errors[0]

    server.resume()
    at.run()
    errors, successes = messages(at)
    assert errors == [] and not at.exception
    assert len(successes) == 1 and "reconnected at" in successes[0]
    with connect(server.reader_url) as warehouse:  # the tile's number, counted by hand on the server
        (starts,) = warehouse.query(
            "SELECT count(*) FROM events WHERE event = '$AppStart' AND event_time >= TIMESTAMP '2026-10-02' "
            "AND event_time < TIMESTAMP '2026-11-01'"
        ).rows[0]
    assert next(m.value for m in at.metric if m.label == "App starts") == f"{starts:,}"


def test_a_released_app_connection_lets_its_chdb_folder_go(tmp_path):
    """Clearing the app's caches closes its connection at once, not at some later garbage collection:
    chdb serves one data folder per process, so a connection left open blocks every other folder."""
    import gc

    import streamlit as st

    from finlens.app import state as app_state
    from tests.warehouse_fixtures import load

    first, second = (f"chdb:///{(tmp_path / name).as_posix()}" for name in ("first", "second"))
    with connect(first, read_only=False) as warehouse:
        load(warehouse, [], [])
    gc.disable()  # only an explicit close may free the folder here
    try:
        assert app_state._connection(first).query("SELECT count() FROM events").rows == [(0,)]
        st.cache_resource.clear()
        with connect(second, read_only=False) as warehouse:
            load(warehouse, [], [])
    finally:
        gc.enable()
