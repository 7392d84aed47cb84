"""Lifecycle stages and RFM scores as one sqlglot statement each (meanings: :mod:`semantic.analyses.lifecycle`).

``build_lifecycle`` gives one row per user of the users model with their stage
as of a day; ``build_rfm`` one row per user who invested in the lookback with
their R, F, M values, 1..5 scores and group. Both are plain SELECTs (with their
own WITH clause) so segments, member lists and CSV exports can embed them.
Portable on purpose: ``RANK()`` and ``COUNT(*) OVER ()`` windows, integer
division through sqlglot's ``IntDiv`` (``//`` in DuckDB, ``DIV`` in PostgreSQL,
a truncating cast in ClickHouse; the operands are never negative), day
differences of dates through ``DateDiff``, so DuckDB, PostgreSQL and ClickHouse
agree to the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlglot import exp

from finlens_common.errors import QueryError
from semantic.analyses.lifecycle import GROUPS, SCORES, STAGES, EventRule, LifecycleSpec
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean
from semantic.compiler import dialects
from semantic.compiler.context import (
    SqlContext,
    conjunction,
    cte,
    flag,
    ident,
    join,
    matches_events,
    model_context,
    when,
    with_ctes,
)
from semantic.compiler.reader import model_rows
from semantic.drill.members import hoist_ctes

LIFECYCLE_COLUMNS = ("user_id", "stage", "last_invest", "last_redeem", "invest_count")
RFM_COLUMNS = ("user_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_group")
ZERO, ONE, FIVE = exp.Literal.number(0), exp.Literal.number(1), exp.Literal.number(5)


def to_sql(select: exp.Select, dialect: str) -> str:
    """A finished statement: the dialect's rewrites and settings, reserved words quoted."""
    dialect = dialects.check_dialect(dialect)
    return dialects.quote_reserved(dialects.adapt(select.copy(), dialect)).sql(dialect=dialect, pretty=True)


def _date(day: date) -> exp.Expr:
    return dialects.cast(exp.convert(day.isoformat()), "date")


def _matches(ctx: SqlContext, rule: EventRule) -> exp.Expr:
    column = ctx.column(ctx.model.event_column or "event")
    return matches_events(column, rule.events, ctx.snippet(rule.filter))


def as_column(expression: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(expression, name, copy=False)


def build_lifecycle(catalog: Catalog, spec: LifecycleSpec, as_of: date, dialect: str) -> exp.Select:
    """One row per user of the users model: ``user_id, stage, last_invest, last_redeem, invest_count`` as of ``as_of``.

    ``last_invest``/``last_redeem`` are the latest times up to the end of ``as_of`` (NULL when none),
    ``invest_count`` the investments up to then (0 when none).
    """
    dialect = dialects.check_dialect(dialect)
    ctx = model_context(catalog, catalog.models[spec.model], dialect, end=as_of)
    invest, redeem = _matches(ctx, spec.invest), _matches(ctx, spec.redeem)
    activity = exp.select(
        as_column(ctx.entity, "user_id"),
        as_column(exp.Max(this=when(invest, ctx.time_column)), "last_invest"),
        as_column(exp.Max(this=when(redeem, ctx.time_column)), "last_redeem"),
        as_column(exp.Sum(this=flag(invest.copy())), "invest_count"),
    )
    activity = (
        ctx.source(activity)
        .where(
            conjunction(
                [
                    ctx.entity.is_(exp.null()).not_(),
                    *ctx.range_conditions(),
                    exp.paren(exp.or_(invest.copy(), redeem.copy(), copy=False), copy=False),
                ]
            ),
            copy=False,
        )
        .group_by(ctx.entity.copy(), copy=False)
    )

    users = catalog.models[spec.users_model]
    user_id = exp.column(users.primary_key, table=users.name)
    last_invest, last_redeem = exp.column("last_invest", table="a"), exp.column("last_redeem", table="a")
    end = dialects.timestamp_literal(f"{as_of + timedelta(days=1)} 00:00:00")
    stage = exp.Case(
        ifs=[
            exp.If(
                this=exp.and_(last_invest.is_(exp.null()).not_(), last_redeem > last_invest.copy(), copy=False),
                true=exp.convert("redeemed"),
            ),
            exp.If(this=last_invest.copy().is_(exp.null()).not_(), true=exp.convert("holding")),
            exp.If(this=exp.column(spec.registered, table=users.name) < end, true=exp.convert("new")),
        ],
        default=exp.convert("visitor"),
    )
    select = exp.select(
        as_column(user_id, "user_id"),
        as_column(stage, "stage"),
        as_column(last_invest.copy(), "last_invest"),
        as_column(last_redeem.copy(), "last_redeem"),
        as_column(exp.Coalesce(this=exp.column("invest_count", table="a"), expressions=[ZERO.copy()]), "invest_count"),
    ).from_(model_rows(catalog, users), copy=False)
    select = join(
        select, cte("lifecycle_activity", "a"), user_id.copy().eq(exp.column("user_id", table="a")), side="LEFT"
    )
    return with_ctes(select, [("lifecycle_activity", activity)])


def _score(rank: str) -> exp.Expr:
    """``floor(5 * (rank - 1) / n) + 1`` in integers: 1..5, ties sharing the score of their lowest rank."""
    scaled = exp.Mul(
        this=FIVE.copy(), expression=exp.paren(exp.Sub(this=ident(rank), expression=ONE.copy()), copy=False)
    )
    return exp.Add(this=exp.IntDiv(this=scaled, expression=ident("n")), expression=ONE.copy())


def _rank(column: str, *, descending: bool = False) -> exp.Window:
    return exp.Window(this=exp.Rank(), order=exp.Order(expressions=[exp.Ordered(this=ident(column), desc=descending)]))


def _group(high_from: int) -> exp.Expr:
    """The classic eight groups from whether each of R, F, M scores at least ``high_from``."""
    ifs = []
    for name, highs in GROUPS.items():
        tests = [
            ident(score) >= exp.Literal.number(high_from) if high else ident(score) < exp.Literal.number(high_from)
            for score, high in zip(("r_score", "f_score", "m_score"), highs)
        ]
        ifs.append(exp.If(this=exp.and_(*tests, copy=False), true=exp.convert(name)))
    return exp.Case(ifs=ifs)


def lookback_start(spec: LifecycleSpec, as_of: date) -> date:
    """The first day of the RFM lookback ending on ``as_of``."""
    return as_of - timedelta(days=spec.lookback_days - 1)


def build_rfm(catalog: Catalog, spec: LifecycleSpec, as_of: date, dialect: str) -> exp.Select:
    """One row per user who invested in the lookback: ``user_id, recency_days, frequency, monetary``, scores, group."""
    dialect = dialects.check_dialect(dialect)
    ctx = model_context(catalog, catalog.models[spec.model], dialect, start=lookback_start(spec, as_of), end=as_of)
    amount = ctx.snippet(spec.invest.amount) or exp.null()
    investments = exp.select(
        as_column(ctx.entity, "user_id"),
        as_column(exp.Max(this=ctx.time_column), "last_invest"),
        as_column(exp.Count(this=exp.Star()), "frequency"),
        as_column(exp.Coalesce(this=exp.Sum(this=amount), expressions=[ZERO.copy()]), "monetary"),
    )
    investments = (
        ctx.source(investments)
        .where(
            conjunction(
                [
                    ctx.entity.is_(exp.null()).not_(),
                    *ctx.range_conditions(),
                    _matches(ctx, spec.invest),
                ]
            ),
            copy=False,
        )
        .group_by(ctx.entity.copy(), copy=False)
    )
    recency = exp.DateDiff(
        this=_date(as_of), expression=dialects.cast(ident("last_invest"), "date"), unit=exp.var("DAY")
    )
    measured = exp.select(
        ident("user_id"), as_column(recency, "recency_days"), ident("frequency"), ident("monetary")
    ).from_(cte("rfm_investments"), copy=False)
    values = [ident(c) for c in ("user_id", "recency_days", "frequency", "monetary")]
    ranked = exp.select(
        *values,
        as_column(_rank("recency_days", descending=True), "r_rank"),
        as_column(_rank("frequency"), "f_rank"),
        as_column(_rank("monetary"), "m_rank"),
        as_column(exp.Window(this=exp.Count(this=exp.Star())), "n"),
    ).from_(cte("rfm_measured"), copy=False)
    scored = exp.select(
        *(v.copy() for v in values),
        as_column(_score("r_rank"), "r_score"),
        as_column(_score("f_rank"), "f_score"),
        as_column(_score("m_rank"), "m_score"),
    ).from_(cte("rfm_ranked"), copy=False)
    select = exp.select(*(ident(c) for c in RFM_COLUMNS[:-1]), as_column(_group(spec.high_from), "rfm_group")).from_(
        cte("rfm_scored"), copy=False
    )
    return with_ctes(
        select,
        [("rfm_investments", investments), ("rfm_measured", measured), ("rfm_ranked", ranked), ("rfm_scored", scored)],
    )


def _wrapped(inner: exp.Select, name: str, columns: tuple[str, ...], where: Sequence[exp.Expr]) -> exp.Select:
    """``WITH <inner's CTEs>, name AS (inner) SELECT columns FROM name WHERE ...`` (names in WHERE need the wrap)."""
    ctes, bare = hoist_ctes(inner)
    select = exp.select(*(ident(c) for c in columns)).from_(cte(name), copy=False)
    condition = conjunction(where)
    if condition is not None:
        select = select.where(condition, copy=False)
    return with_ctes(select, [*ctes, (name, bare)])


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise QueryError(f"unknown stage {stage!r}{did_you_mean(stage, STAGES)}; stages: {', '.join(STAGES)}")
    return stage


def check_group(group: str) -> str:
    if group not in GROUPS:
        raise QueryError(f"unknown RFM group {group!r}{did_you_mean(group, GROUPS)}; groups: {', '.join(GROUPS)}")
    return group


def lifecycle_members(
    catalog: Catalog, spec: LifecycleSpec, as_of: date, dialect: str, *, stage: str | None = None
) -> exp.Select:
    """The users in ``stage`` (every user without it), with the lifecycle columns: a members SELECT."""
    where = [ident("stage").eq(exp.convert(check_stage(stage)))] if stage is not None else []
    return _wrapped(build_lifecycle(catalog, spec, as_of, dialect), "lifecycle", LIFECYCLE_COLUMNS, where)


def rfm_members(
    catalog: Catalog,
    spec: LifecycleSpec,
    as_of: date,
    dialect: str,
    *,
    group: str | None = None,
    r: int | None = None,
    f: int | None = None,
    m: int | None = None,
) -> exp.Select:
    """The investing users in ``group`` and with the given scores (all of them without any), with the RFM columns."""
    where = [ident("rfm_group").eq(exp.convert(check_group(group)))] if group is not None else []
    for column, score in (("r_score", r), ("f_score", f), ("m_score", m)):
        if score is None:
            continue
        if isinstance(score, bool) or score not in SCORES:
            raise QueryError(f"the {column[0].upper()} score must be a whole number from 1 to 5, not {score!r}")
        where.append(ident(column).eq(exp.Literal.number(score)))
    return _wrapped(build_rfm(catalog, spec, as_of, dialect), "rfm", RFM_COLUMNS, where)
