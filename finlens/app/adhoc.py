"""Questions about definitions built in the app (not yet in the catalog), and saving them as YAML.

The analysis pages ask both catalog metrics and ad-hoc ones through :func:`run` and :func:`users`: with a
definition, its metric is added to a copy of the catalog for that question only. Results are cached like
:func:`finlens.app.state.run`'s, by compiled SQL and warehouse. :func:`save_panel` writes the definition
under ``metrics/`` when the folder may be written, else offers the file and the text to copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from finlens.app import state as app_state
from finlens.app.i18n import plain, section
from finlens_common.errors import FinlensError
from semantic import Catalog, CompiledQuery, Query, QueryResult, compile_query
from semantic.catalog.definitions import Definition, catalog_writable, save_definition, with_metric
from semantic.compiler.results import run_compiled
from semantic.drill.users import Drill, UserList, compile_users, run_user_sql

text = section("adhoc")


def catalog_for(definition: Definition | None) -> Catalog:
    """The app's catalog, plus the definition's metric when there is one."""
    catalog = app_state.catalog()
    if definition is None or definition.folder != "catalog":
        return catalog
    return with_metric(catalog, definition.spec)


@st.cache_data(show_spinner=False, ttl=app_state.CACHE_SECONDS)
def _rows(sql: str, url: str, _compiled: CompiledQuery) -> tuple[list[str], list[dict[str, Any]]]:
    result = run_compiled(_compiled, app_state.warehouse(url))
    return result.columns, result.rows  # only the rows are cached: a hit does not unpickle a sqlglot tree


def run(query: Query, definition: Definition | None = None) -> QueryResult:
    """``query`` on the app's warehouse, its metric looked up in the catalog or the ad-hoc ``definition``."""
    url = app_state.warehouse_url()
    compiled = compile_query(
        app_state.with_rollups(catalog_for(definition), url), query, app_state.warehouse(url).dialect
    )
    columns, rows = _rows(compiled.sql, url, compiled)
    return QueryResult(columns, rows, compiled)


@st.cache_data(show_spinner=False, ttl=app_state.CACHE_SECONDS)
def _users(sql: str, url: str, columns: tuple[str, ...]) -> UserList:
    return run_user_sql(sql, list(columns), app_state.warehouse(url))


def users(
    query: Query, drill: Drill, definition: Definition | None = None, *, limit: int = 50, offset: int = 0
) -> UserList:
    """One page of the users behind ``query``'s number under ``drill`` (cached by SQL)."""
    url = app_state.warehouse_url()
    sql, columns = compile_users(
        catalog_for(definition), query, drill, app_state.warehouse(url).dialect, limit=limit, offset=offset
    )
    return _users(sql, url, tuple(columns))


def user_page(sql: str, columns: list[str]) -> UserList:
    """Users from SQL the semantic layer compiled (a flow's, a touch's), cached by its text and the warehouse."""
    return _users(sql, app_state.warehouse_url(), tuple(columns))


@st.cache_data(show_spinner=False, ttl=app_state.CACHE_SECONDS)
def run_sql(sql: str, url: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of SQL the semantic layer compiled (paths, attribution), cached by its text and the warehouse."""
    from semantic.compiler.results import normalise

    raw = app_state.warehouse(url).query(sql)
    return [{c: normalise(v) for c, v in zip(columns, row)} for row in raw.rows]


def dialect() -> str:
    return app_state.warehouse(app_state.warehouse_url()).dialect


def build(make: Callable[[], Definition], lang: str) -> Definition | None:
    """``make()``, or None after showing why it cannot be built (one line)."""
    try:
        return make()
    except FinlensError as err:
        st.error(str(err))
        return None


def save_panel(definition: Definition, *, key: str, lang: str, saved: Callable[[str], None]) -> None:
    """Save the definition under the catalog folder, or offer its file and text when that may not be written.

    ``saved(name)`` runs after a successful save (the page switches to the saved definition).
    """
    catalog = app_state.catalog()
    root = catalog.root
    file_name = f"saved_{definition.name}.yml"
    with st.expander(text("save_title", lang), expanded=False):
        st.caption(text("save_help", lang, folder=plain(f"{root}/{definition.folder}/{file_name}")))
        if catalog_writable(root, definition.folder):
            if st.button(text("save", lang), key=f"{key}_save", type="primary"):
                try:
                    path = save_definition(catalog, definition)
                except FinlensError as err:
                    st.error(str(err))
                else:  # the new file changes the catalog's version: the next run reads it
                    st.session_state[f"{key}_saved"] = str(path)
                    saved(definition.name)
        else:
            st.info(text("read_only", lang))
        st.download_button(
            text("download_yaml", lang),
            definition.text,
            file_name=file_name,
            mime="application/x-yaml",
            key=f"{key}_download",
        )
        st.code(definition.text, language="yaml")
    if st.session_state.get(f"{key}_saved"):
        st.success(text("saved", lang, path=plain(st.session_state[f"{key}_saved"])))
