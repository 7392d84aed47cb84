"""What every page of the app shares: the catalog, the warehouse, cached query results.

Pages call :func:`run` with a :class:`~semantic.Query`; they never build SQL.
Results are cached by (compiled SQL, warehouse URL), so switching pages on
warm data re-runs nothing.
"""
from __future__ import annotations

import streamlit as st

from connectors import Warehouse, connect
from finlens.workspace import resolve_warehouse_url
from semantic import Catalog, Query, QueryResult, compile_query, load_catalog
from semantic.results import run_compiled


@st.cache_resource
def catalog() -> Catalog:
    return load_catalog()


def warehouse_url() -> str:
    return resolve_warehouse_url()


@st.cache_resource
def warehouse(url: str) -> Warehouse:
    """One shared read-only connection; the DuckDB connector gives each thread its own cursor."""
    return connect(url)


@st.cache_data(show_spinner=False)
def _rows(sql: str, url: str, _query: Query) -> QueryResult:
    compiled = compile_query(catalog(), _query, warehouse(url).dialect)
    return run_compiled(compiled, warehouse(url))


def run(query: Query) -> QueryResult:
    """Run ``query`` on the app's warehouse, cached by its compiled SQL and the warehouse URL."""
    url = warehouse_url()
    sql = compile_query(catalog(), query, warehouse(url).dialect).sql
    return _rows(sql, url, query)
