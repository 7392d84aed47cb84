"""The embedded ClickHouse engine (chdb): ``chdb://relative/dir``, ``chdb:////absolute/dir``.

The same SQL engine as a ClickHouse server, in process: for local use and for
testing the ClickHouse dialect. Paths follow the DuckDB connector's convention.
chdb has one engine per process, so one chdb warehouse is open at a time, and
one process may use a folder: while a loader owns it, the other processes'
queries go to the loader (``connectors/owner.py``), which answers them on a
second session of its engine set to ``readonly = 1``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from connectors.base import Rows, Warehouse, WarehouseBusy, redact
from connectors.clickhouse_common import SESSION_SETTINGS, check_single_statement, explain, rows_from_arrow, set_sql
from connectors.options import connection_options, local_path
from finlens_common.errors import WarehouseError


class ChdbWarehouse(Warehouse):
    """A chdb session over a data folder."""

    schemes = ("chdb",)
    dialect = "clickhouse"
    one_process = True

    def __init__(self, url: str, *, read_only: bool = True):
        super().__init__(url, read_only=read_only)
        from chdb import session  # imported here: loading the engine takes a moment

        self.name = redact(url)
        self.path = local_path(url)
        options = connection_options(url, self.name)
        if read_only and not Path(self.path).exists():
            raise WarehouseError(
                f"chdb warehouse folder {self.path!r} does not exist; run `finlens demo --warehouse {url}` to create it"
            )
        try:
            self._session = session.Session(self.path)
        except Exception as err:  # chdb raises plain RuntimeError
            busy = any(s in str(err) for s in ("Cannot lock file", "already running", "initializing EmbeddedServer"))
            raise (WarehouseBusy if busy else WarehouseError)(explain("chdb", self.name, str(err))) from None
        settings = {**SESSION_SETTINGS, "max_execution_time": int(options.query_timeout)}
        if read_only:
            settings["readonly"] = 1  # last: no later setting, table function or write gets through
        for key, value in settings.items():
            self.execute(set_sql(key, value))

    def _arrow(self, sql: str) -> pa.Table:
        check_single_statement(sql, self.name)
        try:
            return self._session.query(sql, "ArrowTable")
        except Exception as err:
            raise WarehouseError(explain("chdb", self.name, str(err))) from None

    def query(self, sql: str) -> Rows:
        return rows_from_arrow(self._arrow(sql))

    def query_arrow(self, sql: str) -> pa.Table:
        return self._arrow(sql)

    def execute(self, sql: str) -> None:
        check_single_statement(sql, self.name)
        try:
            self._session.query(sql)
        except Exception as err:
            raise WarehouseError(explain("chdb", self.name, str(err))) from None

    def append(self, table: str, data: pa.Table) -> None:
        # chdb's Python() table function reads the local variable named in the SQL.
        finlens_batch = data  # noqa: F841
        names = [exp.to_identifier(n, quoted=True) for n in data.column_names]
        select = exp.select(*[exp.column(n.copy()) for n in names]).from_(
            exp.Anonymous(this="Python", expressions=[exp.to_identifier("finlens_batch")])
        )
        statement = exp.insert(select, exp.to_table(table), columns=names).sql(dialect="clickhouse")
        try:
            self._session.query(statement)
        except Exception as err:
            raise WarehouseError(explain("chdb", self.name, f"loading {table}: {err}")) from None

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

    def serve_reads(self) -> Warehouse:
        """Another session of this process's engine, ``readonly = 1`` like any reader's."""
        return ChdbWarehouse(self.url, read_only=True)

    def serve_writes(self) -> Warehouse:
        return ChdbWarehouse(self.url, read_only=False)

    def close(self) -> None:
        self._session.close()
