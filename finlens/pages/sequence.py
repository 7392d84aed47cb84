"""User sequence: find a user by any id (or its start), their profile, and their events by session, failures marked.

What customer service needs while someone is on the phone: the user found from
whatever id they read out (the login id, an anonymous id the app sent, or just
the start of one), who they are (channel, registration, real-name status, risk
level), and what they did in a stated date range, with a switch to see only the
failed actions and errors, and any cell's full text (a long ``fail_reason`` or
``properties``) by selecting its row.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.drill import MAX_USER_ID, user_param
from finlens.app.filters import current
from finlens.app.i18n import plain, t
from finlens.pages import sequence_data as data
from finlens.pages.sequence_data import FIRST_COLUMNS, PROFILE, text

FAILED_STYLE = "background-color: #fee2e2; color: #991b1b"

filters = current()
lang = filters.language
url, version = app_state.warehouse_url(), app_state.catalog_version()
st.title(t("sequence", lang))
initial = user_param()
typed = st.text_input(
    text("find", lang),
    value=initial,
    key=f"sequence_user_{initial}",
    max_chars=MAX_USER_ID,
    placeholder=text("find_placeholder", lang),
).strip()


def choose() -> str:
    """The user to show: the URL's, or the one the typed text finds (several: the person picks one)."""
    if not typed:
        return ""
    if typed == initial and initial and app_state.sequence(initial).rows:
        return initial
    found = data.matches(typed, url, version)
    exact = [m for m in found if m.user_id == typed]
    if len(found) == 1 or exact:
        user = (exact or found)[0].user_id
        if user != initial:
            st.query_params["user"] = user
        if found[0].matched_by == "distinct_id" and user != typed:
            st.caption(text("found_by_distinct_id", lang, typed=plain(typed), user=plain(user)))
        return user
    if not found:
        st.warning(text("not_found", lang, typed=plain(typed)))
        return ""
    options = [m.user_id for m in found]
    how = {m.user_id: m for m in found}
    picked = st.pills(
        text("pick_user", lang, n=len(found)),
        options,
        format_func=lambda u: u if how[u].matched_by == "user_id" else f"{u} ← {how[u].matched}",
        key=f"sequence_pick_{typed}",
    )
    if picked:
        st.query_params["user"] = picked
        return picked
    return ""


user_id = choose()
if not user_id:
    st.info(t("no_user", lang))
    st.stop()


def header() -> None:
    """The user's attributes from the users model: who is on the phone."""
    attributes = data.profile(user_id, url, version)
    if not attributes:
        st.caption(text("no_profile", lang))
        return
    columns = st.columns(len(PROFILE))
    for column, name in zip(columns, PROFILE):
        column.caption(data.attribute_label(name, lang))
        column.markdown(f"**{plain(data.profile_value(name, attributes.get(name), lang))}**")


def render() -> None:
    events = app_state.sequence(user_id)
    if not events.rows:
        st.info(t("no_events", lang))
        return
    frame = pd.DataFrame(events.rows, columns=events.columns)
    days = pd.to_datetime(frame["event_time"]).dt.date
    left, middle, right = st.columns(3)
    everything = left.toggle(text("all_history", lang), key="sequence_all")
    failures = middle.toggle(text("failures_only", lang), key="sequence_failures")
    first, last = days.min(), days.max()
    start, end = (first, last) if everything else (filters.start, filters.end)
    frame = frame[(days >= start) & (days <= end)]
    st.caption(
        text("range", lang, start=start, end=end, shown=len(frame), total=len(events.rows), first=first, last=last)
    )
    a, b, c = right.columns(3)
    a.metric(t("events", lang), f"{len(frame):,}")
    b.metric(t("sessions", lang), f"{frame['session'].nunique():,}")
    c.metric(t("failed", lang), f"{int(frame['failed'].sum()):,}")
    if failures:
        frame = frame[frame["failed"]]
    if frame.empty:
        st.info(text("nothing_here", lang))
        return
    empty = [col for col in frame.columns if frame[col].isna().all() and col not in ("event", "event_time")]
    frame = frame.drop(columns=empty)
    ordered = [col for col in FIRST_COLUMNS if col in frame.columns]
    frame = frame[[*ordered, *(col for col in frame.columns if col not in ordered)]].reset_index(drop=True)
    sessions(frame)
    table = data.shown(frame, lang)
    failed = list(frame["failed"])
    styled = table.drop(columns=["failed"]).style.apply(
        lambda row: [FAILED_STYLE if failed[row.name] else ""] * len(row), axis=1
    )
    event = st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        height=min(640, 38 + 35 * len(table)),
        on_select="rerun",
        selection_mode="single-row",
        key="sequence_table",
        column_config={
            data.column_label(col, lang): st.column_config.TextColumn(width="large")
            for col in ("properties", "fail_reason")
            if col in frame.columns
        },
    )
    picked = list(getattr(getattr(event, "selection", None), "rows", None) or [])
    st.caption(text("select_for_details", lang))
    if picked:
        details(frame.iloc[picked[0]].to_dict())


def sessions(frame: pd.DataFrame) -> None:
    """One line per session: when, how many events, how many failed."""
    summary = frame.groupby("session").agg(
        start=("event_time", "first"), end=("event_time", "last"), events=("event", "size"), failed=("failed", "sum")
    )
    with st.expander(text("sessions_list", lang, n=len(summary))):
        for number, row in summary.iterrows():
            mark = f" · ⚠ {int(row.failed)}" if row.failed else ""
            st.markdown(f"#{number} · {row.start} – {str(row.end)[11:]} · {row.events} {t('events', lang)}{mark}")


def details(row: dict) -> None:
    """Every field of one event in full: the long text a table cell cuts."""
    st.subheader(text("details", lang, event=plain(row.get("event", "")), time=row.get("event_time", "")))
    fields = {
        data.column_label(k, lang): v
        for k, v in row.items()
        if k not in ("properties", "failed") and v is not None and not (isinstance(v, float) and pd.isna(v))
    }
    st.table(pd.DataFrame({text("field", lang): list(fields), text("value", lang): [str(v) for v in fields.values()]}))
    if row.get("properties"):
        try:
            st.json(json.loads(row["properties"]))
        except (TypeError, ValueError):
            st.code(str(row["properties"]))


header()
guarded(render)
