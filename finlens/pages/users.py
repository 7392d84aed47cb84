"""Users behind a number: the paged list of entity ids a clicked number counts, CSV export, open a user."""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.drill import SEQUENCE_PAGE, Target, from_params, go
from finlens.app.filters import current
from finlens.app.i18n import plain, t

PAGE_SIZE = 50

filters = current()
lang = filters.language
catalog = app_state.catalog()
target = from_params()
st.title(t("users_behind", lang))
if target is None or target.metric not in catalog.metrics:
    st.info(t("no_drill", lang))
    st.stop()

metric = catalog.metrics[target.metric]
parts = [metric.label.get(lang), f"{filters.start} – {filters.end}"]
parts += [f"{catalog.dimensions[n].label.get(lang)} = {plain(v)}" for n, v in target.filters if n in catalog.dimensions]
if target.where:
    parts.append(plain(target.where))
if target.bucket:
    parts.append(f"{target.grain} {target.bucket}")
if target.step:
    parts.append(f"{t('step', lang)} {target.step}")
if target.cohort:
    parts.append(f"{t('cohort', lang)} {target.cohort}")
if target.period:
    parts.append(f"{t('period', lang)} {target.period}")
st.caption(" · ".join(parts))


def render() -> None:
    if metric.type == "funnel" and target.step and target.step > 1:
        mode = st.segmented_control(
            " ",
            ["reached", "dropped"],
            default="dropped" if target.dropped else "reached",
            format_func=lambda m: t(m, lang),
            key="users_mode",
            label_visibility="collapsed",
        )
        current_target = Target(**{**target.__dict__, "dropped": mode == "dropped"})
    else:
        current_target = target
    query = filters.query((metric.name,), extra_where=target.where, grain=target.grain if target.bucket else None)
    first = app_state.users(query, current_target.drill(), limit=PAGE_SIZE)
    pages = max(1, -(-first.total // PAGE_SIZE))
    page = (
        st.number_input(
            f"{t('page', lang)} (1–{pages})",
            min_value=1,
            max_value=pages,
            value=1,
            key=f"users_page_{abs(hash(str(target.params()))) % 10**8}",
        )
        if pages > 1
        else 1
    )
    listing = (
        first
        if page == 1
        else app_state.users(query, current_target.drill(), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    st.metric(t("users", lang), f"{listing.total:,}")
    if not listing.rows:
        st.info("–")
        return
    ids = [row["user_id"] for row in listing.rows]
    choice = st.pills(t("open_user", lang), ids[:12], key="users_open")
    if choice:
        go(SEQUENCE_PAGE, Target(metric=metric.name, extra={"user": str(choice)}))
    event = st.dataframe(
        listing.rows,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="users_table",
    )
    rows = app_charts.selected_rows(event)
    if rows:
        go(SEQUENCE_PAGE, Target(metric=metric.name, extra={"user": str(ids[rows[0]])}))
    everyone = app_state.users(query, current_target.drill(), limit=min(max(listing.total, 1), 100_000))
    csv = "user_id\n" + "".join(f"{row['user_id']}\n" for row in everyone.rows)
    st.download_button(t("download_ids", lang), csv, file_name=f"{metric.name}_users.csv", mime="text/csv")
    with st.expander(t("sql", lang)):
        st.code(listing.sql, language="sql")


guarded(render)
