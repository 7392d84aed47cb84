"""A board's charts, and the trend and bar drawing the analysis pages share; a click opens the drill-down.

Every chart reads its rows through :func:`finlens.app.state.run` (cached by SQL)
and draws a cached Vega-Lite dict (:mod:`finlens.app.charts`,
:mod:`finlens.app.chart_trend`), so a warm page neither queries nor builds a chart.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app import tables
from finlens.app.chart_trend import Series, Words, trend_spec
from finlens.app.drill import BREAKDOWN_PAGE, USERS_PAGE, Target, go
from finlens.app.filters import Filters
from finlens.app.i18n import section, t
from finlens.app.line_scope import applicability, not_applicable_note
from semantic.catalog.boards import Chart
from semantic.catalog.specs import FunnelMetric

DEFAULT_DRILL = "platform"
ADDITIVE = ("count", "count_distinct", "sum")

text = section("board")


def words(language: str) -> Words:
    return Words(
        comparison=text("comparison_series", language),
        partial=text("partial_bucket", language),
        bucket=text("bucket", language),
        value=text("value", language),
    )


def additive(metric: Any) -> bool:
    """Whether a bucket or day without rows counts 0 for ``metric`` (counts and sums; not rates or averages)."""
    kind = metric.type
    return (
        (kind == "aggregate" and getattr(metric, "aggregation", "") in ADDITIVE)
        or kind == "first_seen"
        or (kind == "session" and getattr(metric, "measure", "") == "sessions")
    )


def series(metrics: tuple[str, ...] | list[str], language: str) -> list[Series]:
    """Each metric as a trend series: label, format, and whether a bucket without rows is 0."""
    catalog = app_state.catalog()
    out = []
    for name in metrics:
        metric = catalog.metrics[name]
        out.append(Series(name, metric.label.get(language), metric.format, additive(metric)))
    return out


def draw_trend(
    rows: list[dict[str, Any]],
    grain: str,
    lines: list[Series],
    filters: Filters,
    *,
    key: str,
    comparison: list[dict[str, Any]] | None = None,
    select: bool = True,
) -> dict[str, Any] | None:
    """The trend in one or more panels (one per scale); the clicked point (``bucket``, ``metric_name``) or None."""
    span = (filters.start, filters.end)
    earlier = filters.comparison() if comparison is not None else None
    specs = trend_spec(rows, grain, lines, span, words(filters.language), filters.language, comparison, earlier)
    clicked = None
    for index, spec in enumerate(specs):
        state = app_charts.show(spec, key=f"{key}_{index}", select=select)
        clicked = clicked or (app_charts.picked(state) if select else None)
    return clicked


def draw_bars(
    rows: list[dict[str, Any]], by: str, metric: str, language: str, *, key: str | None = None, select: bool = True
) -> tuple[bool, Any]:
    """Bars of ``metric`` by ``by`` with labelled values; (clicked, the clicked stored value, None for NULL)."""
    catalog = app_state.catalog()
    dim, spec = catalog.dimensions.get(by), catalog.metrics.get(metric)
    labels = {str(r[by]): dim.value_label(r[by], language) for r in rows if r[by] is not None} if dim else {}
    chart = app_charts.bars_spec(
        rows,
        by,
        dim.label.get(language) if dim else tables.header(by, catalog, language),
        metric,
        spec.label.get(language) if spec else tables.header(metric, catalog, language),
        spec.format if spec else "number",
        value_labels=labels,
        none_label=t("none", language),
        language=language,
    )
    state = app_charts.show(chart, key=key, select=select)
    point = app_charts.picked(state) if select else None
    if not point or by not in point:
        return False, None
    value = point[by]
    if value == app_charts.NONE:
        return True, None
    return True, next((r[by] for r in rows if str(r[by]) == str(value)), value)


def render_chart(chart: Chart, filters: Filters, *, key: str) -> None:
    """One chart of a board, with its click wired to a drill-down."""
    catalog = app_state.catalog()
    lang = filters.language
    st.subheader(chart.label.get(lang))
    missing = applicability(chart.metrics, filters, where=chart.where)
    metrics = tuple(m for m in chart.metrics if m not in missing)
    for name in chart.metrics:
        if name in missing:
            st.caption(not_applicable_note(name, missing[name], filters))
    if not metrics:
        return
    if chart.kind == "funnel":
        render_funnel(metrics[0], filters, key=key, where=chart.where, by=chart.drill)
        return
    if chart.kind == "heatmap":
        render_heatmap(metrics[0], filters, key=key, where=chart.where)
        return
    if chart.kind == "bar" and chart.by:
        order = (f"-{metrics[0]}",)
        query = filters.query(
            metrics[:1], extra_where=chart.where, dimensions=(chart.by,), order_by=order, limit=chart.limit
        )
        result = app_state.run(query)
        if not result.rows:
            st.info(t("no_rows", lang))
            return
        clicked, value = draw_bars(result.rows, chart.by, metrics[0], lang, key=key)
        if clicked:
            target = Target(metric=metrics[0], filters=((chart.by, value),), where=chart.where)
            if chart.drill:
                go(BREAKDOWN_PAGE, Target(**{**target.__dict__, "by": chart.drill}))
            go(USERS_PAGE, target)
        return
    grain = chart.grain or "day"
    result = app_state.run(
        filters.query(metrics, extra_where=chart.where, grain=grain, dimensions=(chart.by,) if chart.by else ())
    )
    if chart.kind == "table" or chart.by:
        st.dataframe(tables.shown(result.columns, result.rows, catalog, lang), hide_index=True, width="stretch")
        return
    if not result.rows:
        st.info(t("no_rows", lang))
        return
    earlier = None
    if filters.comparison_covered():
        earlier = app_state.run(filters.query(metrics, extra_where=chart.where, grain=grain, compare=True)).rows
    point = draw_trend(result.rows, grain, series(metrics, lang), filters, key=key, comparison=earlier)
    if point and "bucket" in point:
        go(
            BREAKDOWN_PAGE,
            Target(
                metric=point.get("metric_name") or metrics[0],
                bucket=app_charts.bucket_day(point["bucket"]),
                grain=grain,
                by=chart.drill or DEFAULT_DRILL,
                where=chart.where,
            ),
        )


def render_funnel(name: str, filters: Filters, *, key: str, where: str | None = None, by: str | None = None) -> None:
    """The funnel as labelled bars; a click on a step opens the users reaching it."""
    catalog = app_state.catalog()
    lang = filters.language
    metric = catalog.metrics[name]
    assert isinstance(metric, FunnelMetric)
    result = app_state.run(filters.query((name,), extra_where=where))
    if not result.rows or not result.rows[0].get("users"):
        st.info(t("no_rows", lang))
        return
    labels = {step.name: step.label.get(lang) for step in metric.steps}
    state = app_charts.show(app_charts.funnel_spec(result.rows, labels, t("users", lang)), key=key)
    point = app_charts.picked(state)
    if point and "step" in point:
        go(USERS_PAGE, Target(metric=name, step=int(point["step"]), where=where))


def render_heatmap(name: str, filters: Filters, *, key: str, where: str | None = None) -> None:
    """Cohort x period rates; a click on a cell opens that cohort's users and whether they returned."""
    lang = filters.language
    result = app_state.run(filters.query((name,), extra_where=where))
    if not any(r.get("rate") is not None for r in result.rows):
        st.info(t("no_cohorts", lang))  # an empty heatmap would show a NaN% legend
        return
    chart = app_charts.heatmap_spec(result.rows, t("cohort", lang), t("period", lang))
    state = app_charts.show(chart, key=key)
    point = app_charts.picked(state)
    if point and "cohort" in point:
        cohort = app_charts.bucket_day(point["cohort"])
        go(USERS_PAGE, Target(metric=name, cohort=cohort, period=int(point["period"]), where=where))
