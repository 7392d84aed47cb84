"""A set of users, listed for people and push systems: last visit, visits in the last 30 days, last province.

Segments, intent tiers, lifecycle stages, RFM groups and experiment variants
all end in "who are they?". Each builds a *members* SELECT (one row per
``user_id``, plus any columns of its own such as ``score``); this module turns
it into one statement listing those users as of a day, paged, with the total.

Columns, all computed from the events model's rows up to the end of ``as_of``:

- ``last_visit``: the time of the user's latest event;
- ``visits_30d``: sessions (the model's session gap, default 30 minutes) formed by the user's
  events in the 30 days ending on ``as_of``, the same count the ``sessions`` measure gives for
  that user over that range;
- ``last_province``: the province of the user's latest event that has one.

Users without events up to ``as_of`` are still listed, with NULL, 0 and NULL.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlglot import exp

from connectors.base import Warehouse
from semantic.catalog.catalog import Catalog
from semantic.compiler import dialects
from semantic.compiler.context import conjunction, cte, flag, hoist_ctes, ident, join, model_context, when, with_ctes
from semantic.drill.users import UserList, run_user_sql

RECENT_DAYS = 30
LIST_COLUMNS = ("user_id", "last_visit", "visits_30d", "last_province")
ZERO, ONE = exp.Literal.number(0), exp.Literal.number(1)


def compile_member_list(
    catalog: Catalog,
    members: exp.Select,
    as_of: date,
    dialect: str = "duckdb",
    *,
    extra: tuple[str, ...] = (),
    limit: int | None = 50,
    offset: int = 0,
    model: str = "events",
) -> tuple[str, list[str]]:
    """SQL listing ``members`` (a SELECT with a ``user_id`` column) as of ``as_of``, and the result's columns.

    Args:
        extra: names of further columns of ``members`` to carry into the list (``score``, ``tier``).
        limit, offset: one page, ordered by last visit (latest first), then user id; ``limit=None`` lists all.

    The last column, ``total_users``, is the number of members (for paging).
    """
    dialect = dialects.check_dialect(dialect)
    spec = catalog.models[model]
    ctx = model_context(catalog, spec, dialect, end=as_of)
    gap = spec.sessions.gap_seconds if spec.sessions else 1800
    ctes, bare = hoist_ctes(members.copy())
    recent_start = dialects.timestamp_literal(f"{as_of - timedelta(days=RECENT_DAYS - 1)} 00:00:00")

    in_recent = exp.paren(ctx.time_column >= recent_start, copy=False)
    rows = exp.select(
        exp.alias_(ctx.entity, "user_id", copy=False),
        exp.alias_(ctx.time_column, "event_time", copy=False),
        exp.alias_(ctx.column("province"), "province", copy=False),
        exp.alias_(flag(in_recent.copy()), "is_recent", copy=False),
        exp.alias_(
            ctx.window(exp.Lag(this=ctx.time_column), [ctx.entity, in_recent.copy()], [ctx.time_column, ctx.event_id]),
            "previous_time",
            copy=False,
        ),
        exp.alias_(
            ctx.window(
                exp.RowNumber(),
                [ctx.entity, ctx.column("province").is_(exp.null())],
                [exp.Ordered(this=ctx.time_column, desc=True), exp.Ordered(this=ctx.event_id, desc=True)],
            ),
            "province_rank",
            copy=False,
        ),
    )
    rows = join(ctx.source(rows), cte("member_ids", "m"), ctx.entity.eq(exp.column("user_id", table="m")))
    rows = rows.where(conjunction(ctx.range_conditions()), copy=False)

    previous = ident("previous_time")
    starts_session = exp.and_(
        ident("is_recent").eq(ONE),
        exp.or_(previous.is_(exp.null()), ident("event_time") > dialects.add_seconds(previous, gap), copy=False),
        copy=False,
    )
    has_province = exp.and_(ident("province").is_(exp.null()).not_(), ident("province_rank").eq(ONE), copy=False)
    per_user = (
        exp.select(
            ident("user_id"),
            exp.alias_(exp.Max(this=ident("event_time")), "last_visit", copy=False),
            exp.alias_(exp.Sum(this=flag(starts_session)), "visits_30d", copy=False),
            exp.alias_(exp.Max(this=when(has_province, ident("province"))), "last_province", copy=False),
        )
        .from_(cte("member_events"), copy=False)
        .group_by(ident("user_id"), copy=False)
    )

    member, activity = "m", "a"
    listing = exp.select(
        exp.column("user_id", table=member),
        exp.column("last_visit", table=activity),
        exp.alias_(
            exp.Coalesce(this=exp.column("visits_30d", table=activity), expressions=[ZERO]), "visits_30d", copy=False
        ),
        exp.column("last_province", table=activity),
        *(exp.column(name, table=member) for name in extra),
        exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), "total_users", copy=False),
    ).from_(cte("member_ids", member), copy=False)
    listing = join(
        listing,
        cte("member_activity", activity),
        exp.column("user_id", table=member).eq(exp.column("user_id", table=activity)),
        side="LEFT",
    )
    listing = listing.order_by(
        exp.Ordered(this=exp.column("last_visit", table=activity), desc=True, nulls_first=False),
        exp.column("user_id", table=member),
        copy=False,
    )
    if limit is not None:
        listing = listing.limit(max(1, limit), copy=False).offset(max(0, offset), copy=False)
    statement = with_ctes(
        listing, [*ctes, ("member_ids", bare), ("member_events", rows), ("member_activity", per_user)]
    )
    statement = dialects.quote_reserved(dialects.adapt(statement, dialect))
    return statement.sql(dialect=dialect, pretty=True), [*LIST_COLUMNS, *extra, "total_users"]


def member_list(catalog: Catalog, members: exp.Select, as_of: date, warehouse: Warehouse, **options) -> UserList:
    """Run :func:`compile_member_list` on ``warehouse``: one page of members and their total."""
    sql, columns = compile_member_list(catalog, members, as_of, warehouse.dialect, **options)
    return run_user_sql(sql, columns, warehouse)


def compile_member_ids(members: exp.Select, dialect: str = "duckdb") -> str:
    """SQL for every member's id, sorted: the CSV a push system takes."""
    ctes, bare = hoist_ctes(members.copy())
    ids = exp.select(ident("user_id")).from_(cte("member_ids"), copy=False).order_by(ident("user_id"), copy=False)
    statement = with_ctes(ids, [*ctes, ("member_ids", bare)])
    statement = dialects.quote_reserved(dialects.adapt(statement, dialects.check_dialect(dialect)))
    return statement.sql(dialect=dialect, pretty=True)


def member_ids(members: exp.Select, warehouse: Warehouse) -> list[str]:
    """Every member's id, sorted."""
    return [str(row[0]) for row in warehouse.query(compile_member_ids(members, warehouse.dialect)).rows]


def ids_csv(ids: list[str]) -> str:
    """``user_id`` then one id per line: the file a push system imports."""
    return "user_id\n" + "".join(f"{user_id}\n" for user_id in ids)
