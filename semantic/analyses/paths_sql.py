"""One SQL statement for a path analysis (:mod:`semantic.analyses.paths`), and the users behind one flow.

The selected events of each user (range and ``--where``; with a user) form
sessions by the model's gap, as the ``sessions`` measure does. Each event is
a node (its event name; with ``by_page``, a page view ``page:<page>`` and a
click ``click:<element>``),
and a node equal to the one just before it in the same session is a repeat,
collapsed into it: ``position`` counts a user's nodes, so a repeat shares
its node's position. Each session holding the anchor gives one path of up to
``steps`` nodes from (or to) its first anchor; at each step only the ``top``
nodes by users keep their name, the rest are ``other``. A flow is
(step, source, target); a path ending before ``steps`` nodes flows into NULL
(the session ended; backward: NULL source, it began). Users are distinct per
flow.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import QueryError
from semantic.analyses.distributions_sql import events_context, finish
from semantic.analyses.paths import CLICK_PREFIX, OTHER, PAGE_PREFIX, PathSpec
from semantic.catalog.catalog import Catalog
from semantic.catalog.specs import FunnelMetric
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, conjunction, cte, flag, ident, join, matches_events, with_ctes
from semantic.compiler.funnel import build_funnel
from semantic.compiler.query import Query, resolve
from semantic.compiler.results import normalise
from semantic.compiler.sessions import range_positions
from semantic.drill.model_users import equals, total_users
from semantic.drill.users import UserList, run_user_sql

ONE, ZERO = exp.Literal.number(1), exp.Literal.number(0)
COLUMNS = ["step", "source", "target", "users"]


def _c(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table)


def _node(ctx: SqlContext, spec: PathSpec) -> exp.Expr:
    """The event name; with ``by_page``, ``page:<page>`` for a page view and ``click:<element>`` for a click."""
    event = ctx.column(ctx.model.event_column or "event")
    if not spec.by_page:
        return event
    settings = ctx.model.sessions
    named = []
    for rule, dimension, prefix in (("page_view", "page", PAGE_PREFIX), ("click", "element", CLICK_PREFIX)):
        spec_dimension = ctx.catalog.dimensions.get(dimension)
        if spec_dimension is None or spec_dimension.model != ctx.model.name or settings is None:
            raise QueryError(
                f"naming by page needs the {dimension!r} dimension and session settings on model {ctx.model.name!r}"
            )
        value = ctx.dimension(spec_dimension)
        test = exp.and_(ctx.snippet(getattr(settings, rule)), value.is_(exp.null()).not_(), copy=False)
        named.append(exp.If(this=test, true=exp.Concat(expressions=[exp.convert(prefix), value.copy()])))
    return exp.Case(ifs=named, default=event.copy())


def _anchor_test(catalog: Catalog, ctx: SqlContext, spec: PathSpec) -> exp.Expr:
    event = ctx.column(ctx.model.event_column or "event")
    if spec.mode != "after":
        return matches_events(event, spec.events, ctx.snippet(spec.filter))
    funnel = catalog.metrics[spec.funnel or ""]
    assert isinstance(funnel, FunnelMetric) and spec.step is not None
    step = funnel.steps[spec.step - 2]
    return matches_events(event, step.events, ctx.snippet(step.filter))


def _funnel_ctes(catalog: Catalog, spec: PathSpec, dialect: str, start, end, where) -> list[tuple[str, exp.Expr]]:
    """The funnel's CTEs up to ``funnel_users`` (each user's deepest path), for ``after``."""
    resolved = resolve(catalog, Query(metrics=(spec.funnel or "",), start=start, end=end, where=where))
    statement = build_funnel(SqlContext(catalog, resolved, dialect))
    kept: list[tuple[str, exp.Expr]] = []
    for node in statement.args["with_"].expressions:
        kept.append((node.alias, node.this))
        if node.alias == "funnel_users":
            break
    return kept


def path_ctes(
    catalog: Catalog, spec: PathSpec, dialect: str, *, start: date | None, end: date | None, where: str | None
) -> list[tuple[str, exp.Expr]]:
    """Every CTE up to ``path_flows``: one row per (path, flow) with step, source, target and user_id."""
    ctx = events_context(catalog, dialect, start=start, end=end, where=where)
    settings = ctx.model.sessions
    if settings is None:
        raise QueryError(f"model {ctx.model.name!r} declares no sessions, so it has no paths")
    window = 0
    if spec.mode == "after":
        funnel = catalog.metrics[spec.funnel or ""]
        assert isinstance(funnel, FunnelMetric)
        window = funnel.window_seconds
    event = ctx.column(ctx.model.event_column or "event")
    rows = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(ctx.time_column, "event_time", copy=False),
            exp.alias_(ctx.event_id, "event_id", copy=False),
            exp.alias_(_node(ctx, spec), "node", copy=False),
            exp.alias_(flag(_anchor_test(catalog, ctx, spec)), "is_anchor", copy=False),
        )
    ).where(
        conjunction(
            [
                ctx.entity.is_(exp.null()).not_(),
                event.is_(exp.null()).not_(),
                *ctx.range_conditions(end_extra_seconds=window),
                ctx.user_filter(),
            ]
        ),
        copy=False,
    )
    order: list[exp.Expr] = [ident("event_time"), ident("event_id")]
    marks = exp.select(
        exp.Star(),
        exp.alias_(ctx.window(exp.Lag(this=ident("event_time")), ident("user_id"), order), "previous_time", copy=False),
        exp.alias_(ctx.window(exp.Lag(this=ident("node")), ident("user_id"), order), "previous_node", copy=False),
    ).from_(cte("path_rows"), copy=False)
    previous = ident("previous_time")
    starts = exp.or_(
        previous.is_(exp.null()), ident("event_time") > dialects.add_seconds(previous, settings.gap_seconds), copy=False
    )
    new_node = exp.or_(exp.paren(starts.copy(), copy=False), ident("previous_node").neq(ident("node")), copy=False)
    flagged = exp.select(
        ident("user_id"),
        ident("event_time"),
        ident("event_id"),
        ident("node"),
        ident("is_anchor"),
        exp.alias_(flag(starts), "is_session_start", copy=False),
        exp.alias_(flag(new_node), "is_new_node", copy=False),
    ).from_(cte("path_marks"), copy=False)
    numbered = exp.select(
        exp.Star(),
        exp.alias_(
            ctx.window(exp.Sum(this=ident("is_session_start")), ident("user_id"), order, frame="running"),
            "session_number",
            copy=False,
        ),
        exp.alias_(
            ctx.window(exp.Sum(this=ident("is_new_node")), ident("user_id"), order, frame="running"),
            "position",
            copy=False,
        ),
    ).from_(cte("path_flagged"), copy=False)
    ctes: list[tuple[str, exp.Expr]] = [
        ("path_rows", rows),
        ("path_marks", marks),
        ("path_flagged", flagged),
        ("path_numbered", numbered),
    ]
    anchors = exp.select(
        exp.alias_(_c("n", "user_id"), "user_id", copy=False),
        exp.alias_(_c("n", "session_number"), "session_number", copy=False),
        exp.alias_(exp.Min(this=_c("n", "position")), "anchor", copy=False),
    ).from_(cte("path_numbered", "n"), copy=False)
    anchor_tests: list[exp.Expr | None] = [_c("n", "is_anchor").eq(ONE.copy())]
    if spec.mode == "after":
        ctes = [*_funnel_ctes(catalog, spec, dialect, start, end, where), *ctes]
        reached, missed = f"step_{(spec.step or 2) - 1}_time", f"step_{spec.step}_time"
        on = exp.and_(_c("f", "user_id").eq(_c("n", "user_id")), _c("f", reached).eq(_c("n", "event_time")), copy=False)
        anchors = join(anchors, cte("funnel_users", "f"), on)
        anchor_tests.append(_c("f", missed).is_(exp.null()))
    else:
        anchor_tests.extend(ctx.range_conditions(_c("n", "event_time")))
    anchors = anchors.where(conjunction(anchor_tests), copy=False).group_by(*range_positions(2), copy=False)
    forward = spec.mode != "end"
    offset = (
        exp.Sub(this=_c("n", "position"), expression=_c("a", "anchor"))
        if forward
        else exp.Sub(this=_c("a", "anchor"), expression=_c("n", "position"))
    )
    nodes = join(
        exp.select(
            exp.alias_(_c("n", "user_id"), "user_id", copy=False),
            exp.alias_(_c("n", "session_number"), "session_number", copy=False),
            exp.alias_(exp.Add(this=offset, expression=ONE.copy()), "step_index", copy=False),
            exp.alias_(_c("n", "node"), "node", copy=False),
        ).from_(cte("path_numbered", "n"), copy=False),
        cte("path_anchors", "a"),
        exp.and_(
            _c("a", "user_id").eq(_c("n", "user_id")),
            _c("a", "session_number").eq(_c("n", "session_number")),
            copy=False,
        ),
    ).where(
        conjunction(
            [
                _c("n", "is_new_node").eq(ONE.copy()),
                offset.copy() >= ZERO.copy(),
                offset.copy() < exp.Literal.number(spec.steps),
            ]
        ),
        copy=False,
    )
    ranked = exp.select(
        ident("step_index"),
        ident("node"),
        exp.alias_(
            exp.Window(
                this=exp.RowNumber(),
                partition_by=[ident("step_index")],
                order=exp.Order(
                    expressions=[
                        exp.Ordered(this=exp.Count(this=exp.Distinct(expressions=[ident("user_id")])), desc=True),
                        exp.Ordered(this=ident("node")),
                    ]
                ),
            ),
            "node_rank",
            copy=False,
        ),
    ).from_(cte("path_nodes"), copy=False)
    ranked = ranked.group_by(ident("step_index"), ident("node"), copy=False)
    named = join(
        exp.select(
            _c("p", "user_id"),
            _c("p", "session_number"),
            _c("p", "step_index"),
            exp.alias_(
                exp.Case(
                    ifs=[exp.If(this=_c("r", "node_rank") <= exp.Literal.number(spec.top), true=_c("p", "node"))],
                    default=exp.convert(OTHER),
                ),
                "node",
                copy=False,
            ),
        ).from_(cte("path_nodes", "p"), copy=False),
        cte("path_ranked", "r"),
        exp.and_(_c("r", "step_index").eq(_c("p", "step_index")), _c("r", "node").eq(_c("p", "node")), copy=False),
    )
    here, there = ("s", "t") if forward else ("t", "s")
    flows = join(
        exp.select(
            exp.alias_(_c(here, "step_index"), "step", copy=False),
            exp.alias_(_c("s", "node"), "source", copy=False),
            exp.alias_(_c("t", "node"), "target", copy=False),
            exp.alias_(_c(here, "user_id"), "user_id", copy=False),
        ).from_(cte("path_named", here), copy=False),
        cte("path_named", there),
        exp.and_(
            _c(there, "user_id").eq(_c(here, "user_id")),
            _c(there, "session_number").eq(_c(here, "session_number")),
            _c(there, "step_index").eq(exp.Add(this=_c(here, "step_index"), expression=ONE.copy())),
            copy=False,
        ),
        side="LEFT",
    ).where(_c(here, "step_index") < exp.Literal.number(spec.steps), copy=False)
    return [
        *ctes,
        ("path_anchors", anchors),
        ("path_nodes", nodes),
        ("path_ranked", ranked),
        ("path_named", named),
        ("path_flows", flows),
    ]


def compile_paths(
    catalog: Catalog,
    spec: PathSpec,
    dialect: str = "duckdb",
    *,
    start: date | None = None,
    end: date | None = None,
    where: str | None = None,
) -> str:
    """The one statement giving ``step, source, target, users`` for ``spec``."""
    select = (
        exp.select(
            ident("step"),
            ident("source"),
            ident("target"),
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[ident("user_id")])), "users", copy=False),
        )
        .from_(cte("path_flows"), copy=False)
        .group_by(*range_positions(3), copy=False)
        .order_by(
            exp.Ordered(this=ident("step")),
            exp.Ordered(this=ident("users"), desc=True),
            exp.Ordered(this=ident("source"), nulls_first=False),
            exp.Ordered(this=ident("target"), nulls_first=False),
            copy=False,
        )
    )
    ctes = path_ctes(catalog, spec, dialects.check_dialect(dialect), start=start, end=end, where=where)
    return finish(with_ctes(select, ctes), dialects.check_dialect(dialect))


def run_paths(
    catalog: Catalog,
    spec: PathSpec,
    warehouse: Warehouse,
    *,
    start: date | None = None,
    end: date | None = None,
    where: str | None = None,
) -> list[dict]:
    """The flows of ``spec`` as rows keyed ``step, source, target, users``."""
    sql = compile_paths(catalog, spec, warehouse.dialect, start=start, end=end, where=where)
    return [{name: normalise(value) for name, value in zip(COLUMNS, row)} for row in warehouse.query(sql).rows]


def compile_flow_users(
    catalog: Catalog,
    spec: PathSpec,
    dialect: str,
    *,
    step: int,
    source: str | None,
    target: str | None,
    start: date | None = None,
    end: date | None = None,
    where: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[str, list[str]]:
    """SQL listing the users behind one flow (``None`` source or target: the session began or ended), with
    the number of their paths that hold it; and its columns."""
    select = (
        exp.select(
            ident("user_id"),
            exp.alias_(exp.Count(this=exp.Star()), "paths", copy=False),
            total_users(),
        )
        .from_(cte("path_flows"), copy=False)
        .where(
            conjunction(
                [
                    ident("step").eq(exp.Literal.number(step)),
                    equals(ident("source"), source),
                    equals(ident("target"), target),
                ]
            ),
            copy=False,
        )
        .group_by(ident("user_id"), copy=False)
        .order_by(exp.Ordered(this=ident("paths"), desc=True), exp.Ordered(this=ident("user_id")), copy=False)
        .limit(max(1, limit), copy=False)
        .offset(max(0, offset), copy=False)
    )
    ctes = path_ctes(catalog, spec, dialects.check_dialect(dialect), start=start, end=end, where=where)
    return finish(with_ctes(select, ctes), dialects.check_dialect(dialect)), ["user_id", "paths", "total_users"]


def flow_users(catalog: Catalog, spec: PathSpec, warehouse: Warehouse, **options) -> UserList:
    """One page of the users behind a flow (options as :func:`compile_flow_users`)."""
    sql, columns = compile_flow_users(catalog, spec, warehouse.dialect, **options)
    return run_user_sql(sql, columns, warehouse)
