"""Lifecycle & RFM: users per stage and per RFM group as of a day, the R x F grid, and the users of any of them."""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import personal
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.drill import open_user
from finlens.app.filters import language
from finlens.app.params import check_days
from finlens.app.url_state import pick_one
from finlens.pages.lifecycle_data import (
    grid,
    member_csv,
    members,
    rf_heatmap,
    rfm,
    spec,
    stages,
    t,
)
from semantic.catalog.formatting import format_value

PAGE_SIZE = 50

lang = language()  # the sidebar's switch, or the URL's lang when the page runs on its own
st.title(t("title", lang))
span = app_state.span()
if span is None:
    st.info(t("no_data", lang))
    st.stop()
check_days("as_of", span[0], span[1])
as_of = st.date_input(
    t("as_of", lang), value=span[1], min_value=span[0], max_value=span[1], key="as_of", bind="query-params"
)


def render_stages() -> None:
    summary = stages(as_of)
    st.subheader(t("stages", lang))
    columns = st.columns(len(summary.rows))
    for column, row in zip(columns, summary.rows):
        column.metric(
            spec().stage_label(row["stage"], lang),
            f"{row['users']:,}",
            help=f"{t('share', lang)} {format_value(row['share'], 'percent')}",
        )
    customers = sum(r["users"] for r in summary.rows if r["stage"] in ("holding", "redeemed"))
    st.caption(f"{t('customers', lang)}: {customers:,} / {summary.total:,}")
    bars = [{"stage": spec().stage_label(r["stage"], lang), "users": r["users"]} for r in summary.rows]
    app_charts.show(
        app_charts.bars_spec(bars, "stage", t("stage", lang), "users", t("users", lang), "number"), select=False
    )


def render_rfm() -> None:
    summary = rfm(as_of)
    st.subheader(t("rfm", lang))
    st.caption(
        t("rfm_caption", lang).format(days=spec().lookback_days, start=summary.start, end=as_of, high=spec().high_from)
    )
    if not summary.total:
        st.info(t("no_investors", lang))
        return
    table = [
        {
            "group": r["rfm_group"],
            "label": spec().group_label(r["rfm_group"], lang),
            "users": r["users"],
            "share": r["share"],
            "avg_recency_days": r["avg_recency_days"],
            "avg_frequency": r["avg_frequency"],
            "avg_monetary": r["avg_monetary"],
        }
        for r in summary.rows
    ]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "group": None,
            "label": t("group", lang),
            "users": st.column_config.NumberColumn(t("users", lang), format="%d"),
            "share": st.column_config.NumberColumn(t("share", lang), format="percent"),
            "avg_recency_days": st.column_config.NumberColumn(t("avg_recency_days", lang), format="%.1f"),
            "avg_frequency": st.column_config.NumberColumn(t("avg_frequency", lang), format="%.2f"),
            "avg_monetary": st.column_config.NumberColumn(t("avg_monetary", lang), format="¥%.0f"),
        },
    )
    left, right = st.columns(2)
    with left:
        bars = [{"group": r["label"], "users": r["users"]} for r in table]
        app_charts.show(
            app_charts.bars_spec(bars, "group", t("group", lang), "users", t("users", lang), "number"), select=False
        )
    with right:
        st.markdown(f"**{t('grid', lang)}**")
        app_charts.show(rf_heatmap(grid(as_of), lang), select=False)
    with st.expander(t("thresholds", lang)):
        st.dataframe(
            [
                {
                    t("measure", lang): r["measure"],
                    t("score", lang): r["score"],
                    t("users", lang): r["users"],
                    t("min_value", lang): r["min_value"],
                    t("max_value", lang): r["max_value"],
                }
                for r in summary.thresholds
            ],
            hide_index=True,
            width="stretch",
        )


def render_members() -> None:
    options = ["", *(f"stage:{s.name}" for s in spec().stages), *(f"group:{g.name}" for g in spec().groups)]

    def label(option: str) -> str:
        if not option:
            return t("nobody", lang)
        kind, _, name = option.partition(":")
        return f"{t(kind, lang)} · " + (
            spec().stage_label(name, lang) if kind == "stage" else spec().group_label(name, lang)
        )

    picked = pick_one(t("pick", lang), options, key="lifecycle_pick", labels=label, default="")
    if not picked:
        return
    kind, _, name = picked.partition(":")
    first = members(kind, name, as_of, limit=PAGE_SIZE)
    pages = max(1, -(-first.total // PAGE_SIZE))
    page = (
        st.number_input(
            f"{t('members', lang)} (1–{pages})", min_value=1, max_value=pages, value=1, key=f"lifecycle_page_{picked}"
        )
        if pages > 1
        else 1
    )
    listing = first if page == 1 else members(kind, name, as_of, limit=PAGE_SIZE, offset=(int(page) - 1) * PAGE_SIZE)
    st.metric(t("members", lang), f"{listing.total:,}")
    if not listing.rows:
        return
    ids = [row["user_id"] for row in listing.rows]
    choice = st.pills(t("open_user", lang), ids[:12], key="lifecycle_open")
    if choice:
        open_user(str(choice))
    event = st.dataframe(
        listing.rows,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="lifecycle_members",
    )
    rows = app_charts.selected_rows(event)
    if rows:
        open_user(str(ids[rows[0]]))
    personal.export_button(
        app_state.catalog(),
        t("download", lang),
        lambda: member_csv(kind, name, as_of),
        file_name=f"{kind}_{name}_{as_of}.csv",
        key=None,
        what="lifecycle",
        lang=lang,
    )
    with st.expander(t("sql", lang)):
        st.code(listing.sql, language="sql")


guarded(render_stages)
guarded(render_rfm)
guarded(render_members)
