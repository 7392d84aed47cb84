"""Embedded DuckDB: ``duckdb:///relative/file.duckdb``, ``duckdb:////absolute/file.duckdb``, ``duckdb:///:memory:``.

URLs follow SQLAlchemy's convention: three slashes then a relative path, four
for an absolute one. Opened read-only, several processes (the app, the CLI)
can query one file at once; a writer takes the file alone, and while it holds
it, it serves the other processes' queries (``connectors/owner.py``): its
instance is then sealed (no file access, settings locked) and each of those
queries runs on its own cursor inside a ``READ ONLY`` transaction.

A read-only connection is also a sandbox: no file system, extension or ATTACH
is reachable (``enable_external_access = false``) and no setting can change
(``lock_configuration = true``), so even SQL text that got past the compiler
could read nothing but the warehouse. Every call runs exactly one statement,
split by DuckDB's own parser; on a read-only connection it must be a query.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import duckdb
import pyarrow as pa
from sqlglot import exp

from connectors.base import Rows, Warehouse, WarehouseBusy
from connectors.options import local_path
from finlens_common.errors import WarehouseError

LOAD_MEMORY_LIMIT = "256MB"
SANDBOX = {"enable_external_access": False, "lock_configuration": True}  # read-only connections


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file (or memory), one cursor per thread."""

    schemes: ClassVar[tuple[str, ...]] = ("duckdb",)
    dialect = "duckdb"
    one_process = True

    def __init__(self, url: str, *, read_only: bool = True):
        super().__init__(url, read_only=read_only)
        self.path = local_path(url)
        in_memory = self.path == ":memory:"
        if not in_memory and read_only and not Path(self.path).exists():
            raise WarehouseError(
                f"DuckDB warehouse file {self.path!r} does not exist; run `finlens demo --warehouse {url}` "
                "to create it, or check --warehouse / FINLENS_WAREHOUSE"
            )
        if not in_memory and not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = dict(SANDBOX) if read_only else {}
        try:
            self._conn = duckdb.connect(self.path, read_only=read_only and not in_memory, config=config)
        except duckdb.Error as err:
            message = _explain_open_error(self.path, err)
            raise (WarehouseBusy if "locked by another process" in message else WarehouseError)(message) from None
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._read_transactions = False  # a view serving other processes wraps each query in READ ONLY

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread: a DuckDB connection object is not thread-safe."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._conn.cursor()
            self._cursors.append(cursor)
        return cursor

    def _statement(self, cursor: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Statement:
        """The one statement in ``sql``, split by DuckDB's parser; a query on a read-only connection."""
        statements = cursor.extract_statements(sql)
        if len(statements) != 1:
            raise WarehouseError(
                f"DuckDB warehouse {self.path!r}: refused SQL holding {len(statements)} statements; one is run at a time"
            )
        statement = statements[0]
        if self.read_only and statement.type != duckdb.StatementType.SELECT:
            raise WarehouseError(
                f"DuckDB warehouse {self.path!r}: refused a {statement.type.name} statement on a read-only connection"
            )
        return statement

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The thread's cursor; for a view serving others, inside a READ ONLY transaction rolled back after."""
        cursor = self._cursor()
        if not self._read_transactions:
            yield cursor
            return
        cursor.execute("BEGIN TRANSACTION READ ONLY")
        try:
            yield cursor
        finally:
            cursor.execute("ROLLBACK")

    def query(self, sql: str) -> Rows:
        try:
            with self._reading() as cursor:
                result = cursor.execute(self._statement(cursor, sql))
                columns = [d[0] for d in result.description or []]
                return Rows(columns, result.fetchall())
        except duckdb.Error as err:
            raise WarehouseError(f"DuckDB warehouse {self.path!r}: {_first_line(err)}") from None

    def query_arrow(self, sql: str) -> pa.Table:
        try:
            with self._reading() as cursor:
                return cursor.sql(self._statement(cursor, sql)).to_arrow_table()
        except duckdb.Error as err:
            raise WarehouseError(f"DuckDB warehouse {self.path!r}: {_first_line(err)}") from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT on the calling thread's cursor (ROLLBACK if the body raises)."""
        cursor = self._cursor()
        try:
            cursor.execute("BEGIN TRANSACTION")
        except duckdb.Error as err:
            raise WarehouseError(f"DuckDB warehouse {self.path!r}: {_first_line(err)}") from None
        try:
            yield
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        try:
            cursor.execute("COMMIT")
        except duckdb.Error as err:
            raise WarehouseError(f"DuckDB warehouse {self.path!r}: commit failed: {_first_line(err)}") from None

    def seal(self, memory_limit: str | None = None, threads: int | None = None) -> None:
        """Fix the settings, then no file, extension or ATTACH for anyone on this instance, for good.

        The owner's own writes go on (Arrow batches are registered objects, not files); the
        settings a load wants (a memory cap, one thread) are set here, once, since nothing can
        change them afterwards.
        """
        if self.query("SELECT current_setting('lock_configuration')").rows[0][0]:
            self.settings_fixed = True  # sealed already (the same file opened again in this process)
            return
        if memory_limit is not None:
            self.execute(f"SET memory_limit = {exp.convert(memory_limit).sql(dialect='duckdb')}")
        if threads is not None:
            self.execute(f"SET threads = {int(threads)}")
        for name, value in SANDBOX.items():
            self.execute(f"SET {name} = {str(value).lower()}")
        self.settings_fixed = True

    def serve_reads(self) -> Warehouse:
        return _View(self, read_only=True)

    def serve_writes(self) -> Warehouse:
        return _View(self, read_only=False)

    def execute(self, sql: str) -> None:
        try:
            cursor = self._cursor()
            cursor.execute(self._statement(cursor, sql)).fetchall()
        except duckdb.Error as err:
            raise WarehouseError(f"DuckDB warehouse {self.path!r}: {_first_line(err)}") from None

    def append(self, table: str, data: pa.Table) -> None:
        cursor = self._cursor()
        view = f"finlens_append_{id(data)}"
        cursor.register(view, data)
        try:
            cursor.execute(insert_select_sql(table, view, data.column_names)).fetchall()
        except duckdb.Error as err:
            raise WarehouseError(f"DuckDB warehouse {self.path!r}: loading {table}: {_first_line(err)}") from None
        finally:
            cursor.unregister(view)

    @contextmanager
    def bulk_load(self) -> Iterator[Callable[[], None]]:
        """Keep memory flat while loading a file: a memory cap, and a checkpoint after each batch.

        DuckDB keeps every block it writes cached (up to 80% of RAM by default) and,
        left alone, checkpoints the whole load at close, in memory; both grow with
        the data set. The cap is put back afterwards, so later queries are unaffected.
        An in-memory database cannot evict, so it is left alone.
        """
        if self.path == ":memory:":
            yield lambda: None
            return
        if self.settings_fixed:  # an owner sealed with its load settings: only the checkpoints
            yield lambda: self.execute("CHECKPOINT")
            return
        setting = "SELECT current_setting('memory_limit')"
        before = self.query(setting).rows[0][0]
        self.execute("RESET memory_limit")
        was_default = self.query(setting).rows[0][0] == before
        self.execute(f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
        try:
            yield lambda: self.execute("CHECKPOINT")
        finally:
            restore = exp.convert(before).sql(dialect="duckdb")
            self.execute("RESET memory_limit" if was_default else f"SET memory_limit = {restore}")

    def has_table(self, table: str) -> bool:
        sql = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(exp.table_("tables", db="information_schema"))
            .where(exp.column("table_name").eq(exp.convert(table)))
        )
        return bool(self.query(sql.sql(dialect="duckdb")).rows[0][0])

    def cancel(self) -> None:
        """Interrupt whatever runs on this warehouse's cursors (each thread has its own)."""
        for cursor in list(self._cursors):
            cursor.interrupt()

    def close(self) -> None:
        for cursor in self._cursors:
            cursor.close()
        self._conn.close()


class _View(DuckDBWarehouse):
    """The owner's database seen from another process: its own cursors on the owner's instance.

    A read view wraps every query in a READ ONLY transaction (the instance is sealed, so no
    file or setting is reachable either); a write view is one loader's session, with its
    own temporary tables and transactions.
    """

    schemes = ()

    def __init__(self, owner: DuckDBWarehouse, *, read_only: bool):
        Warehouse.__init__(self, owner.url, read_only=read_only)
        self.path, self._conn = owner.path, owner._conn
        self._local = threading.local()
        self._cursors = []
        self._read_transactions = read_only
        self._session: duckdb.DuckDBPyConnection | None = None
        self.settings_fixed = True

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """Reads: one cursor per thread. A loader's session: one cursor whatever thread serves the call."""
        if self.read_only:
            return super()._cursor()
        if self._session is None:
            self._session = self._conn.cursor()
            self._cursors.append(self._session)
        return self._session

    def close(self) -> None:
        for cursor in self._cursors:
            cursor.close()


def insert_select_sql(table: str, source: str, columns: list[str]) -> str:
    """``INSERT INTO table (cols) SELECT cols FROM source``, identifiers quoted by sqlglot."""
    names = [exp.to_identifier(name, quoted=True) for name in columns]
    select = exp.select(*[exp.column(n.copy()) for n in names]).from_(exp.to_table(source, quoted=True))
    return exp.insert(select, exp.to_table(table, quoted=True), columns=names).sql(dialect="duckdb")


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0]


def _explain_open_error(path: str, err: duckdb.Error) -> str:
    text = _first_line(err)
    if "lock" in text.lower():
        return f"DuckDB warehouse file {path!r} is locked by another process (a loader that is not finlens's, or an older finlens?): {text}"
    if "not a valid DuckDB database" in text:
        return f"DuckDB warehouse file {path!r} is not a valid DuckDB database (corrupt or another format); delete it or point --warehouse elsewhere"
    return f"cannot open DuckDB warehouse file {path!r}: {text}"
