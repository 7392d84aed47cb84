"""Event analysis: a metric built with clicks (events, count / users / sum / average of an amount, a filter),
by period and a dimension, without YAML; a period or value lists its users; it can be saved as YAML."""

from __future__ import annotations

import streamlit as st

from finlens.app import adhoc, board_charts, tables
from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.chart_trend import Series
from finlens.app.filters import current
from finlens.app.i18n import section, t
from finlens.app.url_state import pick_many, pick_one
from finlens.app.user_list import show_users
from finlens.pages.funnel_builder import event_options
from semantic import Drill
from semantic.catalog.definitions import event_metric_definition
from semantic.catalog.specs import Label

MEASURES = {
    "count": ("count", None),
    "users": ("count_distinct", None),
    "sum": ("sum", "amount"),
    "avg": ("avg", "amount"),
}
NONE = "none"
GRAINS = (NONE, "day", "week", "month")
DEFAULT_NAME = "adhoc_events"
text = section("events")

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(text("title", lang))
left, right = st.columns([2, 1])
with left:
    events = pick_many(text("events", lang), event_options(filters), key="events_names", default=["P2P_invest"])
with right:
    measure = pick_one(
        text("measure", lang), list(MEASURES), key="events_measure", labels=lambda m: text(f"measure_{m}", lang)
    )
condition = st.text_input(
    text("filter", lang), key="events_filter", bind="query-params", placeholder="is_success AND amount >= 1000"
)
usable = [d.name for d in catalog.dimensions_for("events")]
a, b, c = st.columns(3)
with a:
    grain = pick_one(
        t("grain", lang),
        GRAINS,
        key="events_grain",
        default="day",
        labels=lambda g: t("no_grain" if g == NONE else f"grain_{g}", lang),
    )
with b:
    by = pick_one(
        t("by", lang),
        [NONE, *usable],
        key="events_by",
        labels=lambda n: t("no_dimension", lang) if n == NONE else catalog.dimensions[n].label.get(lang),
    )
with c:
    name = (
        st.text_input(text("name", lang), value=DEFAULT_NAME, key="events_save_name", bind="query-params")
        or DEFAULT_NAME
    ).strip()
grain = None if grain in (None, NONE) else grain
dims = (by,) if by and by != NONE else ()


def render() -> None:
    if not events:
        st.info(text("pick_events", lang))
        return
    aggregation, expr = MEASURES[measure or "count"]
    definition = adhoc.build(
        lambda: event_metric_definition(
            catalog,
            name=name,
            aggregation=aggregation,
            events=events,
            filter_=condition or None,
            expr=expr,
            label=Label(zh=name, en=name),
        ),
        lang,
    )
    if definition is None:
        return
    metric = definition.spec
    result = adhoc.run(filters.query((name,), grain=grain, dimensions=dims), definition)
    if grain and not dims and result.rows:
        line = Series(name, text(f"measure_{measure}", lang), metric.format, board_charts.additive(metric))
        board_charts.draw_trend(result.rows, grain, [line], filters, key="events_trend", select=False)
    elif dims and not grain and result.rows:
        dim = catalog.dimensions[dims[0]]
        app_charts.show(
            app_charts.bars(
                result.rows[:40], dims[0], dim.label.get(lang), name, text(f"measure_{measure}", lang), metric.format
            ),
            select=False,
        )
    renamed = [{(k if k != name else "value"): v for k, v in r.items()} for r in result.rows]
    columns = [c if c != name else "value" for c in result.columns]
    st.dataframe(tables.shown(columns, renamed, catalog, lang), hide_index=True)
    drill = Drill()
    parts = [", ".join(events)]
    if grain and result.rows:
        periods = sorted({str(r[grain]) for r in result.rows})
        bucket = pick_one(text("period", lang), periods, key="events_period", default=periods[-1])
        drill, parts = Drill(bucket=bucket), [*parts, str(bucket)]
    if dims and result.rows:
        values = sorted({str(r[by]) for r in result.rows if r[by] is not None})
        if values:
            value = pick_one(catalog.dimensions[by].label.get(lang), values, key="events_value")
            drill = Drill(bucket=drill.bucket, filters=((by, value),))
            parts.append(catalog.dimensions[by].value_label(value, lang))
    query = filters.query((name,), grain=grain)
    show_users(
        lambda limit, offset: adhoc.users(query, drill, definition, limit=limit, offset=offset),
        key="events_users",
        lang=lang,
        title=" · ".join(parts),
        file_name=f"{name}_users.csv",
    )
    adhoc.save_panel(definition, key="events_yaml", lang=lang, saved=saved)


def saved(name: str) -> None:
    st.query_params.clear()
    st.switch_page("finlens/pages/explore.py", query_params={"explore_metrics": name})


guarded(render)
