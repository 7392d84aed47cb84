"""Channels: acquisition by channel (utm_source): visitors, new users, registrations, card binding, conversion."""
from __future__ import annotations

import streamlit as st

from finlens import app_charts, app_state
from finlens.app_board import guarded
from finlens.app_drill import BREAKDOWN_PAGE, Target, go
from finlens.app_filters import current
from finlens.app_text import t
from semantic.formatting import format_value

METRICS = ("uv", "new_users", "registrations", "bind_card_users", "invest_users")

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(t("channels", lang))


def render() -> None:
    result = app_state.run(filters.query(METRICS, dimensions=("channel",), order_by=("-registrations",)))
    rows = [r for r in result.rows if r["channel"] is not None]
    if not rows:
        st.info("–")
        return
    for r in rows:
        r["conversion"] = r["bind_card_users"] / r["registrations"] if r["registrations"] else None
    left, right = st.columns(2)
    with left:
        st.subheader(catalog.metrics["registrations"].label.get(lang))
        state = app_charts.show(app_charts.bars(rows, "channel", catalog.dimensions["channel"].label.get(lang), "registrations",
                                                catalog.metrics["registrations"].label.get(lang), "number"), key="channels_regs")
        point = app_charts.picked(state)
        if point and "channel" in point:
            go(BREAKDOWN_PAGE, Target(metric="registrations", filters=(("channel", point["channel"]),), by="platform"))
    with right:
        st.subheader(t("conversion", lang))
        ranked = [r for r in rows if r["conversion"] is not None]
        app_charts.show(app_charts.bars(ranked, "channel", catalog.dimensions["channel"].label.get(lang), "conversion",
                                        t("conversion", lang), "percent"), select=False)
    table = [{catalog.dimensions["channel"].label.get(lang): r["channel"],
              **{catalog.metrics[m].label.get(lang): format_value(r[m], catalog.metrics[m].format) for m in METRICS},
              t("conversion", lang): format_value(r["conversion"], "percent")} for r in rows]
    st.dataframe(table, hide_index=True, width="stretch")


guarded(render)
