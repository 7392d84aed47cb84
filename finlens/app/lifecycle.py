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
TEXT: dict[str, tuple[str, str]] = {  # key: (en, zh)
    "title": ("Lifecycle & RFM", "生命周期与 RFM"),
    "as_of": ("As of", "截至日期"),
    "stages": ("Lifecycle stages", "生命周期阶段"),
    "stage": ("Stage", "阶段"),
    "users": ("Users", "用户数"),
    "share": ("Share", "占比"),
    "customers": ("Existing customers", "老客"),
    "rfm": ("RFM groups", "RFM 分群"),
    "rfm_caption": (
        "Investing users in the {days} days {start} – {end}; a score is high from {high}.",
        "{start} 至 {end}（{days} 天）内有投资的用户；评分 ≥ {high} 为高。",
    ),
    "group": ("Group", "分群"),
    "avg_recency_days": ("Avg. days since last investment", "平均距上次投资天数"),
    "avg_frequency": ("Avg. investments", "平均投资次数"),
    "avg_monetary": ("Avg. amount invested", "平均投资金额"),
    "grid": ("Users by R and F score", "R × F 评分用户分布"),
    "thresholds": ("What each score covers", "各评分对应的取值"),
    "measure": ("Measure", "指标"),
    "score": ("Score", "评分"),
    "min_value": ("From", "最小值"),
    "max_value": ("To", "最大值"),
    "pick": ("Show the users of", "查看用户："),
    "nobody": ("–", "–"),
    "members": ("Users", "用户"),
    "open_user": ("Open a user's sequence", "查看用户序列"),
    "download": ("Download user ids (CSV)", "下载用户 ID（CSV）"),
    "sql": ("SQL", "SQL"),
    "no_data": ("The warehouse has no events yet.", "数据仓库中还没有事件。"),
    "no_investors": ("Nobody invested in the lookback.", "回看期内没有投资用户。"),
}


def t(key: str, language: str) -> str:
    en, zh = TEXT.get(key, (key, key))
    return zh if language == "zh" else en


@st.cache_resource
def spec() -> LifecycleSpec:
    """``metrics/marketing/lifecycle.yml`` of the app's catalog (a CatalogError lists every problem)."""
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
