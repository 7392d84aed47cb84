"""The segment builder says everything the YAML says, gives the same members, and saves what it built.

Each shipped segment of metrics/segments/marketing.yml is built again by clicks (the URL parameters the
builder's widgets keep) and must list exactly as many members as the saved YAML, counted by the
semantic layer from the file. Then a built segment is saved into a copy of the catalog (and appears in
the list without a restart), or offered as a download when the catalog is read-only.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from connectors import connect
from semantic import load_catalog
from semantic.analyses.segments import segment_count
from tests.app_helpers import APP, DEMO_END, make_demo, problems

METRICS = Path(__file__).resolve().parent.parent / "metrics"

# The same intent as each saved segment, by clicks (one URL parameter per widget).
BUILT = {
    "jan_credit_never_invested": {
        "seg_rows": "3",
        "seg_kind_0": "user",
        "seg_attr_0": "register_time",
        "seg_op_0": "between",
        "seg_value_0": "2026-01-01, 2026-01-31",
        "seg_kind_1": "did",
        "seg_event_1": ["$AppViewScreen", "$pageview"],
        "seg_filter_1": "page = 'credit_report'",
        "seg_kind_2": "did_not",
        "seg_event_2": "P2P_invest",
        "seg_filter_2": "is_success",
    },
    "card_no_invest_30d": {
        "seg_rows": "2",
        "seg_kind_0": "did",
        "seg_event_0": "bind_card",
        "seg_filter_0": "is_success",
        "seg_kind_1": "did_not",
        "seg_event_1": "P2P_invest",
        "seg_filter_1": "is_success",
        "seg_window_1": "last_days",
        "seg_days_1": "30",
    },
    "active_high_value": {
        "seg_rows": "2",
        "seg_kind_0": "did",
        "seg_event_0": "P2P_invest",
        "seg_filter_0": "is_success",
        "seg_measure_0": "sum",
        "seg_column_0": "amount",
        "seg_cmp_0": "gte",
        "seg_amount_0": "50000",
        "seg_window_0": "last_days",
        "seg_days_0": "90",
        "seg_kind_1": "did",
        "seg_event_1": ["$AppStart", "$pageview"],
        "seg_times_1": "3",
        "seg_window_1": "last_days",
        "seg_days_1": "14",
    },
    "churn_risk_redeemed": {
        "seg_rows": "3",
        "seg_kind_0": "did",
        "seg_event_0": "P2P_redeem",
        "seg_window_0": "last_days",
        "seg_days_0": "30",
        "seg_kind_1": "did",
        "seg_event_1": "P2P_invest",
        "seg_filter_1": "is_success",
        "seg_group_1": "a",
        "seg_window_1": "last_days",
        "seg_days_1": "30",
        "seg_kind_2": "did",
        "seg_event_2": "withdraw",
        "seg_filter_2": "is_success",
        "seg_group_2": "a",
        "seg_window_2": "last_days",
        "seg_days_2": "30",
        "seg_gcombine_1": "any",
        "seg_gnot_1": "true",
    },
    "ios_guangdong_registered": {
        "seg_rows": "3",
        "seg_kind_0": "user",
        "seg_attr_0": "register_platform",
        "seg_op_0": "eq",
        "seg_value_0": "iOS",
        "seg_kind_1": "user",
        "seg_attr_1": "user_province",
        "seg_op_1": "eq",
        "seg_value_1": "Guangdong",
        "seg_kind_2": "user",
        "seg_attr_2": "register_time",
        "seg_op_2": "is_null",
        "seg_value_2": "false",
    },
}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("builder") / "demo.duckdb", users=3000, days=120)


@pytest.fixture()
def app(demo_url, monkeypatch):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    return AppTest.from_file(str(APP), default_timeout=180)


def members_shown(at) -> str:
    return next(m.value for m in at.metric if m.label == "Users")


def build(app, params: dict) -> AppTest:
    app.query_params.update({"segment": "__build__", **params})
    at = app.run()
    return at.switch_page("finlens/pages/segments.py").run()


def test_every_shipped_segment_is_expressible_by_clicks(app, demo_url, catalog):
    assert set(BUILT) == set(catalog.segments)  # a new shipped segment needs its clicks here too


@pytest.mark.parametrize("name", sorted(BUILT))
def test_the_same_intent_by_clicks_gives_the_same_members_as_the_yaml(app, demo_url, catalog, name):
    at = build(app, BUILT[name])
    assert problems(at) == []
    with connect(demo_url) as warehouse:
        saved = segment_count(catalog, name, DEMO_END, warehouse)
    assert members_shown(at) == f"{saved:,}"
    # and the YAML it would save says what the file says, key for key (days as text)
    written = yaml.safe_load(at.code[0].value)["segments"][0]["where"]
    shipped = yaml.safe_load((METRICS / "segments" / "marketing.yml").read_text(encoding="utf-8"))["segments"]
    expected = next(entry["where"] for entry in shipped if entry["name"] == name)
    assert json.dumps(written, default=str, sort_keys=True) == json.dumps(expected, default=str, sort_keys=True)


def test_the_yaml_mode_takes_any_condition_a_file_holds(app, demo_url, catalog):
    nested = (
        "all:\n  - did: P2P_redeem\n    last_days: 30\n  - not:\n      any:\n"
        "      - {did: P2P_invest, filter: is_success, last_days: 30}\n"
        "      - {did: withdraw, filter: is_success, last_days: 30}\n"
    )
    at = build(app, {"seg_mode": "yaml", "seg_yaml": nested})
    assert problems(at) == []
    with connect(demo_url) as warehouse:
        saved = segment_count(catalog, "churn_risk_redeemed", DEMO_END, warehouse)
    assert members_shown(at) == f"{saved:,}"


@pytest.fixture()
def writable_catalog(tmp_path, monkeypatch):
    root = tmp_path / "metrics"
    shutil.copytree(METRICS, root)
    monkeypatch.setenv("FINLENS_METRICS", str(root))
    return root


def test_a_built_segment_is_saved_to_metrics_segments_and_listed_at_once(app, demo_url, writable_catalog):
    at = build(app, BUILT["card_no_invest_30d"])
    at.text_input(key="seg_save_name").input("card_no_invest_30d_copy")
    at.text_input(key="seg_save_zh").input("已绑卡·近30天未投资（副本）")
    at.text_input(key="seg_save_en").input("Card bound, no investment in 30 days (copy)")
    at.run()
    at.button(key="seg_save").click().run()
    path = writable_catalog / "segments" / "card_no_invest_30d_copy.yml"
    saved = yaml.safe_load(path.read_text(encoding="utf-8"))["segments"][0]
    assert saved["name"] == "card_no_invest_30d_copy"
    assert saved["label"] == {"zh": "已绑卡·近30天未投资（副本）", "en": "Card bound, no investment in 30 days (copy)"}
    assert saved["where"] == {
        "all": [
            {"did": "bind_card", "filter": "is_success"},
            {"did_not": "P2P_invest", "filter": "is_success", "last_days": 30},
        ]
    }
    # the catalog reloads: the saved segment is picked, with the same members as the shipped one
    assert problems(at) == [] and at.query_params["segment"] == "card_no_invest_30d_copy"
    catalog = load_catalog(writable_catalog)
    with connect(demo_url) as warehouse:
        assert members_shown(at) == f"{segment_count(catalog, 'card_no_invest_30d', DEMO_END, warehouse):,}"


def test_a_name_that_is_not_a_plain_name_is_refused_and_nothing_is_written(app, writable_catalog):
    at = build(app, BUILT["card_no_invest_30d"])
    at.text_input(key="seg_save_name").input("../../etc/evil")
    at.text_input(key="seg_save_zh").input("x")
    at.text_input(key="seg_save_en").input("x")
    at.run()
    assert at.button(key="seg_save").disabled
    assert any("lower_snake_case" in c.value for c in at.caption)
    assert sorted(p.name for p in (writable_catalog / "segments").iterdir()) == ["marketing.yml"]


def test_a_read_only_catalog_offers_the_file_and_the_yaml_to_copy(app, writable_catalog, monkeypatch):
    monkeypatch.setenv("FINLENS_CATALOG_READONLY", "1")
    at = build(app, BUILT["card_no_invest_30d"])
    at.text_input(key="seg_save_name").input("card_copy")
    at.text_input(key="seg_save_zh").input("副本")
    at.text_input(key="seg_save_en").input("Copy")
    at.run()
    assert not [b for b in at.button if b.key == "seg_save"]
    assert any("read-only" in i.value for i in at.info)
    entry = yaml.safe_load(at.code[0].value)["segments"][0]
    assert entry["name"] == "card_copy" and entry["where"]["all"][1]["last_days"] == 30
    assert at.get("download_button")
    assert sorted(p.name for p in (writable_catalog / "segments").iterdir()) == ["marketing.yml"]
