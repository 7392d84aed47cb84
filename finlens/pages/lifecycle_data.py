"""What the lifecycle page shares with nothing else: the spec, cached results, its words and its R x F chart.

Every result is cached by its compiled SQL and the warehouse URL, as in
:mod:`finlens.app.state`; the page never builds SQL itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from finlens.app import state as app_state
from finlens.app.i18n import section
from finlens.app.members import all_member_ids, member_page
from semantic.analyses.lifecycle import LifecycleSpec, load_lifecycle
from semantic.analyses.lifecycle_sql import LIFECYCLE_COLUMNS, RFM_COLUMNS, lifecycle_members, rfm_members
from semantic.analyses.lifecycle_summary import (
    LifecycleSummary,
    RfmSummary,
    compile_lifecycle_summary,
    compile_rfm_grid,
    compile_rfm_summary,
    group_summary,
    run_rows,
    stage_summary,
)
from semantic.drill.members import ids_csv
from semantic.drill.users import UserList

CACHE_SECONDS = app_state.CACHE_SECONDS


t = section("lifecycle")


def spec() -> LifecycleSpec:
    """``metrics/marketing/lifecycle.yml`` of the app's catalog (a CatalogError lists every problem)."""
    return _spec(app_state.catalog_version())


@st.cache_resource(max_entries=2)
def _spec(version: str) -> LifecycleSpec:
    catalog = app_state.catalog()
    return load_lifecycle(catalog)


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _rows(sql: str, url: str) -> list[dict[str, Any]]:
    return run_rows(sql, app_state.warehouse(url))


def _dialect() -> tuple[str, str]:
    url = app_state.warehouse_url()
    return url, app_state.warehouse(url).dialect


def stages(as_of: date) -> LifecycleSummary:
    url, dialect = _dialect()
    sql = compile_lifecycle_summary(app_state.catalog(), spec(), as_of, dialect)
    return stage_summary(spec(), as_of, sql, _rows(sql, url))


def rfm(as_of: date) -> RfmSummary:
    url, dialect = _dialect()
    sqls = compile_rfm_summary(app_state.catalog(), spec(), as_of, dialect)
    return group_summary(spec(), as_of, sqls, _rows(sqls[0], url), _rows(sqls[1], url))


def grid(as_of: date) -> list[dict[str, Any]]:
    url, dialect = _dialect()
    return _rows(compile_rfm_grid(app_state.catalog(), spec(), as_of, dialect), url)


def _members_select(kind: str, name: str, as_of: date, dialect: str):
    if kind == "stage":
        return lifecycle_members(app_state.catalog(), spec(), as_of, dialect, stage=name), LIFECYCLE_COLUMNS[1:]
    return rfm_members(app_state.catalog(), spec(), as_of, dialect, group=name), RFM_COLUMNS[1:]


def members(kind: str, name: str, as_of: date, *, limit: int = 50, offset: int = 0) -> UserList:
    """One page of a stage's (``kind="stage"``) or an RFM group's (``kind="group"``) users."""
    select, extra = _members_select(kind, name, as_of, _dialect()[1])
    return member_page(select, as_of, extra=extra, limit=limit, offset=offset)


def member_csv(kind: str, name: str, as_of: date) -> str:
    """Every user id of the stage or group, as the CSV a push system imports."""
    select, _ = _members_select(kind, name, as_of, _dialect()[1])
    return ids_csv(all_member_ids(select))


def rf_heatmap(cells: list[dict[str, Any]], language: str) -> alt.Chart:
    """R score (columns) x F score (rows), coloured and labelled by users."""
    frame = pd.DataFrame(cells, columns=["r_score", "f_score", "users", "avg_monetary"])
    base = alt.Chart(frame).encode(
        x=alt.X("r_score:O", title="R", scale=alt.Scale(domain=[1, 2, 3, 4, 5])),
        y=alt.Y("f_score:O", title="F", sort="descending", scale=alt.Scale(domain=[5, 4, 3, 2, 1])),
        tooltip=[
            alt.Tooltip("r_score:O", title="R"),
            alt.Tooltip("f_score:O", title="F"),
            alt.Tooltip("users:Q", title=t("users", language), format=","),
            alt.Tooltip("avg_monetary:Q", title=t("avg_monetary", language), format=",.0f"),
        ],
    )
    cells_ = base.mark_rect().encode(color=alt.Color("users:Q", title=None, scale=alt.Scale(scheme="blues")))
    labels = base.mark_text(fontSize=12, color="#0f172a").encode(text=alt.Text("users:Q", format=","))
    return (cells_ + labels).properties(height=260)
