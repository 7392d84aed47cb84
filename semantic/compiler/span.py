"""Facts about the data that pages need before they can ask a question (the date span)."""

from __future__ import annotations

from datetime import date, datetime

from connectors.base import Warehouse
from semantic.catalog.catalog import Catalog
from semantic.compiler.reader import time_bounds


def time_span(catalog: Catalog, warehouse: Warehouse, model: str = "events") -> tuple[date, date] | None:
    """First and last day with rows in ``model``'s table, or None when it is empty."""
    sql = time_bounds(catalog.models[model])
    first, last = warehouse.query(sql.sql(dialect=warehouse.dialect)).rows[0]
    if first is None or last is None:
        return None
    return _day(first), _day(last)


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def default_as_of(catalog: Catalog, warehouse: Warehouse, model: str = "events") -> date:
    """The day segments, scores and stages are computed as of when none is given: the last day with events."""
    span = time_span(catalog, warehouse, model)
    if span is None:
        from finlens_common.errors import QueryError

        raise QueryError(f"the warehouse has no {model} yet, so there is no last day to compute as of; give --as-of")
    return span[1]
