"""Running a compiled query and normalising its rows for people and JSON.

Engines disagree on Python types (Decimal, date, datetime, numpy); results
leave here as plain ``int``/``float``/``str``/``bool``/``None`` with time
buckets as ISO strings (``"2026-03-10"``, hours ``"2026-03-10 14:00:00"``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.base import Warehouse
from semantic.catalog.catalog import Catalog
from semantic.compiler.compile import CompiledQuery, compile_query
from semantic.compiler.query import Query
from semantic.compiler.rollup_state import with_current_rollups


@dataclass(frozen=True)
class QueryResult:
    """Rows of a query, keyed by output column, plus the SQL that produced them."""

    columns: list[str]
    rows: list[dict[str, Any]]
    compiled: CompiledQuery

    @property
    def sql(self) -> str:
        return self.compiled.sql

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)


def normalise(value: Any) -> Any:
    """A JSON-ready plain value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Decimal):
        if value.is_nan():
            return None  # as a float NaN: not a number any engine should show
        exponent = value.as_tuple().exponent  # "F" for infinities
        return (
            int(value)
            if value == value.to_integral_value() and isinstance(exponent, int) and exponent >= 0
            else float(value)
        )
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return normalise(value.item())
    return value


def run_compiled(compiled: CompiledQuery, warehouse: Warehouse) -> QueryResult:
    """Run ``compiled`` on ``warehouse`` (whose dialect it must target)."""
    raw = warehouse.query(compiled.sql)
    rows = [{name: normalise(value) for name, value in zip(compiled.columns, row)} for row in raw.rows]
    return QueryResult(columns=list(compiled.columns), rows=rows, compiled=compiled)


def run_query(catalog: Catalog, query: Query, warehouse: Warehouse) -> QueryResult:
    """Compile ``query`` for ``warehouse``'s dialect (using the rollups it keeps current) and run it."""
    catalog = with_current_rollups(catalog, warehouse)
    return run_compiled(compile_query(catalog, query, warehouse.dialect), warehouse)
