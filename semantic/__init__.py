"""The metric layer: YAML specs → typed catalog → query plan → sqlglot AST → dialect SQL.

Public API (the CLI and the app use only this)::

    catalog = load_catalog()
    compiled = compile_query(catalog, Query(metrics=("pv", "uv"), grain="day"), dialect="duckdb")
    result = run_query(catalog, query, warehouse)

This package never imports streamlit.
"""

from __future__ import annotations

from semantic.analyses import features as _features  # noqa: F401  (registers the computed labels segments test)
from semantic.catalog.boards import Board, Chart, Tile, board_problems, load_boards
from semantic.catalog.catalog import Catalog
from semantic.catalog.loader import default_root, load_catalog
from semantic.compiler.compile import CompiledQuery, compile_query
from semantic.compiler.query import Query
from semantic.compiler.results import QueryResult, run_compiled, run_query
from semantic.drill.lookup import UserEvents, dimension_values, user_events
from semantic.drill.users import Drill, UserList, compile_users, users_behind

__all__ = [
    "Board",
    "Catalog",
    "Chart",
    "CompiledQuery",
    "Drill",
    "Query",
    "QueryResult",
    "Tile",
    "UserEvents",
    "UserList",
    "board_problems",
    "compile_query",
    "compile_users",
    "default_root",
    "dimension_values",
    "load_boards",
    "load_catalog",
    "run_compiled",
    "run_query",
    "user_events",
    "users_behind",
]
