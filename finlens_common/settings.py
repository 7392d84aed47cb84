"""Where things are and which warehouse to use: every path and environment variable the project reads, in one place.

The layers above ask here instead of reading ``os.environ`` or walking up from
``__file__`` themselves, so a deployment's settings are documented once
(README, Choosing the warehouse) and tests can point everything elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
METRICS_ENV = "FINLENS_METRICS"
WAREHOUSE_ENV = "FINLENS_WAREHOUSE"
READ_ONLY_ENV = "FINLENS_CATALOG_READONLY"
DEFAULT_METRICS_ROOT = PROJECT_ROOT / "metrics"
DEFAULT_WAREHOUSE_FILE = PROJECT_ROOT / "data" / "finlens.duckdb"


def metrics_root() -> Path:
    """The catalog folder: ``FINLENS_METRICS`` if set, else the project's ``metrics/``."""
    return Path(os.environ.get(METRICS_ENV) or DEFAULT_METRICS_ROOT)


def catalog_read_only() -> bool:
    """Whether the app must never write the catalog folder (``FINLENS_CATALOG_READONLY=1``: a catalog from git)."""
    return os.environ.get(READ_ONLY_ENV, "").strip().lower() in ("1", "true", "yes")


def tracking_plan_path() -> Path:
    """``tracking_plan.yml`` in the project's ``metrics/`` folder."""
    return DEFAULT_METRICS_ROOT / "tracking_plan.yml"


def default_warehouse_url() -> str:
    """``duckdb:////abs/path/data/finlens.duckdb`` (four slashes: an absolute path)."""
    return f"duckdb:///{DEFAULT_WAREHOUSE_FILE.as_posix()}"


def warehouse_url(explicit: str | None = None) -> str:
    """The warehouse to use: an explicit URL (``--warehouse``), else ``FINLENS_WAREHOUSE``, else the embedded default."""
    return explicit or os.environ.get(WAREHOUSE_ENV) or default_warehouse_url()
