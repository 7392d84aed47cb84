"""What every SQL builder needs: tables, qualified snippets, the date range, buckets.

One :class:`SqlContext` per compilation. Model snippets hold unqualified
columns; here they are qualified with the model's alias (its name), and user
filters have their dimension names replaced by the dimensions' expressions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import overload

from sqlglot import exp

from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import qualify, replace_columns
from semantic.catalog.specs import Dimension, Model
from semantic.compiler import dialects
from semantic.compiler.query import Query, ResolvedQuery
from semantic.compiler.reader import model_rows

_PLAIN_NAME = re.compile(r"^[_a-zA-Z][\w]*$")  # sqlglot's SAFE_IDENTIFIER_RE
SEGMENT_MEMBERS = "segment_members"  # the CTE holding a query's segment members (see sql_segment.with_segment)


@dataclass(frozen=True)
class SqlContext:
    """A resolved query, its catalog and the target dialect."""

    catalog: Catalog
    resolved: ResolvedQuery
    dialect: str

    @property
    def model(self) -> Model:
        return self.resolved.model

    @property
    def alias(self) -> str:
        return self.model.name

    def column(self, name: str, table: str | None = None) -> exp.Column:
        """A column of the query's model (or of ``table``), qualified by alias."""
        return exp.column(name, table=table or self.alias)

    @property
    def time_column(self) -> exp.Column:
        return self.column(self.model.time_column or "")

    @property
    def entity(self) -> exp.Column:
        return self.column(self.model.entity)

    @property
    def event_id(self) -> exp.Column:
        return self.column(self.model.primary_key)

    @overload
    def snippet(self, expression: exp.Expr) -> exp.Expr: ...

    @overload
    def snippet(self, expression: None) -> None: ...

    @overload
    def snippet(self, expression: exp.Expr | None) -> exp.Expr | None: ...

    def snippet(self, expression: exp.Expr | None) -> exp.Expr | None:
        """A model snippet (metric filter, step filter) qualified by the model's alias."""
        return None if expression is None else qualify(expression, self.alias)

    def dimension(self, dimension: Dimension) -> exp.Expr:
        """A dimension's expression, qualified by the alias of the model that owns it."""
        return qualify(dimension.expr, dimension.model)

    def user_filter(self) -> exp.Expr | None:
        """The query's ``--where`` with dimension names replaced by their expressions, and its segment test."""
        return conjunction([self._where(), self._segment_test()])

    def _where(self) -> exp.Expr | None:
        where = self.resolved.where
        if where is None:
            return None
        dims = self.catalog.dimensions

        def expand(col: exp.Column) -> exp.Expr:
            expression = self.dimension(dims[col.name])
            return expression if isinstance(expression, exp.Column) else exp.paren(expression, copy=False)

        return replace_columns(where, expand)

    def _segment_test(self) -> exp.Expr | None:
        """``entity IN (members)``; excluded: ``NOT COALESCE(entity IN (members), FALSE)`` so rows without a user stay."""
        if self.resolved.segment is None:
            return None
        members = exp.select("user_id").from_(cte(SEGMENT_MEMBERS), copy=False)
        test = exp.In(this=self.entity, query=exp.paren(members, copy=False))
        if not self.resolved.query.exclude_segment:
            return test
        return exp.not_(exp.Coalesce(this=test, expressions=[exp.false()]), copy=False)

    def source(self, select: exp.Select, *, first_times_only: bool = False) -> exp.Select:
        """``select`` reading the model's table, LEFT JOINed (many-to-one) to the joined models it needs."""
        select = select.from_(model_rows(self.catalog, self.model, first_times_only=first_times_only), copy=False)
        for relation in self.model.joins:
            if relation.model not in self.resolved.joined_models:
                continue
            target = self.catalog.models[relation.model]
            condition = self.column(relation.foreign_key).eq(exp.column(relation.primary_key, table=target.name))
            select = join(select, model_rows(self.catalog, target), condition, side="LEFT")
        return select

    def window(
        self,
        function: exp.Expr,
        partition_by: exp.Expr | list[exp.Expr],
        order_by: list[exp.Expr],
        **options,
    ) -> exp.Window:
        """A window in this query's dialect (see :func:`semantic.compiler.dialects.window`)."""
        return dialects.window(function, partition_by, order_by, self.dialect, **options)

    def range_conditions(
        self, column: exp.Expr | None = None, *, start: bool = True, end: bool = True, end_extra_seconds: int = 0
    ) -> list[exp.Expr]:
        """``time >= start`` and ``time < end + 1 day (+ extra)`` as sargable timestamp comparisons.

        Args:
            column: the time column to test (default: the model's, qualified).
        """
        query = self.resolved.query
        time = column if column is not None else self.time_column
        conditions: list[exp.Expr] = []
        if start and query.start is not None:
            conditions.append(time >= dialects.timestamp_literal(f"{query.start} 00:00:00"))
        if end and query.end is not None:
            limit = dialects.timestamp_literal(f"{query.end + timedelta(days=1)} 00:00:00")
            if end_extra_seconds:
                limit = dialects.add_seconds(limit, end_extra_seconds)
            conditions.append(time.copy() < limit)
        return conditions

    def bucket(self, column: exp.Expr) -> exp.Expr:
        return dialects.time_bucket(column, self.resolved.grain or "day", self.dialect)

    def group_columns(self) -> list[str]:
        """Names of the grouping columns every source produces: the bucket, then dimensions."""
        bucket = [self.resolved.grain] if self.resolved.grain else []
        return [*bucket, *(d.name for d in self.resolved.dimensions)]


def model_context(
    catalog: Catalog,
    model: Model,
    dialect: str = "duckdb",
    *,
    start: date | None = None,
    end: date | None = None,
    joined: tuple[str, ...] = (),
) -> SqlContext:
    """A context for a metric-less read of ``model``: its table, the range ``start``..``end`` and joins only.

    Per-user reads (a user's sequence, segments, scores) use it to get the same
    qualified columns and sargable range conditions as metric queries.
    """
    query = Query(metrics=(), start=start, end=end)
    resolved = ResolvedQuery(
        query=query,
        kind="aggregate",
        model=model,
        metrics=(),
        components=(),
        dimensions=(),
        where=None,
        joined_models=joined,
    )
    return SqlContext(catalog, resolved, dialect)


def conjunction(conditions: Sequence[exp.Expr | None]) -> exp.Expr | None:
    """AND of the non-empty conditions, each parenthesised where needed."""
    parts = [c for c in conditions if c is not None]
    return exp.and_(*parts, copy=False) if parts else None


def disjunction(conditions: list[exp.Expr]) -> exp.Expr:
    return exp.or_(*conditions, copy=False) if len(conditions) > 1 else conditions[0]


def matches_events(column: exp.Expr, events: tuple[str, ...], extra: exp.Expr | None) -> exp.Expr:
    """``event = 'x'`` (or ``IN``) and the optional filter: the test for a step or a cohort event."""
    literals = [exp.convert(e) for e in events]
    test = column.eq(literals[0]) if len(literals) == 1 else exp.In(this=column, expressions=literals)
    if extra is None:
        return test
    return exp.and_(test, exp.paren(extra, copy=False), copy=False)


def flag(condition: exp.Expr) -> exp.Expr:
    """``CASE WHEN condition THEN 1 ELSE 0 END``: a 0/1 column every dialect can sum and compare."""
    return exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.number(1))], default=exp.Literal.number(0))


def when(condition: exp.Expr | None, value: exp.Expr) -> exp.Expr:
    """``CASE WHEN condition THEN value END`` (just ``value`` without a condition)."""
    if condition is None:
        return value
    return exp.Case(ifs=[exp.If(this=condition, true=value)])


def cte(name: str, alias: str | None = None) -> exp.Table:
    """A reference to a CTE by name (optionally aliased), built without parsing."""
    table = exp.Table(this=exp.to_identifier(name))
    if alias:
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return table


def join(select: exp.Select, table: exp.Expr, on: exp.Expr | None = None, *, side: str | None = None) -> exp.Select:
    """Append ``[LEFT] JOIN table ON on`` (a CROSS JOIN without ``on``), built without parsing."""
    node = exp.Join(this=table, on=on, side=side) if on is not None else exp.Join(this=table, kind="CROSS")
    select.append("joins", node)
    return select


def with_ctes(select: exp.Select, ctes: Sequence[tuple[str, exp.Expr]]) -> exp.Select:
    """``WITH name AS (body), ...`` in front of ``select``, in the given order."""
    select.set(
        "with_",
        exp.With(
            expressions=[exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(name))) for name, body in ctes]
        ),
    )
    return select


def ident(name: str) -> exp.Column:
    """An unqualified column of a CTE (what ``exp.column(name)`` builds, without its general-case overhead)."""
    return exp.Column(this=identifier(name))


def identifier(name: str) -> exp.Identifier:
    """A name as sqlglot's ``to_identifier`` makes it: quoted only when it is not a plain word (compile speed)."""
    return exp.Identifier(this=name, quoted=not _PLAIN_NAME.match(name))


def hoist_ctes(select: exp.Select) -> tuple[list[tuple[str, exp.Expr]], exp.Select]:
    """Split ``WITH a AS (..) SELECT ..`` into its CTEs and the bare SELECT (for embedding as a CTE)."""
    with_ = select.args.get("with_")
    if with_ is None:
        return [], select
    select.set("with_", None)
    return [(node.alias, node.this) for node in with_.expressions], select
