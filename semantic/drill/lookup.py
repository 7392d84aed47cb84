"""Questions about single records rather than aggregates: one user's events, a dimension's values.

Customer service reads one user's sequence before answering a complaint; a
filter widget needs the values a dimension takes. Both are plain SELECTs
built with sqlglot from the model YAML, with user input only as literals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean
from semantic.compiler import dialects
from semantic.compiler.context import conjunction, model_context
from semantic.compiler.results import normalise

FAILED_EVENTS = ("app_error",)


@dataclass(frozen=True)
class UserEvents:
    """One user's events in time order, each with a session number and a ``failed`` flag."""

    user_id: str
    columns: list[str]
    rows: list[dict[str, Any]]
    sessions: int
    sql: str


def compile_user_events(
    catalog: Catalog, user_id: str, dialect: str = "duckdb", *, model: str = "events", limit: int = 5000
) -> str:
    """SQL for every column of ``user_id``'s rows in ``model``, ordered by time then row key."""
    spec = catalog.models[model]
    if not spec.time_column:
        raise QueryError(f"model {model!r} has no time column, so it has no event sequence")
    ctx = model_context(catalog, spec)
    columns = [exp.column(name, table=ctx.alias) for name in spec.columns]
    select = ctx.source(exp.select(*columns)).where(ctx.entity.eq(exp.convert(str(user_id))), copy=False)
    select = select.order_by(ctx.time_column, ctx.event_id, copy=False).limit(limit, copy=False)
    return dialects.quote_reserved(select).sql(dialect=dialects.check_dialect(dialect), pretty=True)


def user_events(
    catalog: Catalog, user_id: str, warehouse: Warehouse, *, model: str = "events", limit: int = 5000
) -> UserEvents:
    """``user_id``'s events with ``session`` (1, 2, … split by the model's session gap) and ``failed``.

    ``failed`` is true for an action with ``is_success`` false, an event with a ``fail_reason``,
    or an error event (``app_error``); the sequence page highlights those rows.
    """
    spec = catalog.models[model]
    sql = compile_user_events(catalog, user_id, warehouse.dialect, model=model, limit=limit)
    raw = warehouse.query(sql)
    names = list(spec.columns)
    gap = spec.sessions.gap_seconds if spec.sessions else 1800
    rows: list[dict[str, Any]] = []
    session, previous = 0, None
    for values in raw.rows:
        row = dict(zip(names, values))
        time = row.get(spec.time_column or "")
        if isinstance(time, datetime) and (previous is None or (time - previous).total_seconds() > gap):
            session += 1
        previous = time if isinstance(time, datetime) else previous
        row = {name: normalise(value) for name, value in row.items()}
        if isinstance(row.get("properties"), str):
            row["properties"] = _compact_json(row["properties"])
        row["session"] = session
        row["failed"] = (
            row.get("is_success") is False
            or bool(row.get("fail_reason"))
            or row.get(spec.event_column or "event") in FAILED_EVENTS
        )
        rows.append(row)
    return UserEvents(user_id=str(user_id), columns=[*names, "session", "failed"], rows=rows, sessions=session, sql=sql)


def _compact_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, sort_keys=True)
    except ValueError:
        return text


def compile_dimension_values(
    catalog: Catalog,
    dimension: str,
    dialect: str = "duckdb",
    *,
    model: str = "events",
    start: date | None = None,
    end: date | None = None,
    limit: int = 200,
) -> str:
    """SQL for the distinct non-null values of ``dimension`` on ``model``'s rows in the range, sorted."""
    spec = catalog.models[model]
    usable = {d.name: d for d in catalog.dimensions_for(model)}
    if dimension not in usable:
        raise QueryError(
            f"unknown dimension {dimension!r}{did_you_mean(dimension, usable)}; `finlens list dimensions` shows them"
        )
    dim = usable[dimension]
    joined = (dim.model,) if dim.model != model else ()
    ctx = model_context(catalog, spec, start=start, end=end, joined=joined)
    value = ctx.dimension(dim)
    select = ctx.source(exp.select(exp.alias_(value, "value", copy=False)).distinct(copy=False))
    select = select.where(conjunction([value.copy().is_(exp.null()).not_(), *ctx.range_conditions()]), copy=False)
    select = select.order_by(exp.Literal.number(1), copy=False).limit(limit, copy=False)
    return dialects.quote_reserved(select).sql(dialect=dialects.check_dialect(dialect), pretty=True)


def dimension_values(catalog: Catalog, dimension: str, warehouse: Warehouse, **options: Any) -> list[Any]:
    """The values a filter widget offers for ``dimension`` (see :func:`compile_dimension_values`)."""
    sql = compile_dimension_values(catalog, dimension, warehouse.dialect, **options)
    return [normalise(row[0]) for row in warehouse.query(sql).rows]
