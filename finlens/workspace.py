"""Filling the embedded default warehouse with demo data on first use, and opening the chosen warehouse.

Which warehouse is chosen (``--warehouse``, else ``FINLENS_WAREHOUSE``, else
the embedded DuckDB file ``data/finlens.duckdb``) is a setting
(:func:`finlens_common.settings.warehouse_url`); the embedded default is
generated with demo data the first time it is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypedDict, Unpack

from connectors import Tuning, Warehouse, connect, writer
from finlens_common import settings

Progress = Callable[[int, int], None]


class DemoOptions(TypedDict, total=False):
    """The options :func:`ingest.demo.generate_demo` takes besides the warehouse and progress."""

    users: int
    days: int
    seed: int
    end: date


def is_default(url: str) -> bool:
    return url == settings.default_warehouse_url()


def needs_demo(url: str) -> bool:
    """Whether ``url`` is the embedded default and holds no data yet, or demo data of an older schema.

    The embedded default holds the demo only, so a demo written by an older finlens (an ``events`` table
    lacking a column the models now read) is generated again rather than failing on every page.
    """
    if not is_default(url):
        return False
    if not settings.DEFAULT_WAREHOUSE_FILE.exists():
        return True
    from ingest.touch import missing_columns

    with connect(url) as warehouse:
        if not (warehouse.has_table("events") and warehouse.has_table("users")):
            return True
        return bool(missing_columns(warehouse))


def ensure_demo(url: str, progress: Progress | None = None, **options: Unpack[DemoOptions]) -> bool:
    """Generate the demo into the default warehouse if it is empty; returns whether it did.

    ``options`` go to :func:`ingest.demo.generate_demo` (tests ask for a small demo).
    """
    if not needs_demo(url):
        return False
    from ingest.demo import generate_demo

    with writer(url, command="finlens app (first start)", tuning=Tuning(memory_limit="256MB")) as warehouse:
        generate_demo(warehouse, progress=progress, **options)
    return True


def open_warehouse(explicit: str | None = None, *, progress: Progress | None = None) -> Warehouse:
    """Open the chosen warehouse read-only, generating the default's demo data first if needed."""
    url = settings.warehouse_url(explicit)
    ensure_demo(url, progress)
    return connect(url)
