"""A warehouse reached through its owner process (``owner_server.py``): the same interface, over HTTP.

Readers get one from ``shared.py`` when another process owns the file; loaders
(``opening.writer``) get a write session when they start while another loader owns it.
One keep-alive connection per thread; each call is one request.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pyarrow as pa

from connectors.base import Rows, Warehouse, redact
from connectors.options import connection_options
from connectors.owner import Announcement, write_token
from connectors.wire import ipc_to_rows, ipc_to_table, table_to_ipc
from finlens_common.errors import WarehouseError


class OwnerGone(WarehouseError):
    """The owner stopped (or is not serving yet): the caller looks for the warehouse again."""


class OwnedWarehouse(Warehouse):
    """Queries (and, with ``write=True``, a loader's session) answered by the process that owns the warehouse."""

    schemes = ()

    def __init__(self, url: str, dialect: str, owner: Announcement, path: str, *, write: bool = False):
        super().__init__(url, read_only=not write)
        self._dialect, self.owner, self.name = dialect, owner, redact(url)
        self.settings_fixed = True
        self._timeout = connection_options(url, self.name).query_timeout + 30
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._token = write_token(path) if write else owner.token
        self._session = self._post("/write/open", b"").decode() if write else None

    @property
    def dialect(self) -> str:  # type: ignore[override]  # the owner's engine, known only at run time
        return self._dialect

    def _post(self, path: str, body: bytes, table: str = "") -> bytes:
        if table:
            path += f"?table={quote(table)}"
        connection = getattr(self._local, "connection", None)
        for attempt in (1, 2):  # a kept-alive connection the owner closed is retried once on a new one
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.owner.port, timeout=self._timeout)
                self._local.connection = connection
                self._connections.append(connection)
            try:
                connection.request("POST", path, body, {"Authorization": f"Bearer {self._token}"})
                response = connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as err:
                connection.close()
                connection = self._local.connection = None
                if attempt == 2 or isinstance(err, TimeoutError):
                    raise OwnerGone(
                        f"warehouse {self.name}: its owner (process {self.owner.pid}) stopped answering"
                    ) from None
        if response.status == 200:
            return data
        text = data.decode(errors="replace").strip() or response.reason
        if response.status == 503:
            raise OwnerGone(f"warehouse {self.name}: {text}")
        if response.status == 422:
            raise WarehouseError(text)
        raise WarehouseError(f"warehouse {self.name}: its owner (process {self.owner.pid}) refused: {text}")

    def _call(self, op: str, body: bytes = b"", table: str = "") -> bytes:
        prefix = f"/write/{self._session}" if self._session else "/read"
        return self._post(f"{prefix}/{op}", body, table)

    def query(self, sql: str) -> Rows:
        return ipc_to_rows(self._call("query", sql.encode()))

    def query_arrow(self, sql: str) -> pa.Table:
        return ipc_to_table(self._call("arrow", sql.encode()))

    def execute(self, sql: str) -> None:
        self._write("execute", sql.encode())

    def append(self, table: str, data: pa.Table) -> None:
        self._write("append", table_to_ipc(data), table)

    def has_table(self, table: str) -> bool:
        return self._call("has_table", table=table) == b"1"

    def _write(self, op: str, body: bytes, table: str = "") -> None:
        if self._session is None:
            raise WarehouseError(f"warehouse {self.name}: a read-only connection cannot {op}")
        self._call(op, body, table)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._session is None or self._dialect != "duckdb":
            yield
            return
        self._call("begin")
        try:
            yield
        except BaseException:
            self._call("rollback")
            raise
        self._call("commit")

    def close(self) -> None:
        if self._session is not None:
            try:
                self._call("close")
            except WarehouseError:
                pass  # the owner is gone, and the session with it
            self._session = None
        for connection in self._connections:
            connection.close()
        self._connections.clear()
