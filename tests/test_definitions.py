"""Definitions built without YAML, and "save as YAML": a saved definition gives the same numbers as the ad-hoc one.

The ad-hoc funnel, retention, event metric and path analysis are asked of a small demo, then saved into a copy
of the catalog folder and asked again from the loaded files: the rows must be equal. When the folder may not be
written (``FINLENS_CATALOG_READONLY``), nothing is written and the YAML text is still there to copy.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest
import yaml

from connectors import connect
from finlens_common.errors import QueryError
from finlens_common.settings import DEFAULT_METRICS_ROOT
from semantic import Query, load_catalog, run_query
from semantic.analyses.paths import load_paths, path_definition
from semantic.analyses.paths_sql import run_paths
from semantic.catalog.definitions import (
    catalog_writable,
    event_metric_definition,
    funnel_definition,
    retention_definition,
    save_definition,
    with_metric,
)
from semantic.catalog.specs import Label
from tests.app_helpers import make_demo

RANGE = dict(start=date(2026, 10, 1), end=date(2026, 10, 31))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    url = make_demo(tmp_path_factory.mktemp("definitions") / "demo.duckdb", users=800, days=45)
    with connect(url) as opened:
        yield opened


@pytest.fixture()
def root(tmp_path):
    copy = tmp_path / "metrics"
    shutil.copytree(DEFAULT_METRICS_ROOT, copy)
    return copy


def definitions(catalog):
    return [
        (
            funnel_definition(
                catalog,
                name="adhoc_card_funnel",
                steps=[("register", None), (["realname_auth"], "is_success"), ("bind_card", "is_success")],
                window="3d",
                label=Label(zh="注册到绑卡", en="Register to card"),
            ),
            [
                Query(metrics=("adhoc_card_funnel",), time_to_convert=True, **RANGE),
                Query(metrics=("adhoc_card_funnel",), grain="week", dimensions=("platform",), **RANGE),
            ],
        ),
        (
            retention_definition(
                catalog,
                name="adhoc_login_retention",
                cohort=("register", None),
                returning=(["login", "$AppStart"], None),
                period="week",
                periods=6,
                mode="on_or_after",
            ),
            [
                Query(metrics=("adhoc_login_retention",), average=True, **RANGE),
                Query(metrics=("adhoc_login_retention",), grain="day", **RANGE),
            ],
        ),
        (
            event_metric_definition(
                catalog,
                name="adhoc_invest_amount",
                aggregation="sum",
                events=["P2P_invest"],
                filter_="is_success AND amount >= 1000",
                expr="amount",
            ),
            [Query(metrics=("adhoc_invest_amount",), grain="day", dimensions=("platform",), **RANGE)],
        ),
    ]


def test_saved_metrics_give_the_same_numbers(catalog, warehouse, root):
    asked = {}
    for definition, queries in definitions(catalog):
        adhoc = with_metric(catalog, definition.spec)
        asked[definition.name] = [run_query(adhoc, q, warehouse).rows for q in queries]
        assert any(rows for rows in asked[definition.name]), definition.name
        path = save_definition(catalog, definition, root)
        assert path == root / "catalog" / f"saved_{definition.name}.yml"
        assert path.read_text(encoding="utf-8") == definition.text
    saved = load_catalog(root)
    for definition, queries in definitions(catalog):
        assert [run_query(saved, q, warehouse).rows for q in queries] == asked[definition.name]
        assert saved.metrics[definition.name] == definition.spec.__class__(
            **{**definition.spec.__dict__, "source": saved.metrics[definition.name].source}
        )


def test_the_yaml_reads_like_an_analysts(catalog):
    funnel = definitions(catalog)[0][0]
    document = yaml.safe_load(funnel.text)
    assert document == {
        "metrics": [
            {
                "name": "adhoc_card_funnel",
                "type": "funnel",
                "window": "3d",
                "steps": [
                    {"event": "register"},
                    {"event": "realname_auth", "filter": "is_success = TRUE"},
                    {"event": "bind_card", "filter": "is_success = TRUE"},
                ],
                "label": {"zh": "注册到绑卡", "en": "Register to card"},
                "description": "A funnel built in the app.",
                "format": "percent",
                "business_line": "platform",
            }
        ]
    }


def test_a_saved_path_analysis_gives_the_same_flows(catalog, warehouse, root):
    definition = path_definition(
        catalog,
        name="adhoc_after_bind",
        mode="start",
        events=["bind_card"],
        filter_="NOT is_success",
        steps=4,
        by_page=True,
    )
    adhoc = run_paths(catalog, definition.spec, warehouse, **RANGE)
    assert adhoc
    save_definition(catalog, definition, root)
    saved = load_paths(load_catalog(root))["adhoc_after_bind"]
    assert run_paths(catalog, saved, warehouse, **RANGE) == adhoc


def test_a_read_only_catalog_is_not_written(catalog, root, monkeypatch):
    definition = definitions(catalog)[0][0]
    monkeypatch.setenv("FINLENS_CATALOG_READONLY", "1")
    assert not catalog_writable(root, "catalog")
    with pytest.raises(QueryError, match="may not be written here; copy the YAML into it instead"):
        save_definition(catalog, definition, root)
    assert not (root / "catalog" / "saved_adhoc_card_funnel.yml").exists()
    assert definition.text.startswith("metrics:\n- name: adhoc_card_funnel\n")


def test_names_and_fields_are_checked(catalog, root):
    for build, message in [
        (
            lambda: funnel_definition(catalog, name="pv", steps=[("a", None), ("b", None)], window="1d"),
            "name 'pv' is taken",
        ),
        (
            lambda: funnel_definition(catalog, name="Bad Name", steps=[("a", None), ("b", None)], window="1d"),
            "lower_snake_case",
        ),
        (lambda: funnel_definition(catalog, name="f", steps=[("a", None)], window="1d"), "needs 2 to 10 steps"),
        (
            lambda: funnel_definition(catalog, name="f", steps=[("a", None), ("b", None)], window="7 days"),
            "not a duration",
        ),
        (
            lambda: funnel_definition(catalog, name="f", steps=[("a", None), ("b", "nosuch = 1")], window="1d"),
            "step 2 filter: unknown column 'nosuch'",
        ),
        (
            lambda: retention_definition(catalog, name="r", cohort=("a", None), returning=("b", None), period="year"),
            "period must be one of day, week, month",
        ),
        (
            lambda: event_metric_definition(catalog, name="m", aggregation="sum", events=["x"], expr="amount * 2"),
            "not a column",
        ),
        (lambda: path_definition(catalog, name="after_card_failure", mode="start", events=["x"]), "exists"),
    ]:
        with pytest.raises(QueryError, match=message):
            build()
    definition = definitions(catalog)[0][0]
    save_definition(catalog, definition, root)
    with pytest.raises(QueryError, match="already exists; pick another name"):
        save_definition(catalog, definition, root)
