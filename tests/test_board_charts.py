"""Every board chart answers its question on the demo: no chart is a single NULL bar or a constant line.

Run over every board in metrics/boards/ on a demo of 6,000 people over 90 days, the last 30 days (the
app's default range). And the forex board in particular: copied trades carry their master (a bar per
master, FM001 the most copied, as the demo's weights 40:22:...:2 say) and followers per master rests on
dozens of followers a week, each counted by hand in SQL on the same warehouse.
"""

from __future__ import annotations

from datetime import date

import pytest

from connectors import connect
from semantic import Query, run_query
from semantic.catalog.boards import load_boards
from tests.app_helpers import DEMO_END, make_demo

START, END = date(2026, 10, 2), DEMO_END


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = make_demo(tmp_path_factory.mktemp("boards") / "demo.duckdb", users=6000, days=90)
    with connect(url) as warehouse:
        yield warehouse


def charts(catalog):
    return [
        pytest.param(board.name, chart, id=f"{board.name}.{chart.name}")
        for board in load_boards(catalog).values()
        for chart in board.charts
        if chart.kind in ("bar", "line")
    ]


def pytest_generate_tests(metafunc):
    if "board_chart" in metafunc.fixturenames:
        from semantic import load_catalog

        metafunc.parametrize(("board", "board_chart"), charts(load_catalog()))


def test_no_chart_is_a_single_null_bar_or_a_constant_line(demo, catalog, board, board_chart):
    chart = board_chart
    if chart.kind == "bar":
        rows = run_query(
            catalog,
            Query(
                metrics=chart.metrics[:1],
                dimensions=(chart.by,),
                where=chart.where,
                limit=chart.limit,
                order_by=(f"-{chart.metrics[0]}",),
                start=START,
                end=END,
            ),
            demo,
        ).rows
        values = [r[chart.by] for r in rows]
        assert len([v for v in values if v is not None]) >= 2, (board, chart.name, values)
        return
    rows = run_query(
        catalog, Query(metrics=chart.metrics, grain=chart.grain or "day", where=chart.where, start=START, end=END), demo
    ).rows
    for metric in chart.metrics:
        assert len({r[metric] for r in rows}) > 1, (board, chart.name, metric, rows[:3])


def test_copied_trades_name_their_master(demo, catalog):
    rows = run_query(
        catalog, Query(metrics=("copy_trades",), dimensions=("master_id",), start=START, end=END), demo
    ).rows
    by_master = {r["master_id"]: r["copy_trades"] for r in rows}
    (counted,) = demo.query(
        "SELECT count(*) FROM events WHERE event = 'forex_trade' AND properties->>'$.is_copy' = 'true' "
        "AND properties->>'$.master_id' IS NOT NULL "
        "AND event_time >= TIMESTAMP '2026-10-02' AND event_time < TIMESTAMP '2026-11-01'"
    ).rows[0]
    assert None not in by_master and sum(by_master.values()) == counted > 0
    assert len(by_master) >= 5 and max(by_master, key=by_master.get) == "FM001"


def test_followers_per_master_rests_on_dozens_of_followers_a_week(demo, catalog):
    rows = run_query(
        catalog,
        Query(metrics=("copy_followers", "active_masters", "followers_per_master"), grain="week", start=START, end=END),
        demo,
    ).rows
    weeks = demo.query(
        "SELECT date_trunc('week', event_time) AS w, count(DISTINCT user_id), count(DISTINCT properties->>'$.master_id') "
        "FROM events WHERE event = 'forex_trade' AND properties->>'$.is_copy' = 'true' "
        "AND event_time >= TIMESTAMP '2026-10-02' AND event_time < TIMESTAMP '2026-11-01' GROUP BY 1 ORDER BY 1"
    ).rows
    assert [(r["copy_followers"], r["active_masters"]) for r in rows] == [(f, m) for _, f, m in weeks]
    full_weeks = rows[1:-1]  # the range cuts the first and the last week
    assert all(r["copy_followers"] >= 20 for r in full_weeks)
    assert all(r["followers_per_master"] == r["copy_followers"] / r["active_masters"] for r in rows)
