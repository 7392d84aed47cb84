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
    # The user's acquisition channel on every event (``ingest/touch.py``): first touch, and latest touch so far.
    ("first_utm_source", "VARCHAR", pa.string()),
    ("latest_utm_source", "VARCHAR", pa.string()),
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

# Every load by any loader (demo, import, collector): the data's watermark (``ingest/loads.py``). Times in UTC.
LOADS_TABLE = "ingest_loads"
LOADS_COLUMNS: list[tuple[str, str, pa.DataType]] = [
    ("loaded_at", "TIMESTAMP", pa.timestamp("us")),
    ("source", "VARCHAR", pa.string()),
    ("events", "BIGINT", pa.int64()),
    ("received_until", "TIMESTAMP", pa.timestamp("us")),
]

# Bookkeeping of the log importers (``ingest/sensors*.py``); created on first import, never by the demo.
REJECTS_TABLE = "import_rejects"
IMPORT_FILES_TABLE = "import_files"
IDENTITY_TABLE = "identity_map"
USER_PROPERTIES_TABLE = "user_properties"
PROFILE_LOG_TABLE = "profile_log"
IMPORT_TABLES: dict[str, list[tuple[str, str, pa.DataType]]] = {
    # A line that could not be imported, and why; (file, line) is its address.
    REJECTS_TABLE: [
        ("file", "VARCHAR", pa.string()),
        ("line", "BIGINT", pa.int64()),
        ("raw", "VARCHAR", pa.string()),
        ("reason", "VARCHAR", pa.string()),
        ("imported_at", "TIMESTAMP", pa.timestamp("us")),
    ],
    # One row per import run of a file, with what it brought.
    IMPORT_FILES_TABLE: [
        ("file", "VARCHAR", pa.string()),
        ("bytes", "BIGINT", pa.int64()),
        ("lines", "BIGINT", pa.int64()),
        ("events", "BIGINT", pa.int64()),
        ("duplicates", "BIGINT", pa.int64()),
        ("rejects", "BIGINT", pa.int64()),
        ("imported_at", "TIMESTAMP", pa.timestamp("us")),
    ],
    # An anonymous or other id, and the login id it belongs to (first binding wins).
    IDENTITY_TABLE: [
        ("distinct_id", "VARCHAR", pa.string()),
        ("user_id", "VARCHAR", pa.string()),
        ("bound_at", "TIMESTAMP", pa.timestamp("us")),
    ],
    # Profile records already applied to ``users`` (so a re-import does not increment twice).
    PROFILE_LOG_TABLE: [
        ("record_id", "VARCHAR", pa.string()),
        ("distinct_id", "VARCHAR", pa.string()),
    ],
    LOADS_TABLE: LOADS_COLUMNS,
    # Profile properties that are not ``users`` columns (counters, lists, custom tags).
    USER_PROPERTIES_TABLE: [
        ("user_id", "VARCHAR", pa.string()),
        ("properties", "JSON", pa.string()),
    ],
}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of ``table``; the JSON column travels as a string."""
    return pa.schema([(name, arrow_type) for name, _, arrow_type in _columns(table)])


# Where a dialect stores a canonical type differently: ClickHouse reads JSON properties from a
# String (JSONExtract*), and keeps microseconds only in DateTime64.
DIALECT_TYPES: dict[str, dict[str, str]] = {"clickhouse": {"JSON": "String", "TIMESTAMP": "DateTime64(6)"}}

# ClickHouse's physical layout (measured in bench/README.md "ClickHouse plans"). Funnels and retention
# filter ``events`` by event name (and a time range), so the table is sorted by ``(event, event_time)``: a
# question reads only the granules of its events. Monthly partitions let a range skip whole months and give
# ``max(event_time)`` (the data's end, which retention reads) from the parts' metadata. ``user_id`` stays out
# of the key: the importer re-attributes events to a login with ``ALTER TABLE events UPDATE user_id`` and
# ClickHouse cannot update key columns. Key columns stay Nullable (``allow_nullable_key``): NULL reads as NULL.
CLICKHOUSE_SORTING_KEYS: dict[str, tuple[str, ...]] = {EVENTS_TABLE: ("event", "event_time"), USERS_TABLE: ("user_id",)}
CLICKHOUSE_MONTH_PARTITIONS: dict[str, str] = {EVENTS_TABLE: "event_time"}  # table → the time column
# Text columns with a small vocabulary (names, platforms, versions, places, channels) are stored as
# ``LowCardinality(Nullable(String))``: a per-part dictionary, so filters and GROUP BY compare small integers.
# Ids, free text (utm_content/utm_term, product ids) and the JSON properties stay plain strings.
CLICKHOUSE_LOW_CARDINALITY: dict[str, frozenset[str]] = {
    EVENTS_TABLE: frozenset(
        (
            "event",
            "business_line",
            "platform",
            "app_version",
            "device_model",
            "province",
            "city",
            "page",
            "element",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "first_utm_source",
            "latest_utm_source",
            "product_type",
            "fail_reason",
        )
    ),
    USERS_TABLE: frozenset(
        (
            "register_channel",
            "register_platform",
            "province",
            "city",
            "gender",
            "age_group",
            "risk_level",
            "campaign_group",
        )
    ),
}


def clickhouse_engine(sorting_key: tuple[str, ...] = (), month_of: str | None = None) -> exp.Properties:
    """``ENGINE = MergeTree [PARTITION BY toYYYYMM(month_of)] ORDER BY ...``: a single-node table (see README
    for a cluster); ``tuple()`` without a key; a key may hold Nullable columns."""
    key: exp.Expr = (
        exp.Tuple(expressions=[exp.column(name) for name in sorting_key])
        if len(sorting_key) > 1
        else exp.column(sorting_key[0])
        if sorting_key
        else exp.Anonymous(this="tuple")
    )
    properties: list[exp.Expr] = [exp.EngineProperty(this=exp.to_identifier("MergeTree"))]
    if month_of:
        month = exp.Anonymous(this="toYYYYMM", expressions=[exp.column(month_of)])
        properties.append(exp.PartitionedByProperty(this=month))
    properties.append(exp.Order(expressions=[exp.Ordered(this=key, nulls_first=False)]))
    if sorting_key or month_of:
        setting = exp.EQ(this=exp.column("allow_nullable_key"), expression=exp.Literal.number(1))
        properties.append(exp.SettingsProperty(expressions=[setting]))
    return exp.Properties(expressions=properties)


def create_table_sql(table: str, dialect: str, *, replace: bool = False) -> str:
    """``CREATE TABLE`` for ``table`` in ``dialect``, built by sqlglot."""
    overrides = DIALECT_TYPES.get(dialect, {})
    low_cardinality = CLICKHOUSE_LOW_CARDINALITY.get(table, frozenset())
    columns = []
    for name, sql_type, _ in _columns(table):
        kind = (
            exp.DataType.build(overrides[sql_type], dialect=dialect)
            if sql_type in overrides
            else exp.DataType.build(sql_type, dialect="duckdb")
        )
        if dialect == "clickhouse":
            kind.set("nullable", True)
            if name in low_cardinality:
                kind = exp.DataType(
                    this=exp.DataType.Type.LOWCARDINALITY, expressions=[kind], nested=True, nullable=False
                )
        columns.append(exp.ColumnDef(this=exp.to_identifier(name), kind=kind))
    schema = exp.Schema(this=exp.to_table(table), expressions=columns)
    create = exp.Create(this=schema, kind="TABLE", replace=replace)
    if dialect == "clickhouse":
        create.set(
            "properties",
            clickhouse_engine(CLICKHOUSE_SORTING_KEYS.get(table, ()), CLICKHOUSE_MONTH_PARTITIONS.get(table)),
        )
    return create.sql(dialect=dialect)


def _columns(table: str) -> list[tuple[str, str, pa.DataType]]:
    return TABLES[table] if table in TABLES else IMPORT_TABLES[table]
