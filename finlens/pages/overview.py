"""Overview: the overview board (user scale, user quality, trends, business lines) and marketing effect."""

from __future__ import annotations

import streamlit as st

from finlens.app import state as app_state
from finlens.app.board import guarded, render_board
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.line_scope import applicability, not_applicable_note
from finlens.pages import channels_data
from semantic.catalog.formatting import format_value

# A channel needs this many registrations in the range to be ranked: 1 of 2 is no "best channel".
MIN_REGISTRATIONS = 5

filters = current()
lang = filters.language
render_board(app_state.boards()["overview"], filters)


def marketing() -> None:
    """Best and worst channels by registration → card conversion: the Channel quality page's own numbers.

    Each channel's users who registered after a channel visit in the range, and of them those who then bound a
    card (the channel funnel's steps 2 and 3), so the overview and Channel quality agree to the digit.
    """
    missing = applicability(("registrations",), filters)
    if missing:  # registrations are platform events: no channel conversion inside another line
        st.info(not_applicable_note("registrations", missing["registrations"], filters))
        return
    result = channels_data.quality(filters)
    names = [step.name for step in result.steps]
    register, card = names.index("register"), names.index("bind_card")
    rows = [
        (str(r.channel), r.users[card], r.users[register])
        for r in result.rows
        if r.channel is not None and r.users[register] >= MIN_REGISTRATIONS
    ]
    rows.sort(key=lambda r: (-r[1] / r[2], r[0]))
    if not rows:
        st.info(t("overview.no_ranked_channels", lang, n=MIN_REGISTRATIONS))
        return
    st.caption(t("overview.channel_conversion_note", lang, n=MIN_REGISTRATIONS))
    channel = app_state.catalog().dimensions[channels_data.spec().dimension]
    left, right = st.columns(2)
    picks = rows[:3], rows[::-1][:3]
    for column, title, picked in zip((left, right), ("best_channels", "worst_channels"), picks):
        column.markdown(f"**{t(title, lang)}**")
        for name, cards, registered in picked:
            column.metric(
                channel.value_label(name, lang),
                format_value(cards / registered, "percent"),
                help=t("overview.channel_conversion_help", lang, cards=f"{cards:,}", registered=f"{registered:,}"),
            )


st.header(t("marketing", lang))
guarded(marketing)
