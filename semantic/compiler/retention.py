"""SQL for retention: cohorts by first-ever cohort event, returns by calendar period.

The cohort is every user whose first-ever event matching the cohort step
(and the query's filter) falls in the range, grouped by that event's day,
week or month and its dimension values. A user is retained in period N
(N >= 1) when they did the return event in the N-th calendar period after
their cohort's (``mode: exact``), or in it or any later one (``on_or_after``:
their latest return period is at least N). A period that has not fully
elapsed by the data's last event is NULL (not yet known), never 0. The period
is the query's grain when given, else the metric's. With ``average``, rows
with ``cohort`` = ``all`` give per period the cohorts' average weighted by
their sizes, over the cohorts whose period N is known.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.specs import RetentionMetric
from semantic.compiler import dialects
from semantic.compiler.aggregate import finish
from semantic.compiler.context import SqlContext, conjunction, cte, ident, join, matches_events, when, with_ctes
from semantic.compiler.first_events import first_event_ctes
from semantic.compiler.reader import time_bounds
from semantic.compiler.retention_arrays import average_in_one_pass, retention_count_ctes
from semantic.compiler.sessions import range_positions

ONE = exp.Literal.number(1)


def build_retention(ctx: SqlContext) -> exp.Select:
    metric = ctx.resolved.metrics[0]
    assert isinstance(metric, RetentionMetric)
    dims = [d.name for d in ctx.resolved.dimensions]
    event_column = ctx.column(ctx.model.event_column or "event")
    user_filter = ctx.user_filter()
    not_null_user = ctx.entity.is_(exp.null()).not_()
    period = ctx.resolved.period
    unbounded = metric.mode == "on_or_after"

    def period_start(time: exp.Expr) -> exp.Expr:
        return dialects.time_bucket(time, period, ctx.dialect)

    cohort_match = matches_events(event_column, metric.cohort.events, ctx.snippet(metric.cohort.filter))
    firsts, first_only = first_event_ctes(ctx, "cohort_events", conjunction([cohort_match, user_filter]))

    cohort_users = exp.select(
        ident("user_id"),
        exp.alias_(period_start(ident("event_time")), "cohort", copy=False),
        *(ident(d) for d in dims),
    ).from_(cte("cohort_events"), copy=False)
    if first_only is not None:
        cohort_users = cohort_users.where(first_only, copy=False)

    returns = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(
                exp.Max(this=period_start(ctx.time_column)) if unbounded else period_start(ctx.time_column),
                "return_period",
                copy=False,
            ),
        )
    )
    returns = (returns.group_by(ctx.entity.copy(), copy=False) if unbounded else returns.distinct(copy=False)).where(
        conjunction(
            [
                not_null_user.copy(),
                matches_events(event_column.copy(), metric.returning.events, ctx.snippet(metric.returning.filter)),
                user_filter.copy() if user_filter is not None else None,
                *ctx.range_conditions(end=False),
            ]
        ),
        copy=False,
    )

    offsets = exp.select("period").from_(
        exp.values([(n,) for n in range(1, metric.periods + 1)], alias="offsets", columns=["period"]), copy=False
    )

    data_end = time_bounds(ctx.model, first=False, last_alias="last_event_time")

    target = dialects.add_periods(_c("cohort_users", "cohort"), _c("retention_periods", "period"), period)
    counts = exp.select(
        exp.alias_(_c("cohort_users", "cohort"), "cohort", copy=False),
        *(exp.alias_(_c("cohort_users", d), d, copy=False) for d in dims),
        exp.alias_(_c("retention_periods", "period"), "period", copy=False),
        exp.alias_(exp.Count(this=exp.Star()), "cohort_size", copy=False),
        exp.alias_(
            # unbounded: one row per user (their latest return); it counts from period 1 up to that one
            exp.Count(this=when(_c("returns", "return_period") >= target, ONE.copy()))
            if unbounded
            else exp.Count(this=_c("returns", "user_id")),
            "retained",
            copy=False,
        ),
    ).from_(cte("cohort_users"), copy=False)
    counts = join(counts, cte("retention_periods"))
    same_user = _c("returns", "user_id").eq(_c("cohort_users", "user_id"))
    returned = same_user if unbounded else exp.and_(same_user, _c("returns", "return_period").eq(target), copy=False)
    counts = join(counts, cte("return_periods", "returns"), returned, side="LEFT").group_by(
        *range_positions(2 + len(dims)), copy=False
    )

    known = period_elapsed(period)
    final = exp.select(
        ident("cohort"),
        *(ident(d) for d in dims),
        ident("period"),
        ident("cohort_size"),
        exp.alias_(when(known, ident("retained")), "retained", copy=False),
        exp.alias_(
            when(known.copy(), dialects.safe_divide(ident("retained"), ident("cohort_size"))), "rate", copy=False
        ),
    ).from_(cte("retention_counts"), copy=False)
    final = join(final, cte("data_end"))
    ctes: list[tuple[str, exp.Expr]] = [
        *firsts,
        ("cohort_users", cohort_users),
        ("return_periods", returns),
        ("retention_periods", offsets),
        ("data_end", data_end),
        ("retention_counts", counts),
    ]
    if ctx.dialect == "clickhouse":
        # counts from one per-user GROUP BY instead of joins (retention_arrays.py); the CTEs before
        # stay for the drill-down, which reads cohort_users and return_periods (unused ones cost nothing)
        ctes = [*ctes[:-1], *retention_count_ctes(ctx, metric)]
    if ctx.resolved.query.average and ctx.dialect == "clickhouse":
        ctes.append(("retention_rows", final))
        final = average_in_one_pass(dims)
    elif ctx.resolved.query.average:
        ctes.extend([("retention_rows", final), ("retention_sums", _known_sums(dims))])
        final = _with_average(dims)
    return with_ctes(finish(ctx, final, ["cohort", *dims, "period"]), ctes)


def _known_sums(dims: list[str]) -> exp.Select:
    """Per period (and values): Σ cohort size and Σ retained over the cohorts whose period is known."""
    known = _c("r", "retained").is_(exp.null()).not_()
    return (
        exp.select(
            *(exp.alias_(_c("r", d), d, copy=False) for d in dims),
            exp.alias_(_c("r", "period"), "period", copy=False),
            exp.alias_(
                exp.Coalesce(
                    this=exp.Sum(this=when(known, _c("r", "cohort_size"))), expressions=[exp.Literal.number(0)]
                ),
                "known_size",
                copy=False,
            ),
            exp.alias_(exp.Sum(this=_c("r", "retained")), "known_retained", copy=False),
        )
        .from_(cte("retention_rows", "r"), copy=False)
        .group_by(*range_positions(len(dims) + 1), copy=False)
    )


def _with_average(dims: list[str]) -> exp.Select:
    """The cohorts' rows (cohort as ISO text) and, per period, ``all``: Σ retained / Σ size over the known cohorts.

    Columns are qualified: ClickHouse would read a bare name as the alias of the same SELECT.
    """
    cohorts = exp.select(
        exp.alias_(dialects.cast(_c("r", "cohort"), "varchar"), "cohort", copy=False),
        *(exp.alias_(_c("r", d), d, copy=False) for d in dims),
        exp.alias_(_c("r", "period"), "period", copy=False),
        exp.alias_(dialects.cast(_c("r", "cohort_size"), "bigint"), "cohort_size", copy=False),
        exp.alias_(dialects.cast(_c("r", "retained"), "bigint"), "retained", copy=False),
        exp.alias_(_c("r", "rate"), "rate", copy=False),
    ).from_(cte("retention_rows", "r"), copy=False)
    average = exp.select(
        exp.alias_(dialects.cast(exp.convert("all"), "varchar"), "cohort", copy=False),
        *(exp.alias_(_c("s", d), d, copy=False) for d in dims),
        exp.alias_(_c("s", "period"), "period", copy=False),
        exp.alias_(dialects.cast(_c("s", "known_size"), "bigint"), "cohort_size", copy=False),
        exp.alias_(dialects.cast(_c("s", "known_retained"), "bigint"), "retained", copy=False),
        exp.alias_(dialects.safe_divide(_c("s", "known_retained"), _c("s", "known_size")), "rate", copy=False),
    ).from_(cte("retention_sums", "s"), copy=False)
    stacked = exp.union(cohorts, average, distinct=False, copy=False)
    return exp.select(exp.Star()).from_(stacked.subquery("retention_table", copy=False), copy=False)


def _c(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table)


def period_elapsed(period: str) -> exp.Expr:
    """Whether a cohort's period N has ended by the data's last event (``data_end``): otherwise its numbers are NULL,
    not a low value (the same rule for retention and cumulative value)."""
    period_end = dialects.cast(
        dialects.add_periods(
            ident("cohort"), exp.paren(exp.Add(this=ident("period"), expression=ONE), copy=False), period
        ),
        "timestamp",
    )
    return period_end <= _c("data_end", "last_event_time")
