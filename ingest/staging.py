"""Scratch tables a load joins against, on every engine: temporary, private to the loader's session.

A temporary table lives in the loader's own session, so two loaders (the collector and
an import) never see each other's, and a killed loader leaves none behind. ClickHouse
runs ``DELETE`` and ``UPDATE`` as mutations that cannot read a session's temporary table:
there the ids travel as literal lists, a bounded number per statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa
from sqlglot import exp

from connectors.base import Warehouse
from ingest.schema import DIALECT_TYPES

IN_LIST_SIZE = 5_000  # ids per ClickHouse statement: well under its 256 KB query size


def create_stage_sql(stage: str, columns: list[tuple[str, str]], dialect: str) -> str:
    """``CREATE TEMPORARY TABLE stage (columns)`` in ``dialect`` (columns in the schema's canonical types)."""
    overrides = DIALECT_TYPES.get(dialect, {})
    defs = []
    for name, kind in columns:
        data_type = exp.DataType.build(overrides.get(kind, kind), dialect=dialect if kind in overrides else "duckdb")
        if dialect == "clickhouse":
            data_type.set("nullable", True)
        defs.append(exp.ColumnDef(this=exp.to_identifier(name), kind=data_type))
    schema = exp.Schema(this=exp.to_table(stage), expressions=defs)
    properties = exp.Properties(expressions=[exp.TemporaryProperty()])
    return exp.Create(this=schema, kind="TABLE", properties=properties).sql(dialect=dialect)


def drop_stage(warehouse: Warehouse, stage: str) -> None:
    drop = exp.Drop(tables=[exp.to_table(stage)], kind="TABLE", exists=True)
    warehouse.execute(drop.sql(dialect=warehouse.dialect))


def stage(warehouse: Warehouse, name: str, columns: list[tuple[str, str]], rows: pa.Table) -> exp.Table:
    """A fresh temporary table ``name`` holding ``rows``; returns it to put in a query."""
    drop_stage(warehouse, name)
    warehouse.execute(create_stage_sql(name, columns, warehouse.dialect))
    if rows.num_rows:
        warehouse.append(name, rows)
    return exp.to_table(name)


def literal_chunks(values: Sequence[str]) -> Iterator[list[exp.Expr]]:
    """``values`` as sqlglot literals, ``IN_LIST_SIZE`` at a time (for ClickHouse mutations)."""
    for start in range(0, len(values), IN_LIST_SIZE):
        yield [exp.convert(v) for v in values[start : start + IN_LIST_SIZE]]
