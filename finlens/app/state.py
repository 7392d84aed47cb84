"""What every page of the app shares: the catalog, the boards, the warehouse, cached query results.

Pages call :func:`run` with a :class:`~semantic.Query` (and :func:`users`,
:func:`sequence`, :func:`values` for drill-downs); they never build SQL.
Results are cached by (compiled SQL, warehouse URL), so switching pages on
warm data re-runs nothing.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from connectors import Warehouse, connect
from finlens.app import catalog_files
from finlens_common.errors import CatalogProblem
from finlens_common.settings import warehouse_url as resolve_warehouse_url
from semantic import Catalog, CompiledQuery, Query, QueryResult, compile_query
from semantic.catalog.boards import Board, board_problems
from semantic.catalog.partial import load_catalog_lenient
from semantic.compiler.results import run_compiled
from semantic.compiler.span import time_span
from semantic.drill.lookup import UserEvents, dimension_values, user_events
from semantic.drill.users import Drill, UserList, compile_users, run_user_sql

CACHE_SECONDS = 3600


def catalog() -> Catalog:
    """The catalog as the YAML files are now (reloaded when one changes), without any broken definition."""
    return _catalog(catalog_files.version())[0]


def catalog_version() -> str:
    """Changes whenever a YAML file under ``metrics/`` does: the key of everything read from them."""
    return catalog_files.version()


def catalog_problems() -> list[CatalogProblem]:
    """Every problem of the catalog and the boards, ``file:line: message`` (the definitions they touch are left out)."""
    version = catalog_files.version()
    return [*_catalog(version)[1], *_boards(version)[1]]


@st.cache_resource(max_entries=2)
def _catalog(version: str) -> tuple[Catalog, list[CatalogProblem]]:
    return load_catalog_lenient()


def boards() -> dict[str, Board]:
    """Every board under ``metrics/boards`` that parsed, in display order (problems: :func:`catalog_problems`)."""
    return _boards(catalog_files.version())[0]


@st.cache_resource(max_entries=2)
def _boards(version: str) -> tuple[dict[str, Board], list[CatalogProblem]]:
    return board_problems(catalog())


def warehouse_url() -> str:
    return resolve_warehouse_url()


@st.cache_resource
def warehouse(url: str) -> Warehouse:
    """One shared read-only connection; the DuckDB connector gives each thread its own cursor."""
    return connect(url)


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _rows(sql: str, url: str, _compiled: CompiledQuery) -> QueryResult:
    return run_compiled(_compiled, warehouse(url))


def run(query: Query) -> QueryResult:
    """Run ``query`` on the app's warehouse, cached by its compiled SQL and the warehouse URL (compiled once)."""
    url = warehouse_url()
    compiled = compile_query(catalog(), query, warehouse(url).dialect)
    return _rows(compiled.sql, url, compiled)


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _users(sql: str, url: str, columns: tuple[str, ...]) -> UserList:
    return run_user_sql(sql, list(columns), warehouse(url))


def users(query: Query, drill: Drill, *, limit: int = 50, offset: int = 0) -> UserList:
    """One page of the users behind ``query``'s number, narrowed by ``drill`` (cached by SQL)."""
    url = warehouse_url()
    sql, columns = compile_users(catalog(), query, drill, warehouse(url).dialect, limit=limit, offset=offset)
    return _users(sql, url, tuple(columns))


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _sequence(user_id: str, url: str) -> UserEvents:
    return user_events(catalog(), user_id, warehouse(url))


def sequence(user_id: str) -> UserEvents:
    """``user_id``'s events in order, with sessions and failures marked."""
    return _sequence(user_id, warehouse_url())


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _values(dimension: str, url: str, start: date | None, end: date | None) -> list:
    return dimension_values(catalog(), dimension, warehouse(url), start=start, end=end)


def values(dimension: str, start: date | None = None, end: date | None = None) -> list:
    """The values a filter widget offers for ``dimension`` in the range."""
    return _values(dimension, warehouse_url(), start, end)


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _span(url: str) -> tuple[date, date] | None:
    return time_span(catalog(), warehouse(url))


def span() -> tuple[date, date] | None:
    """First and last day of the data, or None when the warehouse has no events."""
    return _span(warehouse_url())
