"""Retention counts on ClickHouse: one scan grouped by user, returns kept as an array per user.

The portable plan (``retention.py``) finds cohorts with one aggregate, return periods with a
second scan, and joins them per period; ClickHouse runs those joins as hash joins that cost
several times DuckDB's. Here a single ``GROUP BY user_id`` over the cohort and return events
gives each user their first-ever cohort event (``minIf``; the breakdown values of that event
by ``argMinIf`` on (time, event id), the portable plan's tie rule), and their return periods
from the range start on (``groupUniqArrayIf``; ``maxIf`` for ``on_or_after``). Each cohort
user is repeated for periods 1..N (``arrayJoin``) and counted as retained when ``has`` finds
the period (or their latest return is at least it). The result has the portable
``retention_counts`` columns, so the rest of the statement is shared.

On a ``Distributed`` table sharded by ``user_id`` the per-user stage runs wholly on each shard
(``optimize_distributed_group_by_sharding_key``, set by the dialect).
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.specs import RetentionMetric
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, conjunction, cte, disjunction, ident, identifier, matches_events
from semantic.compiler.sessions import range_positions


def _fn(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _as(expression: exp.Expr, name: str) -> exp.Alias:
    return exp.Alias(this=expression, alias=identifier(name))


def retention_count_ctes(ctx: SqlContext, metric: RetentionMetric) -> list[tuple[str, exp.Select]]:
    """``retention_users`` (one row per cohort user) and ``retention_counts`` (cohort, dims, period, size, retained)."""
    dims = [d.name for d in ctx.resolved.dimensions]
    period = ctx.resolved.period
    unbounded = metric.mode == "on_or_after"
    event_column = ctx.column(ctx.model.event_column or "event")
    cohort_match = matches_events(event_column, metric.cohort.events, ctx.snippet(metric.cohort.filter))
    return_match = matches_events(event_column.copy(), metric.returning.events, ctx.snippet(metric.returning.filter))
    returned = exp.and_(return_match, *ctx.range_conditions(end=False), copy=False)
    bucket = dialects.time_bucket(ctx.time_column, period, ctx.dialect)
    first_time = _fn("minIf", ctx.time_column, cohort_match)
    returns = _fn("maxIf", bucket, returned.copy()) if unbounded else _fn("groupUniqArrayIf", bucket, returned.copy())
    columns: list[exp.Expr] = [
        _as(ctx.entity, "user_id"),
        _as(first_time, "cohort_time"),
        _as(returns, "returns"),
    ]
    if dims:
        values = _fn("tuple", *(ctx.dimension(d) for d in ctx.resolved.dimensions))
        columns.append(
            _as(_fn("argMinIf", values, _fn("tuple", ctx.time_column, ctx.event_id), cohort_match.copy()), "values")
        )
    # a user with no cohort event has none of the range's cohorts (minIf would give a default time)
    has_cohort = exp.GT(this=_fn("countIf", cohort_match.copy()), expression=exp.Literal.number(0))
    users = (
        ctx.source(exp.select(*columns))
        .where(
            conjunction(
                [
                    ctx.entity.is_(exp.null()).not_(),
                    ctx.user_filter(),
                    exp.paren(disjunction([exp.paren(cohort_match.copy()), exp.paren(returned)]), copy=False),
                ]
            ),
            copy=False,
        )
        .group_by(ctx.entity.copy(), copy=False)
        .having(conjunction([has_cohort, *ctx.range_conditions(first_time.copy())]), copy=False)
    )
    cohort = ident("cohort")
    target = dialects.add_periods(cohort.copy(), ident("period"), period)
    retained = exp.GTE(this=ident("returns"), expression=target) if unbounded else _fn("has", ident("returns"), target)
    per_period = exp.select(
        _as(dialects.time_bucket(ident("cohort_time"), period, ctx.dialect), "cohort"),
        *(_as(_fn("tupleElement", ident("values"), exp.Literal.number(n)), d) for n, d in enumerate(dims, 1)),
        _as(_fn("arrayJoin", _fn("range", exp.Literal.number(1), exp.Literal.number(metric.periods + 1))), "period"),
        ident("returns"),
    ).from_(cte("retention_users"), copy=False)
    counts = exp.select(
        cohort.copy(),
        *(ident(d) for d in dims),
        ident("period"),
        _as(exp.Count(this=exp.Star()), "cohort_size"),
        _as(_fn("countIf", retained), "retained"),
    ).from_(per_period.subquery("cohort_periods", copy=False), copy=False)
    counts = counts.group_by(*range_positions(2 + len(dims)), copy=False)
    return [("retention_users", users), ("retention_counts", counts)]


def average_in_one_pass(dims: list[str]) -> exp.Select:
    """The cohorts' rows and the ``all`` rows from ONE read of ``retention_rows``.

    ClickHouse runs a CTE again at each reference, so the portable ``UNION ALL`` of the rows and their
    sums (``retention.py``) would run the whole per-user stage twice. ``GROUPING SETS`` makes both
    from one pass: the set (cohort, values, period) has one row per group (``any`` keeps it, NULL
    included), the set (values, period) sums the cohorts whose period is known, as the portable plan.
    """
    per_period = [*(_c(d) for d in dims), _c("period")]
    is_all = _fn("grouping", _c("cohort")).eq(exp.Literal.number(1))
    known = _c("retained").is_(exp.null()).not_()
    size = exp.Coalesce(
        this=exp.Sum(this=exp.If(this=known, true=_c("cohort_size"))), expressions=[exp.Literal.number(0)]
    )
    retained = exp.Sum(this=_c("retained"))

    def pick(for_all: exp.Expr, for_cohort: exp.Expr) -> exp.Expr:
        return exp.If(this=is_all.copy(), true=for_all, false=for_cohort)

    grouped = exp.select(
        exp.alias_(
            pick(dialects.cast(exp.convert("all"), "varchar"), dialects.cast(_c("cohort"), "varchar")), "cohort"
        ),
        *(exp.alias_(_c(d), d) for d in dims),
        exp.alias_(_c("period"), "period"),
        exp.alias_(dialects.cast(pick(size, _fn("any", _c("cohort_size"))), "bigint"), "cohort_size"),
        exp.alias_(dialects.cast(retained, "bigint"), "retained"),
        exp.alias_(pick(dialects.safe_divide(retained.copy(), size.copy()), _fn("any", _c("rate"))), "rate"),
    ).from_(cte("retention_rows", "r"), copy=False)
    sets = exp.GroupingSets(
        expressions=[exp.Tuple(expressions=[_c("cohort"), *per_period]), exp.Tuple(expressions=per_period)]
    )
    grouped.set("group", exp.Group(expressions=[sets]))
    return exp.select(exp.Star()).from_(grouped.subquery("retention_table", copy=False), copy=False)


def _c(name: str) -> exp.Column:
    return exp.column(name, table="r")
