"""Experiments declared in ``metrics/marketing/experiments.yml``: which variants, which conversion.

An experiment compares the variants of a test, given by a dimension (a users
column such as ``campaign_group``, or an event property such as
``ab_opening_screen``), on one conversion. The conversion is either

- ``metric``: a funnel (users reaching the last step out of those entering step 1, each user
  under the variant of their earliest in-range step-1 event) or a ratio of two ``count_distinct``
  metrics (numerator users out of denominator users, grouped by the variant); or
- ``converted``: a segment condition evaluated for every user holding a variant value (a users
  dimension), optionally narrowed by ``population``; the rate is the share of them for whom it
  holds. This is the push-against-holdout shape: the holdout got nothing, so it has no events to
  enter a funnel with, and the denominator must be every assigned user.

``control`` names the variant the others are compared with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from finlens_common.errors import CatalogError, CatalogProblem, QueryError
from semantic.analyses.marketing_yaml import read_marketing_file
from semantic.catalog.catalog import Catalog
from semantic.catalog.days import DayError, as_day
from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.segment_parser import SegmentScope, parse_condition
from semantic.catalog.segment_specs import EVENTS_MODEL, USERS_MODEL, Condition, Window
from semantic.catalog.specs import AggregateMetric, FunnelMetric, Label, RatioMetric, Source
from semantic.catalog.yaml_lines import LineMap

KEYS = (
    "name",
    "label",
    "description",
    "variant",
    "control",
    "metric",
    "converted",
    "population",
    "start",
    "end",
    "confidence",
)


@dataclass(frozen=True)
class Experiment:
    """One test: the variant dimension, the control value, and the conversion (a metric or a condition)."""

    name: str
    label: Label
    description: str
    variant: str
    control: str
    metric: str | None
    converted: Condition | None
    population: Condition | None
    start: date | None
    end: date | None
    confidence: float
    source: Source
    description_zh: str = field(default="", kw_only=True)  # when the YAML gives {zh, en}

    def described(self, language: str) -> str:
        return self.description_zh if language == "zh" and self.description_zh else self.description

    @property
    def kind(self) -> str:
        return "condition" if self.converted is not None else "metric"


def experiment_problems(
    catalog: Catalog, root: str | Path | None = None
) -> tuple[dict[str, Experiment], list[CatalogProblem]]:
    """Every experiment and every problem (``file:line: message``); a missing file means no experiments."""
    problems = Problems(catalog.allowed_functions)
    found: dict[str, Experiment] = {}
    read = read_marketing_file(catalog, "experiments.yml", root, problems)
    if read is None:
        return found, problems.items
    file, doc = read
    items: list[Any] = Fields(doc, file, problems, "experiments file", ("experiments",)).list_at("experiments") or []
    for item, line in zip(items, getattr(items, "item_lines", [])):
        if not isinstance(item, LineMap):
            problems.add(file, line, "each experiment must be a mapping")
            continue
        experiment = _parse(catalog, item, file, problems)
        if experiment is None:
            continue
        if experiment.name in found:
            problems.add(
                file,
                item.line,
                f"duplicate experiment name {experiment.name!r} (first defined at {found[experiment.name].source})",
            )
            continue
        found[experiment.name] = experiment
    return found, problems.items


def load_experiments(catalog: Catalog, root: str | Path | None = None) -> dict[str, Experiment]:
    experiments, problems = experiment_problems(catalog, root)
    if problems:
        raise CatalogError(problems)
    return experiments


def find_experiment(catalog: Catalog, name: str) -> Experiment:
    experiments = load_experiments(catalog)
    if name not in experiments:
        known = ", ".join(experiments) or "none in metrics/marketing/experiments.yml"
        raise QueryError(f"unknown experiment {name!r}{did_you_mean(name, experiments)}; experiments: {known}")
    return experiments[name]


def _parse(catalog: Catalog, item: LineMap, file: str, problems: Problems) -> Experiment | None:
    fields = Fields(item, file, problems, "experiment", KEYS)
    name = fields.name()
    if name is None:
        return None
    what = fields.what = f"experiment {name!r}"
    label = fields.label()
    variant = fields.string("variant")
    control = fields.string("control")
    metric = fields.string("metric", required=False)
    scope = SegmentScope(catalog.models[USERS_MODEL], catalog.models[EVENTS_MODEL], catalog.dimensions)
    converted = population = None
    if fields.has("converted"):
        converted = parse_condition(
            item["converted"], file, problems, scope, f"{what} converted", item.line_of("converted")
        )
    if fields.has("population"):
        population = parse_condition(
            item["population"], file, problems, scope, f"{what} population", item.line_of("population")
        )
    if fields.has("metric") == fields.has("converted"):
        fields.error(
            None, f"{what}: give either 'metric' (a funnel or a ratio of distinct counts) or 'converted' (a condition)"
        )
        return None
    if metric is not None and not _check_metric(catalog, fields, metric, variant, what):
        return None
    if fields.has("converted"):
        dimension = catalog.dimensions.get(variant or "")
        if variant and (dimension is None or dimension.model != USERS_MODEL):
            fields.error(
                "variant",
                f"{what}: with 'converted', the variant must be a dimension of {USERS_MODEL!r}, not {variant!r}",
            )
            return None
    elif population is not None:
        fields.error(
            "population", f"{what}: 'population' goes with 'converted'; a metric's own denominator is its population"
        )
    bounds = Window(start=_day(fields, "start"), end=_day(fields, "end"))
    confidence = item.get("confidence", 0.95)
    if isinstance(confidence, bool) or not isinstance(confidence, float) or not 0.5 <= confidence < 1:
        fields.error("confidence", f"{what}: confidence must be a number between 0.5 and 1, e.g. 0.95")
        return None
    if bounds.start and bounds.end and bounds.start > bounds.end:
        fields.error("start", f"{what}: starts ({bounds.start}) after it ends ({bounds.end})")
        return None
    if variant is None or control is None or (converted is None and metric is None):
        return None
    description, description_zh = fields.description()
    return Experiment(
        name=name,
        label=label,
        description=description,
        description_zh=description_zh,
        variant=variant,
        control=str(control),
        metric=metric,
        converted=converted,
        population=population,
        start=bounds.start,
        end=bounds.end,
        confidence=confidence,
        source=Source(file, item.line),
    )


def _check_metric(catalog: Catalog, fields: Fields, metric: str, variant: str | None, what: str) -> bool:
    spec = catalog.metrics.get(metric)
    if spec is None:
        fields.error("metric", f"{what}: unknown metric {metric!r}{did_you_mean(metric, catalog.metrics)}")
        return False
    if isinstance(spec, RatioMetric):
        parts = [catalog.metrics[spec.numerator], catalog.metrics[spec.denominator]]
        if not all(isinstance(p, AggregateMetric) and p.aggregation == "count_distinct" for p in parts):
            fields.error(
                "metric", f"{what}: ratio {metric!r} must divide two count_distinct metrics to be a conversion rate"
            )
            return False
    elif not isinstance(spec, FunnelMetric):
        fields.error(
            "metric", f"{what}: metric {metric!r} is a {spec.type}; use a funnel or a ratio of distinct counts"
        )
        return False
    usable = {d.name for d in catalog.dimensions_for(spec.model)}
    if variant and variant not in usable:
        fields.error(
            "variant",
            f"{what}: {variant!r} is not a dimension of {spec.model!r} metrics{did_you_mean(variant, usable)}",
        )
        return False
    return True


def _day(fields: Fields, key: str) -> date | None:
    value = fields.raw(key)
    if value is None:
        return None
    try:
        return as_day(value)
    except DayError as err:
        fields.error(key, f"{fields.what}: {key}: {err}")
        return None
