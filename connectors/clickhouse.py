"""A ClickHouse server over HTTP (clickhouse-connect): ``clickhouse://user:pass@host:port/db``.

Port defaults to 8123 (``clickhouses://`` for HTTPS, 8443). Read-only sessions
use ``readonly = 2``; ``query_timeout`` becomes both the client's socket timeout
and the server's ``max_execution_time``; :meth:`cancel` kills the running query
by its id from a second connection.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import TypedDict
from urllib.parse import unquote, urlsplit

import pyarrow as pa
from sqlglot import exp

from connectors.base import Rows, Warehouse, redact
from connectors.clickhouse_common import (
    READ_ONLY_SETTINGS,
    SESSION_SETTINGS,
    check_single_statement,
    explain,
    rows_from_arrow,
)
from connectors.options import connection_options
from finlens_common.errors import WarehouseError

# The driver logs each failed request before raising; the raised error is reported in one line instead.
logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)


class _ConnectArgs(TypedDict):
    """What ``clickhouse_connect.get_client`` is given, for the query client and for a cancelling one."""

    host: str
    port: int
    username: str
    password: str
    database: str
    secure: bool
    connect_timeout: float
    send_receive_timeout: float


class ClickHouseWarehouse(Warehouse):
    """One HTTP client; each query gets an id so it can be cancelled."""

    schemes = ("clickhouse", "clickhouses")
    dialect = "clickhouse"

    def __init__(self, url: str, *, read_only: bool = True):
        super().__init__(url, read_only=read_only)
        import clickhouse_connect

        self.name = redact(url)
        options = connection_options(url, self.name)
        parts = urlsplit(url)
        secure = parts.scheme == "clickhouses"
        settings = {**SESSION_SETTINGS, "max_execution_time": int(options.query_timeout)}
        if read_only:
            settings.update(READ_ONLY_SETTINGS)
        self._connect_args = _ConnectArgs(
            host=parts.hostname or "localhost",
            port=parts.port or (8443 if secure else 8123),
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/") or "default",
            secure=secure,
            connect_timeout=options.connect_timeout,
            send_receive_timeout=options.query_timeout,
        )
        self._running: str | None = None
        self._lock = threading.Lock()
        try:
            self._client = clickhouse_connect.get_client(**self._connect_args, settings=settings)
        except Exception as err:  # clickhouse-connect raises its own and urllib3's errors
            raise WarehouseError(_explain_connect(self.name, err)) from None

    def query_arrow(self, sql: str) -> pa.Table:
        check_single_statement(sql, self.name)
        query_id = str(uuid.uuid4())
        with self._lock:
            self._running = query_id
        try:
            # query_id is an HTTP request parameter: clickhouse-connect takes it among the settings
            return self._client.query_arrow(sql, settings={"query_id": query_id})
        except Exception as err:
            raise WarehouseError(explain("ClickHouse", self.name, str(err))) from None
        finally:
            with self._lock:
                self._running = None

    def query(self, sql: str) -> Rows:
        return rows_from_arrow(self.query_arrow(sql))

    def execute(self, sql: str) -> None:
        check_single_statement(sql, self.name)
        try:
            self._client.command(sql)
        except Exception as err:
            raise WarehouseError(explain("ClickHouse", self.name, str(err))) from None

    def append(self, table: str, data: pa.Table) -> None:
        try:
            self._client.insert_arrow(table, data)
        except Exception as err:
            raise WarehouseError(explain("ClickHouse", self.name, f"loading {table}: {err}")) from None

    def has_table(self, table: str) -> bool:
        sql = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(exp.to_table("tables", db="system"))
            .where(
                exp.and_(
                    exp.column("name").eq(exp.convert(table)), exp.column("database").eq(exp.func("currentDatabase"))
                )
            )
        )
        return bool(self.query(sql.sql(dialect="clickhouse")).rows[0][0])

    def cancel(self) -> None:
        import clickhouse_connect

        with self._lock:
            query_id = self._running
        if query_id is None:
            return
        statement = "KILL QUERY WHERE query_id = " + exp.convert(query_id).sql(dialect="clickhouse")
        killer = clickhouse_connect.get_client(**self._connect_args)
        try:
            killer.command(statement)
        finally:
            killer.close()

    def close(self) -> None:
        self._client.close()


def _explain_connect(name: str, err: Exception) -> str:
    text = (str(err).strip().splitlines() or [type(err).__name__])[0]
    lowered = text.lower()
    for marker, short in (
        ("connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("name or service not known", "unknown host"),
    ):
        if marker in lowered:
            text = short
    if "authentication" in lowered or "password" in lowered or "516" in lowered:
        hint = "check the user name and password in the URL"
    elif "database" in lowered and ("unknown" in lowered or "doesn't exist" in lowered):
        hint = "check the database name in the URL"
    else:
        hint = "check the host and port (HTTP interface, 8123 by default) and that the server is running and reachable"
    return f"cannot connect to ClickHouse warehouse {name}: {text[:300]}; {hint}"
