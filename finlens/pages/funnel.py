"""Funnel: any funnel metric, optionally by a dimension; a click on a step opens its users."""

from __future__ import annotations

import streamlit as st

from finlens.app import state as app_state
from finlens.app.board import guarded, render_funnel
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.url_state import pick_one
from semantic.catalog.formatting import format_value

NO_DIMENSION = "none"

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(t("funnel", lang))
funnels = [n for n, m in catalog.metrics.items() if m.type == "funnel"]
name = pick_one(t("metric", lang), funnels, key="funnel_metric", labels=lambda n: catalog.metrics[n].label.get(lang))
usable = [d.name for d in catalog.dimensions_for(catalog.metrics[name].model)]
by = pick_one(
    t("by", lang),
    [NO_DIMENSION, *usable],
    key="funnel_by",
    default=NO_DIMENSION,
    labels=lambda n: t("no_dimension", lang) if n == NO_DIMENSION else catalog.dimensions[n].label.get(lang),
)


def render() -> None:
    render_funnel(name, filters, key="funnel_chart")
    if by and by != NO_DIMENSION:
        result = app_state.run(filters.query((name,), dimensions=(by,)))
        frame = result.to_dataframe()
        for column in ("conversion_from_previous", "conversion_from_first"):
            frame[column] = [format_value(v, "percent") for v in frame[column]]
        frame["median_seconds_to_convert"] = [format_value(v, "duration") for v in frame["median_seconds_to_convert"]]
        st.dataframe(frame, hide_index=True, width="stretch")


guarded(render)
