"""Purchase intent as of a day, summed up: tier sizes and thresholds, preferred product types, their crosstab.

One statement for the tiers and one for the preferences, compiled from the score and preference CTEs of
:mod:`semantic.analyses.intent_sql`, run, and put into plain dataclasses the CLI and the app show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlglot import exp

from connectors.base import Warehouse
from semantic.analyses.intent_spec import IntentSpec
from semantic.analyses.intent_sql import (
    ONE,
    as_column,
    finish,
    preference_ctes,
    preference_window,
    score_ctes,
    score_window,
    threshold_column,
)
from semantic.catalog.catalog import Catalog
from semantic.compiler import dialects
from semantic.compiler.context import (
    cte,
    ident,
    join,
    with_ctes,
)
from semantic.compiler.results import normalise

# --- summary -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierSummary:
    """One tier: its users, their share of the ranked users, their score range and the tier's threshold."""

    name: str
    label: dict[str, str]
    top: float
    users: int
    share: float | None
    min_score: float | None
    max_score: float | None
    threshold: float | None


@dataclass(frozen=True)
class TypeSummary:
    """One product type: the users preferring it, and their share of the users with counted dwell."""

    value: str
    users: int
    share: float | None


@dataclass(frozen=True)
class CrossCount:
    """Users in ``tier`` (None: not ranked) preferring ``value`` (None: ranked users preferring no type)."""

    tier: str | None
    value: str | None
    users: int


@dataclass(frozen=True)
class IntentSummary:
    """Tier sizes and thresholds, preferred types, and the tier x type crosstab as of a day, with the SQL."""

    as_of: date
    score_window: tuple[date, date]
    preference_window: tuple[date, date]
    ranked_users: int
    dwell_users: int
    tiers: tuple[TierSummary, ...]
    preferences: tuple[TypeSummary, ...]
    crosstab: tuple[CrossCount, ...]
    sql: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "score_window": [d.isoformat() for d in self.score_window],
            "preference_window": [d.isoformat() for d in self.preference_window],
            "ranked_users": self.ranked_users,
            "dwell_users": self.dwell_users,
            "tiers": [t.__dict__ for t in self.tiers],
            "preferences": [p.__dict__ for p in self.preferences],
            "crosstab": [c.__dict__ for c in self.crosstab],
        }


def compile_intent_summary(catalog: Catalog, spec: IntentSpec, as_of: date, dialect: str) -> tuple[str, str]:
    """The two statements behind :func:`intent_summary`: per tier, and tier x preferred type."""
    dialect = dialects.check_dialect(dialect)
    ctes = score_ctes(catalog, spec, as_of, dialect)
    tier_count = len(spec.score.tiers)
    per_tier = (
        exp.select(
            ident("tier"),
            as_column(exp.Count(this=exp.Star()), "users"),
            as_column(exp.Min(this=ident("score")), "min_score"),
            as_column(exp.Max(this=ident("score")), "max_score"),
            as_column(exp.Max(this=ident("ranked_users")), "ranked_users"),
            *(
                as_column(exp.Max(this=ident(threshold_column(p))), threshold_column(p))
                for p in range(1, tier_count + 1)
            ),
        )
        .from_(cte("intent_tiers"), copy=False)
        .group_by(ident("tier"), copy=False)
    )
    tiers_sql = finish(with_ctes(per_tier, ctes), dialect)

    ctes = score_ctes(catalog, spec, as_of, dialect) + preference_ctes(catalog, spec, as_of, dialect)
    key = as_column(ONE.copy(), "join_key")
    ctes.append(
        (
            "preference_users",
            exp.select(
                key.copy(), as_column(exp.Count(this=exp.Distinct(expressions=[ident("user_id")])), "dwell_users")
            ).from_(cte("preference_dwell"), copy=False),
        )
    )
    ctes.append(
        (
            "intent_preferred",
            exp.select(ident("user_id"), ident("value"))
            .from_(cte("preference_types"), copy=False)
            .where(ident("preferred"), copy=False),
        )
    )
    tier, value = exp.column("tier", table="t"), exp.column("value", table="p")
    crossed = exp.select(
        key.copy(), as_column(tier, "tier"), as_column(value, "value"), as_column(exp.Count(this=exp.Star()), "users")
    ).from_(cte("intent_tiers", "t"), copy=False)
    crossed = join(
        crossed,
        cte("intent_preferred", "p"),
        exp.column("user_id", table="t").eq(exp.column("user_id", table="p")),
        side="FULL",
    )
    ctes.append(("intent_crosstab", crossed.group_by(tier.copy(), value.copy(), copy=False)))
    final = exp.select(
        exp.column("dwell_users", table="d"), *(exp.column(c, table="c") for c in ("tier", "value", "users"))
    ).from_(cte("preference_users", "d"), copy=False)
    final = join(
        final,
        cte("intent_crosstab", "c"),
        exp.column("join_key", table="d").eq(exp.column("join_key", table="c")),
        side="LEFT",
    )
    return tiers_sql, finish(with_ctes(final, ctes), dialect)


def run_intent_summary(spec: IntentSpec, as_of: date, sql: tuple[str, str], warehouse: Warehouse) -> IntentSummary:
    """Run the statements of :func:`compile_intent_summary` and assemble the summary."""
    tiers_sql, crosstab_sql = sql
    count = len(spec.score.tiers)
    rows = {r[0]: r for r in ([normalise(v) for v in row] for row in warehouse.query(tiers_sql).rows)}
    ranked = next((r[4] for r in rows.values()), 0) or 0
    thresholds = next(iter(rows.values()), [None] * (5 + count))[5 : 5 + count]
    tiers = []
    for position, tier in enumerate(spec.score.tiers):
        row = rows.get(tier.name)
        users = row[1] if row else 0
        tiers.append(
            TierSummary(
                name=tier.name,
                label={"zh": tier.label.zh, "en": tier.label.en},
                top=float(tier.top),
                users=users,
                share=users / ranked if ranked else None,
                min_score=row[2] if row else None,
                max_score=row[3] if row else None,
                threshold=thresholds[position],
            )
        )
    crossed = [[normalise(v) for v in row] for row in warehouse.query(crosstab_sql).rows]
    dwell_users = next((r[0] for r in crossed), 0) or 0
    cells = [CrossCount(tier=r[1], value=r[2], users=r[3]) for r in crossed if r[3] is not None]
    order = {t.name: i for i, t in enumerate(spec.score.tiers)}
    cells.sort(
        key=lambda c: (
            order.get(c.tier, len(order)) if c.tier is not None else len(order),
            c.value is None,
            str(c.value),
        )
    )
    per_type: dict[str, int] = {}
    for cell in cells:
        if cell.value is not None:
            per_type[str(cell.value)] = per_type.get(str(cell.value), 0) + cell.users
    preferences = tuple(
        TypeSummary(value=v, users=n, share=n / dwell_users if dwell_users else None)
        for v, n in sorted(per_type.items(), key=lambda item: (-item[1], item[0]))
    )
    return IntentSummary(
        as_of=as_of,
        score_window=score_window(spec, as_of),
        preference_window=preference_window(spec, as_of),
        ranked_users=ranked,
        dwell_users=dwell_users,
        tiers=tuple(tiers),
        preferences=preferences,
        crosstab=tuple(cells),
        sql=(tiers_sql, crosstab_sql),
    )


def intent_summary(catalog: Catalog, spec: IntentSpec, as_of: date, warehouse: Warehouse) -> IntentSummary:
    """Per tier: users, share, score range, threshold; per preferred type: users; tier x type counts."""
    sql = compile_intent_summary(catalog, spec, as_of, warehouse.dialect)
    return run_intent_summary(spec, as_of, sql, warehouse)
