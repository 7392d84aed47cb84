"""Users behind a number: the paged list of entity ids a clicked number counts, CSV export, open a user.

Everything that shapes the list is in the URL (the clicked number, reached or
dropped at a funnel step, the page of the list), so Back and a copied link
show exactly this list again.
"""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import personal, tables
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.drill import Target, from_params, open_user
from finlens.app.filters import current
from finlens.app.i18n import plain, t
from finlens.app.url_state import pick_one

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
parts += [
    f"{catalog.dimensions[n].label.get(lang)} = {plain(tables.value_text(n, v, catalog, lang))}"
    for n, v in target.filters
    if n in catalog.dimensions
]
if target.where:
    parts.append(plain(target.where))
if target.bucket:
    parts.append(f"{t(f'grain_{target.grain}', lang) if target.grain else ''} {target.bucket}".strip())
if target.step:
    parts.append(f"{t('step', lang)} {target.step}")
if target.cohort:
    parts.append(f"{t('cohort', lang)} {target.cohort}")
if target.period:
    parts.append(f"{t('period', lang)} {target.period}")
st.caption(" · ".join(parts))


def render() -> None:
    current_target = target
    if metric.type == "funnel" and target.step and target.step > 1:
        mode = pick_one(
            " ",
            ("0", "1"),
            key="dropped",
            labels=lambda m: t("dropped" if m == "1" else "reached", lang),
            default="0",
            widget=st.segmented_control,
            label_visibility="collapsed",
        )
        current_target = Target(**{**target.__dict__, "dropped": mode == "1"})
    query = filters.query((metric.name,), extra_where=target.where, grain=target.grain if target.bucket else None)
    first = app_state.users(query, current_target.drill(), limit=PAGE_SIZE)
    pages = max(1, -(-first.total // PAGE_SIZE))
    page = (
        int(
            st.number_input(
                f"{t('page', lang)} (1–{pages})", min_value=1, max_value=pages, value=1, key="p", bind="query-params"
            )
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
        st.info(t("no_rows", lang))
        return
    ids = [row["user_id"] for row in listing.rows]
    choice = st.pills(t("open_user", lang), ids[:12], key="users_open")
    if choice:
        open_user(str(choice))
    event = st.dataframe(
        tables.shown(listing.columns, listing.rows, catalog, lang),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="users_table",
    )
    rows = app_charts.selected_rows(event)
    if rows:
        open_user(str(ids[rows[0]]))

    def csv() -> str:
        everyone = app_state.users(query, current_target.drill(), limit=min(max(listing.total, 1), 100_000))
        return "user_id\n" + "".join(f"{row['user_id']}\n" for row in everyone.rows)

    personal.export_button(
        catalog, t("download_ids", lang), csv, file_name=f"{metric.name}_users.csv", key=None, what="users", lang=lang
    )
    with st.expander(t("sql", lang)):
        st.code(listing.sql, language="sql")


guarded(render)
