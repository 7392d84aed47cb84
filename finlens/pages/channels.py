"""Channel quality: every channel's funnel (visit → register → card bound → first investment), the quadrant chart
of traffic against overall conversion with a strategy per quadrant; a channel opens its users per step."""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app.board import guarded
from finlens.app.drill import BREAKDOWN_PAGE, USERS_PAGE, Target, go
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.pages import channels_data as app_channels
from semantic.catalog.formatting import format_value

filters = current()
lang = filters.language
st.title(app_channels.text("title", lang))
st.caption(f"{filters.start} – {filters.end}")


def render() -> None:
    spec = app_channels.spec()
    result = app_channels.quality(filters)
    if not result.rows:
        st.info(app_channels.text("no_channels", lang))
        return
    placed = [r for r in result.rows if r.quadrant is not None]
    st.subheader(app_channels.text("quadrant_chart", lang))
    picked_channel = None
    if placed:
        state = app_charts.show(app_channels.quadrant_chart(result, spec, lang), key="channels_quadrant")
        point = app_charts.picked(state)
        picked_channel = point.get("channel") if point else None
        st.caption(
            app_channels.text(
                "medians",
                lang,
                n=len(placed),
                traffic=format_value(result.median_traffic, "number"),
                conversion=format_value(result.median_conversion, "percent"),
            )
        )
    st.dataframe(app_channels.table(result, lang), hide_index=True, width="stretch")

    names = ["(none)" if r.channel is None else str(r.channel) for r in result.rows]
    chosen = st.pills(
        app_channels.text("pick_channel", lang),
        names,
        default=picked_channel if picked_channel in names else None,
        key="channels_pick",
    )
    if not chosen:
        return
    row = result.rows[names.index(chosen)]
    value = row.channel
    steps = [
        f"{k}. {step.label.get(lang)} ({format_value(users, 'number')})"
        for k, (step, users) in enumerate(zip(result.steps, row.users), start=1)
    ]
    step = st.pills(app_channels.text("step_users", lang), steps, key=f"channels_step_{chosen}")
    if step:
        go(USERS_PAGE, Target(metric=spec.funnel, filters=((spec.dimension, value),), step=steps.index(step) + 1))
    if st.button(app_channels.text("breakdown", lang), key=f"channels_breakdown_{chosen}", type="tertiary"):
        go(BREAKDOWN_PAGE, Target(metric="registrations", filters=((spec.dimension, value),), by="platform"))
    with st.expander(t("sql", lang)):
        st.code(result.sql, language="sql")


guarded(render)
