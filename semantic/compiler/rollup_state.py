"""Which rollups a warehouse keeps current for a catalog: read once per question, before compiling it.

A loader writes one row per rollup into ``rollup_state`` (name, fingerprint) when it has
built or refreshed it in the same transaction as the events (``ingest/rollups.py``). A
rollup counts as current when its row's fingerprint equals the one this catalog's
definitions give; a warehouse loaded by an older finlens has no state, so every question
reads the events. On DuckDB and ClickHouse the state also holds the events' row count at that
time; when the table holds another count (an ETL job or a manual fix wrote it), no rollup is
used until a finlens load rebuilds them. ``FINLENS_ROLLUPS=off`` in the environment makes every question read the
events (to compare, or to rule the rollups out).
"""

from __future__ import annotations

import os
from dataclasses import replace

from connectors.base import Warehouse
from semantic.catalog.catalog import Catalog
from semantic.compiler.reader import (
    COUNTED_DIALECTS,
    ROLLUP_STATE_TABLE,
    ROLLUPS,
    STATE_ROWS_KEY,
    rollup_state_select,
    row_count_select,
)
from semantic.compiler.rollup_build import fingerprint, rollup_model

_FINGERPRINTS: dict[int, tuple[object, dict[str, str | None]]] = {}


def expected_fingerprints(catalog: Catalog) -> dict[str, str | None]:
    """Each rollup's fingerprint under ``catalog`` (computed once per loaded catalog)."""
    key = id(catalog.models)
    cached = _FINGERPRINTS.get(key)
    if cached is not None and cached[0] is catalog.models:
        return cached[1]
    prints = {name: fingerprint(catalog, name) for name in ROLLUPS}
    _FINGERPRINTS[key] = (catalog.models, prints)
    return prints


def current_rollups(catalog: Catalog, warehouse: Warehouse) -> frozenset[str]:
    """The rollups ``warehouse`` keeps current for ``catalog``'s definitions (empty: read the events)."""
    if os.environ.get("FINLENS_ROLLUPS", "on").lower() == "off" or not warehouse.has_table(ROLLUP_STATE_TABLE):
        return frozenset()
    stored = dict(warehouse.query(rollup_state_select().sql(dialect=warehouse.dialect)).rows)
    if not _same_row_count(catalog, warehouse, stored.pop(STATE_ROWS_KEY, None)):
        return frozenset()
    expected = expected_fingerprints(catalog)
    return frozenset(name for name, value in expected.items() if value is not None and stored.get(name) == value)


def _same_row_count(catalog: Catalog, warehouse: Warehouse, stored: str | None) -> bool:
    """False when the events hold another number of rows than when the rollups were made current: something other
    than finlens's loaders appended or deleted events, so no rollup is trusted (PostgreSQL: not checked, counting
    scans the table)."""
    model = rollup_model(catalog)
    if stored is None or model is None or warehouse.dialect not in COUNTED_DIALECTS:
        return True
    rows = warehouse.query(row_count_select(model).sql(dialect=warehouse.dialect)).rows
    return str(rows[0][0]) == stored


def with_current_rollups(catalog: Catalog, warehouse: Warehouse) -> Catalog:
    """``catalog`` knowing the warehouse's current rollups (unchanged when already looked up)."""
    if catalog.rollups is not None:
        return catalog
    return replace(catalog, rollups=current_rollups(catalog, warehouse))
