"""The users behind a number, shown where it was clicked: the count, a paged table, the CSV of ids, open one.

The analysis pages list users inline (an ad-hoc definition has no link of its own): each hands a function
giving one page of a :class:`~semantic.drill.users.UserList` for a limit and offset; a row opens the user's
sequence.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from finlens.app import personal
from finlens.app import state as app_state
from finlens.app.charts import selected_rows
from finlens.app.drill import SEQUENCE_PAGE
from finlens.app.i18n import t
from semantic.drill.users import UserList

PAGE_SIZE = 50
MAX_IDS = 100_000


def show_users(page_of: Callable[[int, int], UserList], *, key: str, lang: str, title: str, file_name: str) -> int:
    """Render the users ``page_of(limit, offset)`` gives under ``title``; returns their total."""
    st.subheader(title)
    catalog = app_state.catalog()

    def page_of_shown(limit: int, offset: int) -> UserList:
        return personal.users(catalog, page_of(limit, offset))

    first = page_of_shown(PAGE_SIZE, 0)
    pages = max(1, -(-first.total // PAGE_SIZE))
    number = (
        st.number_input(f"{t('page', lang)} (1–{pages})", min_value=1, max_value=pages, value=1, key=f"{key}_page")
        if pages > 1
        else 1
    )
    listing = first if number == 1 else page_of_shown(PAGE_SIZE, (int(number) - 1) * PAGE_SIZE)
    st.metric(t("users", lang), f"{listing.total:,}")
    if not listing.rows:
        st.info("–")
        return 0
    event = st.dataframe(
        listing.rows,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"{key}_table",
    )
    rows = selected_rows(event)
    if rows:
        st.switch_page(SEQUENCE_PAGE, query_params={"user": str(listing.rows[rows[0]]["user_id"])})

    def csv() -> str:
        everyone = page_of_shown(min(max(listing.total, 1), MAX_IDS), 0)
        return "user_id\n" + "".join(f"{row['user_id']}\n" for row in everyone.rows)

    personal.export_button(
        catalog, t("download_ids", lang), csv, file_name=file_name, key=f"{key}_csv", what=key, lang=lang
    )
    with st.expander(t("sql", lang)):
        st.code(listing.sql, language="sql")
    return listing.total
