"""Results between processes as Arrow IPC streams: typed, fast, and nothing executable (no pickle).

``rows_to_ipc`` keeps the Python values an engine's ``query`` returned (an int stays
an int, a Decimal a Decimal, a datetime a datetime), so a query answered by the
warehouse's owner gives the reader the same values as its own connection would.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa

from connectors.base import Rows


def table_to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def ipc_to_table(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _column(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        # integers past 64 bits (DuckDB's HUGEINT sums) travel as exact decimals; anything else as text
        if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values):
            return pa.array([None if v is None else Decimal(v) for v in values], pa.decimal128(38, 0))
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def rows_to_ipc(rows: Rows) -> bytes:
    columns = list(zip(*rows.rows)) if rows.rows else [() for _ in rows.columns]
    # positions as names: a result may repeat a column name
    arrays = [_column(list(values)) for values in columns]
    table = pa.Table.from_arrays(arrays, names=[str(i) for i in range(len(arrays))])
    table = table.replace_schema_metadata({"columns": "\x1f".join(rows.columns)})
    return table_to_ipc(table)


def ipc_to_rows(data: bytes) -> Rows:
    table = ipc_to_table(data)
    text = (table.schema.metadata or {}).get(b"columns", b"").decode()
    names = text.split("\x1f") if table.num_columns else []
    values = [table.column(i).to_pylist() for i in range(table.num_columns)]
    exact = [table.schema.field(i).type == pa.decimal128(38, 0) for i in range(table.num_columns)]
    values = [[int(v) if v is not None else None for v in col] if whole else col for col, whole in zip(values, exact)]
    return Rows(names, list(zip(*values)) if values else [])
