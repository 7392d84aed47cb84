"""Warehouses behind one interface, chosen by URL scheme (see ``connectors/README.md``)."""
from __future__ import annotations

from connectors.base import Rows, Warehouse, connect, redact, warehouse_class
from connectors import duckdb as _duckdb  # noqa: F401  (registers duckdb://)

__all__ = ["Rows", "Warehouse", "connect", "redact", "warehouse_class"]
