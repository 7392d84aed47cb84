"""Overview: the overview board (user scale, user quality, trends, business lines) and marketing effect."""

from __future__ import annotations

import streamlit as st

from finlens.app import state as app_state
from finlens.app.board import guarded, render_board
from finlens.app.filters import current
from finlens.app.i18n import t
from semantic.catalog.formatting import format_value

filters = current()
lang = filters.language
render_board(app_state.boards()["overview"], filters)


def marketing() -> None:
    """Best and worst channels by conversion from registration to a bound card."""
    result = app_state.run(filters.query(("registrations", "bind_card_users"), dimensions=("channel",)))
    rows = [r for r in result.rows if r["channel"] is not None and r["registrations"]]
    for r in rows:
        r["conversion"] = (r["bind_card_users"] or 0) / r["registrations"]
    rows.sort(key=lambda r: (-r["conversion"], r["channel"]))
    if not rows:
        st.info("–")
        return
    left, right = st.columns(2)
    for column, title, picked in ((left, "best_channels", rows[:3]), (right, "worst_channels", rows[::-1][:3])):
        column.markdown(f"**{t(title, lang)}**")
        for r in picked:
            column.metric(
                r["channel"],
                format_value(r["conversion"], "percent"),
                help=f"{format_value(r['bind_card_users'], 'number')} / {format_value(r['registrations'], 'number')}",
            )


st.header(t("marketing", lang))
guarded(marketing)
