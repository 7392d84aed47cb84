"""Compile a :class:`~semantic.compiler.query.Query` into one SQL statement for a dialect.

Typed specs → resolved query (names checked) → sqlglot AST built by the
builder for the query's kind → SQL text for the dialect. Values from users
(dates, filter literals) only ever enter the AST as sqlglot literals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from semantic.catalog.catalog import Catalog
from semantic.compiler import dialects
from semantic.compiler.aggregate import build_aggregate
from semantic.compiler.context import SqlContext
from semantic.compiler.funnel import build_funnel
from semantic.compiler.interval import build_interval
from semantic.compiler.ltv import build_ltv
from semantic.compiler.query import Query, ResolvedQuery, output_columns, resolve
from semantic.compiler.retention import build_retention
from semantic.compiler.segment import with_segment
from semantic.compiler.stickiness import build_stickiness

BUILDERS: dict[str, Callable[[SqlContext], exp.Select]] = {
    "aggregate": build_aggregate,
    "funnel": build_funnel,
    "retention": build_retention,
    "interval": build_interval,
    "ltv": build_ltv,
    "stickiness": build_stickiness,
}


@dataclass(frozen=True)
class CompiledQuery:
    """One SQL statement and what its rows mean."""

    sql: str
    dialect: str
    kind: str
    columns: list[str]
    resolved: ResolvedQuery
    ast: exp.Expr


def build_ast(catalog: Catalog, resolved: ResolvedQuery, dialect: str) -> exp.Expr:
    """The sqlglot AST answering ``resolved`` on ``dialect``."""
    ast = BUILDERS[resolved.kind](SqlContext(catalog, resolved, dialect))
    ast = with_segment(ast, catalog, resolved, dialect)
    return dialects.quote_reserved(dialects.adapt(ast, dialect))


def compile_query(catalog: Catalog, query: Query, dialect: str = "duckdb", *, pretty: bool = True) -> CompiledQuery:
    """Compile ``query`` for ``dialect``.

    Raises:
        QueryError: an unknown name, an impossible combination, a bad filter or dialect.
    """
    dialect = dialects.check_dialect(dialect)
    resolved = resolve(catalog, query)
    ast = build_ast(catalog, resolved, dialect)
    # The AST was built for this call alone, so the generator may transform it in place.
    sql = ast.sql(dialect=dialect, pretty=pretty, copy=False)
    return CompiledQuery(
        sql=sql, dialect=dialect, kind=resolved.kind, columns=output_columns(resolved), resolved=resolved, ast=ast
    )
