"""SQL for funnels, with ClickHouse ``windowFunnel`` semantics in portable SQL.

A user reaches step k when events matching steps 1..k occur in that order
with non-decreasing times, the last at most ``window`` after the step-1
event; one event fulfils at most one step. For a fixed step-1 event the
earliest possible next step is always the best choice, so each start's path
is found greedily. One sort of a user's matching events gives every row a
running count of the step-k events up to it, so "the first step-k event
after this row" is the step-k row whose count is one more: a path is a chain
of equi-joins on (user, count), one per step. Events at the same instant are
ordered by the first step they match, so such ties never break a path.
On ClickHouse the same paths are found with array functions over one sorted array per
user (``funnel_arrays.py``): the joins below are slow there. Counts are distinct users;
a user's deepest path (earliest start on ties)
gives the times to convert, and their earliest in-range step-1 event gives
the breakdown values and, with a grain, the entry period (the funnel's trend):
each user is in one period, so the periods add up to the funnel without one.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.specs import PERCENTILES, FunnelMetric
from semantic.compiler import dialects
from semantic.compiler.aggregate import finish
from semantic.compiler.context import (
    SqlContext,
    conjunction,
    cte,
    disjunction,
    flag,
    ident,
    identifier,
    join,
    matches_events,
    with_ctes,
)
from semantic.compiler.funnel_arrays import array_ctes, step_rows
from semantic.compiler.sessions import range_positions

ONE = exp.Literal.number(1)


def _col(table: str, name: str) -> exp.Column:
    return exp.Column(this=identifier(name), table=identifier(table))


def _compare(kind: type[exp.Binary], left: exp.Expr, right: exp.Expr) -> exp.Binary:
    """``left <op> right`` as ``Expr.eq``/``<=`` build it (binary operands parenthesised), without the copies
    those make of both sides: a long funnel compiles faster."""
    wrap = lambda side: exp.Paren(this=side) if isinstance(side, exp.Binary) else side  # noqa: E731
    return kind(this=wrap(left), expression=wrap(right))


def _as(expression: exp.Expr, name: str) -> exp.Alias:
    """``expression AS name``, as ``exp.alias_`` builds it (compile speed)."""
    return exp.Alias(this=expression, alias=identifier(name))


def _eq(left: exp.Expr, right: exp.Expr) -> exp.Binary:
    return _compare(exp.EQ, left, right)


def _by_user(ctx: SqlContext, function: exp.Expr, order: list[str], **options) -> exp.Window:
    """A window over one user's funnel rows, ordered by CTE columns."""
    return ctx.window(function, ident("user_id"), [ident(o) for o in order], **options)


def build_funnel(ctx: SqlContext) -> exp.Select:
    funnel = ctx.resolved.metrics[0]
    assert isinstance(funnel, FunnelMetric)
    steps = range(1, len(funnel.steps) + 1)
    dims = [d.name for d in ctx.resolved.dimensions]
    event_column = ctx.column(ctx.model.event_column or "event")
    matches = [matches_events(event_column, step.events, ctx.snippet(step.filter)) for step in funnel.steps]

    first_step = exp.Case(ifs=[exp.If(this=m, true=exp.Literal.number(k)) for k, m in zip(steps, matches)])
    events = ctx.source(
        exp.select(
            _as(ctx.entity, "user_id"),
            _as(ctx.time_column, "event_time"),
            _as(ctx.event_id, "event_id"),
            *(_as(ctx.dimension(d), d.name) for d in ctx.resolved.dimensions),
            *(_as(flag(m), f"is_step_{k}") for k, m in zip(steps, matches)),
            _as(first_step, "first_step"),
        )
    ).where(
        conjunction(
            [
                ctx.entity.is_(exp.null()).not_(),
                *ctx.range_conditions(end_extra_seconds=funnel.window_seconds),
                ctx.user_filter(),
                exp.paren(disjunction([exp.paren(m, copy=False) for m in matches]), copy=False),
            ]
        ),
        copy=False,
    )
    groups = [*([ctx.resolved.grain] if ctx.resolved.grain else []), *dims]
    counts = _counts(ctx, funnel, groups)
    final = finish(ctx, exp.select(exp.Star()).from_(cte("funnel_steps"), copy=False), [*groups, "step"])
    time_to_convert = ctx.resolved.query.time_to_convert
    steps_union: exp.Query
    if ctx.dialect == "clickhouse":
        per_user = array_ctes(ctx, funnel, dims, events)
        steps_union = step_rows(funnel, groups, PERCENTILES if time_to_convert else ())
    else:
        per_user = [
            ("funnel_events", events),
            ("funnel_positions", _positions(ctx, steps)),
            ("funnel_paths", _paths(ctx, funnel, dims)),
            *_per_user(ctx, funnel, dims),
        ]
        steps_union = _step_rows(funnel, groups, time_to_convert)
    return with_ctes(final, [*per_user, ("funnel_counts", counts), ("funnel_steps", steps_union)])


def _positions(ctx: SqlContext, steps: range) -> exp.Select:
    """Every funnel event with its running count of each step's events (the portable plan)."""
    return exp.select(
        exp.Star(),
        *(
            exp.alias_(
                _by_user(
                    ctx, exp.Sum(this=ident(f"is_step_{k}")), ["event_time", "first_step", "event_id"], frame="running"
                ),
                f"step_{k}_count",
                copy=False,
            )
            for k in steps
        ),
    ).from_(cte("funnel_events"), copy=False)


def _paths(ctx: SqlContext, funnel: FunnelMetric, dims: list[str]) -> exp.Select:
    """Each in-range step-1 event and the greedy path from it: one LEFT JOIN per later step.

    ``step_k_count`` is how many step-k events a user had up to and including a row, so the
    first step-k event after row r is the step-k row whose count is r's count + 1: an equi-join.
    """
    count = len(funnel.steps)
    depth = exp.Case(
        ifs=[
            exp.If(
                this=exp.Not(this=exp.Is(this=_col(f"step_{k}", "event_time"), expression=exp.Null())),
                true=exp.Literal.number(k),
            )
            for k in range(count, 1, -1)
        ],
        default=ONE,
    )
    select = exp.select(
        _as(_col("step_1", "user_id"), "user_id"),
        _as(_col("step_1", "step_1_count"), "start_position"),
        *(_as(_col("step_1", d), d) for d in dims),
        *(_as(_col(f"step_{k}", "event_time"), f"step_{k}_time") for k in range(1, count + 1)),
        _as(depth, "depth"),
    ).from_(cte("funnel_positions", "step_1"), copy=False)
    deadline = dialects.add_seconds(_col("step_1", "event_time"), funnel.window_seconds)
    for k in range(2, count + 1):
        following = exp.Add(this=_col(f"step_{k - 1}", f"step_{k}_count"), expression=ONE.copy())
        on = exp.and_(
            _eq(_col(f"step_{k}", "user_id"), _col("step_1", "user_id")),
            _eq(_col(f"step_{k}", f"is_step_{k}"), ONE.copy()),
            _eq(_col(f"step_{k}", f"step_{k}_count"), following),
            _compare(exp.LTE, _col(f"step_{k}", "event_time"), deadline.copy()),
            copy=False,
        )
        select = join(select, cte("funnel_positions", f"step_{k}"), on, side="LEFT")
    in_range = ctx.range_conditions(_col("step_1", "event_time"), start=False)
    return select.where(conjunction([_eq(_col("step_1", "is_step_1"), ONE), *in_range]), copy=False)


def _per_user(ctx: SqlContext, funnel: FunnelMetric, dims: list[str]) -> list[tuple[str, exp.Select]]:
    """One row per user: their deepest path (earliest start among equals), with the dimensions
    and the entry period of their earliest start (position 1: the first step-1 event of the range).

    Hash aggregates and joins rather than ranking windows: no sort of all paths.
    """
    depths = (
        exp.select(ident("user_id"), _as(exp.Max(this=ident("depth")), "depth"))
        .from_(cte("funnel_paths"), copy=False)
        .group_by(ident("user_id"), copy=False)
    )
    deepest = exp.and_(
        _eq(_col("paths", "user_id"), _col("deepest", "user_id")),
        _eq(_col("paths", "depth"), _col("deepest", "depth")),
        copy=False,
    )
    best_starts = join(
        exp.select(
            _as(_col("paths", "user_id"), "user_id"),
            _as(exp.Min(this=_col("paths", "start_position")), "start_position"),
        ).from_(cte("funnel_paths", "paths"), copy=False),
        cte("funnel_depths", "deepest"),
        deepest,
    ).group_by(_col("paths", "user_id"), copy=False)

    chosen = exp.and_(
        _eq(_col("best", "user_id"), _col("chosen", "user_id")),
        _eq(_col("best", "start_position"), _col("chosen", "start_position")),
        copy=False,
    )
    grain = ctx.resolved.grain
    entry = [_as(ctx.bucket(_col("earliest", "step_1_time")), grain)] if grain else []
    users = join(
        exp.select(
            _as(_col("best", "user_id"), "user_id"),
            *entry,
            *(_as(_col("earliest", d), d) for d in dims),
            *(_as(_col("best", f"step_{k}_time"), f"step_{k}_time") for k in range(1, len(funnel.steps) + 1)),
        ).from_(cte("funnel_paths", "best"), copy=False),
        cte("funnel_best_starts", "chosen"),
        chosen,
    )
    if dims or grain:
        first = exp.and_(
            _eq(_col("earliest", "user_id"), _col("best", "user_id")),
            _eq(_col("earliest", "start_position"), ONE.copy()),
            copy=False,
        )
        users = join(users, cte("funnel_paths", "earliest"), first)
    return [("funnel_depths", depths), ("funnel_best_starts", best_starts), ("funnel_users", users)]


def _counts(ctx: SqlContext, funnel: FunnelMetric, groups: list[str]) -> exp.Select:
    seconds = dialects.quirks(ctx.dialect).seconds_between
    columns: list[exp.Expr] = [_as(exp.Count(this=exp.Star()), "step_1_users")]
    for k in range(2, len(funnel.steps) + 1):
        columns.append(_as(exp.Count(this=ident(f"step_{k}_time")), f"step_{k}_users"))
        gap = seconds(ident(f"step_{k - 1}_time"), ident(f"step_{k}_time"))
        columns.append(_as(dialects.median(gap, ctx.dialect), f"step_{k}_median_seconds"))
        if ctx.resolved.query.time_to_convert:
            columns.extend(
                _as(dialects.percentile(gap.copy(), p / 100, ctx.dialect), f"step_{k}_p{p}") for p in PERCENTILES
            )
    select = exp.select(*(ident(g) for g in groups), *columns).from_(cte("funnel_users"), copy=False)
    return select.group_by(*range_positions(len(groups)), copy=False) if groups else select


def _step_rows(funnel: FunnelMetric, dims: list[str], time_to_convert: bool = False) -> exp.Query:
    """Unpivot the per-step columns into one row per step (``dims``: the grain and dimension columns)."""
    union: exp.Query | None = None
    for k, step in enumerate(funnel.steps, start=1):
        users = ident(f"step_{k}_users")
        previous = ident(f"step_{max(k - 1, 1)}_users")
        median_seconds = ident(f"step_{k}_median_seconds") if k > 1 else dialects.cast(exp.null(), "double")
        select = exp.select(
            *(ident(d) for d in dims),
            _as(exp.Literal.number(k), "step"),
            _as(exp.convert(step.name), "step_name"),
            _as(users, "users"),
            _as(dialects.safe_divide(users.copy(), previous), "conversion_from_previous"),
            _as(dialects.safe_divide(users.copy(), ident("step_1_users")), "conversion_from_first"),
            _as(dialects.cast(median_seconds, "double"), "median_seconds_to_convert"),
            *(_percentile_column(k, p) for p in (PERCENTILES if time_to_convert else ())),
        ).from_(cte("funnel_counts"), copy=False)
        union = select if union is None else exp.union(union, select, distinct=False, copy=False)
    assert union is not None
    return union


def _percentile_column(step: int, percentile: int) -> exp.Expr:
    """``seconds_to_convert_pNN`` of a step (NULL for step 1, which converts from nothing)."""
    value = ident(f"step_{step}_p{percentile}") if step > 1 else exp.null()
    return _as(dialects.cast(value, "double"), f"seconds_to_convert_p{percentile}")
