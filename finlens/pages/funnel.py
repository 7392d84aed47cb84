"""Funnel: any funnel metric, optionally by a dimension; a click on a step opens its users."""

from __future__ import annotations

import streamlit as st

from finlens.app import state as app_state
from finlens.app.board import guarded, render_funnel
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.params import check_choices
from semantic.catalog.formatting import format_value

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(t("funnel", lang))
funnels = [n for n, m in catalog.metrics.items() if m.type == "funnel"]
check_choices("funnel_metric", funnels)
name = st.selectbox(t("metric", lang), funnels, key="funnel_metric", bind="query-params")
usable = [d.name for d in catalog.dimensions_for(catalog.metrics[name].model)]
check_choices("funnel_by", ["(none)", *usable])
by = st.selectbox(t("by", lang), ["(none)", *usable], key="funnel_by", bind="query-params")


def render() -> None:
    render_funnel(name, filters, key="funnel_chart")
    if by and by != "(none)":
        result = app_state.run(filters.query((name,), dimensions=(by,)))
        frame = result.to_dataframe()
        for column in ("conversion_from_previous", "conversion_from_first"):
            frame[column] = [format_value(v, "percent") for v in frame[column]]
        frame["median_seconds_to_convert"] = [format_value(v, "duration") for v in frame["median_seconds_to_convert"]]
        st.dataframe(frame, hide_index=True, width="stretch")


guarded(render)
