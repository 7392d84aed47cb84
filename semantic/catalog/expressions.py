"""SQL snippets from YAML and from users: names, messages, qualifying columns.

Snippets are written in one source dialect (DuckDB's) and parsed when the
catalog loads or a question arrives; :mod:`semantic.catalog.expression_guard` is the
one checker every snippet passes. Here: what the checked trees are then
used for (their column names, qualifying them for a query).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from sqlglot import exp

SOURCE_DIALECT = "duckdb"


class SnippetError(ValueError):
    """A snippet is not acceptable; the message is one line, ready for a ``file:line:`` prefix."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else ``''``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def column_names(expression: exp.Expr) -> list[str]:
    """Names of the columns an expression reads, in order of appearance."""
    return [col.name for col in expression.find_all(exp.Column)]


def replace_columns(expression: exp.Expr, resolve: Callable[[exp.Column], exp.Expr]) -> exp.Expr:
    """A copy of ``expression`` with every column replaced by ``resolve(column)``."""

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            return resolve(node)
        return node

    return expression.copy().transform(swap, copy=False)


def qualify(expression: exp.Expr, table: str) -> exp.Expr:
    """A copy with every column qualified by ``table`` (the model's alias in the query)."""
    return replace_columns(expression, lambda col: exp.column(col.name, table=table, quoted=col.this.quoted))
