"""When a question is answered from a rollup instead of the events: the one rule, and the reads that replace the scan.

A rollup is used only when the answer is provably the one the events give
(``semantic/README.md``, "Rollups"):

- the warehouse has it and its loader keeps it current for this catalog's definitions
  (``Catalog.rollups``: names whose stored fingerprint matches, see ``rollup_build.py``);
- every dimension of the question reads only the rollup's carried columns of the model;
- sessions: no ``--where``, no segment and no row policy: those filter *events* before
  they form sessions, which a per-session row cannot replay;
- new users: the ``--where``, segment and row policy are tested on the first event, so
  they may read carried columns (and the user id) only;
- counts, distinct users and sums of ``amount`` (``rollup_active_days``, else ``rollup_user_days``):
  a range with a first day, a grain of a day or longer, and metric filters, ``--where``, segment,
  row policy and dimensions over that rollup's keys only (each is then constant within a rollup
  row, so filtering or grouping rows is filtering or grouping their events); a count becomes the
  sum of the rows' ``events``, a distinct count of users stays a distinct count.

Otherwise the builders read the events as always. Either way the statement names what it
read (``rollup_session_days``, ``rollup_first_seen`` or ``events``).
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.specs import AggregateMetric, Model
from semantic.compiler.context import SqlContext, conjunction, cte, flag, ident, when
from semantic.compiler.reader import (
    ACTIVE_DAYS_ROLLUP,
    FIRST_SEEN_ROLLUP,
    SESSION_ROLLUP,
    USER_DAYS_ROLLUP,
    role_condition,
    rollup_rows,
)
from semantic.compiler.rollup_build import active_keys, carried_columns, day_keys, day_sums

ONE = exp.Literal.number(1)


def _reads_carried(ctx: SqlContext, expression: exp.Expr | None, columns: tuple[str, ...] | None = None) -> bool:
    """True when ``expression`` reads only carried columns of the model (or ``columns``), or its entity."""
    if expression is None:
        return True
    allowed = {*(carried_columns(ctx.catalog, ctx.model) if columns is None else columns), ctx.model.entity}
    for column in expression.find_all(exp.Column):
        if column.table not in ("", ctx.alias) or column.name not in allowed:
            return False
    return True


def _available(ctx: SqlContext, name: str) -> bool:
    rollups = ctx.catalog.rollups
    return rollups is not None and name in rollups and not ctx.resolved.joined_models


def _dimensions_carried(ctx: SqlContext) -> bool:
    return all(d.model == ctx.alias and _reads_carried(ctx, ctx.dimension(d)) for d in ctx.resolved.dimensions)


def sessions_from_rollup(ctx: SqlContext) -> bool:
    """The session rule: answer from ``rollup_session_days``?"""
    return (
        _available(ctx, SESSION_ROLLUP)
        and ctx.user_filter() is None
        and role_condition(ctx.catalog, ctx.model) is None
        and _dimensions_carried(ctx)
    )


def first_seen_from_rollup(ctx: SqlContext) -> bool:
    """The new-users rule: answer from ``rollup_first_seen``?"""
    return (
        _available(ctx, FIRST_SEEN_ROLLUP)
        and _dimensions_carried(ctx)
        and _reads_carried(ctx, ctx.user_filter())
        and _reads_carried(ctx, role_condition(ctx.catalog, ctx.model))
    )


def user_days_table(ctx: SqlContext, metrics: list[AggregateMetric]) -> str | None:
    """The count/sum rule: the per-user-day rollup that answers these leaves (the smaller one first), or None."""
    if ctx.resolved.query.start is None or ctx.resolved.grain == "hour":
        return None
    for name, keys in ((ACTIVE_DAYS_ROLLUP, active_keys(ctx.model)), (USER_DAYS_ROLLUP, day_keys(ctx.model))):
        if _available(ctx, name) and _per_user_day_answers(ctx, metrics, keys):
            return name
    return None


def _per_user_day_answers(ctx: SqlContext, metrics: list[AggregateMetric], keys: tuple[str, ...]) -> bool:
    """Whether rows per user, day and ``keys`` answer these leaves exactly: each filter and group reads only keys."""
    sums = day_sums(ctx.model)
    for metric in metrics:
        expr = metric.expr
        column = expr.name if isinstance(expr, exp.Column) and not expr.table else None
        shape = (metric.aggregation, expr is None, column)
        if shape not in (("count", True, None), ("count_distinct", False, ctx.model.entity)) and not (
            metric.aggregation == "sum" and column in sums
        ):
            return False
        if not _reads_carried(ctx, ctx.snippet(metric.filter), keys):
            return False
    return (
        all(d.model == ctx.alias and _reads_carried(ctx, ctx.dimension(d), keys) for d in ctx.resolved.dimensions)
        and _reads_carried(ctx, ctx.user_filter(), keys)
        and _reads_carried(ctx, role_condition(ctx.catalog, ctx.model), keys)
    )


def user_days_rows(ctx: SqlContext, name: str) -> exp.Expr:
    """The FROM item for :func:`user_days_table`'s questions: rollup ``name`` as the model, the role's rows only."""
    return rollup_rows(ctx.catalog, name, ctx.model, filtered=True)


def user_days_count(condition: exp.Expr | None) -> exp.Expr:
    """``COUNT(*)`` of events (matching ``condition``) as the sum of the rollup rows' ``events``."""
    return exp.Coalesce(this=exp.Sum(this=when(condition, ident("events"))), expressions=[exp.Literal.number(0)])


def session_rows_ctes(ctx: SqlContext) -> list[tuple[str, exp.Select]]:
    """CTEs ending in ``sessions`` (user_id, started_at, ended_at, dimensions, page_views, clicks) from the rollup.

    A question sees the in-range part of each session; ranges are whole days, so that part is the session's
    in-range pieces: a one-day session is its row, a longer one its pieces regrouped, its dimensions from the
    first in-range piece.
    """
    model: Model = ctx.model
    dims = ctx.resolved.dimensions
    started = ident("started_at")
    pieces = exp.select(
        ident("user_id"),
        ident("session_start"),
        ident("session_days"),
        started,
        ident("ended_at"),
        *(exp.alias_(ctx.dimension(d), d.name, copy=False) for d in dims),
        ident("page_views"),
        ident("clicks"),
    ).from_(rollup_rows(ctx.catalog, SESSION_ROLLUP, model), copy=False)
    in_range = conjunction(ctx.range_conditions(exp.column("started_at", table=ctx.alias)))
    if in_range is not None:
        pieces = pieces.where(in_range, copy=False)

    columns = ["user_id", "started_at", "ended_at", *(d.name for d in dims), "page_views", "clicks"]
    whole = (
        exp.select(*(ident(c) for c in columns))
        .from_(cte("session_rollup_pieces"), copy=False)
        .where(ident("session_days").eq(ONE), copy=False)
    )
    ranked = (
        exp.select(
            exp.Star(),
            exp.alias_(
                ctx.window(exp.RowNumber(), [ident("user_id"), ident("session_start")], [started.copy()]),
                "piece_rank",
                copy=False,
            ),
        )
        .from_(cte("session_rollup_pieces"), copy=False)
        .where(ident("session_days") > ONE, copy=False)
    )
    first = ident("piece_rank").eq(ONE)
    joined = (
        exp.select(
            ident("user_id"),
            exp.alias_(exp.Min(this=started.copy()), "started_at", copy=False),
            exp.alias_(exp.Max(this=ident("ended_at")), "ended_at", copy=False),
            *(exp.alias_(exp.Max(this=when(first, ident(d.name))), d.name, copy=False) for d in dims),
            exp.alias_(exp.Sum(this=ident("page_views")), "page_views", copy=False),
            exp.alias_(exp.Sum(this=ident("clicks")), "clicks", copy=False),
        )
        .from_(cte("session_rollup_spanning"), copy=False)
        .group_by(ident("user_id"), ident("session_start"), copy=False)
    )
    return [
        ("session_rollup_pieces", pieces),
        ("session_rollup_spanning", ranked),
        ("sessions", exp.union(whole, joined, distinct=False, copy=False)),  # type: ignore[list-item]
    ]


def first_seen_rows(ctx: SqlContext, name: str) -> tuple[list[tuple[str, exp.Select]], exp.Expr | None]:
    """``name``: users whose first event falls in the range, from the rollup, as ``first_event_ctes`` returns them."""
    test = conjunction([ctx.user_filter(), role_condition(ctx.catalog, ctx.model)])
    rows = exp.select(
        exp.alias_(ctx.entity, "user_id", copy=False),
        exp.alias_(ctx.time_column, "event_time", copy=False),
        *(exp.alias_(ctx.dimension(d), d.name, copy=False) for d in ctx.resolved.dimensions),
        *([exp.alias_(flag(test), "matches_filter", copy=False)] if test is not None else []),
    ).from_(rollup_rows(ctx.catalog, FIRST_SEEN_ROLLUP, ctx.model), copy=False)
    in_range = conjunction(ctx.range_conditions())
    if in_range is not None:
        rows = rows.where(in_range, copy=False)
    return [(name, rows)], ident("matches_filter").eq(ONE) if test is not None else None
