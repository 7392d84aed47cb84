"""Reading an embedded warehouse that a loader may own at any moment: the file itself, or through its owner.

``connect(url)`` on a DuckDB file or a chdb folder returns a :class:`SharedReader`. Each
call looks (one ``stat``) for a live owner (``owner.py``): without one, it runs on the
reader's own read-only, sandboxed connection; with one, it is sent to the owner. A
watcher thread closes idle own connections as soon as an owner announces itself, so a
loader starting while the app is open gets the file within a fraction of a second; when
the owner goes away, the next call opens the file again. The SQL, one statement per call,
is the same either way.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pyarrow as pa

from connectors.base import Rows, Warehouse, WarehouseBusy
from connectors.options import connection_options, local_path
from connectors.owner import SERVING, Announcement, find_owner
from connectors.owner_client import OwnedWarehouse, OwnerGone
from finlens_common.errors import WarehouseError

T = TypeVar("T")
WATCH_SECONDS = 0.1
_READERS: weakref.WeakSet[SharedReader] = weakref.WeakSet()
_WATCHER: list[threading.Thread] = []
_WATCH_LOCK = threading.Lock()


class SharedReader(Warehouse):
    """A read-only connection to an embedded warehouse that follows its owner (see the module docstring)."""

    schemes = ()

    def __init__(self, engine: type[Warehouse], url: str):
        super().__init__(url, read_only=True)
        self.engine = engine
        self.path = local_path(url)
        self._wait = connection_options(url, url).connect_timeout
        self._lock = threading.Lock()
        self._own: Warehouse | None = None
        self._in_flight = 0
        self._proxy: OwnedWarehouse | None = None
        self._route()  # a missing or corrupt file is reported now, as a direct connection would
        _READERS.add(self)
        _start_watcher()

    @property
    def dialect(self) -> str:  # type: ignore[override]  # the engine's, chosen by the URL
        return self.engine.dialect

    def _owner(self) -> Announcement | None:
        """The serving owner, waiting (up to connect_timeout) while one is still opening the database."""
        deadline = time.monotonic() + self._wait
        while True:
            owner = find_owner(self.path)
            if owner is None or owner.state == SERVING:
                return owner
            if time.monotonic() > deadline:
                raise WarehouseError(
                    f"warehouse {self.path!r}: process {owner.pid} ({owner.command}) took it over and has not "
                    f"opened it within {self._wait:g} s"
                )
            time.sleep(0.02)

    def _route(self, count: bool = False) -> Warehouse:
        """The connection the next call uses: the owner's, or this reader's own (opened if needed)."""
        deadline = time.monotonic() + self._wait
        while True:
            owner = self._owner()
            if owner is not None:
                with self._lock:
                    proxy = self._proxy
                    if proxy is None or proxy.owner != owner:
                        proxy = self._proxy = OwnedWarehouse(self.url, self.dialect, owner, self.path)
                return proxy
            with self._lock:
                if self._own is None:
                    try:
                        self._own = self.engine(self.url, read_only=True)
                    except WarehouseBusy:
                        if time.monotonic() > deadline:
                            raise
                own = self._own
                if own is not None and count:
                    self._in_flight += 1  # under the lock: the watcher cannot close it from here on
            if own is not None:
                return own
            time.sleep(0.05)  # a loader is taking the file over: its announcement follows

    @contextmanager
    def _using(self) -> Iterator[Warehouse]:
        warehouse = self._route(count=True)
        own = not isinstance(warehouse, OwnedWarehouse)
        try:
            yield warehouse
        finally:
            if own:
                with self._lock:
                    self._in_flight -= 1

    def _run(self, call: Callable[[Warehouse], T]) -> T:
        for attempt in (1, 2):
            try:
                with self._using() as warehouse:
                    return call(warehouse)
            except OwnerGone:
                if attempt == 2:
                    raise
                time.sleep(0.05)  # the owner stopped: the file is free again, or a new owner is opening
        raise AssertionError("unreachable")

    def query(self, sql: str) -> Rows:
        return self._run(lambda w: w.query(sql))

    def query_arrow(self, sql: str) -> pa.Table:
        return self._run(lambda w: w.query_arrow(sql))

    def execute(self, sql: str) -> None:
        self._run(lambda w: w.execute(sql))

    def append(self, table: str, data: pa.Table) -> None:
        raise WarehouseError(f"warehouse {self.path!r} is open read-only: loading {table} needs a writer")

    def has_table(self, table: str) -> bool:
        return self._run(lambda w: w.has_table(table))

    def cancel(self) -> None:
        with self._lock:
            own = self._own
        (own or self._route()).cancel()

    def give_way(self) -> None:
        """Close this reader's own connection when an owner is announced and no call is using it."""
        with self._lock:
            if self._own is not None and self._in_flight == 0 and find_owner(self.path) is not None:
                self._own.close()
                self._own = None

    def close(self) -> None:
        _READERS.discard(self)
        with self._lock:
            for warehouse in (self._own, self._proxy):
                if warehouse is not None:
                    warehouse.close()
            self._own = self._proxy = None


def _start_watcher() -> None:
    """One daemon thread per process: readers holding a file give it up when an owner appears."""
    with _WATCH_LOCK:
        if _WATCHER and _WATCHER[0].is_alive():
            return
        thread = threading.Thread(target=_watch, name="finlens-give-way", daemon=True)
        _WATCHER[:] = [thread]
        thread.start()


def _watch() -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        for reader in list(_READERS):
            if reader._own is not None:
                try:
                    reader.give_way()
                except Exception:  # noqa: BLE001 - the watcher must outlive any one reader's trouble
                    pass
