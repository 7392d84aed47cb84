"""Build small real DuckDB warehouses from compact, hand-written rows."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors import Warehouse, connect
from ingest.schema import EVENTS_TABLE, USERS_TABLE, arrow_schema, create_table_sql
from semantic.compiler.reader import ROLLUP_STATE_TABLE


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def make_warehouse(path: Path, events: list[dict[str, Any]], users: list[dict[str, Any]] | None = None) -> str:
    """Write ``events`` and ``users`` (missing columns NULL, properties '{}') to a DuckDB file; return its URL."""
    url = f"duckdb:///{path.as_posix()}"
    with connect(url, read_only=False) as warehouse:
        load(warehouse, events, users or [])
    return url


def build_rollups(url: str) -> None:
    """Build the exact rollups of the warehouse at ``url`` as a loader's ``finish_load`` does."""
    from ingest import rollups

    with connect(url, read_only=False) as warehouse:
        rollups.refresh(warehouse)


def load(warehouse: Warehouse, events: list[dict[str, Any]], users: list[dict[str, Any]]) -> None:
    # a writer other than finlens's loaders: the rollups it would leave stale are declared not current
    warehouse.execute(f"DROP TABLE IF EXISTS {ROLLUP_STATE_TABLE}")
    for table, rows in ((EVENTS_TABLE, events), (USERS_TABLE, users)):
        warehouse.execute(f"DROP TABLE IF EXISTS {table}")
        warehouse.execute(create_table_sql(table, warehouse.dialect))
        append_rows(warehouse, table, rows)


def append_rows(warehouse: Warehouse, table: str, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` to ``table`` (missing columns NULL; events get an id and properties '{}')."""
    schema = arrow_schema(table)
    filled = []
    for i, row in enumerate(rows):
        full = {name: row.get(name) for name in schema.names}
        if table == EVENTS_TABLE:
            full["event_id"] = row.get("event_id") or f"e{i:05d}"
            full["properties"] = row.get("properties") or "{}"
            if isinstance(full["event_time"], str):
                full["event_time"] = ts(full["event_time"])
        elif isinstance(full.get("register_time"), str):
            full["register_time"] = ts(full["register_time"])
        filled.append(full)
    if filled:
        warehouse.append(table, pa.Table.from_pylist(filled, schema=schema))


ENGINES = ("duckdb", "postgres", "chdb")


@contextmanager
def engine_warehouse(
    request, folder: Path, events: list[dict[str, Any]], users: list[dict[str, Any]]
) -> Iterator[Warehouse]:
    """The rows loaded into ``request.param``'s engine (a DuckDB file, the session's PostgreSQL server or chdb), opened read-only.

    Use from a fixture parametrized over :data:`ENGINES`.
    """
    chdb_dir = None
    reader = None
    if request.param == "duckdb":
        url = f"duckdb:///{folder.as_posix()}/fixture.duckdb"
    elif request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        url, reader = server.url, server.reader_url
    else:
        chdb_dir = tempfile.mkdtemp(prefix="finlens-chdb-")
        url = f"chdb:///{chdb_dir}"
    with connect(url, read_only=False) as writer:
        load(writer, events, users)
    opened = connect(reader or url)
    try:
        yield opened
    finally:
        opened.close()
        if chdb_dir:
            shutil.rmtree(chdb_dir, ignore_errors=True)
