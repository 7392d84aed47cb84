"""PostgreSQL through psycopg 3: ``postgresql://user:pass@host:port/db``.

Read-only sessions by default (``default_transaction_read_only``), a
statement timeout from ``query_timeout``, a connect timeout, and bulk loads
through ``COPY ... FROM STDIN`` fed with CSV that Arrow writes in one go.
Every statement goes through the extended query protocol, which the server
runs as exactly one statement. A read-only session is a convenience, not a
wall (a second statement could ``BEGIN READ WRITE``): deployments connect as
a role granted only ``SELECT`` (README, Security).
"""

from __future__ import annotations

import io
import threading
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import errors as pg_errors
from psycopg.conninfo import make_conninfo
from sqlglot import exp

from connectors.base import Rows, Warehouse, redact
from connectors.options import connection_options
from finlens_common.errors import WarehouseError

COPY_CHUNK_ROWS = 200_000


class PostgresWarehouse(Warehouse):
    """One psycopg connection in autocommit mode; queries may be cancelled from another thread."""

    schemes = ("postgresql", "postgres")
    dialect = "postgres"

    def __init__(self, url: str, *, read_only: bool = True):
        super().__init__(url, read_only=read_only)
        self.name = redact(url)
        options = connection_options(url, self.name)
        parts = urlsplit(url)
        conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
        server_options = f"-c statement_timeout={int(options.query_timeout * 1000)}"
        if read_only:
            server_options += " -c default_transaction_read_only=on"
        # the URL's other query parameters are libpq connection parameters (sslmode=...), not psycopg's own
        self._conninfo = make_conninfo(conninfo, **options.extra)
        self._connect_timeout = max(1, int(options.connect_timeout))
        self._server_options = server_options
        self._lock = threading.Lock()
        try:
            self._conn = self._open()
        except psycopg.Error as err:
            raise WarehouseError(_explain_connect(self.name, err)) from None

    def _open(self) -> psycopg.Connection:
        return psycopg.connect(
            self._conninfo, autocommit=True, connect_timeout=self._connect_timeout, options=self._server_options
        )

    def _connection(self) -> psycopg.Connection:
        """The open connection; after the server dropped it (an outage, a restart), a new one."""
        with self._lock:
            if not (self._conn.closed or self._conn.broken):
                return self._conn
            try:
                self._conn = self._open()
            except psycopg.Error as err:
                self.health.down(_first_line(err))
                raise WarehouseError(self.health.message(self.name, _explain_connect(self.name, err))) from None
            return self._conn

    def _run(self, sql: str):
        # A read-only session only reads, so a statement cut off by a dropped connection is run once more on a
        # new one; a loader's statement is not (it may have been applied before the connection dropped).
        for attempt in (1, 2):
            conn = self._connection()
            try:
                # binary=True sends the text through the extended query protocol, which runs one statement only:
                # "SELECT ...; COMMIT; BEGIN READ WRITE; ..." is refused by the server, not split and run.
                cursor = conn.cursor()
                cursor.execute(sql, binary=True)
                rows = cursor.fetchall() if cursor.description else []
            except psycopg.Error as err:
                lost = conn.closed or conn.broken or isinstance(err, pg_errors.AdminShutdown)
                if lost and attempt == 1 and self.read_only:
                    continue
                if lost:
                    self.health.down(_first_line(err))
                    raise WarehouseError(self.health.message(self.name, _explain_query(self.name, err))) from None
                raise WarehouseError(_explain_query(self.name, err)) from None
            self.health.up()
            return cursor.description, rows
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def query(self, sql: str) -> Rows:
        description, rows = self._run(sql)
        return Rows([d.name for d in description or []], [tuple(r) for r in rows])

    def query_arrow(self, sql: str) -> pa.Table:
        result = self.query(sql)
        return pa.Table.from_pylist(result.records()) if result.rows else pa.table({c: [] for c in result.columns})

    def execute(self, sql: str) -> None:
        self._run(sql)

    def append(self, table: str, data: pa.Table) -> None:
        columns = exp.Tuple(expressions=[exp.to_identifier(n, quoted=True) for n in data.column_names]).sql(
            dialect="postgres"
        )
        target = exp.to_table(table).sql(dialect="postgres")
        statement = f"COPY {target} {columns} FROM STDIN WITH (FORMAT csv)"
        try:
            with self._connection().cursor() as cursor, cursor.copy(statement) as copy:
                for batch in data.to_batches(max_chunksize=COPY_CHUNK_ROWS):
                    buffer = io.BytesIO()
                    pa_csv.write_csv(pa.Table.from_batches([batch]), buffer, pa_csv.WriteOptions(include_header=False))
                    copy.write(buffer.getvalue())
        except psycopg.Error as err:
            raise WarehouseError(_explain_query(self.name, err, f"loading {table}")) from None

    def has_table(self, table: str) -> bool:
        sql = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(exp.to_table("tables", db="information_schema"))
            .where(
                exp.and_(
                    exp.column("table_name").eq(exp.convert(table)),
                    exp.column("table_schema").eq(exp.func("current_schema")),
                )
            )
        )
        return bool(self.query(sql.sql(dialect="postgres")).rows[0][0])

    def cancel(self) -> None:
        self._conn.cancel_safe()

    def close(self) -> None:
        self._conn.close()


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _explain_connect(name: str, err: psycopg.Error) -> str:
    text = _first_line(err)
    lowered = text.lower()
    if "password authentication failed" in lowered or "authentication" in lowered:
        hint = "check the user name and password in the URL"
    elif "does not exist" in lowered and "database" in lowered:
        hint = "check the database name in the URL"
    elif "timeout" in lowered or "refused" in lowered or "could not translate host" in lowered or "no route" in lowered:
        hint = "check the host and port, and that the server is running and reachable"
    else:
        hint = "check the URL and the server"
    return f"cannot connect to PostgreSQL warehouse {name}: {text}; {hint}"


def _explain_query(name: str, err: psycopg.Error, doing: str = "query") -> str:
    text = _first_line(err)
    if isinstance(err, pg_errors.UndefinedTable):
        return f"PostgreSQL warehouse {name}: {text}; load the data (finlens demo --warehouse ...) or fix the model's table in metrics/models/"
    if isinstance(err, pg_errors.UndefinedColumn):
        return f"PostgreSQL warehouse {name}: {text}; the table lacks a column the model declares (metrics/models/)"
    if isinstance(err, pg_errors.QueryCanceled):
        return f"PostgreSQL warehouse {name}: {doing} cancelled or over query_timeout: {text}"
    if isinstance(err, pg_errors.ReadOnlySqlTransaction):
        return f"PostgreSQL warehouse {name}: the connection is read-only: {text}"
    return f"PostgreSQL warehouse {name}: {doing} failed: {text}"
