"""Numbers on screen are right and explained (AppTest on a demo warehouse), in English and Chinese.

Each expectation is worked out apart from the page: by hand-written SQL on the same warehouse, or from
the semantic layer's own numbers where the page only shows them in another form.
"""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from connectors import connect
from finlens.app.i18n import t
from semantic import Query, run_query
from semantic.analyses.channel_quality import channel_query, load_channel_spec, quality_from_rows
from tests.app_helpers import APP, make_demo, problems, warnings

LAST_30 = {"start": date(2026, 10, 2), "end": date(2026, 10, 31)}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("numbers") / "demo.duckdb", users=3000, days=60)


@pytest.fixture()
def app(demo_url, monkeypatch):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    return AppTest.from_file(str(APP), default_timeout=180)


def test_card_binders_by_channel_are_their_acquisition_channel(demo_url, catalog):
    # by hand: each binder's channel is the one their user row was acquired through (the demo's first touch)
    with connect(demo_url) as warehouse:
        by_hand = dict(
            warehouse.query(
                "SELECT u.register_channel, count(DISTINCT e.user_id) FROM events e JOIN users u USING (user_id) "
                "WHERE e.event = 'bind_card' AND e.is_success AND e.event_time >= TIMESTAMP '2026-10-02' "
                "AND e.event_time < TIMESTAMP '2026-11-01' GROUP BY 1"
            ).rows
        )
        rows = run_query(
            catalog, Query(metrics=("bind_card_users",), dimensions=("channel",), **LAST_30), warehouse
        ).rows
    shown = {r["channel"]: r["bind_card_users"] for r in rows}
    assert shown == by_hand and None not in shown  # no binder is lost under NULL


def test_best_and_worst_channels_are_channel_qualitys_numbers(app, demo_url, catalog):
    at = app.run()
    assert problems(at) == []
    spec = load_channel_spec(catalog)
    with connect(demo_url) as warehouse:
        result = run_query(catalog, channel_query(spec, **LAST_30), warehouse)
    quality = quality_from_rows(catalog, spec, result.rows, result.sql)
    register, card = 1, 2  # the channel funnel: visit, register, card bound, first investment
    rates = {
        str(r.channel): r.users[card] / r.users[register]
        for r in quality.rows
        if r.channel is not None and r.users[register] >= 5
    }
    ranked = sorted(rates, key=lambda c: (-rates[c], c))
    tiles = [(m.label, m.value) for m in at.metric if m.label in rates]
    expected = [(c, f"{rates[c]:.1%}") for c in ranked[:3] + ranked[::-1][:3]]
    assert tiles == expected and len(rates) >= 3


def test_platform_tiles_do_not_apply_under_the_forex_line(app, demo_url, catalog):
    app.query_params["f_business_line"] = ["forex"]
    at = app.run()
    assert problems(at) == []
    tiles = {m.label: m.value for m in at.metric}
    for label in ("Registrations", "Card-binding users"):
        assert tiles[label] == "n/a"
    assert any("counted on Platform events, so it does not apply to Forex" in c.value for c in at.caption)
    with connect(demo_url) as warehouse:
        (uv,) = warehouse.query(
            "SELECT count(DISTINCT user_id) FROM events WHERE business_line = 'forex' "
            "AND event_time >= TIMESTAMP '2026-10-02' AND event_time < TIMESTAMP '2026-11-01'"
        ).rows[0]
    assert tiles["Unique visitors"] == f"{uv:,}"
    # the card-binder retention heatmap would be empty under forex: it says why, no NaN% legend
    assert not any("NaN" in str(c.value) for c in at.caption)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_link_range_outside_the_data_says_what_is_shown_instead(app, language):
    app.query_params.update({"range": ["2027-01-01", "2027-01-31"], "lang": language})
    at = app.run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error == t(
        "range.no_data",
        language,
        start="2027-01-01",
        end="2027-01-31",
        first="2026-09-02",
        last="2026-10-31",
        shown_start="2026-10-02",
        shown_end="2026-10-31",
    )


def test_a_range_partly_outside_the_data_is_clamped_and_said(app):
    app.query_params["range"] = ["2026-10-20", "2026-11-15"]
    at = app.run()
    assert warnings(at) == [
        t(
            "range.clamped",
            "en",
            start="2026-10-20",
            end="2026-11-15",
            first="2026-09-02",
            last="2026-10-31",
            shown_start="2026-10-20",
            shown_end="2026-10-31",
        )
    ]
    assert at.caption[0].value.startswith("2026-10-20 – 2026-10-31")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_same_period_last_year_without_data_says_so_and_shows_no_change(app, language):
    app.query_params.update({"compare": "year", "lang": language})
    at = app.run()
    assert problems(at) == []
    caption = at.caption[0].value
    expected = t("range.no_comparison", language, start="2025-10-02", end="2025-10-31", first="2026-09-02")
    assert caption == f"2026-10-02 – 2026-10-31 · {expected}"
    assert all(m.delta in ("", None) for m in at.metric)


def test_explore_draws_a_funnel_by_a_dimension(app, demo_url, catalog):
    app.query_params.update({"explore_metrics": "bind_card_funnel", "explore_dims": "platform"})
    at = app.run()
    at.switch_page("finlens/pages/explore.py").run()
    assert problems(at) == []
    table = at.dataframe[0].value
    with connect(demo_url) as warehouse:
        rows = run_query(
            catalog, Query(metrics=("bind_card_funnel",), dimensions=("platform",), **LAST_30), warehouse
        ).rows
    # every number in the table in its format: conversions as percentages, never 0.4525
    assert list(table["Conversion from step 1"]) == [f"{r['conversion_from_first']:.1%}" for r in rows]
    assert list(table["Step name"])[:3] == ["Register", "Real-name verified", "Card bound"]
    assert len(at.get("vega_lite_chart")) == 1


def test_explore_with_a_dimension_and_a_grain_draws_lines_per_value(app):
    app.query_params.update({"explore_metrics": "uv", "explore_dims": "platform", "explore_grain": "week"})
    at = app.run()
    at.switch_page("finlens/pages/explore.py").run()
    assert problems(at) == []
    assert len(at.get("vega_lite_chart")) >= 1


def test_tables_and_csv_use_labels_and_formats(app, demo_url, catalog):
    app.query_params.update({"explore_metrics": ["bounce_rate", "avg_session_duration", "invest_amount"]})
    at = app.run()
    at.switch_page("finlens/pages/explore.py").run()
    assert problems(at) == []
    table = at.dataframe[0].value
    with connect(demo_url) as warehouse:
        rows = run_query(
            catalog,
            Query(metrics=("bounce_rate", "avg_session_duration", "invest_amount"), grain="day", **LAST_30),
            warehouse,
        ).rows
    first = rows[0]
    assert table["Bounce rate"][0] == f"{first['bounce_rate']:.1%}"
    seconds = round(first["avg_session_duration"])
    assert table["Average session duration"][0] == (
        f"{seconds // 60}m {seconds % 60}s" if seconds >= 60 else f"{seconds}s"
    )
    assert table["Investment amount"][0].startswith("¥")
    csv = at.get("download_button")[0]
    assert csv.proto.label == "Download CSV"


def test_experiments_show_relative_lift_and_readable_p_values(app, demo_url, catalog):
    from semantic.analyses.experiment_run import run_experiment
    from semantic.analyses.experiments import load_experiments

    app.query_params["experiment"] = "opening_screen"
    at = app.run()
    at.switch_page("finlens/pages/experiments.py").run()
    assert problems(at) == []
    table = at.dataframe[0].value
    with connect(demo_url) as warehouse:
        result = run_experiment(catalog, load_experiments(catalog)["opening_screen"], warehouse, **LAST_30)
    treated = next(v for v in result.variants if not v.is_control)
    lift = treated.rate / next(v for v in result.variants if v.is_control).rate - 1
    row = table[table["Variant"] == treated.variant].iloc[0]
    assert row["Lift (relative)"] == f"{lift:+.1%}"
    p = treated.comparison.p_value
    assert row["p-value"] == ("< 0.001" if p < 0.001 else f"{p:.3f}") and "e-" not in row["p-value"]
