"""Breakdown: one metric (under what was clicked) by a dimension; a click on a value opens its users."""

from __future__ import annotations

import streamlit as st

from finlens.app import state as app_state
from finlens.app import tables
from finlens.app.board import guarded
from finlens.app.board_charts import draw_bars
from finlens.app.drill import USERS_PAGE, Target, from_params, go
from finlens.app.filters import current, with_range
from finlens.app.i18n import plain, t
from semantic.drill.users import bucket_range

filters = current()
lang = filters.language
catalog = app_state.catalog()
target = from_params()
st.title(t("breakdown", lang))
if target is None or target.metric not in catalog.metrics:
    st.info(t("no_drill", lang))
    st.stop()

metric = catalog.metrics[target.metric]
usable = [d.name for d in catalog.dimensions_for(metric.model)]
by = target.by if target.by in usable else "platform"
by = st.selectbox(
    t("by", lang),
    usable,
    index=usable.index(by),
    format_func=lambda n: catalog.dimensions[n].label.get(lang),
    key=f"breakdown_by_{target.metric}_{target.by}",
)
scope = filters
if target.bucket and target.grain:
    first, last = bucket_range(target.grain, target.bucket)
    scope = with_range(filters, max(first, filters.start), min(last, filters.end))
clicked = " · ".join(
    f"{catalog.dimensions[n].label.get(lang)} = {plain(tables.value_text(n, v, catalog, lang))}"
    for n, v in target.filters
)
st.caption(
    f"{metric.label.get(lang)} · {scope.start} – {scope.end}"
    + (f" · {clicked}" if clicked else "")
    + (f" · {plain(target.where)}" if target.where else "")
)


def render() -> None:
    from semantic.compiler.filters import equals_where

    where = equals_where(list(target.filters), target.where)
    result = app_state.run(
        scope.query((metric.name,), extra_where=where, dimensions=(by,), order_by=(f"-{metric.name}",), limit=50)
    )
    if not result.rows:
        st.info(t("no_rows", lang))
        return
    dim = catalog.dimensions[by]
    base = Target(**{**target.__dict__, "by": None, "extra": {}})
    clicked, value = draw_bars(result.rows, by, metric.name, lang, key="breakdown_chart")
    if clicked:
        go(USERS_PAGE, base.narrowed(by, value))
    values = [r[by] for r in result.rows][:12]
    choice = st.pills(
        t("pick_value", lang),
        list(range(len(values))),
        format_func=lambda k: t("none", lang) if values[k] is None else dim.value_label(values[k], lang),
        key="breakdown_pick",
    )
    if choice is not None:
        go(USERS_PAGE, base.narrowed(by, values[choice]))
    st.dataframe(tables.shown(result.columns, result.rows, catalog, lang), hide_index=True, width="stretch")


guarded(render)
