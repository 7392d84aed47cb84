"""Breakdown: one metric (under what was clicked) by a dimension; a click on a value opens its users."""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.drill import USERS_PAGE, Target, from_params, go
from finlens.app.filters import current, with_range
from finlens.app.i18n import plain, t
from semantic.catalog.formatting import format_value
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
clicked = " · ".join(f"{catalog.dimensions[n].label.get(lang)} = {plain(v)}" for n, v in target.filters)
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
        st.info("–")
        return
    dim = catalog.dimensions[by]
    base = Target(**{**target.__dict__, "by": None, "extra": {}})
    if target.bucket and target.grain:
        base = Target(**{**base.__dict__, "bucket": target.bucket, "grain": target.grain})
    state = app_charts.show(
        app_charts.bars(result.rows, by, dim.label.get(lang), metric.name, metric.label.get(lang), metric.format),
        key="breakdown_chart",
    )
    point = app_charts.picked(state)
    if point and by in point:
        go(USERS_PAGE, base.narrowed(by, None if point[by] == "(none)" else point[by]))
    values = [str(r[by]) for r in result.rows if r[by] is not None][:12]
    choice = st.pills(t("pick_value", lang), values, key="breakdown_pick")
    if choice is not None:
        go(USERS_PAGE, base.narrowed(by, next(r[by] for r in result.rows if str(r[by]) == choice)))
    frame = result.to_dataframe()
    frame[metric.name] = [format_value(v, metric.format) for v in frame[metric.name]]
    st.dataframe(
        frame.rename(columns={by: dim.label.get(lang), metric.name: metric.label.get(lang)}),
        hide_index=True,
        width="stretch",
    )


guarded(render)
