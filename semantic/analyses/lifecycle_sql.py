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

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlglot import exp

from connectors.base import Warehouse
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
from semantic.compiler.results import normalise
from semantic.drill.members import hoist_ctes

LIFECYCLE_COLUMNS = ("user_id", "stage", "last_invest", "last_redeem", "invest_count")
RFM_COLUMNS = ("user_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_group")
ZERO, ONE, FIVE = exp.Literal.number(0), exp.Literal.number(1), exp.Literal.number(5)


def to_sql(select: exp.Select, dialect: str) -> str:
    """A finished statement: the dialect's rewrites and settings, reserved words quoted."""
    dialect = dialects.check_dialect(dialect)
    return dialects.quote_reserved(dialects.adapt(select.copy(), dialect)).sql(dialect=dialect, pretty=True)


def _date(day: date) -> exp.Expression:
    return dialects.cast(exp.convert(day.isoformat()), "date")


def _matches(ctx: SqlContext, rule: EventRule) -> exp.Expression:
    column = ctx.column(ctx.model.event_column or "event")
    return matches_events(column, rule.events, ctx.snippet(rule.filter))


def _alias(expression: exp.Expression, name: str) -> exp.Alias:
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
        _alias(ctx.entity, "user_id"),
        _alias(exp.Max(this=when(invest, ctx.time_column)), "last_invest"),
        _alias(exp.Max(this=when(redeem, ctx.time_column)), "last_redeem"),
        _alias(exp.Sum(this=flag(invest.copy())), "invest_count"),
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
        _alias(user_id, "user_id"),
        _alias(stage, "stage"),
        _alias(last_invest.copy(), "last_invest"),
        _alias(last_redeem.copy(), "last_redeem"),
        _alias(exp.Coalesce(this=exp.column("invest_count", table="a"), expressions=[ZERO.copy()]), "invest_count"),
    ).from_(model_rows(users), copy=False)
    select = join(
        select, cte("lifecycle_activity", "a"), user_id.copy().eq(exp.column("user_id", table="a")), side="LEFT"
    )
    return with_ctes(select, [("lifecycle_activity", activity)])


def _score(rank: str) -> exp.Expression:
    """``floor(5 * (rank - 1) / n) + 1`` in integers: 1..5, ties sharing the score of their lowest rank."""
    scaled = exp.Mul(
        this=FIVE.copy(), expression=exp.paren(exp.Sub(this=ident(rank), expression=ONE.copy()), copy=False)
    )
    return exp.Add(this=exp.IntDiv(this=scaled, expression=ident("n")), expression=ONE.copy())


def _rank(column: str, *, descending: bool = False) -> exp.Window:
    return exp.Window(this=exp.Rank(), order=exp.Order(expressions=[exp.Ordered(this=ident(column), desc=descending)]))


def _group(high_from: int) -> exp.Expression:
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
        _alias(ctx.entity, "user_id"),
        _alias(exp.Max(this=ctx.time_column), "last_invest"),
        _alias(exp.Count(this=exp.Star()), "frequency"),
        _alias(exp.Coalesce(this=exp.Sum(this=amount), expressions=[ZERO.copy()]), "monetary"),
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
        ident("user_id"), _alias(recency, "recency_days"), ident("frequency"), ident("monetary")
    ).from_(cte("rfm_investments"), copy=False)
    values = [ident(c) for c in ("user_id", "recency_days", "frequency", "monetary")]
    ranked = exp.select(
        *values,
        _alias(_rank("recency_days", descending=True), "r_rank"),
        _alias(_rank("frequency"), "f_rank"),
        _alias(_rank("monetary"), "m_rank"),
        _alias(exp.Window(this=exp.Count(this=exp.Star())), "n"),
    ).from_(cte("rfm_measured"), copy=False)
    scored = exp.select(
        *(v.copy() for v in values),
        _alias(_score("r_rank"), "r_score"),
        _alias(_score("f_rank"), "f_score"),
        _alias(_score("m_rank"), "m_score"),
    ).from_(cte("rfm_ranked"), copy=False)
    select = exp.select(*(ident(c) for c in RFM_COLUMNS[:-1]), _alias(_group(spec.high_from), "rfm_group")).from_(
        cte("rfm_scored"), copy=False
    )
    return with_ctes(
        select,
        [("rfm_investments", investments), ("rfm_measured", measured), ("rfm_ranked", ranked), ("rfm_scored", scored)],
    )


def _wrapped(inner: exp.Select, name: str, columns: tuple[str, ...], where: list[exp.Expression]) -> exp.Select:
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


@dataclass(frozen=True)
class LifecycleSummary:
    """Users per stage as of a day: ``rows`` of ``stage, users, share`` in stage order (absent stages 0)."""

    as_of: date
    rows: tuple[dict[str, Any], ...]
    total: int
    sql: str


@dataclass(frozen=True)
class RfmSummary:
    """RFM groups as of a day over the lookback ``start``..``as_of``.

    ``rows``: ``rfm_group, users, share, avg_recency_days, avg_frequency, avg_monetary`` for every group (a group
    without users has 0 and NULL averages); ``thresholds``: per measure (``recency_days``, ``frequency``,
    ``monetary``) and score present, ``users, min_value, max_value``: the values each quintile covers.
    """

    as_of: date
    start: date
    rows: tuple[dict[str, Any], ...]
    thresholds: tuple[dict[str, Any], ...]
    total: int
    sql: str
    thresholds_sql: str


def run_rows(sql: str, warehouse: Warehouse) -> list[dict[str, Any]]:
    """Rows of ``sql`` as dicts of plain values."""
    raw = warehouse.query(sql)
    return [{name: normalise(value) for name, value in zip(raw.columns, row)} for row in raw.rows]


def _share() -> exp.Expression:
    count = exp.Count(this=exp.Star())
    return dialects.safe_divide(count, exp.Window(this=exp.Sum(this=count.copy())))


def compile_lifecycle_summary(catalog: Catalog, spec: LifecycleSpec, as_of: date, dialect: str) -> str:
    """SQL: ``stage, users, share`` (share of all users of the users model), one row per stage present."""
    ctes, bare = hoist_ctes(build_lifecycle(catalog, spec, as_of, dialect))
    select = (
        exp.select(ident("stage"), _alias(exp.Count(this=exp.Star()), "users"), _alias(_share(), "share"))
        .from_(cte("lifecycle"), copy=False)
        .group_by(ident("stage"), copy=False)
    )
    return to_sql(with_ctes(select, [*ctes, ("lifecycle", bare)]), dialect)


def stage_summary(spec: LifecycleSpec, as_of: date, sql: str, rows: list[dict[str, Any]]) -> LifecycleSummary:
    """The summary from the rows of :func:`compile_lifecycle_summary`, every stage listed in the file's order."""
    found = {row["stage"]: row for row in rows}
    ordered = tuple(
        {
            "stage": s.name,
            "users": int(found.get(s.name, {}).get("users") or 0),
            "share": float(found.get(s.name, {}).get("share") or 0.0),
        }
        for s in spec.stages
    )
    return LifecycleSummary(as_of=as_of, rows=ordered, total=sum(r["users"] for r in ordered), sql=sql)


def lifecycle_summary(catalog: Catalog, spec: LifecycleSpec, as_of: date, warehouse: Warehouse) -> LifecycleSummary:
    """Users per stage as of ``as_of`` on ``warehouse``."""
    sql = compile_lifecycle_summary(catalog, spec, as_of, warehouse.dialect)
    return stage_summary(spec, as_of, sql, run_rows(sql, warehouse))


def _as_double(name: str) -> exp.Expression:
    return dialects.cast(ident(name), "double")


def compile_rfm_summary(catalog: Catalog, spec: LifecycleSpec, as_of: date, dialect: str) -> tuple[str, str]:
    """SQL for the groups and SQL for the score thresholds (see :class:`RfmSummary`)."""
    ctes, bare = hoist_ctes(build_rfm(catalog, spec, as_of, dialect))
    groups = (
        exp.select(
            ident("rfm_group"),
            _alias(exp.Count(this=exp.Star()), "users"),
            _alias(_share(), "share"),
            *(_alias(exp.Avg(this=_as_double(c)), f"avg_{c}") for c in ("recency_days", "frequency", "monetary")),
        )
        .from_(cte("rfm"), copy=False)
        .group_by(ident("rfm_group"), copy=False)
    )
    parts = [
        exp.select(
            _alias(exp.convert(measure), "measure"),
            _alias(ident(score), "score"),
            _alias(exp.Count(this=exp.Star()), "users"),
            _alias(exp.Min(this=_as_double(measure)), "min_value"),
            _alias(exp.Max(this=_as_double(measure)), "max_value"),
        )
        .from_(cte("rfm"), copy=False)
        .group_by(ident(score), copy=False)
        for measure, score in (("recency_days", "r_score"), ("frequency", "f_score"), ("monetary", "m_score"))
    ]
    stacked = exp.union(*parts, distinct=False)
    thresholds = exp.select(*(ident(c) for c in ("measure", "score", "users", "min_value", "max_value"))).from_(
        exp.Subquery(this=stacked, alias=exp.TableAlias(this=exp.to_identifier("t"))), copy=False
    )
    named = [*ctes, ("rfm", bare)]
    return (
        to_sql(with_ctes(groups, [(n, b.copy()) for n, b in named]), dialect),
        to_sql(with_ctes(thresholds, [(n, b.copy()) for n, b in named]), dialect),
    )


MEASURES = ("recency_days", "frequency", "monetary")


def compile_rfm_grid(catalog: Catalog, spec: LifecycleSpec, as_of: date, dialect: str) -> str:
    """SQL: ``r_score, f_score, users, avg_monetary`` for every R x F cell with users (the heatmap)."""
    ctes, bare = hoist_ctes(build_rfm(catalog, spec, as_of, dialect))
    select = (
        exp.select(
            ident("r_score"),
            ident("f_score"),
            _alias(exp.Count(this=exp.Star()), "users"),
            _alias(exp.Avg(this=_as_double("monetary")), "avg_monetary"),
        )
        .from_(cte("rfm"), copy=False)
        .group_by(ident("r_score"), ident("f_score"), copy=False)
    )
    return to_sql(with_ctes(select, [*ctes, ("rfm", bare)]), dialect)


def group_summary(
    spec: LifecycleSpec,
    as_of: date,
    sqls: tuple[str, str],
    rows: list[dict[str, Any]],
    threshold_rows: list[dict[str, Any]],
) -> RfmSummary:
    """The summary from the rows of :func:`compile_rfm_summary`, every group listed in the file's order."""
    found = {row["rfm_group"]: row for row in rows}
    ordered = []
    for group in spec.groups:
        row = found.get(group.name, {})
        ordered.append(
            {
                "rfm_group": group.name,
                "users": int(row.get("users") or 0),
                "share": float(row.get("share") or 0.0),
                **{f"avg_{c}": row.get(f"avg_{c}") for c in MEASURES},
            }
        )
    thresholds = sorted(threshold_rows, key=lambda r: (MEASURES.index(r["measure"]), r["score"]))
    for row in thresholds:
        if row["measure"] != "monetary":  # whole days and counts, stacked as doubles
            row["min_value"], row["max_value"] = int(row["min_value"]), int(row["max_value"])
    return RfmSummary(
        as_of=as_of,
        start=lookback_start(spec, as_of),
        rows=tuple(ordered),
        thresholds=tuple(thresholds),
        total=sum(r["users"] for r in ordered),
        sql=sqls[0],
        thresholds_sql=sqls[1],
    )


def rfm_summary(catalog: Catalog, spec: LifecycleSpec, as_of: date, warehouse: Warehouse) -> RfmSummary:
    """RFM groups and score thresholds as of ``as_of`` on ``warehouse``."""
    sqls = compile_rfm_summary(catalog, spec, as_of, warehouse.dialect)
    return group_summary(spec, as_of, sqls, run_rows(sqls[0], warehouse), run_rows(sqls[1], warehouse))
