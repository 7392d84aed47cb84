"""Warehouses behind one interface, chosen by URL scheme (see ``connectors/README.md``)."""

from __future__ import annotations

from connectors import chdb as _chdb  # noqa: F401  (registers chdb://)
from connectors import clickhouse as _clickhouse  # noqa: F401  (registers clickhouse://)
from connectors import duckdb as _duckdb  # noqa: F401  (registers duckdb://)
from connectors import postgres as _postgres  # noqa: F401  (registers postgresql://)
from connectors.base import Rows, Warehouse, connect, redact, warehouse_class

__all__ = ["Rows", "Warehouse", "connect", "redact", "warehouse_class"]
