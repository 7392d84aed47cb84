"""Explore: any metric x any dimensions x grain x filter, as a chart and a table, with its SQL and a CSV."""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app import tables
from finlens.app.board import guarded, render_funnel, render_heatmap
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.url_state import pick_many, pick_one
from semantic import compile_query
from semantic.catalog.specs import GRAINS
from semantic.compiler.dialects import DIALECTS

NO_GRAIN = "none"

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(t("explore", lang))

names = sorted(catalog.metrics, key=lambda n: (catalog.metrics[n].business_line, n))
left, right = st.columns([2, 1])
with left:
    chosen = pick_many(
        t("metrics", lang),
        names,
        key="explore_metrics",
        labels=lambda n: catalog.metrics[n].label.get(lang),
        default=["uv"],
    )
if not chosen:
    st.info(t("no_drill", lang))
    st.stop()
model = catalog.metrics[chosen[0]].model
usable = [d.name for d in catalog.dimensions_for(model)]
with right:
    dims = pick_many(
        t("dimensions", lang), usable, key="explore_dims", labels=lambda n: catalog.dimensions[n].label.get(lang)
    )
single = catalog.metrics[chosen[0]].type in ("funnel", "retention")
a, b, c = st.columns(3)
grain = None
if not single:
    with a:
        grain = pick_one(
            t("grain", lang),
            [NO_GRAIN, *GRAINS],
            key="explore_grain",
            default="day",
            labels=lambda g: t("no_grain" if g == NO_GRAIN else f"grain_{g}", lang),
        )
grain = None if grain in (None, NO_GRAIN) else grain
where = (
    b.text_input(
        t("where", lang), key="explore_where", bind="query-params", placeholder="platform IN ('iOS', 'Android')"
    )
    or None
)
with c:
    dialect = pick_one(t("dialect", lang), DIALECTS, key="explore_dialect") or "duckdb"


def render() -> None:
    query = filters.query(tuple(chosen), extra_where=where, dimensions=tuple(dims), grain=grain)
    result = app_state.run(query)
    first = catalog.metrics[chosen[0]]
    if first.type == "funnel" and not dims:
        render_funnel(first.name, filters, key="explore_funnel", where=where)
    elif first.type == "retention" and not dims:
        render_heatmap(first.name, filters, key="explore_heatmap", where=where)
    elif grain and not dims and result.rows:
        specs = [(m, catalog.metrics[m].label.get(lang), catalog.metrics[m].format) for m in chosen]
        app_charts.show(app_charts.trend(result.rows, grain, specs), select=False)
    elif len(dims) == 1 and not grain and result.rows:
        dim = catalog.dimensions[dims[0]]
        app_charts.show(
            app_charts.bars(
                result.rows[:40], dims[0], dim.label.get(lang), first.name, first.label.get(lang), first.format
            ),
            select=False,
        )
    st.dataframe(tables.shown(result.columns, result.rows, catalog, lang), hide_index=True, width="stretch")
    st.download_button(
        t("download_csv", lang),
        tables.csv(result.columns, result.rows, catalog, lang),
        file_name="finlens_explore.csv",
        mime="text/csv",
    )
    st.subheader(t("sql", lang))
    st.code(compile_query(catalog, query, dialect).sql, language="sql")


guarded(render)
