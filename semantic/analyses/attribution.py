"""Attribution: which touches earned the conversions, by a first, last, linear or time-decay model.

Each conversion (an event matching the conversion, in the range and ``--where``,
with a user) gives one unit of credit to the same user's touches in the window
before it: touch time within [conversion time - window, conversion time], both
ends included, never the conversion event itself. ``first`` gives it to the
earliest touch, ``last`` to the latest (touches at the same instant split it
equally), ``linear`` splits it equally over the touches, and ``time_decay``
weights each touch by 2^(-age / half-life), age being the seconds from the
touch to the conversion. Rows per touch: ``conversions`` it got credit from,
``credit`` (a sum of fractions) and ``credit_share`` = credit / all
conversions; conversions without a touch in the window are one row with touch
NULL (last), so the shares add up to 1. Exact semantics: ``semantic/README.md``.

A touch is ``NAME`` or ``NAME:DIMENSION``: an event name, or a count metric of
the events model (its filter selects the events: ``push_clicks``), optionally
named by a dimension's value (``push_click:campaign_id`` → ``push_click:reactivate_2026q4``;
events with no value are no touch). The conversion is an event name or such a metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import QueryError
from semantic.analyses.distributions_sql import events_context, finish
from semantic.analyses.paths import check_event_name
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import parse_duration
from semantic.catalog.specs import AggregateMetric
from semantic.compiler import dialects
from semantic.compiler.context import SqlContext, conjunction, cte, disjunction, ident, join, matches_events, with_ctes
from semantic.compiler.results import normalise
from semantic.drill.model_users import equals, total_users
from semantic.drill.users import UserList, run_user_sql

MODELS = ("first", "last", "linear", "time_decay")
COLUMNS = ["touch", "conversions", "credit", "credit_share"]
MAX_TOUCHES = 20
EVENTS = "events"


@dataclass(frozen=True)
class Action:
    """Events that convert or touch: by name, or by a count metric's filter; a touch may be named by a dimension."""

    name: str
    events: tuple[str, ...] = ()
    filter: exp.Expr | None = None
    dimension: str | None = None


@dataclass(frozen=True)
class Attribution:
    conversion: Action
    touches: tuple[Action, ...]
    window_seconds: int
    model: str
    half_life_seconds: int | None = None


def _action(catalog: Catalog, token: str, what: str, *, named: bool) -> Action:
    name, colon, dimension = token.partition(":") if named else (token, "", "")
    if colon:
        spec = catalog.dimensions.get(dimension)
        if spec is None or spec.model != EVENTS:
            usable = [d.name for d in catalog.dimensions.values() if d.model == EVENTS]
            raise QueryError(
                f"{what}: {dimension[:40]!r} is not a dimension of events{did_you_mean(dimension, usable)}"
            )
    metric = catalog.metrics.get(name)
    if metric is not None:
        if not isinstance(metric, AggregateMetric) or metric.model != EVENTS or metric.filter is None:
            raise QueryError(f"{what}: metric {name!r} must be a filtered count or sum of events to select events")
        return Action(name, filter=metric.filter, dimension=dimension or None)
    return Action(check_event_name(name, what), events=(check_event_name(name, what),), dimension=dimension or None)


def attribution_spec(
    catalog: Catalog,
    *,
    conversion: str,
    touches: list[str],
    window: str = "7d",
    model: str = "last",
    half_life: str | None = None,
) -> Attribution:
    """An attribution question from typed options, every name and duration checked.

    Raises:
        QueryError: one line naming the option and what is wrong.
    """
    if model not in MODELS:
        raise QueryError(f"--model must be one of {', '.join(MODELS)}, not {str(model)[:20]!r}")
    if not touches or len(touches) > MAX_TOUCHES:
        raise QueryError(f"give from 1 to {MAX_TOUCHES} touches, not {len(touches)}")
    try:
        window_seconds = parse_duration(window)
        half = parse_duration(half_life) if half_life else None
    except ValueError as err:
        raise QueryError(f"--window / --half-life: {err}") from None
    if model == "time_decay" and half is None:
        raise QueryError("--model time_decay needs --half-life, e.g. 2d")
    if half is not None and model != "time_decay":
        raise QueryError("--half-life goes with --model time_decay")
    return Attribution(
        conversion=_action(catalog, conversion, "--conversion", named=False),
        touches=tuple(_action(catalog, t, "--touches", named=True) for t in dict.fromkeys(touches)),
        window_seconds=window_seconds,
        model=model,
        half_life_seconds=half,
    )


def _matches(ctx: SqlContext, action: Action) -> exp.Expr:
    if action.events:
        return matches_events(ctx.column(ctx.model.event_column or "event"), action.events, ctx.snippet(action.filter))
    assert action.filter is not None
    return exp.paren(ctx.snippet(action.filter), copy=False)


def _c(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table)


def attribution_ctes(
    catalog: Catalog,
    spec: Attribution,
    dialect: str,
    *,
    start: date | None = None,
    end: date | None = None,
    where: str | None = None,
) -> list[tuple[str, exp.Expr]]:
    """CTEs ending in ``attribution_credit`` (conversion_id, user_id, touch, credit) and ``unattributed``."""
    ctx = events_context(catalog, dialect, start=start, end=end, where=where)
    user = ctx.entity.is_(exp.null()).not_()
    conversions = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(ctx.time_column, "conversion_time", copy=False),
            exp.alias_(ctx.event_id, "conversion_id", copy=False),
        )
    ).where(conjunction([user, *ctx.range_conditions(), ctx.user_filter(), _matches(ctx, spec.conversion)]), copy=False)
    labels, tests = [], []
    for touch in spec.touches:
        test = _matches(ctx, touch)
        label: exp.Expr = exp.convert(touch.name)
        if touch.dimension:
            value = ctx.dimension(catalog.dimensions[touch.dimension])
            test = exp.and_(test, value.is_(exp.null()).not_(), copy=False)
            label = exp.Concat(expressions=[exp.convert(f"{touch.name}:"), dialects.cast(value.copy(), "varchar")])
        tests.append(test)
        labels.append(exp.If(this=test.copy(), true=label))
    earliest = []
    if start is not None:
        first = datetime(start.year, start.month, start.day) - timedelta(seconds=spec.window_seconds)
        earliest.append(ctx.time_column.copy() >= dialects.timestamp_literal(first.strftime("%Y-%m-%d %H:%M:%S")))
    touches = ctx.source(
        exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            exp.alias_(ctx.time_column, "touch_time", copy=False),
            exp.alias_(ctx.event_id, "touch_id", copy=False),
            exp.alias_(exp.Case(ifs=labels), "touch", copy=False),
        )
    ).where(
        conjunction(
            [
                user.copy(),
                *earliest,
                *ctx.range_conditions(start=False),
                ctx.user_filter(),
                exp.paren(disjunction([exp.paren(t, copy=False) for t in tests]), copy=False),
            ]
        ),
        copy=False,
    )
    pairs = join(
        exp.select(
            _c("c", "conversion_id"),
            _c("c", "user_id"),
            _c("c", "conversion_time"),
            _c("t", "touch"),
            _c("t", "touch_time"),
        ).from_(cte("attribution_conversions", "c"), copy=False),
        cte("attribution_touches", "t"),
        _c("t", "user_id").eq(_c("c", "user_id")),
    ).where(
        conjunction(
            [
                _c("t", "touch_time") <= _c("c", "conversion_time"),
                dialects.add_seconds(_c("t", "touch_time"), spec.window_seconds) >= _c("c", "conversion_time"),
                _c("t", "touch_id").neq(_c("c", "conversion_id")),
            ]
        ),
        copy=False,
    )
    weights = exp.select(exp.Star(), exp.alias_(_weight(ctx, spec), "weight", copy=False)).from_(
        cte("attribution_pairs"), copy=False
    )
    per_conversion = exp.Window(this=exp.Sum(this=ident("weight")), partition_by=[ident("conversion_id")])
    credit = exp.select(
        ident("conversion_id"),
        ident("user_id"),
        ident("touch"),
        exp.alias_(exp.Div(this=ident("weight"), expression=per_conversion), "credit", copy=False),
    ).from_(cte("attribution_weights"), copy=False)
    touched = exp.select(ident("conversion_id")).distinct(copy=False).from_(cte("attribution_pairs"), copy=False)
    unattributed = join(
        exp.select(_c("c", "conversion_id"), _c("c", "user_id")).from_(cte("attribution_conversions", "c"), copy=False),
        cte("attribution_touched", "p"),
        _c("p", "conversion_id").eq(_c("c", "conversion_id")),
        side="LEFT",
    ).where(_c("p", "conversion_id").is_(exp.null()), copy=False)
    return [
        ("attribution_conversions", conversions),
        ("attribution_touches", touches),
        ("attribution_pairs", pairs),
        ("attribution_weights", weights),
        ("attribution_credit", credit),
        ("attribution_touched", touched),
        ("unattributed", unattributed),
    ]


def _weight(ctx: SqlContext, spec: Attribution) -> exp.Expr:
    """A touch's weight in its conversion; credit is the weight over the conversion's total."""
    one = dialects.as_double(exp.Literal.number(1))
    if spec.model == "linear":
        return one
    if spec.model == "time_decay":
        age = dialects.quirks(ctx.dialect).seconds_between(ident("touch_time"), ident("conversion_time"))
        exponent = exp.Neg(
            this=exp.paren(
                exp.Div(this=exp.paren(age, copy=False), expression=exp.Literal.number(spec.half_life_seconds))
            )
        )
        return exp.Pow(this=dialects.as_double(exp.Literal.number(2)), expression=exponent)
    edge = exp.Min if spec.model == "first" else exp.Max
    chosen = ident("touch_time").eq(
        exp.Window(this=edge(this=ident("touch_time")), partition_by=[ident("conversion_id")])
    )
    return exp.Case(ifs=[exp.If(this=chosen, true=one)], default=dialects.as_double(exp.Literal.number(0)))


def compile_attribution(
    catalog: Catalog, spec: Attribution, dialect: str = "duckdb", *, start=None, end=None, where=None
) -> str:
    """The one statement giving ``touch, conversions, credit, credit_share``, most credit first."""
    dialect = dialects.check_dialect(dialect)
    total = exp.select(exp.alias_(exp.Count(this=exp.Star()), "total", copy=False)).from_(
        cte("attribution_conversions"), copy=False
    )
    # qualified columns: ClickHouse reads a bare name as the alias of the same SELECT (credit AS credit)
    credit = exp.Sum(this=_c("a", "credit"))
    total_conversions = exp.Max(this=_c("n", "total"))
    touched = (
        join(
            exp.select(
                exp.alias_(_c("a", "touch"), "touch", copy=False),
                exp.alias_(
                    exp.Count(this=exp.Distinct(expressions=[_c("a", "conversion_id")])), "conversions", copy=False
                ),
                exp.alias_(dialects.as_double(credit), "credit", copy=False),
                exp.alias_(dialects.safe_divide(credit.copy(), total_conversions), "credit_share", copy=False),
            ).from_(cte("attribution_credit", "a"), copy=False),
            cte("attribution_total", "n"),
        )
        .where(_c("a", "credit") > exp.Literal.number(0), copy=False)
        .group_by(_c("a", "touch"), copy=False)
    )
    count = exp.Count(this=exp.Star())
    untouched = join(
        exp.select(
            exp.alias_(dialects.cast(exp.null(), "varchar"), "touch", copy=False),
            exp.alias_(count, "conversions", copy=False),
            exp.alias_(dialects.as_double(count.copy()), "credit", copy=False),
            exp.alias_(dialects.safe_divide(count.copy(), total_conversions.copy()), "credit_share", copy=False),
        ).from_(cte("unattributed"), copy=False),
        cte("attribution_total", "n"),
    ).having(count.copy() > exp.Literal.number(0), copy=False)
    stacked = exp.union(touched, untouched, distinct=False, copy=False)
    select = exp.select(exp.Star()).from_(stacked.subquery("attribution_rows", copy=False), copy=False)
    unattributed_last = exp.Case(
        ifs=[exp.If(this=ident("touch").is_(exp.null()), true=exp.Literal.number(1))], default=exp.Literal.number(0)
    )
    select = select.order_by(
        exp.Ordered(this=unattributed_last),
        exp.Ordered(this=ident("credit"), desc=True),
        exp.Ordered(this=ident("touch")),
        copy=False,
    )
    ctes = [*attribution_ctes(catalog, spec, dialect, start=start, end=end, where=where), ("attribution_total", total)]
    return finish(with_ctes(select, ctes), dialect)


def run_attribution(catalog: Catalog, spec: Attribution, warehouse: Warehouse, **options) -> list[dict]:
    """Rows keyed ``touch, conversions, credit, credit_share`` (``start``, ``end``, ``where`` as options)."""
    sql = compile_attribution(catalog, spec, warehouse.dialect, **options)
    return [{name: normalise(value) for name, value in zip(COLUMNS, row)} for row in warehouse.query(sql).rows]


def compile_touch_users(
    catalog: Catalog, spec: Attribution, dialect: str, *, touch: str | None, limit: int = 50, offset: int = 0, **options
) -> tuple[str, list[str]]:
    """SQL listing the users whose conversions credited ``touch`` (None: whose conversions had no touch)."""
    if touch is None:
        select = exp.select(
            ident("user_id"),
            exp.alias_(exp.Count(this=exp.Star()), "conversions", copy=False),
            exp.alias_(dialects.as_double(exp.Count(this=exp.Star())), "credit", copy=False),
            total_users(),
        ).from_(cte("unattributed"), copy=False)
    else:
        select = (
            exp.select(
                ident("user_id"),
                exp.alias_(
                    exp.Count(this=exp.Distinct(expressions=[_c("a", "conversion_id")])), "conversions", copy=False
                ),
                exp.alias_(dialects.as_double(exp.Sum(this=_c("a", "credit"))), "credit", copy=False),
                total_users(),
            )
            .from_(cte("attribution_credit", "a"), copy=False)
            .where(
                conjunction([equals(_c("a", "touch"), touch), _c("a", "credit") > exp.Literal.number(0)]), copy=False
            )
        )
    select = (
        select.group_by(ident("user_id"), copy=False)
        .order_by(exp.Ordered(this=ident("credit"), desc=True), exp.Ordered(this=ident("user_id")), copy=False)
        .limit(max(1, limit), copy=False)
        .offset(max(0, offset), copy=False)
    )
    dialect = dialects.check_dialect(dialect)
    ctes = attribution_ctes(catalog, spec, dialect, **options)
    return finish(with_ctes(select, ctes), dialect), ["user_id", "conversions", "credit", "total_users"]


def touch_users(catalog: Catalog, spec: Attribution, warehouse: Warehouse, **options) -> UserList:
    sql, columns = compile_touch_users(catalog, spec, warehouse.dialect, **options)
    return run_user_sql(sql, columns, warehouse)
