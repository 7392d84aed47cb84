"""The Segments and Experiments pages render on demo data and show the semantic layer's numbers."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from connectors import connect
from semantic import Query, run_query
from semantic.analyses.experiment_run import run_experiment
from semantic.analyses.experiments import load_experiments
from semantic.analyses.segments import parse_segment_text, segment_count
from semantic.catalog.formatting import format_value
from tests.app_helpers import APP, DEMO_END, make_demo, problems

LAST_30 = {"start": date(2026, 10, 2), "end": DEMO_END}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("marketing") / "demo.duckdb")


@pytest.fixture()
def app(demo_url, monkeypatch):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    return AppTest.from_file(str(APP), default_timeout=120)


def users_shown(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Users")


def test_saved_segment_members_and_metric_inside_and_outside(app, demo_url, catalog):
    app.query_params["segment"] = "card_no_invest_30d"
    at = app.run()
    at.switch_page("finlens/pages/segments.py").run()
    assert problems(at) == []
    with connect(demo_url) as warehouse:
        count = segment_count(catalog, "card_no_invest_30d", DEMO_END, warehouse)
        (inside,) = run_query(catalog, Query(metrics=("uv",), segment="card_no_invest_30d", **LAST_30), warehouse).rows
        (outside,) = run_query(
            catalog, Query(metrics=("uv",), segment="card_no_invest_30d", exclude_segment=True, **LAST_30), warehouse
        ).rows
    assert count > 0 and users_shown(at) == f"{count:,}"
    table = at.dataframe[-1].value
    row = table[table["Metric"] == "Unique visitors"].iloc[0]
    assert (row["In the segment"], row["Everyone else"]) == (
        format_value(inside["uv"], "number"),
        format_value(outside["uv"], "number"),
    )


def test_a_built_segment_from_a_copied_link(app, demo_url, catalog):
    """Two rows: did bind_card (successful) AND did not P2P_invest in the last 30 days, as URL parameters."""
    app.query_params.update(
        {
            "segment": "__build__",
            "seg_combine": "all",
            "seg_rows": "2",
            "seg_kind_0": "did",
            "seg_event_0": "bind_card",
            "seg_filter_0": "is_success",
            "seg_kind_1": "did_not",
            "seg_event_1": "P2P_invest",
            "seg_filter_1": "is_success",
            "seg_days_1": "30",
        }
    )
    at = app.run()
    at.switch_page("finlens/pages/segments.py").run()
    assert problems(at) == []
    built = parse_segment_text(
        catalog,
        """
all:
  - {did: bind_card, filter: is_success}
  - {did_not: P2P_invest, filter: is_success, last_days: 30}
""",
    )
    with connect(demo_url) as warehouse:
        count = segment_count(catalog, built, DEMO_END, warehouse)
        saved = segment_count(catalog, "card_no_invest_30d", DEMO_END, warehouse)
    assert count == saved > 0  # the saved segment says the same thing
    assert users_shown(at) == f"{count:,}"


def test_experiments_page_shows_each_variant(app, demo_url, catalog):
    app.query_params["experiment"] = "push_reactivate_2026q4"
    at = app.run()
    at.switch_page("finlens/pages/experiments.py").run()
    assert problems(at) == []
    with connect(demo_url) as warehouse:
        result = run_experiment(catalog, load_experiments(catalog)["push_reactivate_2026q4"], warehouse)
    table = at.dataframe[0].value
    assert list(table["Variant"]) == ["holdout (control)", "push"]
    assert list(table["Users"]) == [f"{v.users:,}" for v in result.variants]
    assert list(table["Conversion rate"]) == [format_value(v.rate, "percent") for v in result.variants]
    converted = result.variants[0].converted  # the first variant (the control) is picked, converted users listed
    assert users_shown(at) == f"{converted:,}"
