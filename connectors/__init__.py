"""Warehouses behind one interface, chosen by URL scheme (see ``connectors/README.md``)."""

from __future__ import annotations

from connectors import chdb as _chdb  # noqa: F401  (registers chdb://)
from connectors import clickhouse as _clickhouse  # noqa: F401  (registers clickhouse://)
from connectors import duckdb as _duckdb  # noqa: F401  (registers duckdb://)
from connectors import postgres as _postgres  # noqa: F401  (registers postgresql://)
from connectors.base import Rows, Warehouse, redact, warehouse_class
from connectors.opening import Tuning, connect, writer

__all__ = ["Rows", "Tuning", "Warehouse", "connect", "redact", "warehouse_class", "writer"]
