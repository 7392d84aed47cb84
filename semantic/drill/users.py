"""The users behind a number: drill-downs from a metric's value to the entity ids it counts.

A page shows ``uv = 1,234`` for iOS on 2026-10-03; clicking it asks *who*.
The answer must be the rows the metric itself counts, under the same range,
``--where`` and breakdown values, so this module reuses the metric's specs
and the funnel/retention builders' per-user CTEs instead of re-deriving them.
What each metric type means here is written down in ``semantic/README.md``.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.catalog.days import DayError, as_day
from semantic.catalog.specs import (
    AggregateMetric,
    FirstSeenMetric,
    FunnelMetric,
    IntervalMetric,
    LtvMetric,
    Metric,
    RatioMetric,
    RetentionMetric,
    StickinessMetric,
)
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, conjunction, cte, ident, join
from semantic.compiler.first_events import first_event_ctes
from semantic.compiler.funnel import build_funnel
from semantic.compiler.query import Query, resolve
from semantic.compiler.results import normalise
from semantic.compiler.retention import build_retention
from semantic.compiler.segment import with_segment
from semantic.drill.model_users import interval_users, ltv_users, stickiness_users, total_users

ONE = exp.Literal.number(1)


@dataclass(frozen=True)
class Drill:
    """Which part of a metric's number to open.

    Args:
        filters: ``(dimension, value)`` pairs of the clicked breakdown (``None`` matches NULL).
        bucket: the clicked time bucket's start (``"2026-10-05"``), read with the query's grain.
        step: a funnel step (1-based): the users reaching it.
        dropped: with ``step``: the users reaching step - 1 but not ``step``.
        cohort: a retention's or ltv's cohort first day; ``"all"``: a retention's average row (every cohort
            whose ``period`` has elapsed).
        period: with ``cohort``: the retention period N; ``retained`` picks who returned (True) or not (False);
            an ltv's period N (each user's amount up to its end).
        active_days: a stickiness row's number of active days (with ``bucket``, its period).
    """

    filters: tuple[tuple[str, Any], ...] = ()
    bucket: str | None = None
    step: int | None = None
    dropped: bool = False
    cohort: str | None = None
    period: int | None = None
    retained: bool | None = None
    active_days: int | None = None


@dataclass(frozen=True)
class UserList:
    """One page of the users behind a number, the total and the SQL that found them."""

    columns: list[str]
    rows: list[dict[str, Any]]
    total: int
    sql: str


def bucket_range(grain: str, start: str) -> tuple[date, date]:
    """The inclusive days of the ``grain`` bucket starting on ``start``.

    >>> bucket_range("week", "2026-10-05")
    (datetime.date(2026, 10, 5), datetime.date(2026, 10, 11))
    """
    try:
        first = as_day(str(start)[:10])
    except DayError as err:
        raise QueryError(f"bucket: {err}") from None
    if grain == "day":
        return first, first
    if grain == "week":
        return first, first + timedelta(days=6)
    if grain in ("month", "quarter", "year"):
        months = {"month": 1, "quarter": 3, "year": 12}[grain]
        last_month = first.month + months - 1
        year, month = first.year + (last_month - 1) // 12, (last_month - 1) % 12 + 1
        return first, date(year, month, calendar.monthrange(year, month)[1])
    raise QueryError(f"cannot drill into {grain!r} buckets; use a day, week, month, quarter or year grain")


def compile_users(
    catalog: Catalog, query: Query, drill: Drill, dialect: str = "duckdb", *, limit: int = 50, offset: int = 0
) -> tuple[str, list[str]]:
    """SQL listing the users behind ``query``'s single metric, narrowed by ``drill``; and its columns.

    Raises:
        QueryError: for a metric type or drill this module does not define (see ``semantic/README.md``).
    """
    select, columns, resolved = _users(catalog, query, drill, dialect)
    select = select.limit(max(1, limit), copy=False).offset(max(0, offset), copy=False)
    ast = dialects.quote_reserved(with_segment(select, catalog, resolved, dialects.check_dialect(dialect)))
    return ast.sql(dialect=dialects.check_dialect(dialect), pretty=True), [*columns, "total_users"]


def users_select(catalog: Catalog, query: Query, drill: Drill, dialect: str = "duckdb") -> exp.Select:
    """A members SELECT (``user_id`` first, one row per user) of the users behind the number, for member lists."""
    select, _, resolved = _users(catalog, query, drill, dialect)
    select.set("expressions", [e for e in select.expressions if e.alias_or_name != "total_users"])
    select.set("order", None)
    return with_segment(select, catalog, resolved, dialects.check_dialect(dialect))


def _users(catalog: Catalog, query: Query, drill: Drill, dialect: str):
    if len(query.metrics) != 1:
        raise QueryError("drill into one metric at a time")
    metric = catalog.metrics.get(query.metrics[0])
    if metric is None:
        resolve(catalog, query)  # raises the unknown-metric message with its did-you-mean
        raise AssertionError("unreachable")
    metric = _countable(catalog, metric)
    narrowed = _narrow(query, drill, metric)
    resolved = resolve(catalog, narrowed)
    ctx = SqlContext(catalog, resolved, dialects.check_dialect(dialect))
    if isinstance(metric, AggregateMetric):
        select, columns = _aggregate_users(ctx, metric, drill)
    elif isinstance(metric, FirstSeenMetric):
        select, columns = _first_seen_users(ctx, drill)
    elif isinstance(metric, FunnelMetric):
        select, columns = _funnel_users(ctx, metric, drill)
    elif isinstance(metric, IntervalMetric):
        select, columns = interval_users(ctx, drill)
    elif isinstance(metric, LtvMetric):
        select, columns = ltv_users(ctx, metric, drill)
    elif isinstance(metric, StickinessMetric):
        select, columns = stickiness_users(ctx, drill)
    else:
        assert isinstance(metric, RetentionMetric)
        select, columns = _retention_users(ctx, metric, drill)
    return select, columns, resolved


def users_behind(
    catalog: Catalog, query: Query, drill: Drill, warehouse: Warehouse, *, limit: int = 50, offset: int = 0
) -> UserList:
    """Run :func:`compile_users` on ``warehouse``: one page of users, most active first."""
    sql, columns = compile_users(catalog, query, drill, warehouse.dialect, limit=limit, offset=offset)
    return run_user_sql(sql, columns, warehouse)


def run_user_sql(sql: str, columns: list[str], warehouse: Warehouse) -> UserList:
    """Run SQL from :func:`compile_users` (the app caches by its text)."""
    raw = warehouse.query(sql)
    rows = [{name: normalise(value) for name, value in zip(columns, row)} for row in raw.rows]
    total = rows[0]["total_users"] if rows else 0
    return UserList(
        columns=columns[:-1],
        rows=[{k: v for k, v in r.items() if k != "total_users"} for r in rows],
        total=total,
        sql=sql,
    )


def _countable(catalog: Catalog, metric: Metric) -> Metric:
    """A ratio drills into its numerator; kinds without a defined user set are refused."""
    seen = set()
    while isinstance(metric, RatioMetric) and metric.name not in seen:
        seen.add(metric.name)
        metric = catalog.metrics[metric.numerator]
    if isinstance(
        metric,
        (AggregateMetric, FirstSeenMetric, FunnelMetric, RetentionMetric, IntervalMetric, LtvMetric, StickinessMetric),
    ):
        return metric
    raise QueryError(
        f"cannot list the users behind {metric.name!r}: a {metric.type} metric has no single set of users; "
        "drill into a count, sum, ratio, new-users, funnel or retention metric"
    )


def _narrow(query: Query, drill: Drill, metric: Metric) -> Query:
    """The query for the clicked part: the bucket as a range, the clicked dimensions as group-by.

    A funnel's bucket is its users' entry period, found over the whole range (a user entering earlier
    belongs to the earlier period), so it narrows the users, not the range. Funnels, retentions, ltv and
    stickiness keep the grain: it is their entry, cohort or activity period.
    """
    start, end = query.start, query.end
    bucket_grain = query.grain or (metric.period if isinstance(metric, StickinessMetric) else None)
    if drill.bucket is not None:
        if not bucket_grain:
            raise QueryError("a time bucket needs the query's grain")
        first, last = bucket_range(bucket_grain, drill.bucket)
        if not isinstance(metric, FunnelMetric):
            start, end = max(first, start) if start else first, min(last, end) if end else last
    if isinstance(metric, StickinessMetric) and drill.bucket is None:
        raise QueryError("name the period (a bucket) whose users to list")
    if drill.cohort == "all" and (not isinstance(metric, RetentionMetric) or drill.period is None):
        raise QueryError("the average row's users are a retention's, for one period: give a period")
    if isinstance(metric, FunnelMetric) and (drill.step is None or not 1 <= drill.step <= len(metric.steps)):
        raise QueryError(f"name a step of funnel {metric.name!r} from 1 to {len(metric.steps)}")
    if isinstance(metric, FunnelMetric) and drill.dropped and drill.step == 1:
        raise QueryError("nobody drops off before step 1; pick a step from 2")
    if isinstance(metric, RetentionMetric) and drill.period is not None and not 1 <= drill.period <= metric.periods:
        raise QueryError(f"retention {metric.name!r} has periods 1 to {metric.periods}, not {drill.period}")
    if isinstance(metric, LtvMetric) and drill.period is not None and not 0 <= drill.period <= metric.periods:
        raise QueryError(f"ltv {metric.name!r} has periods 0 to {metric.periods}, not {drill.period}")
    dims = tuple(dict.fromkeys(name for name, _ in drill.filters))
    grain = query.grain if metric.type in ("funnel", "retention", "ltv", "stickiness") else None
    return replace(
        query,
        metrics=(metric.name,),
        dimensions=dims,
        grain=grain,
        start=start,
        end=end,
        order_by=(),
        limit=None,
        time_to_convert=False,
        average=False,
    )


def _equals(expression: exp.Expr, value: Any) -> exp.Expr:
    if value is None:
        return expression.is_(exp.null())
    return expression.eq(exp.convert(value))


def _dimension_tests(ctx: SqlContext, drill: Drill, *, named: bool) -> list[exp.Expr]:
    """``dimension = value`` per clicked value: over its expression, or its named CTE column."""
    by_name = {d.name: d for d in ctx.resolved.dimensions}
    return [_equals(ident(name) if named else ctx.dimension(by_name[name]), value) for name, value in drill.filters]


def _total() -> exp.Expr:
    return total_users()


def _aggregate_users(ctx: SqlContext, metric: AggregateMetric, drill: Drill) -> tuple[exp.Select, list[str]]:
    """The entities of the rows the metric reads (its filter, non-null expr), with their per-user value."""
    expr = ctx.snippet(metric.expr)
    value: exp.Expr
    if metric.aggregation == "count":
        value = exp.Count(this=expr if expr is not None else exp.Star())
    elif metric.aggregation == "count_distinct":
        value = exp.Count(this=exp.Distinct(expressions=[expr if expr is not None else ctx.entity]))
    else:
        function = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[metric.aggregation]
        value = function(this=expr)
    reads = expr.copy().is_(exp.null()).not_() if expr is not None else None
    select = (
        ctx.source(
            exp.select(
                exp.alias_(ctx.entity, "user_id", copy=False),
                exp.alias_(exp.Count(this=exp.Star()), "events", copy=False),
                exp.alias_(value, "value", copy=False),
                exp.alias_(exp.Min(this=ctx.time_column), "first_time", copy=False),
                exp.alias_(exp.Max(this=ctx.time_column.copy()), "last_time", copy=False),
                _total(),
            )
        )
        .where(
            conjunction(
                [
                    ctx.entity.is_(exp.null()).not_(),
                    ctx.snippet(metric.filter),
                    reads,
                    *ctx.range_conditions(),
                    ctx.user_filter(),
                    *_dimension_tests(ctx, drill, named=False),
                ]
            ),
            copy=False,
        )
        .group_by(ctx.entity.copy(), copy=False)
    )
    order = [exp.Ordered(this=ident("events"), desc=True), exp.Ordered(this=ident("user_id"))]
    return select.order_by(*order, copy=False), ["user_id", "events", "value", "first_time", "last_time"]


def _first_seen_users(ctx: SqlContext, drill: Drill) -> tuple[exp.Select, list[str]]:
    """Users whose first event ever falls in the range (and passes ``--where`` and the clicked values)."""
    user_filter = ctx.user_filter()
    firsts, first_only = first_event_ctes(ctx, "user_first_events", None, flag_filter=user_filter, first_ever=True)
    select = exp.select(ident("user_id"), exp.alias_(ident("event_time"), "first_seen", copy=False), _total())
    select = select.from_(cte("user_first_events"), copy=False)
    condition = conjunction([first_only, *_dimension_tests(ctx, drill, named=True)])
    if condition is not None:
        select = select.where(condition, copy=False)
    return _with(select.order_by(ident("user_id"), copy=False), firsts), ["user_id", "first_seen"]


def _funnel_users(ctx: SqlContext, metric: FunnelMetric, drill: Drill) -> tuple[exp.Select, list[str]]:
    """Users whose deepest path reaches ``step`` (or stops just before it), with their step times."""
    assert drill.step is not None
    ctes = _ctes_until(build_funnel(ctx), "funnel_users")
    times = [f"step_{k}_time" for k in range(1, len(metric.steps) + 1)]
    reached = ident(f"step_{drill.step}_time").is_(exp.null())
    condition: exp.Expr | None = None
    if drill.dropped:
        condition = exp.and_(ident(f"step_{drill.step - 1}_time").is_(exp.null()).not_(), reached, copy=False)
    elif drill.step > 1:
        condition = reached.not_()
    select = exp.select(ident("user_id"), *(ident(t) for t in times), _total()).from_(cte("funnel_users"), copy=False)
    entered = None
    if drill.bucket is not None and ctx.resolved.grain:
        entered = ident(ctx.resolved.grain).eq(dialects.cast(exp.convert(str(drill.bucket)[:10]), "date"))
    where = conjunction([condition, entered, *_dimension_tests(ctx, drill, named=True)])
    if where is not None:
        select = select.where(where, copy=False)
    return _with(select.order_by(ident("user_id"), copy=False), ctes), ["user_id", *times]


def _retention_users(ctx: SqlContext, metric: RetentionMetric, drill: Drill) -> tuple[exp.Select, list[str]]:
    """A cohort's users; with ``period``, whether each returned in it (``retained`` narrows to one side).

    Cohort ``all``: the users of every cohort whose period has elapsed (the average row's)."""
    ctes = _ctes_until(build_retention(ctx), "data_end")
    columns: list[exp.Expr] = [
        exp.column("user_id", table="c"),
        exp.alias_(exp.column("cohort", table="c"), "cohort", copy=False),
    ]
    select_from = cte("cohort_users", "c")
    tests = [_equals(exp.column(name, table="c"), value) for name, value in drill.filters]
    if drill.cohort is not None and drill.cohort != "all":
        tests.append(exp.column("cohort", table="c").eq(dialects.cast(exp.convert(str(drill.cohort)[:10]), "date")))
    names = ["user_id", "cohort"]
    select = exp.select(*columns).from_(select_from, copy=False)
    period = ctx.resolved.period
    if drill.period is not None:
        target = dialects.add_periods(exp.column("cohort", table="c"), exp.Literal.number(drill.period), period)
        back_in = exp.column("return_period", table="r")
        on = exp.and_(
            exp.column("user_id", table="r").eq(exp.column("user_id", table="c")),
            back_in >= target if metric.mode == "on_or_after" else back_in.eq(target),
            copy=False,
        )
        back = exp.column("user_id", table="r").is_(exp.null()).not_()
        select = join(select, cte("return_periods", "r"), on, side="LEFT")
        select.select(exp.alias_(back, "returned", copy=False), copy=False)
        names.append("returned")
        if drill.retained is not None:
            tests.append(back.copy() if drill.retained else back.copy().not_())
        if drill.cohort == "all":
            ends = dialects.add_periods(exp.column("cohort", table="c"), exp.Literal.number(drill.period + 1), period)
            select = join(select, cte("data_end"))
            tests.append(dialects.cast(ends, "timestamp") <= exp.column("last_event_time", table="data_end"))
    select.select(_total(), copy=False)
    where = conjunction(tests)
    if where is not None:
        select = select.where(where, copy=False)
    return _with(select.order_by(exp.column("user_id", table="c"), copy=False), ctes), names


def _ctes_until(statement: exp.Select, last: str) -> list[tuple[str, exp.Expr]]:
    """The builder's CTEs up to and including ``last`` (the per-user one a drill reads)."""
    kept: list[tuple[str, exp.Expr]] = []
    for node in statement.args["with_"].expressions:
        kept.append((node.alias, node.this))
        if node.alias == last:
            return kept
    raise AssertionError(f"builder has no CTE {last!r}")


def _with(select: exp.Select, ctes: Sequence[tuple[str, exp.Expr]]) -> exp.Select:
    select.set(
        "with_",
        exp.With(
            expressions=[exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(name))) for name, body in ctes]
        ),
    )
    return select
