"""SQL snippets from YAML and from users: parsing, checking, qualifying.

Snippets are written in one source dialect (DuckDB's) and parsed by sqlglot
when the catalog loads, so a typo fails validation rather than a query.
User filters (``--where``) get a stricter check: a boolean expression over
dimension names, a small allow-list of functions, nothing else.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

SOURCE_DIALECT = "duckdb"

# Functions a user filter may call: pure, row-level, present in every supported dialect.
WHERE_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.Lower, exp.Upper, exp.Coalesce, exp.Length, exp.Abs, exp.Round, exp.Cast,
    exp.Trim, exp.Substring, exp.JSONExtractScalar, exp.JSONExtract,
)
BOOLEAN_NODES: tuple[type[exp.Expression], ...] = (
    exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.In, exp.Between, exp.Like, exp.ILike, exp.Is, exp.Boolean, exp.NullSafeEQ, exp.NullSafeNEQ,
)


class SnippetError(ValueError):
    """A snippet is not acceptable; the message is one line, ready for a ``file:line:`` prefix."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else ``''``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_snippet(text: object, what: str) -> exp.Expression:
    """Parse one SQL expression (not a statement) written in the source dialect."""
    if not isinstance(text, (str, int, float)):
        raise SnippetError(f"{what} must be a SQL expression string, not {type(text).__name__}")
    source = str(text).strip()
    if not source:
        raise SnippetError(f"{what} is empty")
    try:
        statements = sqlglot.parse(source, read=SOURCE_DIALECT)
    except (ParseError, TokenError) as err:
        raise SnippetError(f"{what} is not valid SQL: {_parse_message(err)}") from None
    if len(statements) != 1 or statements[0] is None:
        raise SnippetError(f"{what} must be a single expression, found {len(statements)} statements")
    parsed = statements[0]
    if isinstance(parsed, (exp.Query, exp.Command, exp.Create, exp.Drop, exp.Insert, exp.Update, exp.Delete, exp.Alter)) or isinstance(parsed, exp.DDL):
        raise SnippetError(f"{what} must be an expression, not a {parsed.key.upper()} statement")
    return parsed


def _parse_message(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if errors:
        first = errors[0]
        description = str(first.get("description", ""))
        if description.startswith("Required keyword"):
            description = "incomplete expression"
        return f"{description} near {first.get('highlight', '')!r}".strip()
    return str(err).splitlines()[0]


def column_names(expression: exp.Expression) -> list[str]:
    """Names of the columns an expression reads, in order of appearance."""
    return [col.name for col in expression.find_all(exp.Column)]


def check_row_level(expression: exp.Expression, what: str) -> None:
    """Reject aggregates, window functions and subqueries: snippets are evaluated per row."""
    for node in expression.walk():
        if isinstance(node, (exp.Subquery, exp.Select, exp.Exists)):
            raise SnippetError(f"{what} may not contain a subquery")
        if isinstance(node, exp.Window):
            raise SnippetError(f"{what} may not contain a window function")
        if isinstance(node, exp.AggFunc):
            raise SnippetError(f"{what} may not contain an aggregate ({node.sql(SOURCE_DIALECT)})")
        if isinstance(node, exp.Star):
            raise SnippetError(f"{what} may not use *")


def check_columns(expression: exp.Expression, columns: Iterable[str], what: str) -> None:
    """Every column read must be one of ``columns``, unqualified."""
    known = list(columns)
    for col in expression.find_all(exp.Column):
        if col.table:
            raise SnippetError(f"{what}: write column {col.sql(SOURCE_DIALECT)!r} without a table name")
        if col.name not in known:
            raise SnippetError(f"{what}: unknown column {col.name!r}{did_you_mean(col.name, known)}")


def replace_columns(expression: exp.Expression, resolve: Callable[[exp.Column], exp.Expression]) -> exp.Expression:
    """A copy of ``expression`` with every column replaced by ``resolve(column)``."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return resolve(node)
        return node

    return expression.copy().transform(swap, copy=False)


def qualify(expression: exp.Expression, table: str) -> exp.Expression:
    """A copy with every column qualified by ``table`` (the model's alias in the query)."""
    return replace_columns(expression, lambda col: exp.column(col.name, table=table, quoted=col.this.quoted))


def parse_user_filter(text: str, dimension_names: Iterable[str]) -> exp.Expression:
    """Parse a ``--where`` filter: a boolean expression over dimension names.

    Raises:
        SnippetError: for anything else (statements, subqueries, unknown names,
            functions outside :data:`WHERE_FUNCTIONS`, non-boolean expressions).
    """
    expression = parse_snippet(text, "filter")
    inner = expression.unnest()
    if not isinstance(inner, BOOLEAN_NODES):
        raise SnippetError(f"filter {text!r} is not a boolean expression (use comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL)")
    check_row_level(expression, "filter")
    for node in expression.walk():
        if isinstance(node, exp.Func) and not isinstance(node, WHERE_FUNCTIONS) and not isinstance(node, BOOLEAN_NODES):
            name = node.sql_name() if not isinstance(node, exp.Anonymous) else node.name
            raise SnippetError(f"filter may not call function {name.upper()}; allowed: lower, upper, coalesce, length, abs, round, cast, trim, substring")
    names = list(dimension_names)
    for col in expression.find_all(exp.Column):
        if col.table:
            raise SnippetError(f"filter: write {col.sql(SOURCE_DIALECT)!r} as a dimension name without a table")
        if col.name not in names:
            raise SnippetError(f"filter: unknown dimension {col.name!r}{did_you_mean(col.name, names)}")
    return expression
