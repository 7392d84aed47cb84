"""What the two ClickHouse connectors (server over HTTP, embedded chdb) share.

Both run the SQL compiled for the ``clickhouse`` dialect; both pin the session
time zone to UTC so a naive ``event_time`` means the same wall-clock time as on
DuckDB and PostgreSQL, and set ``join_use_nulls = 1`` (the compiled SQL repeats
it, which read-only mode allows because the value does not change). Both run
one statement per call: text holding a second one is refused before it is sent.

Read-only use: chdb sessions end their set-up with ``readonly = 1``, which also
refuses table functions (``file``, ``url``, ``s3``, ``remote``) and any change of
setting. Over HTTP, settings travel with each request, so the server's user
profile must carry that restriction (README, Security); the client asks for
``readonly = 2``, which a profile with ``readonly = 1`` cannot loosen.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from connectors.base import Rows
from finlens_common.errors import WarehouseError

SESSION_SETTINGS: dict[str, Any] = {"session_timezone": "UTC", "join_use_nulls": 1}
READ_ONLY_SETTINGS: dict[str, Any] = {"readonly": 2}


def check_single_statement(sql: str, name: str) -> None:
    """Refuse text holding more than one statement (ClickHouse's tokens: ``;`` inside a string is no separator)."""
    try:
        tokens = Dialect.get_or_raise("clickhouse").tokenize(sql)
    except TokenError:
        raise WarehouseError(f"ClickHouse warehouse {name}: refused SQL that does not tokenize") from None
    separators = [i for i, token in enumerate(tokens) if token.token_type == TokenType.SEMICOLON]
    if (
        separators
        and separators[0] < len(tokens) - 1
        and any(t.token_type != TokenType.SEMICOLON for t in tokens[separators[0] :])
    ):
        raise WarehouseError(
            f"ClickHouse warehouse {name}: refused SQL holding more than one statement; one is run at a time"
        )


def set_sql(name: str, value: Any) -> str:
    """``SET name = value`` for ClickHouse, the value as a literal."""
    item = exp.SetItem(this=exp.EQ(this=exp.column(name), expression=exp.convert(value)))
    return exp.Set(expressions=[item]).sql(dialect="clickhouse")


def rows_from_arrow(table: pa.Table) -> Rows:
    """Arrow → plain rows (ClickHouse hands back Arrow cheaply; rows are what callers compare)."""
    columns = table.column_names
    data = table.to_pydict()
    return Rows(columns, list(zip(*(data[c] for c in columns))) if columns else [])


def explain(kind: str, name: str, text: str) -> str:
    """A one-line message naming the warehouse and what to check."""
    first = (text.strip().splitlines() or ["error"])[0]
    lowered = first.lower()
    if (
        "unknown_table" in lowered
        or "unknown table" in lowered
        or ("table" in lowered and "doesn't exist" in lowered)
        or "code: 60" in lowered
    ):
        hint = "; load the data (finlens demo --warehouse ...) or fix the model's table in metrics/models/"
    elif "unknown_identifier" in lowered or "missing columns" in lowered or "code: 47" in lowered:
        hint = "; the table lacks a column the model declares (metrics/models/)"
    elif "authentication" in lowered or "password" in lowered or "code: 516" in lowered:
        hint = "; check the user name and password in the URL"
    elif "timeout" in lowered or "timed out" in lowered or "code: 159" in lowered:
        hint = "; the query ran past query_timeout"
    else:
        hint = ""
    return f"{kind} warehouse {name}: {first[:400]}{hint}"
