"""Warehouses behind one interface, chosen by URL scheme (see ``connectors/README.md``)."""

from __future__ import annotations

from connectors import duckdb as _duckdb  # noqa: F401  (registers duckdb://, the default)
from connectors.base import Rows, Warehouse, redact, register_lazily, warehouse_class
from connectors.opening import Tuning, connect, writer

# The other engines' drivers (psycopg, chdb) load when a URL first names them: every `finlens` call pays its
# imports, and most deployments use one engine.
for _scheme, _module in (
    ("chdb", "connectors.chdb"),
    ("clickhouse", "connectors.clickhouse"),
    ("clickhouses", "connectors.clickhouse"),
    ("postgresql", "connectors.postgres"),
    ("postgres", "connectors.postgres"),
):
    register_lazily(_scheme, _module)

__all__ = ["Rows", "Tuning", "Warehouse", "connect", "redact", "warehouse_class", "writer"]
