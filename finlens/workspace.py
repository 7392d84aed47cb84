"""Which warehouse to use, and filling the embedded default with demo data on first use.

Order of choice: an explicit URL (``--warehouse``), else ``FINLENS_WAREHOUSE``,
else the embedded DuckDB file ``data/finlens.duckdb`` beside the project,
which is generated with demo data the first time it is opened.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from connectors import Warehouse, connect

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE_FILE = PROJECT_ROOT / "data" / "finlens.duckdb"
ENV_VAR = "FINLENS_WAREHOUSE"

Progress = Callable[[int, int], None]


def default_warehouse_url() -> str:
    """``duckdb:////abs/path/data/finlens.duckdb`` (four slashes: an absolute path)."""
    return f"duckdb:///{DEFAULT_WAREHOUSE_FILE.as_posix()}"


def resolve_warehouse_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get(ENV_VAR) or default_warehouse_url()


def is_default(url: str) -> bool:
    return url == default_warehouse_url()


def needs_demo(url: str) -> bool:
    """Whether ``url`` is the embedded default and holds no data yet."""
    if not is_default(url):
        return False
    if not DEFAULT_WAREHOUSE_FILE.exists():
        return True
    with connect(url) as warehouse:
        return not (warehouse.has_table("events") and warehouse.has_table("users"))


def ensure_demo(url: str, progress: Progress | None = None, **options: object) -> bool:
    """Generate the demo into the default warehouse if it is empty; returns whether it did.

    ``options`` go to :func:`ingest.demo.generate_demo` (tests ask for a small demo).
    """
    if not needs_demo(url):
        return False
    from ingest.demo import generate_demo

    with connect(url, read_only=False) as warehouse:
        generate_demo(warehouse, progress=progress, **options)  # type: ignore[arg-type]
    return True


def open_warehouse(explicit: str | None = None, *, progress: Progress | None = None) -> Warehouse:
    """Open the chosen warehouse read-only, generating the default's demo data first if needed."""
    url = resolve_warehouse_url(explicit)
    ensure_demo(url, progress)
    return connect(url)
