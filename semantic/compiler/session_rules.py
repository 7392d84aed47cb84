"""How events become sessions: the one definition the questions and the session rollup both use.

``semantic/compiler/sessions.py`` sessionizes a question's in-range events; the loaders'
``rollup_session_days`` (``rollup_build.py``) sessionizes all events. Their answers must agree
exactly, so the event columns, the gap test and the session numbering are built here once.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.specs import SessionSettings
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, cte, flag, ident


def session_events(ctx: SqlContext, settings: SessionSettings, columns: list[exp.Expr]) -> exp.Select:
    """``user_id``, ``event_time``, ``event_id``, ``columns``, the page-view and click flags and the previous event's
    time (by time, then event id) of each event; the caller adds the FROM and its WHERE."""
    return exp.select(
        exp.alias_(ctx.entity, "user_id", copy=False),
        exp.alias_(ctx.time_column, "event_time", copy=False),
        exp.alias_(ctx.event_id, "event_id", copy=False),
        *columns,
        exp.alias_(flag(ctx.snippet(settings.page_view)), "is_page_view", copy=False),
        exp.alias_(flag(ctx.snippet(settings.click)), "is_click", copy=False),
        exp.alias_(
            ctx.window(exp.Lag(this=ctx.time_column), ctx.entity, [ctx.time_column, ctx.event_id]),
            "previous_event_time",
            copy=False,
        ),
    )


def numbered_sessions(ctx: SqlContext, settings: SessionSettings) -> list[tuple[str, exp.Select]]:
    """The CTEs ``session_starts`` and ``session_numbers`` over ``session_events``: a gap of exactly the limit stays in
    the session; each event gets its user's running session number."""
    user, time, event_id = ident("user_id"), ident("event_time"), ident("event_id")
    previous = ident("previous_event_time")
    new_session = exp.or_(
        previous.is_(exp.null()), time > dialects.add_seconds(previous, settings.gap_seconds), copy=False
    )
    starts = exp.select(exp.Star(), exp.alias_(flag(new_session), "is_session_start", copy=False)).from_(
        cte("session_events"), copy=False
    )
    numbered = exp.select(
        exp.Star(),
        exp.alias_(
            ctx.window(exp.Sum(this=ident("is_session_start")), user, [time, event_id], frame="running"),
            "session_number",
            copy=False,
        ),
    ).from_(cte("session_starts"), copy=False)
    return [("session_starts", starts), ("session_numbers", numbered)]
