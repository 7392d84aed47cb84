"""Every page renders on demo data, tiles equal the semantic layer, filters change queries, clicks drill down."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from streamlit.testing.v1 import AppTest

from connectors import connect
from semantic import Query, run_query
from semantic.catalog.boards import load_boards
from semantic.catalog.formatting import format_value
from semantic.drill.users import Drill, users_behind
from tests.app_helpers import APP, follow, make_demo, problems

PAGES = [
    "finlens/pages/explore.py",
    "finlens/pages/funnel.py",
    "finlens/pages/retention.py",
    "finlens/pages/channels.py",
    "finlens/pages/breakdown.py",
    "finlens/pages/distributions.py",
    "finlens/pages/segments.py",
    "finlens/pages/intent.py",
    "finlens/pages/lifecycle.py",
    "finlens/pages/experiments.py",
    "finlens/pages/users.py",
    "finlens/pages/sequence.py",
]
# the demo's last day is 2026-10-31, so the default range is the 30 days before it, compared with the 30 before those
LAST_30 = {"start": date(2026, 10, 2), "end": date(2026, 10, 31)}
PREVIOUS_30 = {"start": date(2026, 9, 2), "end": date(2026, 10, 1)}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("app") / "demo.duckdb")


@pytest.fixture()
def app(demo_url, monkeypatch):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    return AppTest.from_file(str(APP), default_timeout=120)


def test_overview_tiles_equal_the_semantic_layer(app, demo_url, catalog):
    at = app.run()
    assert problems(at) == []
    tiles = {m.label: (m.value, m.delta) for m in at.metric}
    board = load_boards(catalog)["overview"]
    names = tuple(t.metric for t in board.tiles)
    with connect(demo_url) as warehouse:
        (now,) = run_query(catalog, Query(metrics=names, **LAST_30), warehouse).rows
        (before,) = run_query(catalog, Query(metrics=names, **PREVIOUS_30), warehouse).rows
    assert now["uv"] > 0 and now["registrations"] > 0
    for name in names:
        metric = catalog.metrics[name]
        value, delta = tiles[metric.label.en]
        # one rule for money everywhere: from ¥10,000 up whole yuan with thousands separators (halves up)
        if metric.format == "cny" and now[name] >= 10_000:
            expected_text = "¥" + f"{int(Decimal(str(now[name])).quantize(Decimal('1'), ROUND_HALF_UP)):,}"
        else:
            expected_text = format_value(now[name], metric.format)
        assert value == expected_text
        expected = (now[name] - before[name]) / before[name]
        assert delta == f"{expected:+.1%}"


def test_every_page_renders_without_errors(app):
    at = app.run()
    for page in PAGES:
        at.switch_page(page).run()
        assert problems(at) == [], page
        assert at.title, page


def test_the_routed_board_page_renders(app, catalog):
    # every business-line board is pages/board.py under its own URL path; AppTest reaches the first (platform)
    at = app.run()
    at.switch_page("finlens/pages/board.py").run()
    assert problems(at) == []
    assert at.title[0].value == "Platform" and len(at.metric) == len(load_boards(catalog)["platform"].tiles)


@pytest.mark.parametrize("board", ["platform", "life", "forex", "p2p", "stock"])
def test_every_board_renders(demo_url, monkeypatch, catalog, board):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    script = (
        "from finlens.app import filters as app_filters, state as app_state\n"
        "from finlens.app.board import render_board\n"
        f"render_board(app_state.boards()[{board!r}], app_filters.current())\n"
    )
    at = AppTest.from_string(script, default_timeout=120).run()
    assert problems(at) == []
    assert at.title[0].value == load_boards(catalog)[board].label.en
    assert len(at.metric) == len(load_boards(catalog)[board].tiles)


def test_a_platform_filter_in_the_url_changes_the_query(app, demo_url, catalog, monkeypatch):
    all_uv = next(m.value for m in app.run().metric if m.label == "Unique visitors")
    # a copied link: the sidebar's widgets are bound to these query parameters
    filtered = AppTest.from_file(str(APP), default_timeout=120)
    filtered.query_params["f_platform"] = ["iOS"]
    filtered.run()
    assert problems(filtered) == []
    assert filtered.multiselect(key="f_platform").value == ["iOS"]
    ios_uv = next(m.value for m in filtered.metric if m.label == "Unique visitors")
    with connect(demo_url) as warehouse:
        (row,) = run_query(catalog, Query(metrics=("uv",), where="platform IN ('iOS')", **LAST_30), warehouse).rows
    assert ios_uv == format_value(row["uv"], "number") != all_uv


def test_language_switch_shows_yaml_labels_in_chinese(app):
    at = app
    at.query_params["lang"] = ["zh"]
    at.run()
    assert problems(at) == []
    labels = {m.label for m in at.metric}
    assert {"访客数", "注册用户数", "绑卡用户数"} <= labels
    assert at.title[0].value == "总览"


def test_comparison_same_period_last_year_has_no_data_before_the_demo(app):
    app.query_params["compare"] = ["year"]
    at = app.run()
    assert problems(at) == []
    # the demo starts in September 2026, so a year earlier every tile has nothing to compare with
    assert all(m.delta in ("", None) for m in at.metric if m.label == "Unique visitors")


def test_clicks_drill_from_a_tile_to_a_users_sequence(app, demo_url, catalog):
    at = app.run()
    at.button(key="tile_overview_registrations").click().run()
    follow(at)  # the browser opens the link the click sent it (one history entry)
    assert at.title[0].value == "Breakdown" and at.query_params["by"] == "channel"
    pick = at.main.get("button_group")[-1]  # the page's pills, not the sidebar's language switch
    channel = pick.options[0].content if hasattr(pick.options[0], "content") else pick.options[0]
    pick.set_value(channel).run()
    follow(at)
    assert problems(at) == [] and at.title[0].value == "Users behind the number"
    shown = next(m.value for m in at.metric if m.label == "Users")
    with connect(demo_url) as warehouse:
        behind = users_behind(
            catalog, Query(metrics=("registrations",), **LAST_30), Drill(filters=(("channel", channel),)), warehouse
        )
        (row,) = run_query(
            catalog, Query(metrics=("registrations",), where=f"channel = '{channel}'", **LAST_30), warehouse
        ).rows
    # the list behind the bar holds exactly as many users as the bar's number
    assert shown == f"{behind.total:,}" == f"{row['registrations']:,}"
    open_user = at.main.get("button_group")[-1]
    user = open_user.options[0].content if hasattr(open_user.options[0], "content") else open_user.options[0]
    open_user.set_value(user).run()
    follow(at)
    assert problems(at) == [] and at.title[0].value == "User sequence"
    assert at.query_params["user"] == user
    events = next(m.value for m in at.metric if m.label == "events")
    assert int(events.replace(",", "")) >= 1


def test_a_failing_question_shows_a_readable_error_and_the_page_still_renders(app):
    # a copied link asking for the users behind a session measure, which has no single set of users
    app.query_params["m"] = "sessions"
    at = app.run()
    at.switch_page("finlens/pages/users.py").run()
    assert not at.exception
    assert at.title[0].value == "Users behind the number"
    assert [e.value for e in at.error] == [
        (
            "cannot list the users behind 'sessions': a session metric has no single set of users; "
            "drill into a count, sum, ratio, new-users, funnel or retention metric"
        )
    ]


def test_a_copied_funnel_drop_off_link_lists_those_users(app, demo_url, catalog):
    app.query_params.update({"m": "bind_card_funnel", "step": "3", "dropped": "1"})
    at = app.run()
    at.switch_page("finlens/pages/users.py").run()
    assert problems(at) == []
    with connect(demo_url) as warehouse:
        rows = run_query(catalog, Query(metrics=("bind_card_funnel",), **LAST_30), warehouse).rows
    # drop-offs before step 3 = users at step 2 minus users at step 3, from the funnel's own counts
    dropped = rows[1]["users"] - rows[2]["users"]
    assert dropped > 0
    assert next(m.value for m in at.metric if m.label == "Users") == f"{dropped:,}"
