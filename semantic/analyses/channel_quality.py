"""Channel quality: each acquisition channel's funnel, its overall conversion and a strategy quadrant.

``metrics/marketing/channels.yml`` names a funnel metric of the catalog and the
dimension to group it by (shipped: ``channel_funnel`` by ``utm_source``, the
source the channel visit itself carries). The numbers are that funnel's, grouped by the dimension, so
they follow the funnel semantics of ``semantic/README.md`` exactly: a user
counts under the dimension value of their earliest in-range step-1 event, later
steps may fall after the range end (within the window), ``where`` applies to
every step's events. Per channel:

- ``traffic``: users at step 1; ``users`` per step and ``conversions`` from the previous step
  (step 1: 1.0; NULL when the previous step has no users);
- ``overall``: users at the last step over users at step 1.

Quadrants: over the channels with traffic > 0 whose value is not NULL, the
median of traffic and the median of overall conversion (the continuous median:
halfway between the middle two for an even count). A channel is *high* on an
axis when its value is **>= the median** (a value exactly at the median is
high). The NULL channel is listed but gets no quadrant and does not enter the
medians. The quadrants' strategy labels come from the YAML.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import CatalogError, CatalogProblem, QueryError
from semantic.analyses.marketing_yaml import marketing_root, read_marketing_file
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.specs import FunnelMetric, FunnelStep, Label, Source
from semantic.compiler.compile import compile_query
from semantic.compiler.query import Query
from semantic.compiler.results import run_compiled
from semantic.drill.users import Drill, users_select

QUADRANTS = (
    "high_traffic_high_conversion",
    "low_traffic_high_conversion",
    "high_traffic_low_conversion",
    "low_traffic_low_conversion",
)
FILE = "channels.yml"


@dataclass(frozen=True)
class ChannelSpec:
    """Which funnel, grouped by which dimension, and the strategy label of each quadrant."""

    funnel: str
    dimension: str
    label: Label
    quadrants: dict[str, Label]
    source: Source


@dataclass(frozen=True)
class ChannelRow:
    """One channel: users and conversion per step, overall conversion, quadrant and strategy."""

    channel: Any
    users: tuple[int, ...]
    conversions: tuple[float | None, ...]
    overall: float | None
    quadrant: str | None
    strategy: Label | None

    @property
    def traffic(self) -> int:
        return self.users[0]


@dataclass(frozen=True)
class ChannelQuality:
    """Every channel of the range, the medians that split the quadrants, and the funnel SQL."""

    steps: tuple[FunnelStep, ...]
    rows: tuple[ChannelRow, ...]
    median_traffic: float | None
    median_conversion: float | None
    sql: str

    def as_rows(self, language: str = "en") -> list[dict[str, Any]]:
        """Flat rows for JSON, tables and CSV: ``<step>_users`` and ``<step>_conversion`` per step."""
        out = []
        for row in self.rows:
            item: dict[str, Any] = {"channel": row.channel, "traffic": row.traffic}
            for step, users, conversion in zip(self.steps, row.users, row.conversions):
                item[f"{step.name}_users"] = users
                item[f"{step.name}_conversion"] = conversion
            item.update(
                overall_conversion=row.overall,
                quadrant=row.quadrant,
                strategy=row.strategy.get(language) if row.strategy else None,
            )
            out.append(item)
        return out


# --- the YAML ----------------------------------------------------------------------------------------------------


def channel_problems(
    catalog: Catalog, root: str | Path | None = None
) -> tuple[ChannelSpec | None, list[CatalogProblem]]:
    """The channel-quality spec in ``marketing/channels.yml`` (None when absent or broken) and every problem."""
    problems = Problems(catalog.allowed_functions)
    read = read_marketing_file(catalog, FILE, root, problems)
    if read is None:
        return None, problems.items
    file, doc = read
    top = Fields(doc, file, problems, FILE, ("channel_quality",))
    mapping = top.mapping_at("channel_quality")
    if mapping is None:
        return None, problems.items
    fields = Fields(mapping, file, problems, "channel_quality", ("funnel", "dimension", "label", "quadrants"))
    funnel = fields.string("funnel")
    ok = funnel is not None
    if funnel is not None and not isinstance(catalog.metrics.get(funnel), FunnelMetric):
        funnels = [n for n, m in catalog.metrics.items() if isinstance(m, FunnelMetric)]
        if funnel in catalog.metrics:
            metric = catalog.metrics[funnel]
            kind = getattr(metric, "aggregation", metric.type)
            fields.error("funnel", f"channel_quality: {funnel!r} is a {kind} metric, not a funnel")
        else:
            fields.error("funnel", f"channel_quality: unknown funnel metric {funnel!r}{did_you_mean(funnel, funnels)}")
        ok = False
    dimension = fields.string("dimension", required=False, default="channel")
    if ok and funnel is not None and dimension is not None:
        usable = [d.name for d in catalog.dimensions_for(catalog.metrics[funnel].model)]
        if dimension not in usable:
            fields.error(
                "dimension", f"channel_quality: unknown dimension {dimension!r}{did_you_mean(dimension, usable)}"
            )
            ok = False
    label = fields.label() if fields.has("label") else Label(zh="渠道质量", en="Channel quality")
    quadrants: dict[str, Label] = {}
    labels = fields.mapping_at("quadrants")
    if labels is not None:
        quadrant_fields = Fields(labels, file, problems, "channel_quality quadrants", QUADRANTS)
        for name in QUADRANTS:
            if name not in labels:
                fields.error("quadrants", f"channel_quality quadrants: missing {name!r} (a {{zh, en}} strategy label)")
            else:
                quadrants[name] = quadrant_fields.label(name)
    if not ok or funnel is None or dimension is None or len(quadrants) != len(QUADRANTS) or problems.items:
        return None, problems.items
    return ChannelSpec(
        funnel=funnel,
        dimension=dimension,
        label=label,
        quadrants=quadrants,
        source=Source(file, mapping.line),
    ), problems.items


def load_channel_spec(catalog: Catalog, root: str | Path | None = None) -> ChannelSpec:
    """The channel-quality spec.

    Raises:
        CatalogError: every problem as ``file:line: message`` (a missing file is one too).
    """
    spec, problems = channel_problems(catalog, root)
    if spec is None and not problems:
        path = marketing_root(catalog, root) / FILE
        problems = [
            CatalogProblem(
                str(path), 0, "file not found: channel quality needs its funnel, dimension and quadrant labels here"
            )
        ]
    if problems or spec is None:
        raise CatalogError(problems)
    return spec


# --- the numbers -------------------------------------------------------------------------------------------------


def channel_query(spec: ChannelSpec, *, start: date | None, end: date | None, where: str | None = None) -> Query:
    """The funnel query behind the channel table."""
    return Query(metrics=(spec.funnel,), dimensions=(spec.dimension,), start=start, end=end, where=where)


def channel_quality(
    catalog: Catalog,
    spec: ChannelSpec,
    warehouse: Warehouse,
    *,
    start: date | None,
    end: date | None,
    where: str | None = None,
) -> ChannelQuality:
    """Run the channel funnel on ``warehouse`` and place each channel in its quadrant."""
    compiled = compile_query(catalog, channel_query(spec, start=start, end=end, where=where), warehouse.dialect)
    return quality_from_rows(catalog, spec, run_compiled(compiled, warehouse).rows, compiled.sql)


def quality_from_rows(catalog: Catalog, spec: ChannelSpec, rows: list[dict[str, Any]], sql: str) -> ChannelQuality:
    """Pivot the funnel's (channel, step) rows into one row per channel, then split at the medians."""
    funnel = catalog.metrics[spec.funnel]
    assert isinstance(funnel, FunnelMetric)
    count = len(funnel.steps)
    by_channel: dict[Any, list[dict[str, Any] | None]] = {}
    for row in rows:
        by_channel.setdefault(row[spec.dimension], [None] * count)[int(row["step"]) - 1] = row
    channels: list[ChannelRow] = []
    for value, steps in by_channel.items():
        users = tuple(int(s["users"]) if s else 0 for s in steps)
        conversions = tuple(s["conversion_from_previous"] if s else None for s in steps)
        overall = users[-1] / users[0] if users[0] else None
        channels.append(
            ChannelRow(
                channel=value, users=users, conversions=conversions, overall=overall, quadrant=None, strategy=None
            )
        )
    ranked = [c for c in channels if c.channel is not None and c.traffic > 0 and c.overall is not None]
    median_traffic = statistics.median([c.traffic for c in ranked]) if ranked else None
    overalls = [c.overall for c in ranked if c.overall is not None]  # all of them: ranked rows have one
    median_conversion = statistics.median(overalls) if ranked else None
    placed: list[ChannelRow] = []
    for channel in channels:
        if channel in ranked:
            assert channel.overall is not None and median_traffic is not None and median_conversion is not None
            name = quadrant(channel.traffic, channel.overall, median_traffic, median_conversion)
            channel = replace(channel, quadrant=name, strategy=spec.quadrants[name])
        placed.append(channel)
    placed.sort(key=lambda r: (r.channel is None, -r.traffic, str(r.channel)))
    return ChannelQuality(
        steps=funnel.steps,
        rows=tuple(placed),
        median_traffic=_plain(median_traffic),
        median_conversion=_plain(median_conversion),
        sql=sql,
    )


def quadrant(traffic: float, conversion: float, median_traffic: float, median_conversion: float) -> str:
    """The quadrant's name; a value equal to the median counts as high.

    >>> quadrant(10, 0.5, 10, 0.2), quadrant(9, 0.1, 10, 0.2)
    ('high_traffic_high_conversion', 'low_traffic_low_conversion')
    """
    return f"{'high' if traffic >= median_traffic else 'low'}_traffic_{'high' if conversion >= median_conversion else 'low'}_conversion"


def _plain(value: float | None) -> float | None:
    return None if value is None else float(value)


# --- drill-down --------------------------------------------------------------------------------------------------


def channel_members(
    catalog: Catalog,
    spec: ChannelSpec,
    *,
    channel: Any,
    step: int,
    start: date | None,
    end: date | None,
    dialect: str = "duckdb",
    where: str | None = None,
    dropped: bool = False,
) -> exp.Select:
    """A members SELECT (``user_id`` and the step times, one row per user) for :func:`semantic.drill.members.member_list`.

    The users of ``channel`` (None: the NULL channel) whose deepest path reaches ``step``; with
    ``dropped``, those reaching ``step - 1`` but not ``step``. Built by the funnel drill of
    ``semantic/drill.py``, so the count equals the channel table's number.
    """
    funnel = catalog.metrics.get(spec.funnel)
    if not isinstance(funnel, FunnelMetric):
        raise QueryError(f"channel quality needs a funnel metric, not {spec.funnel!r}")
    drill = Drill(filters=((spec.dimension, channel),), step=step, dropped=dropped)
    return users_select(catalog, Query(metrics=(spec.funnel,), start=start, end=end, where=where), drill, dialect)
