"""SQL for aggregate queries: counts, sums, ratios, derived, session and first-seen metrics.

Each kind of leaf metric is computed by one *source* CTE grouped by the same
columns (bucket, dimensions). With one source the final SELECT reads it
directly; with several, their rows are stacked (UNION ALL) and regrouped,
which treats NULL dimension values as equal on every engine, unlike a join.
Ratios and derived metrics are computed in the final SELECT from leaf columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from semantic.catalog.specs import AggregateMetric, DerivedMetric, FirstSeenMetric, Metric, RatioMetric, SessionMetric
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, conjunction, cte, disjunction, ident, when, with_ctes
from semantic.compiler.reader import ACTIVE_DAYS_ROLLUP
from semantic.compiler.rollups import user_days_count, user_days_rows, user_days_table
from semantic.compiler.sessions import first_seen_ctes, range_positions, session_ctes

ZERO_WHEN_EMPTY = ("count", "count_distinct", "sum")


def build_aggregate(ctx: SqlContext) -> exp.Select:
    """The whole statement for an aggregate query."""
    components = ctx.resolved.components
    ctes: list[tuple[str, exp.Query]] = []
    sources: list[tuple[str, Sequence[Metric]]] = []
    for name, leaves in _event_scans(ctx, [m for m in components if isinstance(m, AggregateMetric)]):
        ctes.append((name, _event_metrics(ctx, leaves)))
        sources.append((name, leaves))
    sessions = [m for m in components if isinstance(m, SessionMetric)]
    if sessions:
        more, name = session_ctes(ctx, sessions)
        ctes.extend(more)
        sources.append((name, sessions))
    first_seen = [m for m in components if isinstance(m, FirstSeenMetric)]
    if first_seen:
        more, name = first_seen_ctes(ctx, first_seen)
        ctes.extend(more)
        sources.append((name, first_seen))
    groups = ctx.group_columns()
    if len(sources) == 1:
        values = sources[0][0]
    else:
        ctes.extend(_merge(groups, sources))
        values = "metric_values"
    leaf_names = {m.name for _, leaves in sources for m in leaves}
    final = exp.select(
        *(ident(g) for g in groups), *(_named(_value(ctx, m, leaf_names), m.name) for m in ctx.resolved.metrics)
    )
    final = finish(ctx, final.from_(values, copy=False), groups)
    return with_ctes(final, ctes)


def _event_scans(ctx: SqlContext, leaves: list[AggregateMetric]) -> list[tuple[str, list[AggregateMetric]]]:
    """How to split the count/sum/... leaves into scans of the table.

    One scan computes every leaf, except that a filtered distinct count next to other leaves
    gets a scan of its own: hashing only its filtered rows beats one wide
    ``COUNT(DISTINCT CASE ...)`` over the union of the filters. And when the small per-user-day
    rollup answers some of the rest but not all, those get a scan of it (the overview's visitors
    next to an amount of one event).
    """
    if len(leaves) < 2:
        return [("event_metrics", leaves)] if leaves else []
    alone = [m for m in leaves if m.aggregation == "count_distinct" and m.filter is not None]
    rest = [m for m in leaves if m not in alone]
    active: list[AggregateMetric] = []
    if len(rest) > 1 and user_days_table(ctx, rest) != ACTIVE_DAYS_ROLLUP:
        active = [m for m in rest if user_days_table(ctx, [m]) == ACTIVE_DAYS_ROLLUP]
        rest = [m for m in rest if m not in active]
    scans = [("event_metrics", rest)] if rest else []
    if active:
        scans.append(("active_day_metrics", active))
    return [*scans, *((f"{m.name}_values", [m]) for m in alone)]


def _event_metrics(ctx: SqlContext, metrics: list[AggregateMetric]) -> exp.Select:
    """One scan of the model's rows computing every count/sum/avg/min/max leaf."""
    filters = [ctx.snippet(m.filter) for m in metrics]
    shared = None
    pushdown = None
    if all(f is not None for f in filters):
        # Every leaf is filtered: rows matching none of them cannot count, so skip them early.
        distinct = list({f.sql(): f for f in filters if f is not None}.values())
        pushdown = disjunction([exp.paren(f, copy=False) for f in distinct]) if len(distinct) > 1 else distinct[0]
        shared = distinct[0] if len(distinct) == 1 else None
    from_rollup = user_days_table(ctx, metrics)  # semantic/compiler/rollups.py: the same rows, fewer of them
    selections = []
    for metric, filter_ in zip(metrics, filters):
        condition = None if shared is not None else filter_
        if from_rollup and metric.aggregation == "count":
            value = user_days_count(condition)
        else:
            value = _aggregate(metric, ctx.snippet(metric.expr), condition)
        selections.append(exp.alias_(value, metric.name, copy=False))
    bucket = [exp.alias_(ctx.bucket(ctx.time_column), ctx.resolved.grain, copy=False)] if ctx.resolved.grain else []
    dims = [exp.alias_(ctx.dimension(d), d.name, copy=False) for d in ctx.resolved.dimensions]
    select = exp.select(*bucket, *dims, *selections)
    select = select.from_(user_days_rows(ctx, from_rollup), copy=False) if from_rollup else ctx.source(select)
    where = conjunction([*ctx.range_conditions(), ctx.user_filter(), pushdown])
    if where is not None:
        select = select.where(where, copy=False)
    if bucket or dims:
        select = select.group_by(*range_positions(len(bucket) + len(dims)), copy=False)
    return select


def _aggregate(metric: AggregateMetric, expr: exp.Expr | None, condition: exp.Expr | None) -> exp.Expr:
    if metric.aggregation == "count":
        if expr is None and condition is None:
            return exp.Count(this=exp.Star())
        return exp.Count(this=when(condition, expr if expr is not None else exp.Literal.number(1)))
    assert expr is not None, "validated by the loader"
    value = when(condition, expr)
    if metric.aggregation == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    if metric.aggregation == "sum":
        return exp.Coalesce(this=exp.Sum(this=value), expressions=[exp.Literal.number(0)])
    function = {"avg": exp.Avg, "min": exp.Min, "max": exp.Max}[metric.aggregation]
    return function(this=value)


def _merge(groups: list[str], sources: list[tuple[str, Sequence[Metric]]]) -> list[tuple[str, exp.Query]]:
    """Stack each source's rows with NULL for the other sources' leaves, then regroup."""
    leaves = [m for _, ms in sources for m in ms]
    stacked: exp.Query | None = None
    for name, own in sources:
        own_names = {m.name for m in own}
        columns: list[exp.Expr] = [*(ident(g) for g in groups)]
        for leaf in leaves:
            # Every branch casts to one type: ClickHouse would otherwise stack UInt64 counts on
            # Int64 NULLs into a Variant that MAX cannot read.
            value: exp.Expr = ident(leaf.name) if leaf.name in own_names else exp.null()
            columns.append(
                exp.alias_(
                    dialects.cast(value, "bigint" if _zero_when_empty(leaf) else "double"), leaf.name, copy=False
                )
            )
        select = exp.select(*columns).from_(name, copy=False)
        stacked = select if stacked is None else exp.union(stacked, select, distinct=False, copy=False)
    merged = []
    for leaf in leaves:
        value = exp.Max(this=ident(leaf.name))
        if _zero_when_empty(leaf):
            value = exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])
        merged.append(exp.alias_(value, leaf.name, copy=False))
    regrouped = exp.select(*(ident(g) for g in groups), *merged).from_(cte("stacked_metrics"), copy=False)
    if groups:
        regrouped = regrouped.group_by(*range_positions(len(groups)), copy=False)
    assert stacked is not None
    return [("stacked_metrics", stacked), ("metric_values", regrouped)]


def _named(value: exp.Expr, name: str) -> exp.Expr:
    """``value AS name``, or just the column when it already has that name."""
    return value if isinstance(value, exp.Column) and value.name == name else exp.alias_(value, name, copy=False)


def _zero_when_empty(leaf: Metric) -> bool:
    """Counts and sums are 0 for a group a source has no rows for; averages stay NULL."""
    if isinstance(leaf, AggregateMetric):
        return leaf.aggregation in ZERO_WHEN_EMPTY
    if isinstance(leaf, SessionMetric):
        return leaf.measure == "sessions"
    return isinstance(leaf, FirstSeenMetric)


def _value(ctx: SqlContext, metric: Metric, leaves: set[str]) -> exp.Expr:
    """A requested metric's value over the leaf columns (ratios and derived computed here)."""
    metrics = ctx.catalog.metrics
    if metric.name in leaves:
        return ident(metric.name)
    if isinstance(metric, RatioMetric):
        return dialects.safe_divide(
            _operand(ctx, metrics[metric.numerator], leaves), _operand(ctx, metrics[metric.denominator], leaves)
        )
    if isinstance(metric, DerivedMetric):

        def swap(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column):
                return _operand(ctx, metrics[node.name], leaves)
            if isinstance(node, exp.Div):
                return dialects.safe_divide(node.this, node.expression)
            return node

        return metric.expr.copy().transform(swap)
    raise AssertionError(f"metric {metric.name} is neither a leaf nor composed")


def _operand(ctx: SqlContext, metric: Metric, leaves: set[str]) -> exp.Expr:
    value = _value(ctx, metric, leaves)
    return value if isinstance(value, exp.Column) else exp.paren(value, copy=False)


def finish(ctx: SqlContext, select: exp.Select, default_order: list[str]) -> exp.Select:
    """ORDER BY (the query's, else ``default_order``) and LIMIT, NULLs last everywhere."""
    query = ctx.resolved.query
    order = [(item.lstrip("-"), item.startswith("-")) for item in query.order_by] or [(g, False) for g in default_order]
    if order:
        select = select.order_by(
            *(exp.Ordered(this=ident(name), desc=desc, nulls_first=False) for name, desc in order), copy=False
        )
    if query.limit is not None:
        select = select.limit(query.limit, copy=False)
    return select
