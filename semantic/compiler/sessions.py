"""Sources for metrics that need per-user ordering: session measures and first-seen users.

Sessions (see ``semantic/README.md``): the selected events of a user, ordered
by time (then event id), form a session until the gap to the previous event
exceeds the model's gap; a gap of exactly the limit stays in the session. A
session takes the time bucket and dimension values of its first event.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.specs import FirstSeenMetric, SessionMetric
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, conjunction, cte, ident, when
from semantic.compiler.first_events import first_event_ctes
from semantic.compiler.rollups import first_seen_from_rollup, first_seen_rows, session_rows_ctes, sessions_from_rollup
from semantic.compiler.session_rules import numbered_sessions, session_events

ZERO, ONE = exp.Literal.number(0), exp.Literal.number(1)


def session_ctes(ctx: SqlContext, metrics: list[SessionMetric]) -> tuple[list[tuple[str, exp.Query]], str]:
    """CTEs computing the requested session measures per bucket and dimensions; returns (ctes, last name).

    The sessions come from the rollup when ``semantic/compiler/rollups.py`` says it gives the same rows.
    """
    rows: list[tuple[str, exp.Query]] = [*session_rows_ctes(ctx)] if sessions_from_rollup(ctx) else [*session_rows(ctx)]
    viewed = ident("page_views") > ZERO
    sessions_with_views = exp.Count(this=when(viewed, ONE))
    measures = {
        "sessions": exp.Count(this=exp.Star()),
        "avg_duration": exp.Avg(
            this=dialects.quirks(ctx.dialect).seconds_between(ident("started_at"), ident("ended_at"))
        ),
        "avg_depth": dialects.safe_divide(exp.Sum(this=ident("page_views")), sessions_with_views),
        "bounce_rate": dialects.safe_divide(
            exp.Count(this=when(exp.and_(ident("page_views").eq(ONE), ident("clicks").eq(ZERO), copy=False), ONE)),
            sessions_with_views,
        ),
    }
    groups = _group_expressions(ctx, ident("started_at"))
    summary = exp.select(*groups, *(exp.alias_(measures[m.measure], m.name, copy=False) for m in metrics)).from_(
        cte("sessions"), copy=False
    )
    if groups:
        summary = summary.group_by(*range_positions(len(groups)), copy=False)
    return [*rows, ("session_metrics", summary)], "session_metrics"


def session_rows(ctx: SqlContext) -> list[tuple[str, exp.Select]]:
    """CTEs ending in ``sessions``: one row per in-range session, computed from the events."""
    settings = ctx.model.sessions
    assert settings is not None, "validated by the loader"
    dims = ctx.resolved.dimensions
    user, time = ident("user_id"), ident("event_time")

    selected = session_events(ctx, settings, [exp.alias_(ctx.dimension(d), d.name, copy=False) for d in dims])
    selected = ctx.source(selected).where(
        conjunction([ctx.entity.is_(exp.null()).not_(), *ctx.range_conditions(), ctx.user_filter()]), copy=False
    )
    is_start = ident("is_session_start").eq(ONE)
    per_session = (
        exp.select(
            user,
            ident("session_number"),
            exp.alias_(exp.Min(this=time), "started_at", copy=False),
            exp.alias_(exp.Max(this=time), "ended_at", copy=False),
            *(exp.alias_(exp.Max(this=when(is_start, ident(d.name))), d.name, copy=False) for d in dims),
            exp.alias_(exp.Sum(this=ident("is_page_view")), "page_views", copy=False),
            exp.alias_(exp.Sum(this=ident("is_click")), "clicks", copy=False),
        )
        .from_(cte("session_numbers"), copy=False)
        .group_by(user, ident("session_number"), copy=False)
    )

    return [
        ("session_events", selected),
        *numbered_sessions(ctx, settings),
        ("sessions", per_session),
    ]


def first_seen_ctes(ctx: SqlContext, metrics: list[FirstSeenMetric]) -> tuple[list[tuple[str, exp.Query]], str]:
    """CTEs counting entities whose first event ever falls in the range and passes the filter."""
    if first_seen_from_rollup(ctx):
        firsts, first_only = first_seen_rows(ctx, "user_first_events")
    else:
        user_filter = ctx.user_filter()
        firsts, first_only = first_event_ctes(ctx, "user_first_events", None, flag_filter=user_filter, first_ever=True)
    groups = _group_expressions(ctx, ident("event_time"))
    summary = exp.select(*groups, *(exp.alias_(exp.Count(this=exp.Star()), m.name, copy=False) for m in metrics))
    summary = summary.from_(cte("user_first_events"), copy=False)
    if first_only is not None:
        summary = summary.where(first_only, copy=False)
    if groups:
        summary = summary.group_by(*range_positions(len(groups)), copy=False)
    return [*firsts, ("first_seen_metrics", summary)], "first_seen_metrics"


def _group_expressions(ctx: SqlContext, time: exp.Expr) -> list[exp.Expr]:
    """The bucket of ``time`` and the dimension columns (already named) of a per-user CTE."""
    bucket = [exp.alias_(ctx.bucket(time), ctx.resolved.grain, copy=False)] if ctx.resolved.grain else []
    return [*bucket, *(ident(d.name) for d in ctx.resolved.dimensions)]


def range_positions(count: int) -> list[exp.Expr]:
    """``GROUP BY 1, 2, ...``: every target dialect accepts ordinals, and they keep buckets short."""
    return [exp.Literal.number(i) for i in range(1, count + 1)]
