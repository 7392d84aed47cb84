"""The metric layer: YAML specs → typed catalog → query plan → sqlglot AST → dialect SQL.

Public API (the CLI and the app use only this)::

    catalog = load_catalog()
    compiled = compile_query(catalog, Query(metrics=("pv", "uv"), grain="day"), dialect="duckdb")
    result = run_query(catalog, query, warehouse)

This package never imports streamlit.
"""
from __future__ import annotations

from semantic.compiler import CompiledQuery, compile_query
from semantic.loader import default_root, load_catalog
from semantic.query import Query
from semantic.results import QueryResult, run_compiled, run_query
from semantic.specs import Catalog

__all__ = [
    "Catalog", "CompiledQuery", "Query", "QueryResult", "compile_query", "default_root",
    "load_catalog", "run_compiled", "run_query",
]
