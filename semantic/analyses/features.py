"""The computed per-user labels segments can test: intent tier, preferred product type, lifecycle stage, RFM group.

Each comes from its own module and YAML file under ``metrics/marketing/``; this
module only says which builder gives the label and in which column, and
registers them with the segment compiler, which treats them all alike.
Importing :mod:`semantic` imports this module.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from semantic.analyses.intent import load_intent, tier_names
from semantic.analyses.intent_sql import build_intent_scores, build_preferences
from semantic.analyses.lifecycle import load_lifecycle
from semantic.analyses.lifecycle_sql import build_lifecycle, build_rfm
from semantic.catalog.catalog import Catalog
from semantic.compiler.segment import Feature, register_feature


def _intent(catalog: Catalog, as_of: date, dialect: str) -> exp.Select:
    return build_intent_scores(catalog, load_intent(catalog), as_of, dialect)


def _tiers(catalog: Catalog) -> tuple[str, ...]:
    return tuple(tier_names(load_intent(catalog)))


def _preferences(catalog: Catalog, as_of: date, dialect: str) -> exp.Select:
    return build_preferences(catalog, load_intent(catalog), as_of, dialect)


def _lifecycle(catalog: Catalog, as_of: date, dialect: str) -> exp.Select:
    return build_lifecycle(catalog, load_lifecycle(catalog), as_of, dialect)


def _stages(catalog: Catalog) -> tuple[str, ...]:
    return tuple(stage.name for stage in load_lifecycle(catalog).stages)


def _groups(catalog: Catalog) -> tuple[str, ...]:
    return tuple(group.name for group in load_lifecycle(catalog).groups)


def _rfm(catalog: Catalog, as_of: date, dialect: str) -> exp.Select:
    return build_rfm(catalog, load_lifecycle(catalog), as_of, dialect)


FEATURES: dict[str, Feature] = {
    "intent": Feature(cte="segment_intent", column="tier", build=_intent, names=_tiers),
    "prefers": Feature(cte="segment_preferences", column="value", build=_preferences, multi=exp.column("preferred")),
    "lifecycle": Feature(cte="segment_lifecycle", column="stage", build=_lifecycle, names=_stages),
    "rfm": Feature(cte="segment_rfm", column="rfm_group", build=_rfm, names=_groups),
}

for _name, _feature in FEATURES.items():
    register_feature(_name, _feature)
