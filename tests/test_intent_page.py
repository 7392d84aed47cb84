"""The intent page renders the semantic layer's numbers on the hand-built fixture of tests/test_intent.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from connectors import connect
from semantic import load_catalog
from semantic.analyses.intent import load_intent
from semantic.analyses.intent_summary import intent_summary
from tests.test_intent import AS_OF, EVENTS, TEST_YAML, write_root
from tests.warehouse_fixtures import make_warehouse

PAGE = Path(__file__).resolve().parent.parent / "finlens" / "pages" / "intent.py"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("intent_page")
    return write_root(base, TEST_YAML), make_warehouse(base / "fixture.duckdb", EVENTS)


@pytest.fixture()
def page(setup, monkeypatch):
    root, url = setup
    monkeypatch.setenv("FINLENS_METRICS", str(root))
    monkeypatch.setenv("FINLENS_WAREHOUSE", url)
    st.cache_data.clear()
    st.cache_resource.clear()  # the catalog and spec of another test's root must not leak in
    return AppTest.from_file(str(PAGE), default_timeout=120)


def problems(at: AppTest) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


TABLES = ("intent_tiers", "intent_types", "intent_crosstab", "intent_members")  # in page order


def table(at: AppTest, key: str) -> list[dict]:
    """A table's rows; AppTest keeps keys only on selectable tables, so the others are found by position."""
    frame = at.dataframe[TABLES.index(key)]
    assert getattr(frame, "key", None) in (None, key)
    return frame.value.to_dict("records")


def test_page_shows_the_semantic_layers_numbers(page, setup):
    root, url = setup
    at = page.run()
    assert problems(at) == []
    assert at.title[0].value == "Purchase intent"
    # the default "as of" is the last day with events, 03-15; look at 03-14, the day worked out by hand
    assert at.date_input(key="intent_as_of").value == date(2026, 3, 15)
    at.date_input(key="intent_as_of").set_value(AS_OF).run()
    assert problems(at) == []
    catalog = load_catalog(root)
    with connect(url) as warehouse:
        expected = intent_summary(catalog, load_intent(catalog), AS_OF, warehouse)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Users with a score"] == f"{expected.ranked_users:,}" == "10"
    assert metrics["Users with product dwell time"] == f"{expected.dwell_users:,}" == "8"
    tiers = table(at, "intent_tiers")
    assert (
        [(r["Tier"], r["Users"], r["Threshold (score ≥)"], r["Share"]) for r in tiers]
        == [(x.label["en"], x.users, x.threshold, f"{x.share:.1%}") for x in expected.tiers]
        == [("Strong", 3, 23, "30.0%"), ("Medium", 4, 6, "40.0%"), ("Weak", 3, 1, "30.0%")]
    )
    types = table(at, "intent_types")
    assert [(r["Product type"], r["Users"]) for r in types] == [(p.value, p.users) for p in expected.preferences]
    crosstab = {r["Tier"]: r for r in table(at, "intent_crosstab")}
    assert (crosstab["Medium"]["stock"], crosstab["Medium"]["(no preference)"], crosstab["(no score)"]["bond"]) == (
        2,
        1,
        1,
    )
    assert metrics["Users"] == "10"  # every ranked user before a tier is picked


def test_picking_a_tier_and_a_type_lists_their_users(page):
    at = page.run()
    at.date_input(key="intent_as_of").set_value(AS_OF).run()
    at.selectbox(key="intent_tier").set_value("medium").run()
    at.selectbox(key="intent_prefers").set_value("stock").run()
    assert problems(at) == []
    listing = table(at, "intent_members")
    assert [(r["user_id"], r["score"], r["tier"]) for r in listing] == [("G", 6, "medium"), ("E", 9, "medium")]
    assert {m.label: m.value for m in at.metric}["Users"] == "2"
    assert at.get("download_button")  # the CSV of every id of the selection
