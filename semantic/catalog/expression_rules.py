"""What the expression checker allows and refuses: node types, functions, cast types, bounds, the deny-list.

Declared here as data, apart from the checking itself (``expression_guard.py``),
so a review of what a person may write reads one table, the way sqlglot's
dialects declare only what differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from sqlglot import exp
from sqlglot.errors import SqlglotError

from semantic.catalog.expressions import SOURCE_DIALECT

TARGET_DIALECTS = ("duckdb", "postgres", "clickhouse", "snowflake", "bigquery", "trino", "spark")
MAX_LENGTH = 4000  # characters of one expression
MAX_NESTING = 12  # parentheses inside parentheses (function calls count)
MAX_PREFIX_RUN = 8  # NOT NOT NOT ... or - - - in a row
MAX_IN_ITEMS = 1000  # values in one IN list

# Functions a person's filter may call: pure, row-level, in every target dialect.
USER_FUNCTIONS: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.Lower,
        exp.Upper,
        exp.Coalesce,
        exp.Length,
        exp.Abs,
        exp.Round,
        exp.Trim,
        exp.Substring,
        exp.JSONExtractScalar,
        exp.JSONExtract,
    }
)
JSON_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
# Analysts' YAML may also use these (and what metrics/settings.yml allows, minus the deny-list).
YAML_FUNCTIONS: frozenset[type[exp.Expr]] = USER_FUNCTIONS | frozenset(
    {
        exp.Nullif,
        exp.Greatest,
        exp.Least,
        exp.Floor,
        exp.Ceil,
        exp.Concat,
        exp.If,
        exp.Sign,
        exp.Sqrt,
        exp.Pow,
        exp.Ln,
        exp.StrPosition,
    }
)
# Nodes any expression may hold: names, literals, logic, comparison, arithmetic, CASE and CAST.
STRUCTURE: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.Column,
        exp.Identifier,
        exp.Literal,
        exp.Boolean,
        exp.Null,
        exp.Paren,
        exp.Neg,
        exp.And,
        exp.Or,
        exp.Not,
        exp.EQ,
        exp.NEQ,
        exp.GT,
        exp.GTE,
        exp.LT,
        exp.LTE,
        exp.In,
        exp.Between,
        exp.Like,
        exp.ILike,
        exp.Is,
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Div,
        exp.Mod,
        exp.DPipe,
        exp.Case,
        exp.If,
        exp.Cast,
        exp.DataType,
        exp.DataTypeParam,
        exp.JSONPath,
        exp.JSONPathRoot,
        exp.JSONPathKey,
        exp.JSONPathSubscript,
    }
)
BOOLEAN_ROOTS: tuple[type[exp.Expr], ...] = (
    exp.And,
    exp.Or,
    exp.Not,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Is,
    exp.Boolean,
)
TIME_UNITS = frozenset({"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND", "DOW", "DOY"})
STATEMENTS: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name)
    for name in (
        "Query",
        "Command",
        "DDL",
        "DML",
        "Create",
        "Drop",
        "Alter",
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Set",
        "Pragma",
        "Use",
        "Transaction",
        "Commit",
        "Rollback",
        "Copy",
        "Describe",
        "Show",
        "Grant",
        "Revoke",
        "Attach",
        "Detach",
        "Export",
        "Analyze",
        "Summarize",
        "Cache",
        "Uncache",
        "LoadData",
        "Kill",
        "Execute",
    )
    if hasattr(exp, name)
)
# Built-in types a CAST may name; a user-defined, dotted or quoted type name is never one of them.
CAST_TYPES: frozenset[exp.DType] = frozenset(
    {
        exp.DataType.Type.VARCHAR,
        exp.DataType.Type.TEXT,
        exp.DataType.Type.CHAR,
        exp.DataType.Type.NVARCHAR,
        exp.DataType.Type.TINYINT,
        exp.DataType.Type.SMALLINT,
        exp.DataType.Type.INT,
        exp.DataType.Type.BIGINT,
        exp.DataType.Type.FLOAT,
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.BOOLEAN,
        exp.DataType.Type.DATE,
        exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.DATETIME,
    }
)
# Whatever a project allows, no expression may call these on any engine: files, network, settings,
# environment, large objects, sleeping, system catalogs, other servers, running SQL text.
DENIED_PREFIXES = (
    # files, network and other servers
    "read_",
    "write_",
    "file",
    "url",
    "s3",
    "gcs",
    "azure",
    "hdfs",
    "remote",
    "cluster",
    "dblink",
    "mysql",
    "postgres",
    "sqlite_",
    "odbc",
    "jdbc",
    "mongo",
    "redis",
    "iceberg",
    "delta",
    "hudi",
    "glob",
    "parquet_",
    "executable",
    "input",
    "catboost",
    "copy",
    "export",
    "import",
    "load",
    "install",
    "attach",
    "detach",
    # settings, environment, the session and the server
    "current_",
    "currentuser",
    "currentdatabase",
    "currentprofiles",
    "currentroles",
    "currentschemas",
    "session_user",
    "get",
    "set",
    "sys",
    "system",
    "duckdb_",
    "pragma_",
    "which_secret",
    "version",
    "hostname",
    "fqdn",
    "uptime",
    "filesystem",
    "inet_",
    "txid_",
    "pg_",
    "has",
    "to_reg",
    "obj_description",
    "col_description",
    "shobj_description",
    # running SQL text or reading whole tables
    "query",
    "table_to_",
    "database_to_",
    "schema_to_",
    "cursor_to_",
    "ts_stat",
    "ts_rewrite",
    "json_execute",
    "xpath",
    "dict",
    "joinget",
    # large objects, sequences (they write), sleeping
    "lo_",
    "nextval",
    "setval",
    "currval",
    "lastval",
    "sleep",
)
DENIED_NAMES = frozenset({"lo", "reset", "shell", "exec"})


@dataclass(frozen=True)
class Allowed:
    """What one kind of expression may name and call.

    Args:
        names: the column or dimension names it may read (unqualified); None: any plain name.
        functions: function node classes it may call.
        extra_functions: more functions by SQL name (lower case), from a project's settings.
        what: how messages call the expression (``filter``, ``metric 'pv': filter``).
        name_kind: how messages call a name (``dimension``, ``column``).
        boolean: whether the expression must be a condition.
    """

    names: frozenset[str] | None
    functions: frozenset[type[exp.Expr]] = USER_FUNCTIONS
    extra_functions: frozenset[str] = frozenset()
    what: str = "filter"
    name_kind: str = "dimension"
    boolean: bool = False


def is_denied(name: str) -> bool:
    """Whether a function name is on the built-in deny-list (which wins over any allow-list)."""
    lowered = name.lower()
    return lowered in DENIED_NAMES or lowered.startswith(DENIED_PREFIXES)


@lru_cache(maxsize=256)
def classes_named(name: str) -> frozenset[type[exp.Expr]]:
    """The node classes DuckDB's parser builds for a call of ``name`` (``date_trunc`` → TimestampTrunc)."""
    found: set[type[exp.Expr]] = set()
    for arity in range(1, 5):
        try:
            node = exp.func(name, *(exp.column(f"a{i}") for i in range(arity)), dialect=SOURCE_DIALECT)
        except (SqlglotError, ValueError, TypeError):
            continue
        if not isinstance(node, exp.Anonymous):
            found.add(type(node))
    return frozenset(found)


def function_names(node: exp.Func) -> list[str]:
    """A function node's names in lower case: the called name first, then sqlglot's names for its class."""
    if isinstance(node, exp.Anonymous):
        return [str(node.name).lower()]
    # class objects are hashable; mypy does not see it for a type[...] value (python/mypy#11470)
    return [name.lower() for name in class_names(type(node))] or [node.key]  # type: ignore[arg-type]


@cache
def class_names(cls: type[exp.Expr]) -> tuple[str, ...]:
    if cls is exp.JSONExtractScalar:
        return ("json_extract_string", "->>")
    if cls is exp.JSONExtract:
        return ("json_extract", "->")
    if issubclass(cls, exp.Func):
        try:
            return tuple(n.lower() for n in cls.sql_names())
        except NotImplementedError:
            pass
    return (cls.key,)
