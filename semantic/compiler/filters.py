"""Filters from widgets as ``--where`` text, built by sqlglot so values are always quoted literals.

The app's sidebar picks values (platform = iOS); turning them into the
query's ``where`` must not splice text, or a value with a quote would break
or change the filter. :func:`equals_where` builds the expression as an AST,
with any extra filter text parsed and checked first, so it stays one
parenthesised condition whatever it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlglot import exp

from finlens_common.errors import QueryError
from semantic.catalog.expression_guard import parse_checked
from semantic.catalog.expression_rules import Allowed
from semantic.catalog.expressions import SOURCE_DIALECT, SnippetError


def equals_where(pairs: Iterable[tuple[str, Any]], extra: str | None = None) -> str | None:
    """``name = 'value' AND …`` (a list value becomes ``IN``, None ``IS NULL``), plus ``extra`` in parentheses.

    An empty list means no choice (no condition); None is the clicked "(none)" value, which must narrow.

    >>> equals_where([("platform", "iOS"), ("channel", ["a", "b'c"]), ("city", None)])
    "platform = 'iOS' AND channel IN ('a', 'b''c') AND city IS NULL"
    """
    parts: list[exp.Expr] = []
    for name, value in pairs:
        column = exp.column(name)
        if isinstance(value, (list, tuple)) and not value:
            continue
        if value is None:
            parts.append(column.is_(exp.null()))
        elif isinstance(value, (list, tuple)):
            parts.append(exp.In(this=column, expressions=[exp.convert(v) for v in value]))
        else:
            parts.append(column.eq(exp.convert(value)))
    if extra and extra.strip():
        try:
            checked = parse_checked(extra, Allowed(names=None, boolean=True))
        except SnippetError as err:
            raise QueryError(str(err)) from None
        parts.append(exp.paren(checked, copy=False))
    if not parts:
        return None
    return exp.and_(*parts, copy=False).sql(dialect=SOURCE_DIALECT)
