"""Opening a warehouse: ``connect`` for queries, ``writer`` for loaders (which may own an embedded one).

A server warehouse (PostgreSQL, ClickHouse) takes any number of readers and writers:
both open a connection. An embedded one (a DuckDB file, a chdb folder) takes one
writing process: ``writer`` then either joins the live owner as a loader's session, or
becomes the owner itself: it takes the lease, waits for readers to give the file up,
opens it, seals it and serves the other processes until the load ends (``owner.py``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from connectors.base import Warehouse, WarehouseBusy, warehouse_class
from connectors.options import local_path
from connectors.owner import OPENING, SERVING, Lease, find_owner
from connectors.owner_client import OwnedWarehouse
from connectors.owner_server import OwnerServer
from connectors.shared import SharedReader
from finlens_common.errors import WarehouseError

TAKE_OVER_SECONDS = 30.0  # how long an owner waits for readers (and a dying owner) to let go


@dataclass(frozen=True)
class Tuning:
    """Settings an owning loader fixes when it seals an embedded warehouse (they cannot change afterwards)."""

    memory_limit: str | None = None
    threads: int | None = None


def _embedded(url: str, cls: type[Warehouse]) -> bool:
    return cls.one_process and local_path(url) != ":memory:"


def connect(url: str, *, read_only: bool = True) -> Warehouse:
    """Open the warehouse at ``url``: read-only (sandboxed) by default; ``read_only=False`` opens it directly.

    Loaders that must work while other processes read use :func:`writer` instead.
    """
    cls = warehouse_class(url)
    if read_only and _embedded(url, cls):
        return SharedReader(cls, url)
    return cls(url, read_only=read_only)


@contextmanager
def writer(url: str, *, command: str = "", tuning: Tuning | None = None) -> Iterator[Warehouse]:
    """A writable warehouse for a loader, however many processes read it meanwhile (module docstring)."""
    cls = warehouse_class(url)
    if not _embedded(url, cls):
        with cls(url, read_only=False) as warehouse:
            yield warehouse
        return
    path = local_path(url)
    command = command or " ".join(os.path.basename(a) for a in sys.argv[:3]) or "python"
    deadline = time.monotonic() + TAKE_OVER_SECONDS
    while True:
        owner = find_owner(path)
        if owner is not None and owner.state == SERVING:
            with OwnedWarehouse(url, cls.dialect, owner, path, write=True) as session:
                yield session
            return
        if owner is None:
            try:
                lease = Lease(path, command, wait=0.5)
            except WarehouseError:
                lease = None  # another loader took it first: join it once it serves
            if lease is not None:
                break
        if time.monotonic() > deadline:
            raise WarehouseError(f"warehouse {path!r}: its owner did not start serving within {TAKE_OVER_SECONDS:g} s")
        time.sleep(0.05)
    with _owning(cls, url, lease, tuning or Tuning()) as warehouse:
        yield warehouse


@contextmanager
def _owning(cls: type[Warehouse], url: str, lease: Lease, tuning: Tuning) -> Iterator[Warehouse]:
    """Own the file: announce, open it once readers let go, seal it, serve others; undo all of it after."""
    server: OwnerServer | None = None
    warehouse: Warehouse | None = None
    try:
        deadline = time.monotonic() + TAKE_OVER_SECONDS
        while warehouse is None:
            try:
                warehouse = cls(url, read_only=False)
            except WarehouseBusy:
                if time.monotonic() > deadline:
                    raise
                if server is None:  # first ask the readers to give way, then keep trying
                    server = OwnerServer(_Unopened(url), lease.token, lease.write_token)
                    server.start()
                    lease.announce(server.port, OPENING)
                time.sleep(0.05)
        warehouse.seal(tuning.memory_limit, tuning.threads)
        if server is None:
            server = OwnerServer(warehouse, lease.token, lease.write_token)
            server.start()
        server.writer = warehouse
        server.reads = warehouse.serve_reads()
        lease.announce(server.port, SERVING)
        yield warehouse
    finally:
        lease.release()  # readers stop sending here first
        if server is not None:
            server.stop()
            if server.reads is not None:
                server.reads.close()
        if warehouse is not None:
            warehouse.close()


class _Unopened(Warehouse):
    """The owner's writer before the file is open: loaders that arrive that early are told to wait."""

    schemes = ()
    dialect = "duckdb"

    def _busy(self, *_: object) -> None:
        raise WarehouseBusy("the warehouse owner is still opening the file; retry")

    query = query_arrow = execute = append = has_table = _busy  # type: ignore[assignment]

    def serve_writes(self) -> Warehouse:
        raise WarehouseBusy("the warehouse owner is still opening the file; retry")

    def close(self) -> None:
        pass
