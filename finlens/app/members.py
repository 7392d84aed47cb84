"""A set of users on a page: the count, one page of the list, the CSV of ids for a push system, open a user.

Segments, intent tiers, lifecycle stages, RFM groups and experiment variants
all hand a members SELECT (``semantic.drill.members``) to :func:`show_members`;
the SQL is compiled here once per view and results are cached by its text and
the warehouse, like every other query of the app.
"""

from __future__ import annotations

from datetime import date

import streamlit as st
from sqlglot import exp

from finlens.app import personal
from finlens.app import state as app_state
from finlens.app.charts import selected_rows
from finlens.app.drill import open_user
from finlens.app.i18n import t
from finlens_common.errors import QueryError
from semantic.drill.members import compile_member_ids, compile_member_list, ids_csv
from semantic.drill.users import UserList, run_user_sql

PAGE_SIZE = 50


@st.cache_data(show_spinner=False, ttl=app_state.CACHE_SECONDS)
def _listing(sql: str, url: str, columns: tuple[str, ...]) -> UserList:
    return run_user_sql(sql, list(columns), app_state.warehouse(url))


@st.cache_data(show_spinner=False, ttl=app_state.CACHE_SECONDS)
def _ids(sql: str, url: str) -> list[str]:
    return [str(row[0]) for row in app_state.warehouse(url).query(sql).rows]


def member_page(
    members: exp.Select, as_of: date, *, extra: tuple[str, ...] = (), limit: int = PAGE_SIZE, offset: int = 0
) -> UserList:
    """One page of ``members`` as of ``as_of`` (cached by SQL and warehouse), ids as the role may see them."""
    url = app_state.warehouse_url()
    sql, columns = compile_member_list(
        app_state.catalog(), members, as_of, app_state.warehouse(url).dialect, extra=extra, limit=limit, offset=offset
    )
    return personal.users(app_state.catalog(), _listing(sql, url, tuple(columns)))


def all_member_ids(members: exp.Select) -> list[str]:
    """Every member's id for a file (pseudonyms for roles without ``pii``); refused for a role without ``export``."""
    if not personal.may_export(app_state.catalog()):
        raise QueryError("your role may not export user ids (metrics/access.yml grants export)")
    url = app_state.warehouse_url()
    return personal.ids(app_state.catalog(), _ids(compile_member_ids(members, app_state.warehouse(url).dialect), url))


def show_members(
    members: exp.Select, as_of: date, *, key: str, lang: str, extra: tuple[str, ...] = (), file_name: str = "users.csv"
) -> int:
    """Render the count, a paged table (a row opens the user's sequence) and the ids' CSV; returns the count."""
    first = member_page(members, as_of, extra=extra)
    pages = max(1, -(-first.total // PAGE_SIZE))
    number = (
        st.number_input(f"{t('page', lang)} (1–{pages})", min_value=1, max_value=pages, value=1, key=f"{key}_page")
        if pages > 1
        else 1
    )
    listing = first if number == 1 else member_page(members, as_of, extra=extra, offset=(int(number) - 1) * PAGE_SIZE)
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
        open_user(str(listing.rows[rows[0]]["user_id"]))
    personal.export_button(
        app_state.catalog(),
        t("download_ids", lang),
        lambda: ids_csv(all_member_ids(members)),
        file_name=file_name,
        key=f"{key}_csv",
        what=key,
        lang=lang,
    )
    with st.expander(t("sql", lang)):
        st.code(listing.sql, language="sql")
    return listing.total
