"""SQL for LTV (cumulative value) metrics: each cohort's running total of an amount per period.

The cohort is every user whose first-ever cohort event (matching the query's
filter too) falls in the range, grouped by that event's day, week or month
(the query's grain, else the metric's period) and its dimension values, as
for retention. A cohort's amount in period N (N = 0 is the cohort's own
period) is the sum of ``amount`` over its users' value events from their
cohort event on, up to the end of the N-th period after the cohort's:
cumulative, so it never falls. A period that has not fully elapsed by the
data's last event is NULL, never a partial sum.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.specs import LtvMetric
from semantic.compiler import dialects
from semantic.compiler.aggregate import finish
from semantic.compiler.context import SqlContext, conjunction, cte, ident, join, matches_events, when, with_ctes
from semantic.compiler.first_events import first_event_ctes
from semantic.compiler.reader import model_rows
from semantic.compiler.retention import period_elapsed
from semantic.compiler.sessions import range_positions

ONE = exp.Literal.number(1)


def _c(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table)


def ltv_cohort_ctes(ctx: SqlContext) -> list[tuple[str, exp.Select]]:
    """CTEs ending in ``ltv_cohort_users`` (user_id, cohort_time, cohort, dimensions) and ``ltv_values``
    (user_id, value_period, amount: each cohort user's amounts from their cohort event on, per period)."""
    metric = ctx.resolved.metrics[0]
    assert isinstance(metric, LtvMetric)
    period = ctx.resolved.period
    dims = [d.name for d in ctx.resolved.dimensions]
    event_column = ctx.column(ctx.model.event_column or "event")
    user_filter = ctx.user_filter()
    cohort_match = matches_events(event_column, metric.cohort.events, ctx.snippet(metric.cohort.filter))
    firsts, first_only = first_event_ctes(ctx, "ltv_cohort_events", conjunction([cohort_match, user_filter]))
    cohort_users = exp.select(
        ident("user_id"),
        exp.alias_(ident("event_time"), "cohort_time", copy=False),
        exp.alias_(dialects.time_bucket(ident("event_time"), period, ctx.dialect), "cohort", copy=False),
        *(ident(d) for d in dims),
    ).from_(cte("ltv_cohort_events"), copy=False)
    if first_only is not None:
        cohort_users = cohort_users.where(first_only, copy=False)
    value_match = matches_events(event_column.copy(), metric.value.events, ctx.snippet(metric.value.filter))
    values = ctx.source(
        exp.select(
            exp.alias_(_c("cohort", "user_id"), "user_id", copy=False),
            exp.alias_(dialects.time_bucket(ctx.time_column, period, ctx.dialect), "value_period", copy=False),
            exp.alias_(exp.Sum(this=ctx.snippet(metric.amount)), "amount", copy=False),
        )
    )
    values = join(values, cte("ltv_cohort_users", "cohort"), _c("cohort", "user_id").eq(ctx.entity))
    values = values.where(
        conjunction(
            [
                value_match,
                user_filter.copy() if user_filter is not None else None,
                *ctx.range_conditions(end=False),
                ctx.time_column.copy() >= _c("cohort", "cohort_time"),
            ]
        ),
        copy=False,
    ).group_by(*range_positions(2), copy=False)
    return [*firsts, ("ltv_cohort_users", cohort_users), ("ltv_values", values)]


def period_offsets(first: int, last: int, name: str = "offsets") -> exp.Select:
    """``SELECT period FROM (VALUES (first), ..., (last))``: the periods of a cohort grid."""
    return exp.select("period").from_(
        exp.values([(n,) for n in range(first, last + 1)], alias=name, columns=["period"]), copy=False
    )


def build_ltv(ctx: SqlContext) -> exp.Select:
    metric = ctx.resolved.metrics[0]
    assert isinstance(metric, LtvMetric)
    period = ctx.resolved.period
    dims = [d.name for d in ctx.resolved.dimensions]
    reached = dialects.add_periods(_c("users", "cohort"), _c("ltv_periods", "period"), period)

    def row(table: str, member: int, amount: exp.Expr) -> exp.Select:
        return exp.select(
            exp.alias_(_c(table, "cohort"), "cohort", copy=False),
            *(exp.alias_(_c(table, d), d, copy=False) for d in dims),
            exp.alias_(_c("ltv_periods", "period"), "period", copy=False),
            exp.alias_(dialects.cast(exp.Literal.number(member), "bigint"), "member", copy=False),
            exp.alias_(dialects.as_double(amount), "amount", copy=False),
        )

    # Each cohort user once per period (the sizes), and each of their value periods in every period it has
    # reached by then (the cumulative amounts); stacked and regrouped, so NULL values group alike everywhere.
    members = join(
        row("users", 1, exp.Literal.number(0)).from_(cte("ltv_cohort_users", "users"), copy=False), cte("ltv_periods")
    )
    amounts = join(
        join(
            row("users", 0, _c("vals", "amount")).from_(cte("ltv_values", "vals"), copy=False),
            cte("ltv_cohort_users", "users"),
            exp.EQ(this=_c("users", "user_id"), expression=_c("vals", "user_id")),
        ),
        cte("ltv_periods"),
    ).where(_c("vals", "value_period") <= reached, copy=False)
    stacked = exp.union(members, amounts, distinct=False, copy=False)
    counts = (
        exp.select(
            ident("cohort"),
            *(ident(d) for d in dims),
            ident("period"),
            exp.alias_(exp.Sum(this=ident("member")), "cohort_size", copy=False),
            exp.alias_(exp.Sum(this=ident("amount")), "amount", copy=False),
        )
        .from_(cte("ltv_stacked"), copy=False)
        .group_by(*range_positions(2 + len(dims)), copy=False)
    )
    data_end = exp.select(exp.alias_(exp.Max(this=ctx.time_column), "last_event_time", copy=False)).from_(
        model_rows(ctx.catalog, ctx.model), copy=False
    )
    known = period_elapsed(period)
    final = exp.select(
        ident("cohort"),
        *(ident(d) for d in dims),
        ident("period"),
        ident("cohort_size"),
        exp.alias_(when(known, ident("amount")), "amount", copy=False),
        exp.alias_(
            when(known.copy(), dialects.safe_divide(ident("amount"), ident("cohort_size"))),
            "amount_per_user",
            copy=False,
        ),
    ).from_(cte("ltv_counts"), copy=False)
    final = finish(ctx, join(final, cte("data_end")), ["cohort", *dims, "period"])
    return with_ctes(
        final,
        [
            *ltv_cohort_ctes(ctx),
            ("ltv_periods", period_offsets(0, metric.periods, "ltv_offsets")),
            ("ltv_stacked", stacked),
            ("data_end", data_end),
            ("ltv_counts", counts),
        ],
    )
