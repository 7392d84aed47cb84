"""Breakdown: one metric (under what was clicked) by a dimension; a click on a value opens its users."""

from __future__ import annotations

import streamlit as st

from finlens.app import state as app_state
from finlens.app import tables
from finlens.app.board import guarded
from finlens.app.board_charts import draw_bars
from finlens.app.drill import NULL, USERS_PAGE, Target, from_params, go
from finlens.app.filters import current, with_range
from finlens.app.i18n import plain, t
from finlens.app.url_state import pick_one
from semantic.drill.users import bucket_range

DEFAULT_BY = "platform"

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
# the dimension is the link's ``by``: changing it is a new history entry that Back undoes
by = (
    pick_one(
        t("by", lang),
        usable,
        key="by",
        labels=lambda n: catalog.dimensions[n].label.get(lang),
        default=DEFAULT_BY if DEFAULT_BY in usable else usable[0],
    )
    or usable[0]
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
    values = {NULL if r[by] is None else str(r[by]): r[by] for r in result.rows[:12]}
    choice = st.pills(
        t("pick_value", lang),
        list(values),
        format_func=lambda v: t("none", lang) if v == NULL else dim.value_label(v, lang),
        key="breakdown_pick",
    )
    if choice is not None:
        go(USERS_PAGE, base.narrowed(by, values[choice]))
    st.dataframe(tables.shown(result.columns, result.rows, catalog, lang), hide_index=True, width="stretch")


guarded(render)
