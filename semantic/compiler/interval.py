"""SQL for interval metrics: the seconds from a start event to the same user's next end event.

Each start event in the range is paired with the first end event after it in
the user's order of events (time, then start events before others at the
same instant, then event id), when that end comes at most ``window`` later
(inclusive); a start without one makes no interval. "After" never means the
start itself, so ``invest → next invest`` pairs each investment with the next
one. Like the funnel, one sort of a user's matching events gives every row a
running count of end events up to it, so the next end after row r is the end
row whose count is r's count + 1: an equi-join, not a search.

Rows per bucket (the start's) and dimension values (the start's): ``users``
with at least one interval, ``intervals``, ``mean_seconds`` and the
continuous percentiles ``p10_seconds`` … ``p90_seconds`` over the intervals.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.specs import PERCENTILES, IntervalMetric
from semantic.compiler import dialects
from semantic.compiler.aggregate import finish
from semantic.compiler.context import SqlContext, conjunction, cte, flag, ident, join, matches_events, with_ctes
from semantic.compiler.sessions import range_positions

ONE = exp.Literal.number(1)


def _col(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table)


def interval_pairs(ctx: SqlContext) -> list[tuple[str, exp.Select]]:
    """CTEs ending in ``interval_pairs``: one row per interval with ``user_id``, the start's
    ``start_time``, bucket and dimension columns, ``end_time`` and ``seconds``."""
    metric = ctx.resolved.metrics[0]
    assert isinstance(metric, IntervalMetric)
    event_column = ctx.column(ctx.model.event_column or "event")
    is_start = matches_events(event_column, metric.start.events, ctx.snippet(metric.start.filter))
    is_end = matches_events(event_column.copy(), metric.end.events, ctx.snippet(metric.end.filter))
    grain = ctx.resolved.grain
    events = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(ctx.time_column, "event_time", copy=False),
            exp.alias_(ctx.event_id, "event_id", copy=False),
            *([exp.alias_(ctx.bucket(ctx.time_column.copy()), grain, copy=False)] if grain else []),
            *(exp.alias_(ctx.dimension(d), d.name, copy=False) for d in ctx.resolved.dimensions),
            exp.alias_(flag(is_start), "is_start", copy=False),
            exp.alias_(flag(is_end), "is_end", copy=False),
        )
    ).where(
        conjunction(
            [
                ctx.entity.is_(exp.null()).not_(),
                *ctx.range_conditions(end_extra_seconds=metric.window_seconds),
                ctx.user_filter(),
                exp.or_(exp.paren(is_start.copy(), copy=False), exp.paren(is_end.copy(), copy=False), copy=False),
            ]
        ),
        copy=False,
    )
    # start events sort before other events at the same instant, so an end at that instant comes after them
    start_first = exp.Sub(this=ONE.copy(), expression=ident("is_start"))
    positions = exp.select(
        exp.Star(),
        exp.alias_(
            ctx.window(
                exp.Sum(this=ident("is_end")),
                ident("user_id"),
                [ident("event_time"), start_first, ident("event_id")],
                frame="running",
            ),
            "end_count",
            copy=False,
        ),
    ).from_(cte("interval_events"), copy=False)
    seconds = dialects.quirks(ctx.dialect).seconds_between
    on = exp.and_(
        _col("finish", "user_id").eq(_col("begin", "user_id")),
        _col("finish", "end_count").eq(exp.Add(this=_col("begin", "end_count"), expression=ONE.copy())),
        _col("finish", "is_end").eq(ONE.copy()),
        copy=False,
    )
    groups = [*([grain] if grain else []), *(d.name for d in ctx.resolved.dimensions)]
    pairs = join(
        exp.select(
            exp.alias_(_col("begin", "user_id"), "user_id", copy=False),
            exp.alias_(_col("begin", "event_time"), "start_time", copy=False),
            *(exp.alias_(_col("begin", g), g, copy=False) for g in groups),
            exp.alias_(_col("finish", "event_time"), "end_time", copy=False),
            exp.alias_(seconds(_col("begin", "event_time"), _col("finish", "event_time")), "seconds", copy=False),
        ).from_(cte("interval_positions", "begin"), copy=False),
        cte("interval_positions", "finish"),
        on,
    ).where(
        conjunction(
            [
                _col("begin", "is_start").eq(ONE.copy()),
                *ctx.range_conditions(_col("begin", "event_time"), start=False),
                _col("finish", "event_time")
                <= dialects.add_seconds(_col("begin", "event_time"), metric.window_seconds),
            ]
        ),
        copy=False,
    )
    return [("interval_events", events), ("interval_positions", positions), ("interval_pairs", pairs)]


def build_interval(ctx: SqlContext) -> exp.Select:
    groups = [*([ctx.resolved.grain] if ctx.resolved.grain else []), *(d.name for d in ctx.resolved.dimensions)]
    seconds = ident("seconds")
    summary = exp.select(
        *(ident(g) for g in groups),
        exp.alias_(exp.Count(this=exp.Distinct(expressions=[ident("user_id")])), "users", copy=False),
        exp.alias_(exp.Count(this=exp.Star()), "intervals", copy=False),
        exp.alias_(dialects.as_double(exp.Avg(this=seconds)), "mean_seconds", copy=False),
        *(
            exp.alias_(
                dialects.as_double(dialects.percentile(seconds.copy(), p / 100, ctx.dialect)),
                f"p{p}_seconds",
                copy=False,
            )
            for p in PERCENTILES
        ),
    ).from_(cte("interval_pairs"), copy=False)
    if groups:
        summary = summary.group_by(*range_positions(len(groups)), copy=False)
    return with_ctes(finish(ctx, summary, groups), interval_pairs(ctx))
