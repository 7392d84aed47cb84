"""Each user's first event matching a condition: for new users and retention cohorts.

Ranking every event of every user (``ROW_NUMBER() OVER (PARTITION BY user ...)``)
sorts the whole table. Instead: ``MIN(time) GROUP BY user`` (with the date
range applied to that minimum), and only when the first event's own columns
are needed, a join back to the events at that instant, ranked by event id to
break ties. Both steps are hash aggregates and joins every dialect runs well.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.compiler.context import SqlContext, conjunction, cte, flag, ident, join
from semantic.compiler.reader import role_condition

ONE = exp.Literal.number(1)


def first_event_ctes(
    ctx: SqlContext,
    name: str,
    condition: exp.Expr | None,
    *,
    flag_filter: exp.Expr | None = None,
    first_ever: bool = False,
) -> tuple[list[tuple[str, exp.Select]], exp.Expr | None]:
    """CTEs ending in ``name``: one row per user whose first matching event falls in the range.

    ``name`` has ``user_id``, ``event_time``, the query's dimension columns (named) and, with
    ``flag_filter``, ``matches_filter`` (1 when the first event passes it). Returns the CTEs and
    the condition that keeps, in ``name``, one row per user whose first event passes the filter
    (None when every row of ``name`` is one).

    ``first_ever`` (new users): the first event is the first in the whole table, and a role's row
    condition is tested on it like the ``--where`` in ``flag_filter``; otherwise (retention cohorts) the
    role's rows are the rows, as a ``--where`` in ``condition`` makes them.
    """
    if first_ever:
        flag_filter = conjunction([flag_filter, role_condition(ctx.catalog, ctx.model)])
    not_null = ctx.entity.is_(exp.null()).not_()
    first_time = exp.Min(this=ctx.time_column)
    times = (
        ctx.source(
            exp.select(
                exp.alias_(ctx.entity, "user_id", copy=False),
                exp.alias_(first_time, "event_time", copy=False),
            ),
            first_times_only=first_ever,
        )
        .where(conjunction([not_null, condition]), copy=False)
        .group_by(ctx.entity.copy(), copy=False)
    )
    in_range = conjunction(ctx.range_conditions(first_time.copy()))
    if in_range is not None:
        times = times.having(in_range, copy=False)
    if not ctx.resolved.dimensions and flag_filter is None:
        return [(name, times)], None

    times_name = f"{name}_times"
    firsts = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(ctx.time_column, "event_time", copy=False),
            *(exp.alias_(ctx.dimension(d), d.name, copy=False) for d in ctx.resolved.dimensions),
            *([exp.alias_(flag(flag_filter), "matches_filter", copy=False)] if flag_filter is not None else []),
            exp.alias_(ctx.window(exp.RowNumber(), ctx.entity, [ctx.event_id]), "event_rank", copy=False),
        ),
        first_times_only=first_ever,
    )
    at_first = exp.and_(
        ctx.entity.eq(exp.column("user_id", table=times_name)),
        ctx.time_column.eq(exp.column("event_time", table=times_name)),
        copy=False,
    )
    firsts = join(firsts, cte(times_name), at_first)
    if condition is not None:
        firsts = firsts.where(condition.copy(), copy=False)
    passes = ident("matches_filter").eq(ONE) if flag_filter is not None else None
    return [(times_name, times), (name, firsts)], conjunction([ident("event_rank").eq(ONE), passes])
