"""Lifecycle stages and RFM groups as of a day, summed up: users per stage and group, score thresholds, the R×F grid.

Built on the per-user statements of :mod:`semantic.analyses.lifecycle_sql`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlglot import exp

from connectors.base import Warehouse
from semantic.analyses.lifecycle import LifecycleSpec
from semantic.analyses.lifecycle_sql import as_column, build_lifecycle, build_rfm, lookback_start, to_sql
from semantic.catalog.catalog import Catalog
from semantic.compiler import dialects
from semantic.compiler.context import (
    cte,
    ident,
    with_ctes,
)
from semantic.compiler.results import normalise
from semantic.drill.members import hoist_ctes


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


def _share() -> exp.Expr:
    count = exp.Count(this=exp.Star())
    return dialects.safe_divide(count, exp.Window(this=exp.Sum(this=count.copy())))


def compile_lifecycle_summary(catalog: Catalog, spec: LifecycleSpec, as_of: date, dialect: str) -> str:
    """SQL: ``stage, users, share`` (share of all users of the users model), one row per stage present."""
    ctes, bare = hoist_ctes(build_lifecycle(catalog, spec, as_of, dialect))
    select = (
        exp.select(ident("stage"), as_column(exp.Count(this=exp.Star()), "users"), as_column(_share(), "share"))
        .from_(cte("lifecycle"), copy=False)
        .group_by(ident("stage"), copy=False)
    )
    return to_sql(with_ctes(select, [*ctes, ("lifecycle", bare)]), dialect)


def stage_summary(spec: LifecycleSpec, as_of: date, sql: str, rows: list[dict[str, Any]]) -> LifecycleSummary:
    """The summary from the rows of :func:`compile_lifecycle_summary`, every stage listed in the file's order."""
    found = {row["stage"]: row for row in rows}
    ordered: tuple[dict[str, Any], ...] = tuple(
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


def _as_double(name: str) -> exp.Expr:
    return dialects.cast(ident(name), "double")


def compile_rfm_summary(catalog: Catalog, spec: LifecycleSpec, as_of: date, dialect: str) -> tuple[str, str]:
    """SQL for the groups and SQL for the score thresholds (see :class:`RfmSummary`)."""
    ctes, bare = hoist_ctes(build_rfm(catalog, spec, as_of, dialect))
    groups = (
        exp.select(
            ident("rfm_group"),
            as_column(exp.Count(this=exp.Star()), "users"),
            as_column(_share(), "share"),
            *(as_column(exp.Avg(this=_as_double(c)), f"avg_{c}") for c in ("recency_days", "frequency", "monetary")),
        )
        .from_(cte("rfm"), copy=False)
        .group_by(ident("rfm_group"), copy=False)
    )
    parts = [
        exp.select(
            as_column(exp.convert(measure), "measure"),
            as_column(ident(score), "score"),
            as_column(exp.Count(this=exp.Star()), "users"),
            as_column(exp.Min(this=_as_double(measure)), "min_value"),
            as_column(exp.Max(this=_as_double(measure)), "max_value"),
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
            as_column(exp.Count(this=exp.Star()), "users"),
            as_column(exp.Avg(this=_as_double("monetary")), "avg_monetary"),
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
    ordered: list[dict[str, Any]] = []
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
