"""The app renders on a real warehouse, and its numbers are the semantic layer's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from connectors import connect
from semantic import Query, run_query
from semantic.catalog.formatting import format_value
from tests.warehouse_fixtures import make_warehouse

EVENTS = [
    dict(event_time=f"2026-03-{day:02d} 10:00:00", event="register" if day == 1 else "$AppStart", user_id=f"u{day % 3}")
    for day in range(1, 29)
] + [dict(event_time="2026-02-01 10:00:00", event="$AppStart", user_id="old")]


@pytest.fixture()
def app_warehouse(tmp_path, monkeypatch):
    url = make_warehouse(tmp_path / "app.duckdb", EVENTS)
    monkeypatch.setenv("FINLENS_WAREHOUSE", url)
    return url


def test_overview_tiles_equal_semantic_layer(catalog, app_warehouse):
    at = AppTest.from_file(str(Path(__file__).parent.parent / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    with connect(app_warehouse) as warehouse:
        (row,) = run_query(
            catalog, Query(metrics=("uv", "registrations"), start=date(2026, 2, 27), end=date(2026, 3, 28)), warehouse
        ).rows
    # the last 30 days of data are 2026-02-27..2026-03-28; 'old' (2026-02-01) is outside them
    assert row == {"uv": 3, "registrations": 1}
    assert tiles["Unique visitors"] == format_value(3, "number")
    assert tiles["Registrations"] == "1"
