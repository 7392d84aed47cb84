"""The ClickHouse layout finlens creates: ``events`` sorted by (event, event_time) in monthly partitions, small vocabularies as
LowCardinality, NULLs kept; and a warehouse an older finlens created (no key, plain strings) answers the same.

The rows, by hand: four events on 2026-03-01 and 02, one with NULL platform, one with NULL event, one with
NULL user_id (a crawler), one with NULL event_time.
- ``event_count`` by platform, 03-01..03-02: iOS e1, e2 → 2; NULL platform e3, e4 → 2 (e5 has no time: outside
  every range); Web e6 → 1.
- ``uv`` (distinct non-null user_id): u1 (e1, e2), u2 (e3), u3 (e6) → 3; e4's user is NULL.
- rows with NULL event: e4 only; rows with NULL platform: e3, e4, e5.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlglot import exp

from connectors import connect
from ingest.schema import CLICKHOUSE_LOW_CARDINALITY, EVENTS_TABLE, USERS_TABLE, create_table_sql
from semantic import Query, load_catalog, run_query
from tests.warehouse_fixtures import append_rows, load

ROOT = Path(__file__).resolve().parent.parent

ROWS = [
    dict(event_id="e1", event_time="2026-03-01 09:00:00", event="$AppStart", user_id="u1", platform="iOS"),
    dict(event_id="e2", event_time="2026-03-02 09:00:00", event="$AppClick", user_id="u1", platform="iOS"),
    dict(event_id="e3", event_time="2026-03-01 10:00:00", event="$AppStart", user_id="u2", platform=None),
    dict(event_id="e4", event_time="2026-03-02 10:00:00", event=None, user_id=None, platform=None),
    dict(event_id="e5", event_time=None, event="$AppStart", user_id="u2", platform=None),
    dict(event_id="e6", event_time="2026-03-02 11:00:00", event="$pageview", user_id="u3", platform="Web"),
]
USERS = [dict(user_id="u1", gender=None, register_channel="seo"), dict(user_id=None, gender="F")]


def _old_layout(table: str) -> str:
    """The DDL an older finlens created: every column plain Nullable, ``ORDER BY tuple()``, no settings."""
    create = exp.maybe_parse(create_table_sql(table, "clickhouse"), dialect="clickhouse")
    for column in create.this.expressions:
        if column.name in CLICKHOUSE_LOW_CARDINALITY.get(table, ()):
            column.set("kind", column.args["kind"].expressions[0])
    properties = create.args["properties"]
    properties.find(exp.Order).set("expressions", [exp.Ordered(this=exp.Anonymous(this="tuple"), nulls_first=False)])
    for dropped in [*properties.find_all(exp.SettingsProperty), *properties.find_all(exp.PartitionedByProperty)]:
        dropped.pop()
    return create.sql(dialect="clickhouse")


def _answers(url: str) -> tuple[list[dict], list[dict]]:
    catalog = load_catalog(ROOT / "metrics")
    days = dict(start=date(2026, 3, 1), end=date(2026, 3, 2))
    with connect(url) as warehouse:
        by_platform = run_query(catalog, Query(metrics=("event_count",), dimensions=("platform",), **days), warehouse)
        visitors = run_query(catalog, Query(metrics=("uv",), **days), warehouse)
    return by_platform.rows, visitors.rows


def _expected_answers(by_platform: list[dict], visitors: list[dict]) -> None:
    counts = {row["platform"]: row["event_count"] for row in by_platform}
    assert counts == {"iOS": 2, None: 2, "Web": 1}
    assert [row["uv"] for row in visitors] == [3]


def test_events_are_sorted_by_event_and_time_with_low_cardinality_text(tmp_path):
    url = f"chdb:///{tmp_path.as_posix()}/ch"
    with connect(url, read_only=False) as warehouse:
        load(warehouse, ROWS, USERS)
        tables = {
            name: (key, partition, engine)
            for name, key, partition, engine in warehouse.query(
                "SELECT name, sorting_key, partition_key, engine FROM system.tables WHERE database = currentDatabase()"
            ).rows
        }
        types = dict(
            warehouse.query(
                "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events'"
            ).rows
        )
        user_types = dict(
            warehouse.query(
                "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'users'"
            ).rows
        )
        null_event = warehouse.query("SELECT event_id FROM events WHERE event IS NULL").rows
        null_time = warehouse.query("SELECT event_id FROM events WHERE event_time IS NULL").rows
        null_platform = warehouse.query("SELECT event_id FROM events WHERE platform IS NULL ORDER BY event_id").rows
        null_user = warehouse.query("SELECT gender, register_channel FROM users WHERE user_id IS NULL").rows
    assert tables[EVENTS_TABLE] == ("event, event_time", "toYYYYMM(event_time)", "MergeTree")
    assert tables[USERS_TABLE] == ("user_id", "", "MergeTree")
    for name in ("event", "platform", "business_line", "app_version", "utm_source", "first_utm_source", "page"):
        assert types[name] == "LowCardinality(Nullable(String))", name
    for name in ("event_id", "user_id", "distinct_id", "utm_term", "product_id", "properties"):
        assert types[name] == "Nullable(String)", name
    assert types["event_time"] == "Nullable(DateTime64(6))"
    assert (user_types["gender"], user_types["user_id"]) == ("LowCardinality(Nullable(String))", "Nullable(String)")
    # NULL in a key column and in LowCardinality columns stays NULL (not '' or 0)
    assert [tuple(r) for r in null_event] == [("e4",)]
    assert [tuple(r) for r in null_time] == [("e5",)]
    assert [tuple(r) for r in null_platform] == [("e3",), ("e4",), ("e5",)]
    assert [tuple(r) for r in null_user] == [("F", None)]
    _expected_answers(*_answers(url))


def test_a_warehouse_with_the_older_layout_answers_the_same(tmp_path):
    url = f"chdb:///{tmp_path.as_posix()}/old"
    with connect(url, read_only=False) as warehouse:
        load(warehouse, [], [])
        for table in (EVENTS_TABLE, USERS_TABLE):
            warehouse.execute(f"DROP TABLE {table}")
            warehouse.execute(_old_layout(table))
        keys = warehouse.query(
            "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'events'"
        ).rows
        platform = warehouse.query(
            "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'events' "
            "AND name = 'platform'"
        ).rows
        append_rows(warehouse, EVENTS_TABLE, ROWS)
        append_rows(warehouse, USERS_TABLE, USERS)
    assert [tuple(r) for r in keys] == [("",)]
    assert [tuple(r) for r in platform] == [("Nullable(String)",)]
    _expected_answers(*_answers(url))

    # README's recipe moves it to the new layout; the answers stay the same
    with connect(url, read_only=False) as warehouse:
        for table in (EVENTS_TABLE, USERS_TABLE):
            create = exp.maybe_parse(create_table_sql(table, "clickhouse"), dialect="clickhouse")
            create.this.set("this", exp.to_table(f"{table}_new"))
            warehouse.execute(create.sql(dialect="clickhouse"))
            warehouse.execute(f"INSERT INTO {table}_new SELECT * FROM {table}")
            warehouse.execute(f"RENAME TABLE {table} TO {table}_old, {table}_new TO {table}")
            warehouse.execute(f"DROP TABLE {table}_old")
        keys = warehouse.query(
            "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'events'"
        ).rows
    assert [tuple(r) for r in keys] == [("event, event_time",)]
    _expected_answers(*_answers(url))


@pytest.mark.parametrize("table", [EVENTS_TABLE, USERS_TABLE])
def test_other_dialects_get_no_clickhouse_layout(table):
    for dialect in ("duckdb", "postgres"):
        sql = create_table_sql(table, dialect)
        assert "LowCardinality" not in sql and "ORDER BY" not in sql and "ENGINE" not in sql
