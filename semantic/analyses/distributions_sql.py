"""SQL for distributions of users: buckets of a per-user total, shares by latest value, errors by cell.

One statement per distribution, built on the events model's :class:`SqlContext`
(qualified columns, the sargable day range, ``--where`` over dimension names).
What each statement means is written in ``semantic/distributions.py``.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expressions import SnippetError
from semantic.catalog.specs import Dimension
from semantic.compiler import dialects
from semantic.compiler.context import (
    SqlContext,
    conjunction,
    cte,
    flag,
    ident,
    join,
    matches_events,
    when,
    with_ctes,
)
from semantic.compiler.query import Query, ResolvedQuery
from semantic.compiler.sessions import range_positions

ZERO, ONE = exp.Literal.number(0), exp.Literal.number(1)
MODEL = "events"


def events_context(
    catalog: Catalog,
    dialect: str,
    *,
    start: date | None,
    end: date | None,
    where: str | None = None,
    dimensions: tuple[Dimension, ...] = (),
) -> SqlContext:
    """The events model's context over the range, with ``where`` (dimension names) and the joins it needs."""
    model = catalog.models[MODEL]
    if start and end and start > end:
        raise QueryError(f"the range starts ({start}) after it ends ({end})")
    usable = {d.name: d for d in catalog.dimensions_for(MODEL)}
    parsed = None
    if where and where.strip():
        try:
            parsed = parse_user_filter(where, usable)
        except SnippetError as err:
            raise QueryError(str(err)) from None
    used = [*dimensions, *(usable[c.name] for c in (parsed.find_all(exp.Column) if parsed else ()))]
    joined = tuple(sorted({d.model for d in used if d.model != MODEL}))
    query = Query(metrics=(), start=start, end=end, where=where)
    resolved = ResolvedQuery(
        query=query,
        kind="aggregate",
        model=model,
        metrics=(),
        components=(),
        dimensions=(),
        where=parsed,
        joined_models=joined,
    )
    return SqlContext(catalog, resolved, dialects.check_dialect(dialect))


def _selected(ctx: SqlContext, *extra: exp.Expr | None) -> exp.Expr | None:
    """Events of the range and ``--where`` that have a user, plus ``extra`` conditions."""
    return conjunction([ctx.entity.is_(exp.null()).not_(), *ctx.range_conditions(), ctx.user_filter(), *extra])


def bucket_ctes(
    ctx: SqlContext,
    edges: tuple[float, ...],
    events: tuple[str, ...] | None,
    condition: exp.Expr | None,
    amount: exp.Expr | None,
) -> list[tuple[str, exp.Expr]]:
    """``user_totals`` (user, total: event count or sum of ``amount``) and ``user_buckets`` (+ 1-based bucket).

    A total lands in bucket k when ``edges[k-1] <= total < edges[k]`` (the last bucket is open);
    bucket 0 holds totals below the first edge. Users without a matching row have no total.
    """
    match = matches_events(ctx.column(ctx.model.event_column or "event"), events, None) if events else None
    value = ctx.snippet(amount)
    total = exp.Count(this=exp.Star()) if value is None else exp.Sum(this=value)
    reads = value.copy().is_(exp.null()).not_() if value is not None else None
    snippet = ctx.snippet(condition)
    totals = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(total, "total_value", copy=False),
        )
    ).where(_selected(ctx, match, exp.paren(snippet, copy=False) if snippet is not None else None, reads), copy=False)
    totals = totals.group_by(ctx.entity.copy(), copy=False)
    index = exp.Case(
        ifs=[
            exp.If(this=ident("total_value") >= exp.convert(edge), true=exp.Literal.number(k))
            for k, edge in reversed(list(enumerate(edges, start=1)))
        ],
        default=ZERO.copy(),
    )
    buckets = exp.select(ident("user_id"), ident("total_value"), exp.alias_(index, "bucket", copy=False)).from_(
        cte("user_totals"), copy=False
    )
    return [("user_totals", totals), ("user_buckets", buckets)]


def bucket_counts(ctx: SqlContext, ctes: list[tuple[str, exp.Expr]]) -> exp.Select:
    """Users per bucket index (0: below the first edge); empty buckets have no row."""
    select = exp.select(ident("bucket"), exp.alias_(exp.Count(this=exp.Star()), "users", copy=False)).from_(
        cte("user_buckets"), copy=False
    )
    select = select.group_by(ident("bucket"), copy=False).order_by(ident("bucket"), copy=False)
    return with_ctes(select, ctes)


def bucket_member_select(ctes: list[tuple[str, exp.Expr]], bucket: int) -> exp.Select:
    """The users of one bucket with their total as ``value``: a members SELECT."""
    select = exp.select(ident("user_id"), exp.alias_(ident("total_value"), "value", copy=False)).from_(
        cte("user_buckets"), copy=False
    )
    return with_ctes(select.where(ident("bucket").eq(exp.Literal.number(bucket)), copy=False), ctes)


def latest_value_ctes(ctx: SqlContext, dimension: Dimension) -> list[tuple[str, exp.Expr]]:
    """``latest_values``: each user's latest event (time, then row key) with a non-NULL ``dimension``.

    ``MAX(time)`` per user, then a join back to the events at that instant ranked by row key for ties:
    two hash aggregates instead of ranking (sorting) every event of every user.
    """
    value = ctx.dimension(dimension)
    selected = _selected(ctx, value.copy().is_(exp.null()).not_())
    times = (
        ctx.source(
            exp.select(
                exp.alias_(ctx.entity, "user_id", copy=False),
                exp.alias_(exp.Max(this=ctx.time_column), "event_time", copy=False),
            )
        )
        .where(selected, copy=False)
        .group_by(ctx.entity.copy(), copy=False)
    )
    position = ctx.window(exp.RowNumber(), ctx.entity, [exp.Ordered(this=ctx.event_id, desc=True)])
    ranked = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(value.copy(), "dimension_value", copy=False),
            exp.alias_(position, "position", copy=False),
        )
    )
    at_latest = exp.and_(
        ctx.entity.eq(exp.column("user_id", table="latest_times")),
        ctx.time_column.eq(exp.column("event_time", table="latest_times")),
        copy=False,
    )
    ranked = join(ranked, cte("latest_times"), at_latest).where(
        selected.copy() if selected is not None else None, copy=False
    )
    latest = (
        exp.select(ident("user_id"), ident("dimension_value"))
        .from_(cte("ranked_values"), copy=False)
        .where(ident("position").eq(ONE), copy=False)
    )
    return [("latest_times", times), ("ranked_values", ranked), ("latest_values", latest)]


def share_counts(ctes: list[tuple[str, exp.Expr]]) -> exp.Select:
    """Users per latest value."""
    select = exp.select(ident("dimension_value"), exp.alias_(exp.Count(this=exp.Star()), "users", copy=False)).from_(
        cte("latest_values"), copy=False
    )
    return with_ctes(select.group_by(ident("dimension_value"), copy=False), ctes)


def share_member_select(ctes: list[tuple[str, exp.Expr]], value: object) -> exp.Select:
    """The users whose latest value is ``value``: a members SELECT."""
    select = exp.select(ident("user_id"), exp.alias_(ident("dimension_value"), "value", copy=False)).from_(
        cte("latest_values"), copy=False
    )
    return with_ctes(select.where(ident("dimension_value").eq(exp.convert(value)), copy=False), ctes)


def error_cells(
    ctx: SqlContext, by: tuple[Dimension, ...], events: tuple[str, ...], condition: exp.Expr | None
) -> exp.Select:
    """Per cell of ``by``: error events, distinct users with one, page views (the model's page_view rule), rate.

    Both kinds of rows are read in one scan; cells without an error are dropped.
    """
    assert ctx.model.sessions is not None
    snippet = ctx.snippet(condition)
    is_error = matches_events(ctx.column(ctx.model.event_column or "event"), events, snippet)
    is_view = ctx.snippet(ctx.model.sessions.page_view)
    errors = exp.Sum(this=flag(exp.paren(is_error.copy(), copy=False)))
    cells = ctx.source(
        exp.select(
            *(exp.alias_(ctx.dimension(d), d.name, copy=False) for d in by),
            exp.alias_(errors, "errors", copy=False),
            exp.alias_(
                exp.Count(this=exp.Distinct(expressions=[when(exp.paren(is_error.copy(), copy=False), ctx.entity)])),
                "users",
                copy=False,
            ),
            exp.alias_(exp.Sum(this=flag(exp.paren(is_view.copy(), copy=False))), "page_views", copy=False),
        )
    ).where(_selected_any(ctx, is_error, is_view), copy=False)
    cells = cells.group_by(*range_positions(len(by)), copy=False).having(errors.copy() > ZERO, copy=False)
    final = exp.select(
        *(ident(d.name) for d in by),
        ident("errors"),
        ident("users"),
        ident("page_views"),
        exp.alias_(dialects.safe_divide(ident("errors"), ident("page_views")), "error_rate", copy=False),
    ).from_(cte("error_cells"), copy=False)
    return with_ctes(final, [("error_cells", cells)])


def _selected_any(ctx: SqlContext, *conditions: exp.Expr) -> exp.Expr | None:
    """Range and ``--where`` (any user or none) and one of ``conditions``."""
    either = exp.paren(exp.or_(*(exp.paren(c.copy(), copy=False) for c in conditions), copy=False), copy=False)
    return conjunction([*ctx.range_conditions(), ctx.user_filter(), either])


def finish(select: exp.Select, dialect: str) -> str:
    """SQL text for ``dialect``."""
    return dialects.quote_reserved(dialects.adapt(select, dialect)).sql(dialect=dialect, pretty=True)
