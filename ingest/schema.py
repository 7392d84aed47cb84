"""The warehouse schema the shipped models in ``metrics/models/`` target.

This is the one place the physical tables are declared: the demo generator
and the importers create them from here, for any dialect, through sqlglot.
A deployment with other tables edits the model YAML, not this file.
"""
from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

EVENTS_TABLE = "events"
USERS_TABLE = "users"

# (column, SQL type, Arrow type). Times are local wall-clock time without a zone.
EVENTS_COLUMNS: list[tuple[str, str, pa.DataType]] = [
    ("event_id", "VARCHAR", pa.string()),
    ("event_time", "TIMESTAMP", pa.timestamp("us")),
    ("event", "VARCHAR", pa.string()),
    ("user_id", "VARCHAR", pa.string()),
    ("distinct_id", "VARCHAR", pa.string()),
    ("business_line", "VARCHAR", pa.string()),
    ("platform", "VARCHAR", pa.string()),
    ("app_version", "VARCHAR", pa.string()),
    ("device_model", "VARCHAR", pa.string()),
    ("province", "VARCHAR", pa.string()),
    ("city", "VARCHAR", pa.string()),
    ("page", "VARCHAR", pa.string()),
    ("element", "VARCHAR", pa.string()),
    ("utm_source", "VARCHAR", pa.string()),
    ("utm_medium", "VARCHAR", pa.string()),
    ("utm_campaign", "VARCHAR", pa.string()),
    ("utm_content", "VARCHAR", pa.string()),
    ("utm_term", "VARCHAR", pa.string()),
    ("product_type", "VARCHAR", pa.string()),
    ("product_id", "VARCHAR", pa.string()),
    ("amount", "DOUBLE", pa.float64()),
    ("is_success", "BOOLEAN", pa.bool_()),
    ("fail_reason", "VARCHAR", pa.string()),
    ("duration", "DOUBLE", pa.float64()),
    ("properties", "JSON", pa.string()),
]

USERS_COLUMNS: list[tuple[str, str, pa.DataType]] = [
    ("user_id", "VARCHAR", pa.string()),
    ("register_time", "TIMESTAMP", pa.timestamp("us")),
    ("register_channel", "VARCHAR", pa.string()),
    ("register_platform", "VARCHAR", pa.string()),
    ("province", "VARCHAR", pa.string()),
    ("city", "VARCHAR", pa.string()),
    ("gender", "VARCHAR", pa.string()),
    ("age_group", "VARCHAR", pa.string()),
    ("is_real_name", "BOOLEAN", pa.bool_()),
    ("risk_level", "VARCHAR", pa.string()),
    ("campaign_group", "VARCHAR", pa.string()),
]

TABLES: dict[str, list[tuple[str, str, pa.DataType]]] = {
    EVENTS_TABLE: EVENTS_COLUMNS,
    USERS_TABLE: USERS_COLUMNS,
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of ``table``; the JSON column travels as a string."""
    return pa.schema([(name, arrow_type) for name, _, arrow_type in TABLES[table]])


def create_table_sql(table: str, dialect: str, *, replace: bool = False) -> str:
    """``CREATE TABLE`` for ``table`` in ``dialect``, built by sqlglot."""
    columns = [
        exp.ColumnDef(this=exp.to_identifier(name), kind=exp.DataType.build(sql_type, dialect="duckdb"))
        for name, sql_type, _ in TABLES[table]
    ]
    schema = exp.Schema(this=exp.to_table(table), expressions=columns)
    return exp.Create(this=schema, kind="TABLE", replace=replace).sql(dialect=dialect)
