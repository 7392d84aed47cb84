"""The intent page's words and cached queries: tier summary, member lists and id exports as of a day.

Like :mod:`finlens.app.state`, results are cached by (compiled SQL, warehouse
URL); the page never builds SQL, it calls these.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from finlens.app import state as app_state
from finlens.app.compiled import per_catalog
from finlens.app.i18n import section
from finlens.app.members import all_member_ids, member_page
from semantic.analyses.intent import load_intent
from semantic.analyses.intent_spec import IntentSpec
from semantic.analyses.intent_sql import intent_members
from semantic.analyses.intent_summary import IntentSummary, compile_intent_summary, run_intent_summary
from semantic.drill.users import UserList

CACHE_SECONDS = 3600
EXTRA = ("score", "tier")


t = section("intent")


def spec() -> IntentSpec:
    """``metrics/marketing/intent.yml`` (a CatalogError lists every problem)."""
    return _spec(app_state.catalog_version())


@st.cache_resource(max_entries=2)
def _spec(version: str) -> IntentSpec:
    return load_intent(app_state.catalog())


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _summary(tiers_sql: str, crosstab_sql: str, url: str, as_of: date, _spec: IntentSpec) -> IntentSummary:
    return run_intent_summary(_spec, as_of, (tiers_sql, crosstab_sql), app_state.warehouse(url))


def summary(as_of: date) -> IntentSummary:
    """Tier sizes, thresholds, preferred types and the crosstab as of ``as_of`` (cached by SQL)."""
    url = app_state.warehouse_url()
    catalog, dialect = app_state.catalog(), app_state.warehouse(url).dialect
    sql = per_catalog(
        catalog, ("intent_summary", as_of, dialect), lambda: compile_intent_summary(catalog, spec(), as_of, dialect)
    )
    return _summary(*sql, url, as_of, spec())


def members(as_of: date, tier: str | None, prefers: str | None, *, limit: int = 50, offset: int = 0) -> UserList:
    """One page of the users in ``tier`` AND preferring ``prefers``, with score and tier."""
    return member_page(_members_select(as_of, tier, prefers), as_of, extra=EXTRA, limit=limit, offset=offset)


def ids(as_of: date, tier: str | None, prefers: str | None) -> list[str]:
    """Every id of those users, sorted (the CSV for a push system)."""
    return all_member_ids(_members_select(as_of, tier, prefers))


def _members_select(as_of: date, tier: str | None, prefers: str | None):
    dialect = app_state.warehouse(app_state.warehouse_url()).dialect
    return intent_members(app_state.catalog(), spec(), as_of, dialect, tier=tier, prefers=prefers)
