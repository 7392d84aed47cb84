"""Segments: pick a saved segment or build one; its members as of the range's last day, ids for push, and a metric in and out of it."""

from __future__ import annotations

import streamlit as st

from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.members import show_members
from finlens.app.url_state import pick_one
from finlens.pages.segment_builder import build_condition
from finlens.pages.segment_save import save_panel
from semantic.analyses.segments import parse_segment_text, segment_members
from semantic.catalog.formatting import format_value

BUILD = "__build__"
COMPARED = ("uv", "pv", "invest_users", "invest_amount", "deposit_amount")

filters = current()
lang = filters.language
catalog = app_state.catalog()
as_of = filters.end
st.title(t("segments", lang))
st.caption(f"{t('as_of', lang)} {as_of}", help=t("as_of_help", lang))
names = [*catalog.segments, BUILD]
choice = pick_one(
    t("saved_segment", lang),
    names,
    key="segment",
    labels=lambda n: t("build_segment", lang) if n == BUILD else catalog.segments[n].label.get(lang),
)


def chosen_segment():
    if choice != BUILD:
        segment = catalog.segments[choice]
        st.caption(" · ".join(part for part in (segment.label.get(lang), segment.described(lang)) if part))
        return segment
    text = build_condition(lang)
    if text is None:
        return None
    segment = parse_segment_text(catalog, text, name="built", file="builder")
    save_panel(text, lang)
    return segment


def render() -> None:
    segment = chosen_segment()
    if segment is None:
        st.info(t("segment_builder.incomplete", lang))
        return
    members = segment_members(catalog, segment, as_of, app_state.warehouse(app_state.warehouse_url()).dialect)
    st.subheader(t("members", lang))
    show_members(members, as_of, key="segment_members", lang=lang, file_name=f"{segment.name}_{as_of}.csv")
    st.subheader(t("segment_as_filter", lang))
    metrics = tuple(m for m in COMPARED if m in catalog.metrics)
    inside = app_state.run(filters.query(metrics, segment=segment)).rows[0]
    outside = app_state.run(filters.query(metrics, segment=segment, exclude_segment=True)).rows[0]
    table = [
        {
            t("metric", lang): catalog.metrics[m].label.get(lang),
            t("in_segment", lang): format_value(inside[m], catalog.metrics[m].format),
            t("not_in_segment", lang): format_value(outside[m], catalog.metrics[m].format),
        }
        for m in metrics
    ]
    st.dataframe(table, hide_index=True, width="stretch")


guarded(render)
