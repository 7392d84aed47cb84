"""Retention: a catalog retention or one built with clicks; the cohort table (rate per cell, cohort sizes, the
average weighted by size) for the cohort period chosen, paged for long ranges, with its heatmap; a cell or a
pick lists the cohort's users who returned or not; a built retention can be saved as YAML."""

from __future__ import annotations

import streamlit as st

from finlens.app import adhoc
from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import section, t
from finlens.app.url_state import pick_one
from finlens.app.user_list import show_users
from finlens.pages import retention_table as table
from semantic import Drill
from semantic.catalog.specs import RetentionMetric

SOURCES = ("catalog", "build")
SIDES = ("all", "returned", "not")
text = section("retention")

filters = current()
lang = filters.language
st.title(t("retention", lang))
source = pick_one(
    text("source", lang),
    SOURCES,
    key="retention_source",
    labels=lambda s: text(f"source_{s}", lang),
    widget=st.segmented_control,
    default="catalog",
)
definition = None
if source == "build":
    definition = table.pick_build(filters)
    if definition is None:
        st.stop()
    name = definition.name
else:
    names = [n for n, m in app_state.catalog().metrics.items() if m.type == "retention"]
    name = (
        pick_one(
            t("metric", lang),
            names,
            key="retention_metric",
            labels=lambda n: app_state.catalog().metrics[n].label.get(lang),
        )
        or names[0]
    )
catalog = adhoc.catalog_for(definition)
metric = catalog.metrics[name]
assert isinstance(metric, RetentionMetric)
period = (
    pick_one(
        text("period", lang),
        table.period_choices(),
        key="retention_period",
        default=metric.period,
        labels=lambda p: t(f"grain_{p}", lang),
        widget=st.segmented_control,
    )
    or metric.period
)
st.caption(
    " · ".join(
        [
            metric.description or metric.label.get(lang),
            text(f"mode_{metric.mode}", lang),
            text("known_help", lang),
        ]
    )
)


def render() -> None:
    query = filters.query((name,), grain=period, average=True)
    result = adhoc.run(query, definition)
    cohorts = table.cohorts_of(result.rows)
    if not cohorts:
        st.info(text("no_cohort", lang))
        return
    shown = table.page_of(cohorts, lang)
    frame = table.pivot(result.rows, shown, period, catalog, lang)
    first_column = frame.columns[0]
    event = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-cell",
        key="retention_table",
        column_config={first_column: st.column_config.TextColumn(width="medium", pinned=True)},
    )
    cells = list(getattr(getattr(event, "selection", None), "cells", None) or [])
    labels = [table.column_name(n, period, lang) for n in range(1, metric.periods + 1)]
    order = ([table.AVERAGE] if len(frame) > len(shown) else []) + shown
    if cells:
        row, column = cells[0]
        if column in labels and row < len(order):
            picked = (order[row], str(labels.index(column) + 1))
            if (st.query_params.get("retention_cohort"), st.query_params.get("retention_at")) != picked:
                st.query_params["retention_cohort"], st.query_params["retention_at"] = picked
                st.rerun()
    page_rows = [r for r in result.rows if str(r["cohort"]) in shown]
    state = app_charts.show(
        app_charts.heatmap_spec(page_rows, t("cohort", lang), t("period", lang)), key="retention_chart"
    )
    point = app_charts.picked(state)
    if point and "cohort" in point:
        from finlens.app.model_charts import picked_day

        picked = (picked_day(point["cohort"]), str(int(point["period"])))
        if (st.query_params.get("retention_cohort"), st.query_params.get("retention_at")) != picked:
            st.query_params["retention_cohort"], st.query_params["retention_at"] = picked
            st.rerun()
    a, b, c = st.columns(3)
    with a:
        cohort = (
            pick_one(
                t("cohort", lang),
                [table.AVERAGE, *cohorts],
                key="retention_cohort",
                labels=lambda c: table.label_of(c, lang),
            )
            or table.AVERAGE
        )
    with b:
        at = (
            pick_one(
                t("period", lang),
                [str(n) for n in range(1, metric.periods + 1)],
                key="retention_at",
                labels=lambda n: table.column_name(int(n), period, lang),
            )
            or "1"
        )
    with c:
        side = (
            pick_one(text("side", lang), SIDES, key="retention_side", labels=lambda s: table.side_label(s, lang))
            or "all"
        )
    drill = Drill(cohort=cohort, period=int(at), retained=None if side == "all" else side == "returned")
    user_query = filters.query((name,), grain=period)
    show_users(
        lambda limit, offset: adhoc.users(user_query, drill, definition, limit=limit, offset=offset),
        key="retention_users",
        lang=lang,
        title=f"{table.label_of(cohort, lang)} · {table.column_name(int(at), period, lang)} · {table.side_label(side, lang)}",
        file_name=f"{name}_{cohort}_{at}.csv",
    )
    if definition is not None:
        adhoc.save_panel(definition, key="retention_yaml", lang=lang, saved=table.saved)


guarded(render)
