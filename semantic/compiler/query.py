"""A question asked of the catalog, and its resolution against the specs.

:class:`Query` is what callers (CLI, app) build from user input;
:func:`resolve` checks every name and option and returns a
:class:`ResolvedQuery` holding specs, so the SQL builders never see raw names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlglot import exp

from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.catalog.days import DayError, check_day
from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expressions import SnippetError, did_you_mean
from semantic.catalog.segment_specs import USERS_MODEL, Segment
from semantic.catalog.specs import (
    GRAINS,
    PERCENTILES,
    RETENTION_PERIODS,
    SINGLE_KINDS,
    STICKINESS_PERIODS,
    Dimension,
    Metric,
    Model,
)
from semantic.catalog.validate import metric_references

MAX_LIMIT = 10_000_000
# The grains each kind takes: a funnel's entry period, a cohort's period, a stickiness period.
KIND_GRAINS = {
    "funnel": ("day", "week", "month", "quarter", "year"),
    "retention": RETENTION_PERIODS,
    "ltv": RETENTION_PERIODS,
    "stickiness": STICKINESS_PERIODS,
}
TIME_TO_CONVERT = [f"seconds_to_convert_p{p}" for p in PERCENTILES]
INTERVAL_STATS = ["users", "intervals", "mean_seconds", *(f"p{p}_seconds" for p in PERCENTILES)]


@dataclass(frozen=True)
class Query:
    """Metrics x group-by dimensions x time grain x date range x filter x order/limit.

    Args:
        metrics: metric names; a funnel, retention, interval, ltv or stickiness is asked alone.
        dimensions: dimension names to group by.
        grain: time bucket (hour, day, week, month, quarter, year) or None for totals; a funnel's entry
            period (its trend), a retention's or ltv's cohort period (instead of the YAML's), a stickiness period.
        start, end: inclusive days; either may be None (open-ended).
        where: a boolean SQL expression over dimension names.
        order_by: output column names, ``-name`` for descending; default: bucket then dimensions.
        limit: at most this many rows.
        segment: only rows of the members of this segment (a name from ``metrics/segments`` or a
            parsed :class:`~semantic.catalog.segment_specs.Segment`), computed as of ``end``.
        exclude_segment: with ``segment``: only rows of everyone else (rows without a user included).
        time_to_convert: a funnel's rows also give the 10th..90th percentiles of the seconds to convert.
        average: a retention also gives, per period, the average over its cohorts weighted by their sizes
            (rows with ``cohort`` = ``all``).
    """

    metrics: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    grain: str | None = None
    start: date | None = None
    end: date | None = None
    where: str | None = None
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    segment: str | Segment | None = None
    exclude_segment: bool = False
    time_to_convert: bool = False
    average: bool = False


@dataclass(frozen=True)
class ResolvedQuery:
    """A query whose names are all checked and replaced by specs."""

    query: Query
    kind: str  # "aggregate" or one of SINGLE_KINDS
    model: Model
    metrics: tuple[Metric, ...]
    components: tuple[Metric, ...]  # every metric needed, dependencies before dependants
    dimensions: tuple[Dimension, ...]
    where: exp.Expr | None
    joined_models: tuple[str, ...] = field(default=())
    segment: Segment | None = None

    @property
    def grain(self) -> str | None:
        return self.query.grain

    @property
    def period(self) -> str:
        """The period of a retention, ltv or stickiness: the query's grain, else the metric's own."""
        return self.query.grain or str(getattr(self.metrics[0], "period", None) or "day")


def resolve(catalog: Catalog, query: Query) -> ResolvedQuery:
    """Check ``query`` against ``catalog``.

    Raises:
        QueryError: one line naming the offending metric, dimension or option.
    """
    if not query.metrics:
        raise QueryError("name at least one metric")
    metrics = tuple(_metric(catalog, name) for name in dict.fromkeys(query.metrics))
    kinds = {metric.type for metric in metrics}
    if kinds & set(SINGLE_KINDS) and len(metrics) > 1:
        single = next(m.name for m in metrics if m.type in SINGLE_KINDS)
        raise QueryError(f"{single!r} is a {catalog.metrics[single].type}; query it on its own")
    kind = metrics[0].type if metrics[0].type in SINGLE_KINDS else "aggregate"
    models = {metric.model for metric in metrics}
    if len(models) > 1:
        raise QueryError(f"metrics from different models cannot be combined in one query: {', '.join(sorted(models))}")
    model = catalog.models[models.pop()]
    usable = {d.name: d for d in catalog.dimensions_for(model.name)}
    dimensions = tuple(_dimension(catalog, usable, name, model) for name in dict.fromkeys(query.dimensions))
    _check_grain(query, kind)
    _check_options(query, kind)
    for day in (query.start, query.end):
        if day is not None:
            try:
                check_day(day)
            except DayError as err:
                raise QueryError(str(err)) from None
    if query.start and query.end and query.start > query.end:
        raise QueryError(f"the range starts ({query.start}) after it ends ({query.end})")
    if query.limit is not None and not 1 <= query.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be from 1 to {MAX_LIMIT:,}, not {query.limit}")
    where = None
    if query.where and query.where.strip():
        try:
            where = parse_user_filter(query.where, usable)
        except SnippetError as err:
            raise QueryError(str(err)) from None
    used = [*dimensions, *(usable[c.name] for c in (where.find_all(exp.Column) if where else ()))]
    joined = tuple(sorted({d.model for d in used if d.model != model.name}))
    resolved = ResolvedQuery(
        query=query,
        kind=kind,
        model=model,
        metrics=metrics,
        components=_components(catalog, metrics),
        dimensions=dimensions,
        where=where,
        joined_models=joined,
    )
    _check_order(resolved)
    if query.segment is not None:
        resolved = replace(resolved, segment=_segment(catalog, query, model))
    return resolved


def _segment(catalog: Catalog, query: Query, model: Model) -> Segment:
    """The segment filtering the query; it is computed as of the query's last day."""
    if isinstance(query.segment, str):
        segment = catalog.segments.get(query.segment)
        if segment is None:
            known = ", ".join(sorted(catalog.segments)) or "none defined in metrics/segments/"
            raise QueryError(
                f"unknown segment {query.segment!r}{did_you_mean(query.segment, catalog.segments)}; segments: {known}"
            )
    else:
        segment = query.segment
    assert segment is not None  # called only for a query with a segment
    if query.end is None:
        raise QueryError(f"segment {segment.name!r} is computed as of the range's last day: give an end date")
    users = catalog.models.get(USERS_MODEL)
    if users is None or model.entity != users.entity:
        raise QueryError(
            f"segment {segment.name!r} selects {USERS_MODEL!r} by {users.entity if users else '?'}; model {model.name!r} is keyed by {model.entity!r}"
        )
    return segment


def _metric(catalog: Catalog, name: str) -> Metric:
    try:
        return catalog.metrics[name]
    except KeyError:
        raise QueryError(
            f"unknown metric {name!r}{did_you_mean(name, catalog.metrics)}; `finlens list metrics` shows them"
        ) from None


def _dimension(catalog: Catalog, usable: dict[str, Dimension], name: str, model: Model) -> Dimension:
    if name in usable:
        return usable[name]
    if name in catalog.dimensions:
        raise QueryError(
            f"dimension {name!r} belongs to model {catalog.dimensions[name].model!r}, which metrics of {model.name!r} cannot reach"
        )
    raise QueryError(f"unknown dimension {name!r}{did_you_mean(name, usable)}; `finlens list dimensions` shows them")


def _check_grain(query: Query, kind: str) -> None:
    if query.grain is None:
        return
    if query.grain not in GRAINS:
        raise QueryError(
            f"unknown grain {query.grain!r}{did_you_mean(query.grain, GRAINS)}; use one of {', '.join(GRAINS)}"
        )
    allowed = KIND_GRAINS.get(kind)
    if allowed is not None and query.grain not in allowed:
        raise QueryError(f"a {kind} takes the grain {', '.join(allowed)}, not {query.grain!r}")


def _check_options(query: Query, kind: str) -> None:
    if query.time_to_convert and kind != "funnel":
        raise QueryError(f"time to convert is for funnels, not {kind} metrics")
    if query.average and kind != "retention":
        raise QueryError(f"the average over cohorts is for retentions, not {kind} metrics")


def _components(catalog: Catalog, metrics: tuple[Metric, ...]) -> tuple[Metric, ...]:
    """All metrics needed, each after the ones it is computed from (the catalog has no cycles)."""
    ordered: dict[str, Metric] = {}

    def add(metric: Metric) -> None:
        for ref in metric_references(metric):
            add(catalog.metrics[ref])
        ordered.setdefault(metric.name, metric)

    for metric in metrics:
        add(metric)
    return tuple(ordered.values())


def output_columns(resolved: ResolvedQuery) -> list[str]:
    """The result's column names, in order."""
    dims = [d.name for d in resolved.dimensions]
    bucket = [resolved.grain] if resolved.grain else []
    if resolved.kind == "funnel":
        return [
            *bucket,
            *dims,
            "step",
            "step_name",
            "users",
            "conversion_from_previous",
            "conversion_from_first",
            "median_seconds_to_convert",
            *(TIME_TO_CONVERT if resolved.query.time_to_convert else []),
        ]
    if resolved.kind == "retention":
        return ["cohort", *dims, "period", "cohort_size", "retained", "rate"]
    if resolved.kind == "ltv":
        return ["cohort", *dims, "period", "cohort_size", "amount", "amount_per_user"]
    if resolved.kind == "stickiness":
        return [resolved.period, *dims, "active_days", "users"]
    if resolved.kind == "interval":
        return [*bucket, *dims, *INTERVAL_STATS]
    return [*bucket, *dims, *(m.name for m in resolved.metrics)]


def _check_order(resolved: ResolvedQuery) -> None:
    columns = output_columns(resolved)
    for item in resolved.query.order_by:
        name = item.lstrip("-")
        if name not in columns:
            raise QueryError(
                f"cannot order by {name!r}: not an output column{did_you_mean(name, columns)}; columns: {', '.join(columns)}"
            )
