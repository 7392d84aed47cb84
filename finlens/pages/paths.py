"""Paths: where users went from (or came to) an event inside their sessions, or after dropping out of a funnel
step, as a Sankey and a table of flows; a band or a pick lists the users behind a flow; a built analysis can be
saved as YAML."""

from __future__ import annotations

import streamlit as st

from finlens.app import adhoc, tables
from finlens.app import charts as app_charts
from finlens.app import model_charts as charts
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import plain, section
from finlens.app.url_state import pick_one
from finlens.app.user_list import show_users
from finlens.pages import paths_data as data

text = section("paths")
SEPARATOR = "|"

filters = current()
lang = filters.language
st.title(text("title", lang))
spec, definition = data.pick(filters)
st.caption(
    text(f"caption_{spec.mode}", lang, anchor=plain(spec.anchor), steps=spec.steps, top=spec.top)
    + (" " + text("caption_by_page", lang) if spec.by_page else "")
)


def flow_key(row: dict) -> str:
    return SEPARATOR.join([str(row["step"]), row["source"] or "", row["target"] or ""])


def flow_label(key: str) -> str:
    step, source, target = key.split(SEPARATOR)
    return f"{step}. {source or text('began', lang)} → {target or text('ended', lang)}"


def render() -> None:
    rows = data.flows(spec, filters)
    if not rows:
        st.info(text("no_paths", lang))
    else:
        chart = charts.sankey(
            rows, backward=spec.mode == "end", start_label=text("began", lang), end_label=text("ended", lang)
        )
        state = app_charts.show(chart, key="paths_chart")
        st.caption(text("chart_help", lang))
        point = app_charts.picked(state)
        if point and "flow" in point and st.query_params.get("paths_flow") != point["flow"]:
            st.query_params["paths_flow"] = point["flow"]
            st.rerun()
        shown = [
            dict(r, source=r["source"] or text("began", lang), target=r["target"] or text("ended", lang)) for r in rows
        ]
        st.dataframe(
            tables.shown(["step", "source", "target", "users"], shown, app_state.catalog(), lang), hide_index=True
        )
        keys = [flow_key(r) for r in rows]
        choice = pick_one(text("flow", lang), keys, key="paths_flow", labels=flow_label) or keys[0]
        step, source, target = choice.split(SEPARATOR)
        flow = (int(step), source or None, target or None)
        show_users(
            lambda limit, offset: data.flow_users(spec, filters, flow, limit, offset),
            key="paths_users",
            lang=lang,
            title=flow_label(choice),
            file_name=f"{spec.name}_flow.csv",
        )
    if definition is not None:
        adhoc.save_panel(definition, key="paths_yaml", lang=lang, saved=data.saved)


guarded(render)
