"""The computed per-user labels segments can test: intent tier, preferred product type, lifecycle stage, RFM group.

Each comes from its own module and YAML file under ``metrics/marketing/``; this
table only says which builder gives the label and in which column, so the
segment compiler treats them all alike.
"""
from __future__ import annotations

from datetime import date

from sqlglot import exp

from semantic.catalog.specs import Catalog
from semantic.compiler.segment import Feature


def _intent(catalog: Catalog, as_of: date, dialect: str) -> exp.Select:
    from semantic.analyses.intent import load_intent
    from semantic.analyses.intent_sql import build_intent_scores

    return build_intent_scores(catalog, load_intent(catalog), as_of, dialect)


def _tiers(catalog: Catalog) -> tuple[str, ...]:
    from semantic.analyses.intent import load_intent, tier_names

    return tuple(tier_names(load_intent(catalog)))


def _preferences(catalog: Catalog, as_of: date, dialect: str) -> exp.Select:
    from semantic.analyses.intent import load_intent
    from semantic.analyses.intent_sql import build_preferences

    return build_preferences(catalog, load_intent(catalog), as_of, dialect)


def _lifecycle(catalog: Catalog, as_of: date, dialect: str) -> exp.Select:
    from semantic.analyses.lifecycle import load_lifecycle
    from semantic.analyses.lifecycle_sql import build_lifecycle

    return build_lifecycle(catalog, load_lifecycle(catalog), as_of, dialect)


def _stages(catalog: Catalog) -> tuple[str, ...]:
    from semantic.analyses.lifecycle import load_lifecycle

    return tuple(stage.name for stage in load_lifecycle(catalog).stages)


def _groups(catalog: Catalog) -> tuple[str, ...]:
    from semantic.analyses.lifecycle import load_lifecycle

    return tuple(group.name for group in load_lifecycle(catalog).groups)


def _rfm(catalog: Catalog, as_of: date, dialect: str) -> exp.Select:
    from semantic.analyses.lifecycle import load_lifecycle
    from semantic.analyses.lifecycle_sql import build_rfm

    return build_rfm(catalog, load_lifecycle(catalog), as_of, dialect)


FEATURES: dict[str, Feature] = {
    "intent": Feature(cte="segment_intent", column="tier", build=_intent, names=_tiers),
    "prefers": Feature(cte="segment_preferences", column="value", build=_preferences, multi=exp.column("preferred")),
    "lifecycle": Feature(cte="segment_lifecycle", column="stage", build=_lifecycle, names=_stages),
    "rfm": Feature(cte="segment_rfm", column="rfm_group", build=_rfm, names=_groups),
}
