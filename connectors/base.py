"""The one small interface every warehouse implements, and the registry by URL scheme.

A connector runs SQL that ``semantic`` compiled for its dialect and hands back
rows; it never builds SQL of its own beyond bulk loading. Subclasses register
themselves by defining ``schemes`` (as sqlglot dialects register by name), so
adding a warehouse is one new module and no central if/elif.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pyarrow as pa

from finlens_common.errors import WarehouseError

_REGISTRY: dict[str, type[Warehouse]] = {}
_LAZY: dict[str, str] = {}  # scheme → module that registers it when imported


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse's file or folder (an embedded engine allows one writer process)."""


@dataclass
class Health:
    """Whether the warehouse answered its last statement: when an outage began, and when the last one ended.

    A server connector records here when its connection drops and when a new one answers again, so the app
    can say so in one line each ("unreachable since 10:02:11", "reconnected at 10:05:40") instead of one
    error per chart.
    """

    down_since: datetime | None = None
    last_error: str = ""
    recovered: tuple[datetime, datetime] | None = None  # (down since, back at) of the last outage

    def down(self, error: str) -> None:
        if self.down_since is None:
            self.down_since = datetime.now().replace(microsecond=0)
        self.last_error = error

    def up(self) -> None:
        if self.down_since is not None:
            self.recovered = (self.down_since, datetime.now().replace(microsecond=0))
            self.down_since = None

    def message(self, name: str, text: str) -> str:
        """``text`` with when the outage began; every later statement tries to reconnect."""
        since = self.down_since.strftime("%H:%M:%S") if self.down_since else "now"
        return f"{text}; unreachable since {since}, each query tries to reconnect"


@dataclass(frozen=True)
class Rows:
    """A query's result: column names and plain Python rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row)) for row in self.rows]


class Warehouse(ABC):
    """A connection to one warehouse, opened from a URL.

    Args:
        url: the warehouse URL; its scheme picked this class.
        read_only: open for queries only (the default); loaders pass False.
    """

    schemes: ClassVar[tuple[str, ...]] = ()
    dialect: ClassVar[str]
    # Embedded engines (a DuckDB file, a chdb folder) let one process write; while one does, it serves the
    # others' reads (connectors/owner.py). Server warehouses take any number of readers and writers.
    one_process: ClassVar[bool] = False
    # True once the session's settings can no longer change (a sealed owner; another process's session).
    settings_fixed: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for scheme in cls.schemes:
            _REGISTRY[scheme] = cls

    def __init__(self, url: str, *, read_only: bool = True):
        self.url = url
        self.read_only = read_only
        self.health = Health()

    @abstractmethod
    def query(self, sql: str) -> Rows:
        """Run one statement and return all of its rows."""

    @abstractmethod
    def query_arrow(self, sql: str) -> pa.Table:
        """Run one statement and return its rows as an Arrow table."""

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL for loaders)."""

    @abstractmethod
    def append(self, table: str, data: pa.Table) -> None:
        """Bulk-append an Arrow table to an existing table (columns by name)."""

    @contextmanager
    def bulk_load(self) -> Iterator[Callable[[], None]]:
        """Wrap a large load of many :meth:`append` batches; yields what to call after each batch.

        Engines that need it keep memory flat here; by default there is nothing to do.
        """
        yield lambda: None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the calls inside as one atomic transaction where the engine has them (DuckDB, PostgreSQL).

        ClickHouse has none: the calls apply one by one, so loaders keep every step idempotent.
        """
        yield

    def serve_reads(self) -> Warehouse:
        """A sandboxed read-only view of this writable connection, for other processes' queries (owner)."""
        raise WarehouseError(f"{type(self).__name__} is not an embedded warehouse: other processes connect themselves")

    def serve_writes(self) -> Warehouse:
        """A separate writable session on this connection's database, for another process's loader (owner)."""
        raise WarehouseError(f"{type(self).__name__} is not an embedded warehouse: other processes connect themselves")

    def seal(self, memory_limit: str | None = None, threads: int | None = None) -> None:
        """Before serving others: fix the settings and close every door to files (embedded engines)."""
        return None

    @abstractmethod
    def has_table(self, table: str) -> bool:
        """Whether ``table`` exists."""

    def query_df(self, sql: str):
        """Run one statement and return a pandas DataFrame."""
        return self.query_arrow(sql).to_pandas()

    def cancel(self) -> None:
        """Stop the query running on this connection (call it from another thread)."""
        raise WarehouseError(f"{type(self).__name__} cannot cancel a running query")

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(self.url)!r})"


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def warehouse_class(url: str) -> type[Warehouse]:
    """The registered class for ``url``'s scheme, or a WarehouseError naming the known ones."""
    scheme = urlsplit(url).scheme.lower()
    known = ", ".join(sorted({*_REGISTRY, *_LAZY}))
    if not scheme:
        raise WarehouseError(f"warehouse URL {url!r} has no scheme; expected one of: {known}")
    if scheme not in _REGISTRY and scheme in _LAZY:
        importlib.import_module(_LAZY[scheme])
    try:
        return _REGISTRY[scheme]
    except KeyError:
        raise WarehouseError(
            f"unknown warehouse scheme {scheme!r} in {redact(url)!r}; expected one of: {known}"
        ) from None


def register_lazily(scheme: str, module: str) -> None:
    """``scheme``'s class is registered by importing ``module``, done when a URL first names the scheme."""
    _LAZY[scheme] = module
