"""A funnel's per-user paths on ClickHouse: one sorted array per user, walked with array functions.

The portable plan (``funnel.py``) finds each start's greedy path with one self-join per
step; ClickHouse executes those joins as hash joins over every step event and takes
minutes at scale. Here each user's funnel events become one array sorted exactly as the
portable plan orders them (time, first step matched, event id), in a ``GROUP BY user_id``
stage, and the same greedy rule is applied with array functions, in linear time per user after the sort:

* ``next_k[p]``: the index of the first step-k event strictly after position ``p``
  (``arrayReverseFill`` over the step-k positions, shifted by one);
* ``path_1``: the in-range step-1 positions (the starts, in order); ``path_k`` = for each
  start, ``next_k`` of its ``path_{k-1}`` position when that event is no later than the
  start plus the window, else 0 (the path stops);
* the depth of each start is 1 + its non-zero positions; the best start is the first of
  the deepest (``indexOf`` of the maximum), whose positions give the step times.

``windowFunnel`` is not used: it keeps the latest start per level, counts a user once per
level without their path's times, and orders equal timestamps differently (see
``semantic/README.md``), so it cannot give the documented medians and percentiles.

On a ``Distributed`` table sharded by ``user_id`` the ``GROUP BY user_id`` stage runs
wholly on each shard (``optimize_distributed_group_by_sharding_key``, set by the
dialect), and the initiator only counts the per-user rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from semantic.catalog.specs import FunnelMetric
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, cte, ident, identifier

ZERO = exp.Literal.number(0)


def _fn(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _lambda(params: list[str], body: exp.Expr) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[identifier(p) for p in params])


def _at(array: exp.Expr, index: exp.Expr) -> exp.Anonymous:
    """``arrayElement(array, index)``: 1-based; index 0 gives the type's default (0 for positions)."""
    return _fn("arrayElement", array, index)


def _as(expression: exp.Expr, name: str) -> exp.Alias:
    return exp.Alias(this=expression, alias=identifier(name))


def _positive(expression: exp.Expr) -> exp.Expr:
    return exp.GT(this=expression, expression=ZERO.copy())


def array_ctes(
    ctx: SqlContext, funnel: FunnelMetric, dims: list[str], events: exp.Select
) -> list[tuple[str, exp.Select]]:
    """``funnel_arrays`` (one sorted array per user), ``funnel_user_paths`` and ``funnel_users``.

    ``events`` is the portable plan's ``funnel_events`` SELECT: its FROM and WHERE are kept and its
    columns become the aggregates, so the ``GROUP BY user_id`` reads the table itself (on a
    ``Distributed`` table, on each shard). ``funnel_users`` has the portable plan's columns.
    """
    columns = {node.alias: node.this for node in events.expressions if isinstance(node, exp.Alias)}

    def column(name: str) -> exp.Expr:
        return columns[name].copy()

    count = len(funnel.steps)
    time, event_id = column("event_time"), column("event_id")
    in_range = ctx.range_conditions(time.copy(), start=False)
    entry_test = exp.and_(exp.EQ(this=column("is_step_1"), expression=exp.Literal.number(1)), *in_range, copy=False)
    sort_key = _fn("tuple", time, column("first_step"), event_id, _step_mask(column, count))
    aggregates: list[exp.Expr] = [
        _as(column("user_id"), "user_id"),
        _as(_fn("arraySort", _fn("groupArray", sort_key)), "sorted_events"),
    ]
    if dims:
        entry = _fn(
            "argMinIf", _fn("tuple", *(column(d) for d in dims)), _fn("tuple", time.copy(), event_id.copy()), entry_test
        )
        aggregates.append(_as(entry, "entry_values"))
    events.set("expressions", aggregates)
    arrays = events.group_by(column("user_id"), copy=False)
    return [
        ("funnel_arrays", arrays),
        ("funnel_user_paths", _user_paths(ctx, funnel, dims)),
        ("funnel_users", _users(ctx, count, dims)),
    ]


def _step_mask(column: Callable[[str], exp.Expr], count: int) -> exp.Expr:
    """Bit k-1 set when the event matches step k: Σ is_step_k · 2^(k-1)."""
    mask: exp.Expr = column("is_step_1")
    for k in range(2, count + 1):
        bit = exp.Mul(this=exp.paren(column(f"is_step_{k}"), copy=False), expression=exp.Literal.number(2 ** (k - 1)))
        mask = exp.Add(this=mask, expression=bit)
    return mask


def _user_paths(ctx: SqlContext, funnel: FunnelMetric, dims: list[str]) -> exp.Select:
    count = len(funnel.steps)
    sorted_events = ident("sorted_events")
    positions = _fn("arrayEnumerate", sorted_events.copy())
    times = _fn("arrayMap", _lambda(["x"], _fn("tupleElement", ident("x"), exp.Literal.number(1))), sorted_events)
    masks = _fn("arrayMap", _lambda(["x"], _fn("tupleElement", ident("x"), exp.Literal.number(4))), sorted_events)

    def matches(step: int, position: exp.Expr) -> exp.Expr:
        return _fn("bitTest", _at(ident("event_masks"), position), exp.Literal.number(step - 1))

    in_range = ctx.range_conditions(_at(ident("event_times"), ident("i")), start=False)
    starts = _fn(
        "arrayFilter", _lambda(["i"], exp.and_(matches(1, ident("i")), *in_range, copy=False)), positions.copy()
    )
    deadlines = _fn(
        "arrayMap",
        _lambda(["s"], dialects.add_seconds(_at(ident("event_times"), ident("s")), funnel.window_seconds)),
        ident("path_1"),
    )
    columns: list[exp.Expr] = [
        ident("user_id"),
        *(_as(_fn("tupleElement", ident("entry_values"), exp.Literal.number(n)), d) for n, d in enumerate(dims, 1)),
        _as(times, "event_times"),
        _as(masks, "event_masks"),
        _as(starts, "path_1"),
        _as(deadlines, "deadlines"),
    ]
    for k in range(2, count + 1):
        # position i if it matches step k, else 0; filled backwards with the next match; shifted by one
        marked = _fn(
            "arrayMap",
            _lambda(["i"], exp.If(this=matches(k, ident("i")), true=ident("i"), false=ZERO.copy())),
            positions.copy(),
        )
        filled = _fn("arrayReverseFill", _lambda(["x"], _positive(ident("x"))), marked)
        following = _fn("arrayPushBack", _fn("arrayPopFront", filled), ZERO.copy())
        columns.append(_as(following, f"next_{k}"))
    for k in range(2, count + 1):
        nxt = _at(ident(f"next_{k}"), ident("p"))
        reachable = exp.and_(
            _positive(nxt), exp.LTE(this=_at(ident("event_times"), nxt.copy()), expression=ident("d")), copy=False
        )
        step = exp.If(this=reachable, true=nxt.copy(), false=ZERO.copy())
        columns.append(
            _as(_fn("arrayMap", _lambda(["p", "d"], step), ident(f"path_{k - 1}"), ident("deadlines")), f"path_{k}")
        )
    params = [f"p{k}" for k in range(1, count + 1)]
    depth: exp.Expr = exp.Literal.number(1)
    for k in range(2, count + 1):
        depth = exp.Add(this=depth, expression=exp.Paren(this=_positive(ident(f"p{k}"))))
    columns.append(
        _as(_fn("arrayMap", _lambda(params, depth), *(ident(f"path_{k}") for k in range(1, count + 1))), "depths")
    )
    # the first start among the deepest: the earliest one (starts are in order)
    columns.append(_as(_fn("indexOf", ident("depths"), _fn("arrayMax", ident("depths"))), "best"))
    for k in range(1, count + 1):
        position = _at(ident(f"path_{k}"), ident("best"))
        time: exp.Expr = _at(ident("event_times"), position.copy())
        if k > 1:
            time = exp.If(this=_positive(position), true=time, false=exp.null())
        columns.append(_as(time, f"step_{k}_time"))
    return (
        exp.select(*columns).from_(cte("funnel_arrays"), copy=False).where(_fn("notEmpty", ident("path_1")), copy=False)
    )


def _users(ctx: SqlContext, count: int, dims: list[str]) -> exp.Select:
    """The portable plan's ``funnel_users``: user, entry period, breakdown values, the best path's times."""
    grain = ctx.resolved.grain
    # path_1[1] is the user's earliest in-range step-1 event: it gives the entry period
    entry = _at(ident("event_times"), _at(ident("path_1"), exp.Literal.number(1)))
    return exp.select(
        ident("user_id"),
        *([_as(ctx.bucket(entry), grain)] if grain else []),
        *(ident(d) for d in dims),
        *(ident(f"step_{k}_time") for k in range(1, count + 1)),
    ).from_(cte("funnel_user_paths"), copy=False)


def step_rows(funnel: FunnelMetric, groups: list[str], percentiles: tuple[int, ...]) -> exp.Select:
    """One row per step from ``funnel_counts`` with ``arrayJoin`` over the step numbers.

    The portable plan stacks one SELECT per step; ClickHouse does not keep a CTE's result, so each of
    them would run the whole funnel again.
    """
    count = len(funnel.steps)
    step = ident("step")

    def pick(values: Sequence[exp.Expr]) -> exp.Expr:
        return _at(exp.Array(expressions=values), step.copy())

    users = [ident(f"step_{k}_users") for k in range(1, count + 1)]
    previous = [ident("step_1_users"), *(ident(f"step_{k}_users") for k in range(1, count))]
    double = lambda value: dialects.cast(value, "double")  # noqa: E731
    medians = [double(exp.null()), *(double(ident(f"step_{k}_median_seconds")) for k in range(2, count + 1))]
    columns: list[exp.Expr] = [
        *(ident(g) for g in groups),
        _as(_fn("arrayJoin", _fn("range", exp.Literal.number(1), exp.Literal.number(count + 1))), "step"),
        _as(pick([exp.convert(s.name) for s in funnel.steps]), "step_name"),
        _as(pick(users), "users"),
        _as(dialects.safe_divide(pick([u.copy() for u in users]), pick(previous)), "conversion_from_previous"),
        _as(dialects.safe_divide(pick([u.copy() for u in users]), ident("step_1_users")), "conversion_from_first"),
        _as(pick(medians), "median_seconds_to_convert"),
    ]
    for p in percentiles:
        values = [double(exp.null()), *(double(ident(f"step_{k}_p{p}")) for k in range(2, count + 1))]
        columns.append(_as(pick(values), f"seconds_to_convert_p{p}"))
    return exp.select(*columns).from_(cte("funnel_counts"), copy=False)
