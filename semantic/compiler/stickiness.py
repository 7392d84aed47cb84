"""SQL for stickiness: users by their number of distinct active days in each week or month.

A user is active on a day when they have a selected event that day (any
event, or the metric's ``active`` events) inside the range; in each period
(the query's grain, week or month, else the metric's) they count under the
number of distinct such days. The range cuts periods: a week the range starts
or ends in counts only its days inside the range. With a breakdown, a user
counts under every value they had, with the days active under that value.
Rows: one per period, values and number of active days that some user has.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.specs import StickinessMetric
from semantic.compiler import dialects
from semantic.compiler.aggregate import finish
from semantic.compiler.context import SqlContext, conjunction, cte, ident, matches_events, with_ctes
from semantic.compiler.sessions import range_positions


def active_days_ctes(ctx: SqlContext) -> list[tuple[str, exp.Select]]:
    """CTEs ending in ``active_days``: one row per (period, dimension values, user) with ``active_days``."""
    metric = ctx.resolved.metrics[0]
    assert isinstance(metric, StickinessMetric)
    period = ctx.resolved.period
    dims = [d.name for d in ctx.resolved.dimensions]
    active = None
    if metric.active is not None:
        event_column = ctx.column(ctx.model.event_column or "event")
        active = matches_events(event_column, metric.active.events, ctx.snippet(metric.active.filter))
    days = (
        ctx.source(
            exp.select(
                exp.alias_(dialects.time_bucket(ctx.time_column, period, ctx.dialect), period, copy=False),
                *(exp.alias_(ctx.dimension(d), d.name, copy=False) for d in ctx.resolved.dimensions),
                exp.alias_(ctx.entity, "user_id", copy=False),
                exp.alias_(dialects.cast(ctx.time_column.copy(), "date"), "active_day", copy=False),
            ).distinct(copy=False)
        )
    ).where(
        conjunction([ctx.entity.is_(exp.null()).not_(), *ctx.range_conditions(), ctx.user_filter(), active]),
        copy=False,
    )
    keys = [period, *dims, "user_id"]
    per_user = (
        exp.select(
            *(ident(k) for k in keys),
            exp.alias_(exp.Count(this=exp.Star()), "active_days", copy=False),
        )
        .from_(cte("active_user_days"), copy=False)
        .group_by(*range_positions(len(keys)), copy=False)
    )
    return [("active_user_days", days), ("active_days", per_user)]


def build_stickiness(ctx: SqlContext) -> exp.Select:
    groups = [ctx.resolved.period, *(d.name for d in ctx.resolved.dimensions), "active_days"]
    summary = (
        exp.select(*(ident(g) for g in groups), exp.alias_(exp.Count(this=exp.Star()), "users", copy=False))
        .from_(cte("active_days"), copy=False)
        .group_by(*range_positions(len(groups)), copy=False)
    )
    return with_ctes(finish(ctx, summary, groups), active_days_ctes(ctx))
