"""Purchase intent: tiers by percentile with thresholds, product preferences, the crosstab, and who is in each cell."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import personal
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.drill import open_user
from finlens.app.filters import current
from finlens.pages import intent_data as app_intent
from finlens.pages.intent_data import t
from semantic.catalog.formatting import format_value
from semantic.drill.members import ids_csv

PAGE_SIZE = 50

filters = current()
lang = filters.language


def render() -> None:
    spec = app_intent.spec()
    st.title(spec.score.label.get(lang))
    span = app_state.span()
    if span is None:
        st.info(t("no_data", lang))
        return
    as_of = st.date_input(t("as_of", lang), value=span[1], min_value=span[0], max_value=span[1], key="intent_as_of")
    summary = app_intent.summary(as_of)
    (s_start, s_end), (p_start, p_end) = summary.score_window, summary.preference_window
    st.caption(f"{t('score_window', lang)} {s_start} – {s_end} · {t('preference_window', lang)} {p_start} – {p_end}")

    labels = {tier.name: tier.label.get(lang) for tier in spec.score.tiers}
    a, b = st.columns(2)
    a.metric(t("ranked", lang), f"{summary.ranked_users:,}")
    b.metric(t("dwell_users", lang), f"{summary.dwell_users:,}")

    st.subheader(t("tiers", lang))
    tier_rows = [{"tier": labels[x.name], "users": x.users} for x in summary.tiers]
    if summary.ranked_users:
        app_charts.show(
            app_charts.bars_spec(tier_rows, "tier", t("tier", lang), "users", t("users", lang), "number"), select=False
        )
    st.dataframe(
        [
            {
                t("tier", lang): labels[x.name],
                t("top", lang): format_value(x.top, "percent"),
                t("users", lang): x.users,
                t("share", lang): format_value(x.share, "percent"),
                t("threshold", lang): x.threshold,
                t("min_score", lang): x.min_score,
                t("max_score", lang): x.max_score,
            }
            for x in summary.tiers
        ],
        hide_index=True,
        width="stretch",
        key="intent_tiers",
    )
    st.caption(t("ties_note", lang))

    st.subheader(t("preferences", lang))
    st.caption(t("preference_note", lang).format(threshold=float(spec.preference.threshold)))
    type_rows = [{"type": p.value, "users": p.users, "share": p.share} for p in summary.preferences]
    if type_rows:
        app_charts.show(
            app_charts.bars_spec(type_rows, "type", t("type", lang), "users", t("users", lang), "number"), select=False
        )
        st.dataframe(
            [
                {
                    t("type", lang): r["type"],
                    t("users", lang): r["users"],
                    t("share", lang): format_value(r["share"], "percent"),
                }
                for r in type_rows
            ],
            hide_index=True,
            width="stretch",
            key="intent_types",
        )

    st.subheader(t("crosstab", lang))
    types = [p.value for p in summary.preferences]
    counts = {(c.tier, c.value): c.users for c in summary.crosstab}
    table = []
    for tier in [*(x.name for x in spec.score.tiers), None]:
        row = {t("tier", lang): labels[tier] if tier else t("no_score", lang)}
        row.update({value: counts.get((tier, value), 0) for value in types})
        if tier is not None:
            row[t("no_preference", lang)] = counts.get((tier, None), 0)
        table.append(row)
    frame = pd.DataFrame(table)
    if t("no_preference", lang) in frame:  # not counted for users without a score: blank, not NaN
        frame[t("no_preference", lang)] = frame[t("no_preference", lang)].astype("Int64")
    st.dataframe(frame, hide_index=True, width="stretch", key="intent_crosstab")

    st.subheader(t("members", lang))
    left, right = st.columns(2)
    tier_choice = left.selectbox(
        t("tier", lang),
        [None, *(x.name for x in spec.score.tiers)],
        key="intent_tier",
        format_func=lambda v: t("any", lang) if v is None else labels[v],
    )
    prefers = right.selectbox(
        t("prefers", lang),
        [None, *types],
        key="intent_prefers",
        format_func=lambda v: t("any", lang) if v is None else str(v),
    )
    first = app_intent.members(as_of, tier_choice, prefers, limit=PAGE_SIZE)
    pages = max(1, -(-first.total // PAGE_SIZE))
    page = (
        st.number_input(
            f"{t('page', lang)} (1–{pages})",
            min_value=1,
            max_value=pages,
            value=1,
            key=f"intent_page_{tier_choice}_{prefers}",
        )
        if pages > 1
        else 1
    )
    listing = (
        first
        if page == 1
        else app_intent.members(as_of, tier_choice, prefers, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    st.metric(t("users", lang), f"{listing.total:,}")
    if not listing.rows:
        st.info("–")
        return
    user_ids = [row["user_id"] for row in listing.rows]
    choice = st.pills(t("open_user", lang), user_ids[:12], key="intent_open")
    if choice:
        open_user(str(choice))
    event = st.dataframe(
        listing.rows,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="intent_members",
    )
    picked = app_charts.selected_rows(event)
    if picked:
        open_user(str(user_ids[picked[0]]))
    name = "_".join([spec.score.name, tier_choice or "all", *([str(prefers)] if prefers else [])])
    personal.export_button(
        app_state.catalog(),
        t("download_ids", lang),
        lambda: ids_csv(app_intent.ids(as_of, tier_choice, prefers)),
        file_name=f"{name}_{as_of}.csv",
        key="intent_csv",
        what="intent",
        lang=lang,
    )
    with st.expander(t("sql", lang)):
        st.code(listing.sql, language="sql")
        for sql in summary.sql:
            st.code(sql, language="sql")


guarded(render)
