"""The users behind interval, ltv and stickiness numbers, from the builders' own per-user CTEs.

Each function gets the narrowed query's context (the clicked values are its
dimensions, an interval's clicked bucket its range) and returns a SELECT with
``user_id`` first, one row per user, and ``total_users``; see
``semantic/README.md`` (Drill-downs) for what each list holds.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from semantic.catalog.specs import LtvMetric
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, conjunction, cte, ident, join, when, with_ctes
from semantic.compiler.interval import interval_pairs
from semantic.compiler.ltv import ltv_cohort_ctes
from semantic.compiler.reader import model_rows
from semantic.compiler.stickiness import active_days_ctes

ONE = exp.Literal.number(1)


def total_users() -> exp.Expr:
    """``COUNT(*) OVER ()``: every page of a list carries the total of all pages."""
    return exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), "total_users", copy=False)


def equals(expression: exp.Expr, value: Any) -> exp.Expr:
    """``expression = value`` as a literal; None matches NULL."""
    if value is None:
        return expression.is_(exp.null())
    return expression.eq(exp.convert(value))


def _day(value: str) -> exp.Expr:
    return dialects.cast(exp.convert(str(value)[:10]), "date")


def interval_users(ctx: SqlContext, drill) -> tuple[exp.Select, list[str]]:
    """Users with at least one interval under the clicked values (and bucket, as the range): how many, their mean."""
    tests = [equals(ident(name), value) for name, value in drill.filters]
    select = exp.select(
        ident("user_id"),
        exp.alias_(exp.Count(this=exp.Star()), "intervals", copy=False),
        exp.alias_(dialects.as_double(exp.Avg(this=ident("seconds"))), "mean_seconds", copy=False),
        exp.alias_(exp.Min(this=ident("start_time")), "first_start", copy=False),
        total_users(),
    ).from_(cte("interval_pairs"), copy=False)
    where = conjunction(tests)
    if where is not None:
        select = select.where(where, copy=False)
    select = select.group_by(ident("user_id"), copy=False).order_by(
        exp.Ordered(this=ident("intervals"), desc=True), exp.Ordered(this=ident("user_id")), copy=False
    )
    return with_ctes(select, interval_pairs(ctx)), ["user_id", "intervals", "mean_seconds", "first_start"]


def ltv_users(ctx: SqlContext, metric: LtvMetric, drill) -> tuple[exp.Select, list[str]]:
    """A cohort's users and each one's amount from the cohort event to the end of ``period`` (all so far
    without one); NULL when that period has not elapsed, as in the cohort's row."""
    period = ctx.resolved.period
    cohort = exp.column("cohort", table="c")
    amount: exp.Expr = exp.column("amount", table="v")
    known: exp.Expr | None = None
    if drill.period is not None:
        reached = dialects.add_periods(cohort.copy(), exp.Literal.number(drill.period), period)
        amount = when(exp.column("value_period", table="v") <= reached, amount)
        ends = dialects.add_periods(cohort.copy(), exp.Literal.number(drill.period + 1), period)
        known = dialects.cast(ends, "timestamp") <= exp.Max(this=exp.column("last_event_time", table="data_end"))
    total = exp.Coalesce(this=exp.Sum(this=amount), expressions=[exp.Literal.number(0)])
    select = exp.select(
        exp.column("user_id", table="c"),
        exp.alias_(cohort.copy(), "cohort", copy=False),
        exp.alias_(dialects.as_double(when(known, total)), "amount", copy=False),
        total_users(),
    ).from_(cte("ltv_cohort_users", "c"), copy=False)
    on = exp.column("user_id", table="v").eq(exp.column("user_id", table="c"))
    select = join(select, cte("ltv_values", "v"), on, side="LEFT")
    select = join(select, cte("data_end"))
    tests = [equals(exp.column(name, table="c"), value) for name, value in drill.filters]
    if drill.cohort is not None:
        tests.append(cohort.copy().eq(_day(drill.cohort)))
    where = conjunction(tests)
    if where is not None:
        select = select.where(where, copy=False)
    select = select.group_by(exp.column("user_id", table="c"), cohort.copy(), copy=False).order_by(
        exp.Ordered(this=ident("amount"), desc=True, nulls_first=False),
        exp.Ordered(this=exp.column("user_id", table="c")),
        copy=False,
    )
    data_end = exp.select(exp.alias_(exp.Max(this=ctx.time_column), "last_event_time", copy=False)).from_(
        model_rows(ctx.catalog, ctx.model), copy=False
    )
    return with_ctes(select, [*ltv_cohort_ctes(ctx), ("data_end", data_end)]), ["user_id", "cohort", "amount"]


def stickiness_users(ctx: SqlContext, drill) -> tuple[exp.Select, list[str]]:
    """The users active in the clicked period (under the clicked values), with their active days there;
    ``active_days`` keeps those with exactly that many."""
    period = ctx.resolved.period
    tests = [equals(ident(name), value) for name, value in drill.filters]
    tests.append(ident(period).eq(_day(drill.bucket)))
    if drill.active_days is not None:
        tests.append(ident("active_days").eq(exp.Literal.number(drill.active_days)))
    select = (
        exp.select(ident("user_id"), ident("active_days"), total_users())
        .from_(cte("active_days"), copy=False)
        .where(conjunction(tests), copy=False)
        .order_by(exp.Ordered(this=ident("active_days"), desc=True), exp.Ordered(this=ident("user_id")), copy=False)
    )
    return with_ctes(select, active_days_ctes(ctx)), ["user_id", "active_days"]
