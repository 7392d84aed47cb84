"""LTV: each cohort's cumulative amount (total and per user) per period since the cohort event, as curves and a
table; periods not yet elapsed are blank; a pick lists a cohort's users with their own amounts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finlens.app import adhoc
from finlens.app import charts as app_charts
from finlens.app import model_charts as charts
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import section, t
from finlens.app.tables import header
from finlens.app.url_state import pick_one
from finlens.app.user_list import show_users
from semantic import Drill
from semantic.catalog.formatting import format_value
from semantic.catalog.specs import RETENTION_PERIODS, LtvMetric

MAX_CURVES = 12
text = section("ltv")

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(text("title", lang))
names = [n for n, m in catalog.metrics.items() if m.type == "ltv"]
name = pick_one(t("metric", lang), names, key="ltv_metric", labels=lambda n: catalog.metrics[n].label.get(lang))
metric = catalog.metrics[name or names[0]]
assert isinstance(metric, LtvMetric)
st.caption(f"{metric.description} · {text('known_help', lang)}")
period = (
    pick_one(
        text("period", lang),
        RETENTION_PERIODS,
        key="ltv_period",
        default=metric.period,
        labels=lambda p: t(f"grain_{p}", lang),
        widget=st.segmented_control,
    )
    or metric.period
)


def period_name(n: int) -> str:
    return text(f"period_{period}", lang, n=n)


def render() -> None:
    result = adhoc.run(filters.query((metric.name,), grain=period))
    cohorts = sorted({str(r["cohort"]) for r in result.rows})
    if not cohorts:
        st.info(text("no_cohort", lang))
        return
    recent = set(cohorts[-MAX_CURVES:])
    curves = [r for r in result.rows if str(r["cohort"]) in recent]
    state = app_charts.show(
        charts.value_curves(curves, "amount_per_user", metric.format, text("since", lang)), key="ltv_chart"
    )
    st.caption(text("chart_help", lang, count=len(recent)))
    point = app_charts.picked(state)
    if point and "cohort" in point:
        picked = (str(point["cohort"]), str(int(point["period"])))
        if (st.query_params.get("ltv_cohort"), st.query_params.get("ltv_at")) != picked:
            st.query_params["ltv_cohort"], st.query_params["ltv_at"] = picked
            st.rerun()
    table: dict[str, dict] = {}
    for row in result.rows:
        cohort = str(row["cohort"])
        entry = table.setdefault(
            cohort, {header("cohort", catalog, lang): cohort, header("cohort_size", catalog, lang): row["cohort_size"]}
        )
        entry[period_name(row["period"])] = (
            format_value(row["amount_per_user"], metric.format) if row["amount_per_user"] is not None else ""
        )
    st.dataframe(pd.DataFrame(list(table.values())), hide_index=True)
    left, right = st.columns(2)
    with left:
        cohort = pick_one(t("cohort", lang), cohorts, key="ltv_cohort", default=cohorts[-1])
    with right:
        at = pick_one(
            t("period", lang),
            [str(n) for n in range(metric.periods + 1)],
            key="ltv_at",
            labels=lambda n: period_name(int(n)),
        )
    query = filters.query((metric.name,), grain=period)
    drill = Drill(cohort=cohort, period=int(at or 0))
    show_users(
        lambda limit, offset: adhoc.users(query, drill, limit=limit, offset=offset),
        key="ltv_users",
        lang=lang,
        title=f"{cohort} · {period_name(int(at or 0))}",
        file_name=f"{metric.name}_{cohort}_{at}.csv",
    )


guarded(render)
