"""The analysis pages through AppTest: numbers on screen equal the semantic layer, users lists equal the numbers
they open, built definitions equal their catalog twins, save as YAML writes or offers the file; zh and en.
"""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from connectors import connect
from finlens.app import i18n
from finlens_common.settings import DEFAULT_METRICS_ROOT
from semantic import Query, load_catalog, run_query
from semantic.analyses.attribution import attribution_spec, run_attribution
from semantic.analyses.paths import load_paths
from semantic.analyses.paths_sql import run_paths
from semantic.catalog.formatting import format_value
from tests.app_helpers import APP, make_demo, problems, unescaped
from tests.test_i18n import shown_texts

PAGES = [
    "finlens/pages/events.py",
    "finlens/pages/funnel.py",
    "finlens/pages/retention.py",
    "finlens/pages/interval.py",
    "finlens/pages/ltv.py",
    "finlens/pages/stickiness.py",
    "finlens/pages/paths.py",
    "finlens/pages/attribution.py",
]
LAST_30 = dict(start=date(2026, 10, 2), end=date(2026, 10, 31))


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("model_pages") / "demo.duckdb")


@pytest.fixture()
def page(demo_url, monkeypatch):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)

    def open_page(path: str, **params: str | list[str]) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=180)
        at.query_params.update(params)
        at.run()
        at.switch_page(path).run()
        assert problems(at) == [], path
        return at

    return open_page


def users_shown(at) -> int:
    return int(next(m.value for m in at.metric if m.label in ("Users", "用户")).replace(",", ""))


def yaml_shown(at) -> str:
    return next(c.value for c in at.code if c.language == "yaml")


def column(at, index: int, header: str) -> list:
    return list(at.dataframe[index].value[header])


def counts(values) -> list[str]:
    """Counts as the page shows them: each metric's format (``number``: 1,234)."""
    return [format_value(v, "number") for v in values]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_analysis_page_renders_labels_not_codes(page, catalog, language):
    codes = {n for n, m in catalog.metrics.items() if m.label.get(language) != n}
    codes |= {n for n, d in catalog.dimensions.items() if d.label.get(language) != n}
    i18n.MISSING.clear()
    for path in PAGES:
        at = page(path, lang=language)
        assert at.title, path
        shown = [t for t in shown_texts(at) if t in codes or re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", t or "")]
        assert [t for t in shown if t in codes] == [], (path, shown)
    assert sorted(i18n.MISSING) == []


def test_funnel_steps_and_the_users_behind_them(page, demo_url, catalog):
    with connect(demo_url) as warehouse:
        rows = run_query(catalog, Query(metrics=("bind_card_funnel",), time_to_convert=True, **LAST_30), warehouse).rows
    at = page("finlens/pages/funnel.py")
    assert column(at, 0, "Users") == counts(r["users"] for r in rows)
    assert column(at, 0, "Conversion from step 1") == [
        format_value(r["conversion_from_first"], "percent") for r in rows
    ]
    assert column(at, 0, "Time to convert, 90th percentile")[2] == format_value(
        rows[2]["seconds_to_convert_p90"], "duration"
    )
    assert users_shown(at) == rows[2]["users"]  # the last step's users, by default
    at = page("finlens/pages/funnel.py", funnel_drill="dropped:3")
    assert users_shown(at) == rows[1]["users"] - rows[2]["users"]
    assert "7 days" in at.caption[0].value


def test_funnel_trend_and_a_periods_users(page, demo_url, catalog):
    with connect(demo_url) as warehouse:
        rows = run_query(catalog, Query(metrics=("bind_card_funnel",), grain="week", **LAST_30), warehouse).rows
    week = rows[-1]["week"]
    at = page(
        "finlens/pages/funnel.py", funnel_view="trend", funnel_grain="week", funnel_period=week, funnel_trend_step="2"
    )
    assert column(at, 0, "Users") == counts(r["users"] for r in rows)
    assert users_shown(at) == next(r["users"] for r in rows if r["week"] == week and r["step"] == 2)


BUILT = dict(
    funnel_source="build",
    funnel_steps="3",
    funnel_event_0="register",
    funnel_event_1="realname_auth",
    funnel_filter_1="is_success",
    funnel_event_2="bind_card",
    funnel_filter_2="is_success",
    funnel_window="7d",
    funnel_name="my_card_funnel",
)


def test_a_built_funnel_equals_its_catalog_twin_and_saves_as_yaml(page, demo_url, catalog, tmp_path, monkeypatch):
    root = tmp_path / "metrics"
    shutil.copytree(DEFAULT_METRICS_ROOT, root)
    monkeypatch.setenv("FINLENS_METRICS", str(root))
    with connect(demo_url) as warehouse:
        twin = run_query(catalog, Query(metrics=("bind_card_funnel",), **LAST_30), warehouse).rows
    at = page("finlens/pages/funnel.py", **BUILT)
    assert column(at, 0, "Users") == counts(r["users"] for r in twin)  # the same steps and window as bind_card_funnel
    assert "name: my_card_funnel" in yaml_shown(at)
    at.button(key="funnel_yaml_save").click().run()
    saved = root / "catalog" / "saved_my_card_funnel.yml"
    assert saved.is_file() and problems(at) == []
    assert at.query_params["funnel_source"] == "catalog" and at.query_params["funnel_metric"] == "my_card_funnel"
    assert column(at, 0, "Users") == counts(r["users"] for r in twin)
    with connect(demo_url) as warehouse:
        again = run_query(load_catalog(root), Query(metrics=("my_card_funnel",), **LAST_30), warehouse).rows
    assert [r["users"] for r in again] == [r["users"] for r in twin]


def test_a_read_only_catalog_offers_the_file_and_the_text(page, tmp_path, monkeypatch):
    root = tmp_path / "metrics"
    shutil.copytree(DEFAULT_METRICS_ROOT, root)
    monkeypatch.setenv("FINLENS_METRICS", str(root))
    monkeypatch.setenv("FINLENS_CATALOG_READONLY", "1")
    at = page("finlens/pages/funnel.py", **BUILT)
    assert not [b for b in at.button if b.key == "funnel_yaml_save"]
    assert any("cannot be written" in i.value for i in at.info)
    assert "name: my_card_funnel" in yaml_shown(at)
    assert not list((root / "catalog").glob("saved_*.yml"))


def test_retention_table_average_row_and_paging(page, demo_url, catalog):
    two_months = dict(start=date(2026, 9, 2), end=date(2026, 10, 31))
    with connect(demo_url) as warehouse:
        rows = run_query(catalog, Query(metrics=("bind_card_retention",), average=True, **two_months), warehouse).rows
    average = {r["period"]: r for r in rows if r["cohort"] == "all"}
    cohorts = sorted({r["cohort"] for r in rows if r["cohort"] != "all"})
    assert len(cohorts) > 31  # more than a page
    at = page("finlens/pages/retention.py", range=["2026-09-02", "2026-10-31"])
    frame = at.dataframe[0].value
    assert frame.iloc[0]["Cohort"] == "Average (weighted by cohort size)"
    assert frame.iloc[0]["Day 1"] == format_value(average[1]["rate"], "percent")
    assert list(frame["Cohort"][1:]) == cohorts[:31]
    assert [n.label for n in at.number_input if n.key == "retention_page"]
    assert users_shown(at) == average[1]["cohort_size"]  # the average row's users of day 1
    at = page(
        "finlens/pages/retention.py",
        retention_period="week",
        retention_cohort="all",
        retention_at="1",
        retention_side="returned",
    )
    with connect(demo_url) as warehouse:
        weekly = run_query(
            catalog, Query(metrics=("bind_card_retention",), grain="week", average=True, **LAST_30), warehouse
        ).rows
    first = next(r for r in weekly if r["cohort"] == "all" and r["period"] == 1)
    assert "Week 1" in at.dataframe[0].value.columns
    assert users_shown(at) == first["retained"]


def test_paths_and_attribution_equal_the_semantic_layer(page, demo_url, catalog):
    with connect(demo_url) as warehouse:
        flows = run_paths(catalog, load_paths(catalog)["after_card_failure"], warehouse, **LAST_30)
        spec = attribution_spec(
            catalog,
            conversion="invest_users",
            touches=["push_click:campaign_id", "$AppViewScreen:utm_campaign", "$pageview:utm_campaign"],
            window="7d",
            model="last",
        )
        credit = run_attribution(catalog, spec, warehouse, **LAST_30)
    at = page("finlens/pages/paths.py")
    assert column(at, 0, "Users") == counts(r["users"] for r in flows)
    assert users_shown(at) == flows[0]["users"]
    at = page("finlens/pages/attribution.py")
    assert column(at, 0, "Credit") == [r["credit"] for r in credit]
    assert users_shown(at) > 0


def test_interval_ltv_stickiness_and_their_users(page, demo_url, catalog):
    with connect(demo_url) as warehouse:
        (interval,) = run_query(catalog, Query(metrics=("register_to_card_interval",), **LAST_30), warehouse).rows
        ltv = run_query(catalog, Query(metrics=("invest_ltv",), **LAST_30), warehouse).rows
        sticky = run_query(catalog, Query(metrics=("app_stickiness",), **LAST_30), warehouse).rows
    at = page("finlens/pages/interval.py", interval_metric="register_to_card_interval")
    assert next(m.value for m in at.metric if m.label == "Users") == format_value(interval["users"], "number")
    assert users_shown(at) == interval["users"]
    cohort = ltv[0]["cohort"]
    at = page("finlens/pages/ltv.py", ltv_cohort=cohort, ltv_at="0")
    assert users_shown(at) == ltv[0]["cohort_size"]
    week = sticky[-1]["week"]
    at = page("finlens/pages/stickiness.py", stickiness_at=week, stickiness_days="2")
    assert users_shown(at) == next(r["users"] for r in sticky if r["week"] == week and r["active_days"] == 2)


def test_event_analysis_builds_a_metric(page, demo_url, catalog):
    with connect(demo_url) as warehouse:
        rows = run_query(catalog, Query(metrics=("invest_amount",), grain="day", **LAST_30), warehouse).rows
    at = page(
        "finlens/pages/events.py",
        events_names="P2P_invest",
        events_measure="sum",
        events_filter="is_success",
        events_grain="day",
    )
    assert len(at.get("vega_lite_chart")) == 1  # the daily trend is drawn
    shown = {d: v for d, v in zip(column(at, 0, "Day"), column(at, 0, "Value"))}
    # the same rows and filter as the catalog's invest_amount: every day with a successful investment agrees
    assert {r["day"]: r["invest_amount"] for r in rows if r["invest_amount"]} == {d: v for d, v in shown.items() if v}


@pytest.mark.parametrize(("language", "window"), [("en", "7 days"), ("zh", "7 天")])
def test_the_funnel_says_why_its_last_step_can_differ_from_the_card_binders_tile(page, catalog, language, window):
    from finlens.app.i18n import t

    funnel = catalog.metrics["bind_card_funnel"]  # register → real-name verified → card bound, within 7 days
    at = page("finlens/pages/funnel.py", lang=language)
    (why,) = [e for e in at.expander if e.label == t("funnel.why_title", language)]
    body = unescaped(" ".join(m.value for m in why.markdown))
    assert body == t(
        "funnel.why_body",
        language,
        first=funnel.steps[0].label.get(language),
        last=funnel.steps[-1].label.get(language),
        window=window,
    )
    assert window in body and funnel.steps[-1].label.get(language) in body
