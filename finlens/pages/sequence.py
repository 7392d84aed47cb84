"""User sequence: one user's sessions and events with every property; failed actions and errors highlighted."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.drill import MAX_USER_ID, user_param
from finlens.app.filters import current
from finlens.app.i18n import t

FIRST_COLUMNS = (
    "session",
    "event_time",
    "event",
    "page",
    "element",
    "is_success",
    "fail_reason",
    "amount",
    "properties",
)
FAILED_STYLE = "background-color: #fee2e2; color: #991b1b"

filters = current()
lang = filters.language
st.title(t("sequence", lang))
initial = user_param()
user_id = st.text_input(
    t("user_id", lang), value=initial, key=f"sequence_user_{initial}", max_chars=MAX_USER_ID
).strip()
if user_id != initial:
    st.query_params["user"] = user_id
if not user_id:
    st.info(t("no_user", lang))
    st.stop()


def render() -> None:
    events = app_state.sequence(user_id)
    if not events.rows:
        st.info(t("no_events", lang))
        return
    failed = sum(1 for row in events.rows if row["failed"])
    a, b, c = st.columns(3)
    a.metric(t("events", lang), f"{len(events.rows):,}")
    b.metric(t("sessions", lang), f"{events.sessions:,}")
    c.metric(t("failed", lang), f"{failed:,}")
    frame = pd.DataFrame(events.rows, columns=events.columns)
    empty = [c for c in frame.columns if frame[c].isna().all() and c not in ("event", "event_time")]
    frame = frame.drop(columns=empty)
    first = [c for c in FIRST_COLUMNS if c in frame.columns]
    frame = frame[[*first, *(c for c in frame.columns if c not in first)]]
    sessions = sorted(frame["session"].unique().tolist())
    summary = frame.groupby("session").agg(
        start=("event_time", "first"), end=("event_time", "last"), events=("event", "size"), failed=("failed", "sum")
    )
    label = {
        n: f"#{n} · {r.start} – {str(r.end)[11:]} · {r.events} {t('events', lang)}"
        + (f" · ⚠ {int(r.failed)}" if r.failed else "")
        for n, r in summary.iterrows()
    }
    picked = st.multiselect(t("sessions", lang), sessions, format_func=lambda n: label[n], key="sequence_sessions")
    shown = frame[frame["session"].isin(picked)] if picked else frame
    styled = shown.style.apply(lambda row: [FAILED_STYLE if row["failed"] else ""] * len(row), axis=1)
    st.dataframe(styled, hide_index=True, width="stretch", height=min(700, 38 + 35 * len(shown)))


guarded(render)
