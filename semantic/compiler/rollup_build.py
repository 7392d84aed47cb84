"""The statements that fill the exact rollups, built from the model YAML with the compiler's own session rules.

Two rollups of the events model (``semantic/README.md``, "Rollups"):

- **session days** (``rollup_session_days``): one row per session and calendar day it has
  events on (a *piece*): the session's start (its key), how many days it spans, the piece's
  first and last event time, its page views, clicks and events, and the carried columns of
  the piece's first event (by time, then event id). A session that stays within one day is
  one row. Ranges are whole days, so the sessions a question sees (the in-range part of
  each session: the compiler sessionizes only the in-range events) are exactly the in-range
  pieces of each session, regrouped.
- **user days** (``rollup_user_days``): one row per user, day and combination of the *day keys*
  (``event``, ``is_success``, ``business_line``, ``platform``, ``first_utm_source``,
  ``product_type``), with ``event_time`` the day's midnight, ``events`` (rows) and ``amount``
  (their sum); events without a user are kept, keyed by day. Counts, distinct users and sums
  of ``amount`` under filters, dimensions and row policies over the day keys are exact from it.
- **active days** (``rollup_active_days``): the same per user and day, keyed only by the *active keys*
  (``business_line``, ``platform``, ``first_utm_source``: what a user's day mixes little), so
  several times smaller (0.87M rows against 2.12M on the 2.8M-event demo). Distinct users, counts and sums of every event
  filtered or grouped by those keys alone (visitors, of a business line or by one) read it instead.
- **first seen** (``rollup_first_seen``): one row per user: the first event's time and the
  carried columns of that event (ties by event id), as ``first_event_ctes`` picks it.

*Carried columns* are the plain columns of the model that its text dimensions read (JSON and
boolean columns stay out). A rollup's *fingerprint* (hash of its build statement) is stored by
the loader that built it; the compiler uses a rollup only when the fingerprint matches the
catalog it compiles for, so editing the session gap or the page-view rule turns rollups off
until the next load rebuilds them.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlglot import exp

from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import column_names
from semantic.catalog.specs import Model
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, conjunction, cte, ident, join, model_context, when, with_ctes
from semantic.compiler.reader import (
    ACTIVE_DAYS_ROLLUP,
    FIRST_SEEN_ROLLUP,
    ROLLUP_SPAN_STAGE_TABLE,
    SESSION_ROLLUP,
    USER_DAYS_ROLLUP,
    rollup_span_test,
    rollup_stage_users,
    rollup_table,
)
from semantic.compiler.session_rules import numbered_sessions, session_events

Bounds = tuple[datetime, datetime]  # the earliest span start and the latest span end of a span refresh
Part = tuple[int, int]  # (k, n): the users whose id hashes to k modulo n (a whole build in n parts; DuckDB)

TEXT_TYPES = ("varchar", "text", "string")
DAY_KEYS = ("event", "is_success", "business_line", "platform", "first_utm_source", "product_type")
ACTIVE_KEYS = ("business_line", "platform", "first_utm_source")
DAY_SUMS = ("amount",)


def day_keys(model: Model) -> tuple[str, ...]:
    """The columns ``rollup_user_days`` groups by (those of :data:`DAY_KEYS` the model has)."""
    return tuple(c for c in DAY_KEYS if c in model.columns)


def active_keys(model: Model) -> tuple[str, ...]:
    """The columns ``rollup_active_days`` groups by (those of :data:`ACTIVE_KEYS` the model has)."""
    return tuple(c for c in ACTIVE_KEYS if c in model.columns)


def day_sums(model: Model) -> tuple[str, ...]:
    return tuple(c for c in DAY_SUMS if c in model.columns)


_CARRIED: dict[tuple[int, str], tuple[object, tuple[str, ...]]] = {}


def carried_columns(catalog: Catalog, model: Model) -> tuple[str, ...]:
    """The model's text columns that its own dimensions read, in the model's column order (once per catalog)."""
    key = (id(catalog.dimensions), model.name)
    cached = _CARRIED.get(key)
    if cached is not None and cached[0] is catalog.dimensions:
        return cached[1]
    columns = _carried(catalog, model)
    _CARRIED[key] = (catalog.dimensions, columns)
    return columns


def _carried(catalog: Catalog, model: Model) -> tuple[str, ...]:
    read = {name for d in catalog.dimensions.values() if d.model == model.name for name in column_names(d.expr)}
    skip = {model.entity, model.primary_key, model.time_column, *model.pii_columns}
    return tuple(
        name for name, kind in model.columns.items() if name in read and name not in skip and kind.lower() in TEXT_TYPES
    )


def rollup_model(catalog: Catalog) -> Model | None:
    """The model the rollups summarise: the one with sessions (the events); None without one."""
    for model in catalog.models.values():
        if model.sessions is not None and model.time_column:
            return model
    return None


def per_user_day_select(
    catalog: Catalog,
    model: Model,
    dialect: str,
    *,
    keys: Callable[[Model], tuple[str, ...]] = day_keys,
    staged: bool = False,
    null_days: tuple[str, ...] = (),
    spans: Bounds | None = None,
    part: Part | None = None,
) -> exp.Select:
    """Events per user, day and ``keys`` (the day keys, or the active keys): of the staged users (``staged``) and the
    user-less events of ``null_days``, of the staged users' staged days (``spans``), or of everyone."""
    ctx = model_context(catalog, model, dialect)
    midnight = exp.TimestampTrunc(this=ctx.time_column, unit=exp.var("DAY"))
    key_columns = [ctx.column(c) for c in keys(model)]
    # Each null day as a range of times (not ``midnight = day``), so the scan can skip other days' blocks.
    nobody = [
        exp.and_(
            ctx.entity.is_(exp.null()),
            ctx.time_column >= dialects.timestamp_literal(f"{day} 00:00:00"),
            ctx.time_column < dialects.timestamp_literal(f"{date.fromisoformat(day) + timedelta(days=1)} 00:00:00"),
        )
        for day in null_days
    ]
    users = [exp.In(this=ctx.entity, query=exp.paren(rollup_stage_users(), copy=False))] if staged else []
    parts = [*users, *nobody]
    chosen = exp.or_(*parts, copy=False) if parts else conjunction([_in_spans(ctx, spans), _in_part(ctx, part)])
    select = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(midnight, "event_time", copy=False),
            *(exp.alias_(k, k.name, copy=False) for k in key_columns),
            exp.alias_(exp.Count(this=exp.Star()), "events", copy=False),
            *(exp.alias_(exp.Sum(this=ctx.column(c)), c, copy=False) for c in day_sums(model)),
        )
    ).where(conjunction([ctx.time_column.is_(exp.null()).not_(), chosen]), copy=False)
    return dialects.adapt(select.group_by(*(exp.Literal.number(i) for i in range(1, len(key_columns) + 3))), dialect)


def session_days_select(
    catalog: Catalog,
    model: Model,
    dialect: str,
    *,
    staged: bool = False,
    null_days: tuple[str, ...] = (),
    spans: Bounds | None = None,
    part: Part | None = None,
) -> exp.Select:
    """Every session piece of the users in the stage table (``staged``), of every user, or of the events inside the
    staged spans (``spans``: each span covers whole sessions, so it is sessionized on its own)."""
    settings = model.sessions
    assert settings is not None
    ctx = model_context(catalog, model, dialect)
    carried = carried_columns(catalog, model)
    user, time, event_id = ident("user_id"), ident("event_time"), ident("event_id")
    columns = [exp.alias_(ctx.column(c), c, copy=False) for c in carried]
    selected = ctx.source(session_events(ctx, settings, columns)).where(
        conjunction([_users(ctx, staged), _in_spans(ctx, spans), _in_part(ctx, part)]), copy=False
    )
    day = exp.Cast(this=time.copy(), to=exp.DataType.build("DATE"))
    ranked = exp.select(
        exp.Star(),
        exp.alias_(day, "day", copy=False),
        exp.alias_(
            ctx.window(exp.RowNumber(), [user, ident("session_number"), day.copy()], [time, event_id]),
            "piece_rank",
            copy=False,
        ),
    ).from_(cte("session_numbers"), copy=False)
    first = ident("piece_rank").eq(exp.Literal.number(1))
    pieces = (
        exp.select(
            user,
            ident("session_number"),
            ident("day"),
            exp.alias_(exp.Min(this=time), "started_at", copy=False),
            exp.alias_(exp.Max(this=time), "ended_at", copy=False),
            *(exp.alias_(exp.Max(this=when(first, ident(c))), c, copy=False) for c in carried),
            exp.alias_(exp.Sum(this=ident("is_page_view")), "page_views", copy=False),
            exp.alias_(exp.Sum(this=ident("is_click")), "clicks", copy=False),
            exp.alias_(exp.Count(this=exp.Star()), "events", copy=False),
        )
        .from_(cte("session_pieces_ranked"), copy=False)
        .group_by(user, ident("session_number"), ident("day"), copy=False)
    )
    session = [user, ident("session_number")]
    final = exp.select(
        user,
        exp.alias_(_over(exp.Min(this=ident("started_at")), session), "session_start", copy=False),
        exp.alias_(_over(exp.Count(this=exp.Star()), session), "session_days", copy=False),
        ident("day"),
        ident("started_at"),
        ident("ended_at"),
        *(ident(c) for c in carried),
        ident("page_views"),
        ident("clicks"),
        ident("events"),
    ).from_(cte("session_pieces"), copy=False)
    ctes = [
        ("session_events", selected),
        *numbered_sessions(ctx, settings),
        ("session_pieces_ranked", ranked),
        ("session_pieces", pieces),
    ]
    return dialects.adapt(with_ctes(final, ctes), dialect)


def first_seen_select(
    catalog: Catalog,
    model: Model,
    dialect: str,
    *,
    staged: bool = False,
    null_days: tuple[str, ...] = (),
    spans: Bounds | None = None,
    part: Part | None = None,
) -> exp.Select:
    """Each user's first event (time, carried columns), for the staged users or for every user; with ``spans``,
    for the staged users left without a row, from their events at the staged instant (their new first time)."""
    ctx = model_context(catalog, model, dialect)
    carried = carried_columns(catalog, model)
    times = (
        ctx.source(
            exp.select(
                exp.alias_(ctx.entity, "user_id", copy=False),
                exp.alias_(exp.Min(this=ctx.time_column), "event_time", copy=False),
            )
        )
        .where(
            conjunction(
                [_users(ctx, staged), _in_spans(ctx, spans), _without_first_seen(ctx, spans), _in_part(ctx, part)]
            ),
            copy=False,
        )
        .group_by(ctx.entity.copy(), copy=False)
    )
    firsts = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(ctx.time_column, "event_time", copy=False),
            *(exp.alias_(ctx.column(c), c, copy=False) for c in carried),
            exp.alias_(ctx.window(exp.RowNumber(), ctx.entity, [ctx.event_id]), "event_rank", copy=False),
        )
    )
    at_first = exp.and_(
        ctx.entity.eq(exp.column("user_id", table="first_times")),
        ctx.time_column.eq(exp.column("event_time", table="first_times")),
        copy=False,
    )
    if spans is not None:
        firsts = firsts.where(conjunction(_bounds(ctx, spans)), copy=False)
    firsts = join(firsts, cte("first_times"), at_first)
    final = (
        exp.select(ident("user_id"), ident("event_time"), *(ident(c) for c in carried))
        .from_(cte("first_events"), copy=False)
        .where(ident("event_rank").eq(exp.Literal.number(1)), copy=False)
    )
    return dialects.adapt(with_ctes(final, [("first_times", times), ("first_events", firsts)]), dialect)


BUILDERS: dict[str, Callable[..., exp.Select]] = {
    SESSION_ROLLUP: session_days_select,
    FIRST_SEEN_ROLLUP: first_seen_select,
    USER_DAYS_ROLLUP: per_user_day_select,
    ACTIVE_DAYS_ROLLUP: functools.partial(per_user_day_select, keys=active_keys),
}


def fingerprint(catalog: Catalog, name: str) -> str | None:
    """A hash of rollup ``name``'s definition under ``catalog`` (None: the catalog has no events model)."""
    model = rollup_model(catalog)
    if model is None:
        return None
    sql = BUILDERS[name](catalog, model, "duckdb").sql(dialect="duckdb")
    return hashlib.sha256(f"{name}\n{sql}".encode()).hexdigest()[:32]


def _over(function: exp.Expr, partition_by: list[exp.Column]) -> exp.Window:
    """``function OVER (PARTITION BY ...)``: a whole-partition aggregate next to each row."""
    return exp.Window(this=function, partition_by=[p.copy() for p in partition_by])


def _users(ctx: SqlContext, staged: bool) -> exp.Expr | None:
    known = ctx.entity.is_(exp.null()).not_()
    if not staged:
        return known
    return conjunction([known, exp.In(this=ctx.entity, query=exp.paren(rollup_stage_users(), copy=False))])


def _in_spans(ctx: SqlContext, spans: Bounds | None) -> exp.Expr | None:
    """The events inside a staged span of their user, and inside all spans' bounds (so scans skip older blocks)."""
    if spans is None:
        return None
    return conjunction([*_bounds(ctx, spans), rollup_span_test(ctx.entity, ctx.time_column)])


def _in_part(ctx: SqlContext, part: Part | None) -> exp.Expr | None:
    """The rows of the users in part ``k`` of ``n`` (DuckDB's ``hash``; rows without a user all fall in one part)."""
    if part is None:
        return None
    k, n = part
    bucket = exp.Mod(this=exp.Anonymous(this="hash", expressions=[ctx.entity.copy()]), expression=exp.Literal.number(n))
    return exp.Coalesce(this=exp.paren(bucket), expressions=[exp.Literal.number(0)]).eq(exp.Literal.number(k))


def _bounds(ctx: SqlContext, spans: Bounds) -> list[exp.Expr]:
    low, high = (dialects.timestamp_literal(t.isoformat(sep=" ")) for t in spans)
    return [ctx.time_column >= low, ctx.time_column < high]


def _without_first_seen(ctx: SqlContext, spans: Bounds | None) -> exp.Expr | None:
    """Users with no ``rollup_first_seen`` row (a span refresh deleted those its new events come before)."""
    if spans is None:
        return None
    seen = exp.alias_(rollup_table(FIRST_SEEN_ROLLUP), "seen", table=True, copy=False)
    stored = exp.select(exp.Literal.number(1)).from_(seen, copy=False)
    stored = stored.where(exp.column("user_id", table="seen").eq(ctx.entity.copy()), copy=False)
    return exp.not_(exp.Exists(this=stored), copy=False)


def session_windows_select(model: Model, dialect: str, since: datetime) -> exp.Select:
    """Per staged span (a user's new events, first to last), the span widened to every stored session it can reach.

    A stored session is reached when it ends no more than the gap before the span's first new event and starts
    no more than the gap after its last one: only those sessions can merge with, or split around, the new events.
    The widened span starts at a session start (or a new event) whose previous event is more than the gap earlier,
    so the events inside it form whole sessions by themselves. ``since`` is the earliest new event: pieces ending
    more than the gap before it belong to sessions no span reaches (a reached session's last piece ends later).
    """
    settings = model.sessions
    assert settings is not None
    gap = settings.gap_seconds
    span, stored = "rollup_span", "stored"

    def s(name: str) -> exp.Column:
        return exp.column(name, table=span)

    def r(name: str) -> exp.Column:
        return exp.column(name, table=stored)

    spans = exp.select("user_id").from_(rollup_table(ROLLUP_SPAN_STAGE_TABLE), copy=False)
    sessions = (
        exp.select("user_id", "session_start", exp.alias_(exp.Max(this=ident("ended_at")), "session_end"))
        .from_(rollup_table(SESSION_ROLLUP), copy=False)
        .where(
            ident("ended_at") >= dialects.timestamp_literal((since - timedelta(seconds=gap)).isoformat(sep=" ")),
            exp.In(this=ident("user_id"), query=exp.paren(spans, copy=False)),
            copy=False,
        )
        .group_by("user_id", "session_start", copy=False)
    )
    reaches = exp.and_(
        r("user_id").eq(s("user_id")),
        r("session_end") >= exp.Sub(this=s("span_start"), expression=_seconds(gap)),
        r("session_start") <= dialects.add_seconds(s("span_end"), gap),
    )
    start = exp.Least(
        this=s("span_start"),
        expressions=[exp.Coalesce(this=exp.Min(this=r("session_start")), expressions=[s("span_start")])],
    )
    end = exp.Greatest(
        this=s("span_end"), expressions=[exp.Coalesce(this=exp.Max(this=r("session_end")), expressions=[s("span_end")])]
    )
    select = exp.select(s("user_id"), exp.alias_(start, "span_start"), exp.alias_(end, "span_end")).from_(
        exp.alias_(rollup_table(ROLLUP_SPAN_STAGE_TABLE), span, table=True), copy=False
    )
    select = join(select, sessions.subquery(stored), reaches, side="LEFT")
    return dialects.adapt(select.group_by(s("user_id"), s("span_start"), s("span_end"), copy=False), dialect)


def _seconds(seconds: int) -> exp.Interval:
    return exp.Interval(this=exp.Literal.string(str(seconds)), unit=exp.var("SECOND"))
