"""Explore: any metric x any dimensions x grain x filter, as a chart and a table, with its SQL and a CSV."""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app import tables
from finlens.app.board import guarded, render_funnel, render_heatmap
from finlens.app.board_charts import draw_bars, draw_trend, series
from finlens.app.chart_compare import funnel_by_value_spec, retention_by_value_spec
from finlens.app.chart_trend import Series
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.url_state import pick_many, pick_one
from semantic import compile_query
from semantic.catalog.specs import GRAINS
from semantic.compiler.dialects import DIALECTS

NO_GRAIN = "none"
MAX_LINES = 8  # values drawn per metric when a dimension meets a grain


@st.cache_data(show_spinner=False, max_entries=200)
def compiled_sql(query, dialect: str, version: str = "") -> str:
    """The query's SQL for ``dialect`` (compiled once per query, dialect and catalog version)."""
    return compile_query(catalog, query, dialect).sql


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
    b.text_input(t("where", lang), key="explore_where", bind="query-params", placeholder=t("where_placeholder", lang))
    or None
)
with c:
    dialect = pick_one(t("dialect", lang), DIALECTS, key="explore_dialect") or "duckdb"


def render() -> None:
    query = filters.query(tuple(chosen), extra_where=where, dimensions=tuple(dims), grain=grain)
    result = app_state.run(query)
    first = catalog.metrics[chosen[0]]
    rows = result.rows
    if first.type in ("funnel", "retention"):
        _single(first, rows)
    elif grain and rows and not dims:
        draw_trend(rows, grain, series(chosen, lang), filters, key="explore_trend", select=False)
    elif grain and rows and len(dims) == 1:
        _lines_per_value(rows, grain, dims[0])
    elif len(dims) == 1 and not grain and rows:
        draw_bars(rows[:40], dims[0], first.name, lang, select=False)
    shown_rows = rows
    if first.type == "funnel":  # step names as the YAML labels them
        labels = {step.name: step.label.get(lang) for step in first.steps}
        shown_rows = [{**r, "step_name": labels.get(r["step_name"], r["step_name"])} for r in rows]
    st.dataframe(tables.shown(result.columns, shown_rows, catalog, lang), hide_index=True, width="stretch")
    st.download_button(
        t("download_csv", lang),
        tables.csv(result.columns, rows, catalog, lang),
        file_name="finlens_explore.csv",
        mime="text/csv",
    )
    with st.expander(t("sql", lang)):
        st.code(compiled_sql(query, dialect, app_state.catalog_version()), language="sql")


def _single(first, rows) -> None:
    """A funnel or retention: its own chart alone, or one line per value of the breakdown."""
    if not dims:
        (render_funnel if first.type == "funnel" else render_heatmap)(
            first.name, filters, key=f"explore_{first.type}", where=where
        )
        return
    if len(dims) > 1 or not rows:
        return
    dim = catalog.dimensions[dims[0]]
    labels = {str(r[dim.name]): dim.value_label(r[dim.name], lang) for r in rows if r[dim.name] is not None}
    if first.type == "funnel":
        steps = {step.name: step.label.get(lang) for step in first.steps}
        spec = funnel_by_value_spec(
            rows,
            dim.name,
            steps,
            labels,
            (t("step", lang), t("column_conversion_from_first", lang), t("none", lang)),
            lang,
        )
    else:
        spec = retention_by_value_spec(
            rows, dim.name, labels, (t("period", lang), t("column_rate", lang), t("none", lang)), lang
        )
    app_charts.show(spec, select=False)


def _lines_per_value(rows, grain: str, by: str) -> None:
    """Each metric (up to four) as lines per value of ``by``: the largest values first, the table lists all."""
    dim = catalog.dimensions[by]
    for name in chosen[:4]:
        metric = catalog.metrics[name]
        totals: dict = {}
        for r in rows:
            totals[r[by]] = totals.get(r[by], 0) + (r[name] or 0)
        top = sorted(totals, key=lambda v: (-totals[v], str(v)))[:MAX_LINES]
        wide: dict[str, dict] = {}
        for r in rows:
            if r[by] in top:
                wide.setdefault(str(r[grain]), {grain: r[grain]})[_series_key(r[by])] = r[name]
        lines = [
            Series(_series_key(v), dim.value_label(v, lang) if v is not None else t("none", lang), metric.format, False)
            for v in top
        ]
        if len(chosen) > 1:
            st.markdown(f"**{metric.label.get(lang)}**")
        draw_trend(list(wide.values()), grain, lines, filters, key=f"explore_lines_{name}", select=False)


def _series_key(value) -> str:
    return "∅" if value is None else f"v:{value}"


guarded(render)
