"""Stickiness: users by their number of distinct active days in each week or month; a bar lists its users."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finlens.app import adhoc, tables
from finlens.app import charts as app_charts
from finlens.app import model_charts as charts
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import section, t
from finlens.app.url_state import pick_one
from finlens.app.user_list import show_users
from semantic import Drill
from semantic.catalog.specs import STICKINESS_PERIODS, StickinessMetric

DAYS = {"week": 7, "month": 31}
text = section("stickiness")

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(text("title", lang))
names = [n for n, m in catalog.metrics.items() if m.type == "stickiness"]
name = pick_one(t("metric", lang), names, key="stickiness_metric", labels=lambda n: catalog.metrics[n].label.get(lang))
metric = catalog.metrics[name or names[0]]
assert isinstance(metric, StickinessMetric)
st.caption(f"{metric.description} · {text('partial_help', lang)}")
period = (
    pick_one(
        text("period", lang),
        STICKINESS_PERIODS,
        key="stickiness_period",
        default=metric.period,
        labels=lambda p: t(f"grain_{p}", lang),
        widget=st.segmented_control,
    )
    or metric.period
)


def render() -> None:
    result = adhoc.run(filters.query((metric.name,), grain=period))
    periods = sorted({str(r[period]) for r in result.rows})
    if not periods:
        st.info(text("nobody", lang))
        return
    at = pick_one(text("which", lang), periods, key="stickiness_at", default=periods[-1]) or periods[-1]
    counts = {r["active_days"]: r["users"] for r in result.rows if str(r[period]) == at}
    days = max([DAYS[period], *counts])
    frame = pd.DataFrame(
        {"active_days": [str(d) for d in range(1, days + 1)], "users": [counts.get(d, 0) for d in range(1, days + 1)]}
    )
    state = app_charts.show(
        charts.bars(
            frame, "active_days", tables.header("active_days", catalog, lang), "users", t("users", lang), "number"
        ),
        key="stickiness_chart",
    )
    point = app_charts.picked(state)
    if point and "active_days" in point and st.query_params.get("stickiness_days") != str(point["active_days"]):
        st.query_params["stickiness_days"] = str(point["active_days"])
        st.rerun()
    st.dataframe(tables.shown(result.columns, result.rows, catalog, lang), hide_index=True)
    choice = pick_one(
        tables.header("active_days", catalog, lang), [str(d) for d in range(1, days + 1)], key="stickiness_days"
    )
    drill = Drill(bucket=at, active_days=int(choice or 1))
    query = filters.query((metric.name,), grain=period)
    show_users(
        lambda limit, offset: adhoc.users(query, drill, limit=limit, offset=offset),
        key="stickiness_users",
        lang=lang,
        title=text("users_title", lang, period=at, days=choice or 1),
        file_name=f"{metric.name}_{at}_{choice}.csv",
    )


guarded(render)
