"""Which rollups a warehouse keeps current for a catalog: read once per question, before compiling it.

A loader writes one row per rollup into ``rollup_state`` (name, fingerprint) when it has
built or refreshed it in the same transaction as the events (``ingest/rollups.py``). A
rollup counts as current when its row's fingerprint equals the one this catalog's
definitions give; a warehouse loaded by an older finlens has no state, so every question
reads the events. ``FINLENS_ROLLUPS=off`` in the environment makes every question read the
events (to compare, or to rule the rollups out).
"""

from __future__ import annotations

import os
from dataclasses import replace

from connectors.base import Warehouse
from semantic.catalog.catalog import Catalog
from semantic.compiler.reader import ROLLUP_STATE_TABLE, ROLLUPS, rollup_state_select
from semantic.compiler.rollup_build import fingerprint

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
    expected = expected_fingerprints(catalog)
    return frozenset(name for name, value in expected.items() if value is not None and stored.get(name) == value)


def with_current_rollups(catalog: Catalog, warehouse: Warehouse) -> Catalog:
    """``catalog`` knowing the warehouse's current rollups (unchanged when already looked up)."""
    if catalog.rollups is not None:
        return catalog
    return replace(catalog, rollups=current_rollups(catalog, warehouse))
