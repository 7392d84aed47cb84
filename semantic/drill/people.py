"""Finding one person the way customer service does: by the start of an id, or by any id they were seen under.

A caller reads out an id from a screenshot, often only its beginning, and it
may be the app's anonymous id rather than the login id. :func:`find_users`
matches the text against the start of the users' ids and of every
``distinct_id`` their events were sent under (the anonymous ids the importer
bound to a login id keep their ``distinct_id`` on the events), so either finds
the stitched user. :func:`user_profile` is that user's row of the users model.

The text is a literal compared with ``SUBSTRING(id, 1, n)``, never spliced
into SQL, and no ``LIKE`` pattern, so ``%`` and ``_`` mean themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.compiler import dialects
from semantic.compiler.context import model_context
from semantic.compiler.results import normalise

MAX_TEXT = 200
EVENTS, USERS = "events", "users"


@dataclass(frozen=True)
class Match:
    """A user whose id, or one of whose distinct ids, starts with the text typed."""

    user_id: str
    matched_by: str  # "user_id" or "distinct_id"
    matched: str  # the id that matched


def compile_find_users(catalog: Catalog, text: str, dialect: str = "duckdb", *, limit: int = 20) -> str:
    """SQL listing users whose id or whose events' ``distinct_id`` starts with ``text``; exact matches first."""
    text = text.strip()
    if not text or len(text) > MAX_TEXT or not text.isprintable():
        raise QueryError(f"a user id to look for is printable text of 1 to {MAX_TEXT} characters")
    branches = []
    for model_name, column, kind in (
        (USERS, None, "user_id"),
        (EVENTS, None, "user_id"),
        (EVENTS, "distinct_id", "distinct_id"),
    ):
        if model_name not in catalog.models:
            continue
        model = catalog.models[model_name]
        if column is not None and column not in model.columns:
            continue
        ctx = model_context(catalog, model)
        matched = ctx.column(column) if column else ctx.entity
        starts = exp.Substring(this=matched.copy(), start=exp.Literal.number(1), length=exp.Literal.number(len(text)))
        select = ctx.source(
            exp.select(
                exp.alias_(exp.cast(ctx.entity, "VARCHAR"), "user_id"),
                exp.alias_(exp.convert(kind), "matched_by"),
                exp.alias_(exp.cast(matched.copy(), "VARCHAR"), "matched"),
            ).distinct()
        ).where(exp.and_(starts.eq(exp.convert(text)), ctx.entity.copy().is_(exp.null()).not_()), copy=False)
        branches.append(select)
    if not branches:
        raise QueryError("the catalog has no events or users model to look users up in")
    union: exp.Query = branches[0]
    for branch in branches[1:]:
        union = exp.union(union, branch, distinct=True)
    exact = (
        exp.case().when(exp.column("matched").eq(exp.convert(text)), exp.Literal.number(0)).else_(exp.Literal.number(1))
    )
    outer = (
        exp.select("user_id", "matched_by", "matched")
        .from_(exp.paren(union).as_("found"))
        .order_by(exact, exp.column("user_id"), exp.column("matched_by").desc(), exp.column("matched"))
        .limit(limit)
    )
    return dialects.quote_reserved(outer).sql(dialect=dialects.check_dialect(dialect), pretty=True)


def find_users(catalog: Catalog, text: str, warehouse: Warehouse, *, limit: int = 20) -> list[Match]:
    """Users matching ``text`` (see :func:`compile_find_users`), one entry per user, its best match first."""
    rows = warehouse.query(compile_find_users(catalog, text, warehouse.dialect, limit=limit * 3)).rows
    seen: dict[str, Match] = {}
    for user_id, kind, matched in rows:
        if user_id not in seen:
            seen[str(user_id)] = Match(str(user_id), str(kind), str(matched))
    return list(seen.values())[:limit]


def compile_user_profile(catalog: Catalog, user_id: str, dialect: str = "duckdb") -> str:
    """SQL for ``user_id``'s row of the users model: every column, and every users dimension by its name."""
    model = catalog.models[USERS]
    ctx = model_context(catalog, model)
    items = [exp.alias_(ctx.column(name), name) for name in model.columns]
    items += [
        exp.alias_(ctx.dimension(d), d.name)
        for d in catalog.dimensions_for(USERS)
        if d.model == USERS and d.name not in model.columns
    ]
    select = ctx.source(exp.select(*items)).where(ctx.entity.eq(exp.convert(str(user_id))), copy=False).limit(1)
    return dialects.quote_reserved(select).sql(dialect=dialects.check_dialect(dialect), pretty=True)


def user_profile(catalog: Catalog, user_id: str, warehouse: Warehouse) -> dict[str, Any]:
    """``user_id``'s attributes from the users model ({} when the user has no row there)."""
    if USERS not in catalog.models:
        return {}
    result = warehouse.query(compile_user_profile(catalog, user_id, warehouse.dialect))
    return {c: normalise(v) for c, v in zip(result.columns, result.rows[0])} if result.rows else {}
