"""Typed, validated catalog specs: what the YAML in ``metrics/`` means.

The loader turns YAML into these frozen dataclasses once; everything after
(planning, SQL generation, the app) reads specs, never raw YAML. SQL snippets
are kept as parsed sqlglot expressions over *unqualified* column names of
their model; the compiler qualifies them when it builds a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlglot import exp

BUSINESS_LINES = ("platform", "life", "forex", "p2p", "stock")
FORMATS = ("number", "percent", "cny", "duration")
GRAINS = ("hour", "day", "week", "month", "quarter", "year")
DIMENSION_TYPES = ("string", "number", "boolean", "time")
AGGREGATIONS = ("count", "count_distinct", "sum", "avg", "min", "max")
SESSION_MEASURES = ("sessions", "avg_duration", "avg_depth", "bounce_rate")
RETENTION_PERIODS = ("day", "week", "month")
RETENTION_MODES = ("exact", "on_or_after")
STICKINESS_PERIODS = ("week", "month")
PERCENTILES = (10, 25, 50, 75, 90)  # the continuous percentiles interval and time-to-convert rows give


@dataclass(frozen=True)
class Label:
    """A name shown to people, in Chinese and English."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True)
class Source:
    """Where a spec was declared, for messages."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Dimension:
    """A named SQL expression over one model's columns, usable in group-by and filters."""

    name: str
    model: str
    expr: exp.Expr
    type: str
    label: Label
    description: str
    values: tuple[str, ...] | None
    source: Source
    value_labels: dict[str, Label] = field(default_factory=dict)  # how people read a value: p2p → 网贷理财 / P2P

    def value_label(self, value: object, language: str) -> str:
        """``value`` as people read it: its label from the YAML when declared, else the value itself."""
        label = self.value_labels.get(str(value))
        return label.get(language) if label is not None else str(value)


@dataclass(frozen=True)
class Join:
    """A many-to-one join: every row of the joining model matches at most one row of ``model``."""

    model: str
    foreign_key: str
    primary_key: str


@dataclass(frozen=True)
class SessionSettings:
    """How a model's events form sessions and which of them count as page views and clicks."""

    gap_seconds: int
    page_view: exp.Expr
    click: exp.Expr


@dataclass(frozen=True)
class Model:
    """A warehouse table with its entity, time column, columns, joins and dimensions."""

    name: str
    table: str
    entity: str
    primary_key: str
    time_column: str | None
    event_column: str | None
    columns: dict[str, str]
    joins: tuple[Join, ...]
    sessions: SessionSettings | None
    label: Label
    source: Source
    pii_columns: tuple[str, ...] = ()  # identifying columns, masked for roles without pii
    pii_properties: tuple[str, ...] = ()  # identifying keys of the properties JSON, masked likewise


@dataclass(frozen=True)
class MetricBase:
    """What every metric has, whatever its type."""

    name: str
    model: str
    label: Label
    description: str
    format: str
    business_line: str
    source: Source
    description_zh: str = field(default="", kw_only=True)  # when the YAML gives {zh, en}

    def described(self, language: str) -> str:
        """The description in ``language`` (the English one when no Chinese is given)."""
        return self.description_zh if language == "zh" and self.description_zh else self.description


@dataclass(frozen=True)
class AggregateMetric(MetricBase):
    """count, count_distinct, sum, avg, min or max of ``expr`` over rows matching ``filter``."""

    aggregation: str
    expr: exp.Expr | None
    filter: exp.Expr | None
    type: Literal["aggregate"] = "aggregate"


@dataclass(frozen=True)
class RatioMetric(MetricBase):
    """numerator / denominator, two other metrics of the same query; NULL when the denominator is 0."""

    numerator: str
    denominator: str
    type: Literal["ratio"] = "ratio"


@dataclass(frozen=True)
class DerivedMetric(MetricBase):
    """Arithmetic over other metrics by name (``deposit_amount - withdraw_amount``)."""

    expr: exp.Expr
    references: tuple[str, ...]
    type: Literal["derived"] = "derived"


@dataclass(frozen=True)
class SessionMetric(MetricBase):
    """A measure of sessions built from the selected events (see ``semantic/README.md``)."""

    measure: str
    type: Literal["session"] = "session"


@dataclass(frozen=True)
class FirstSeenMetric(MetricBase):
    """Entities whose first event ever falls in the range, under that first event's dimensions."""

    type: Literal["first_seen"] = "first_seen"


@dataclass(frozen=True)
class FunnelStep:
    """One funnel step: one or more event names (any of them), an optional filter and a label."""

    name: str
    events: tuple[str, ...]
    filter: exp.Expr | None
    label: Label


@dataclass(frozen=True)
class FunnelMetric(MetricBase):
    """Ordered steps completed within ``window_seconds`` of the first (ClickHouse windowFunnel semantics)."""

    steps: tuple[FunnelStep, ...]
    window_seconds: int
    type: Literal["funnel"] = "funnel"


@dataclass(frozen=True)
class EventMatch:
    """One or more event names (any of them) with an optional filter, as used by retention."""

    events: tuple[str, ...]
    filter: exp.Expr | None


@dataclass(frozen=True)
class RetentionMetric(MetricBase):
    """Cohorts by first-ever cohort event; retained in period N if the return event happens in it
    (``mode`` exact), or in it or any later period (``on_or_after``, unbounded retention)."""

    cohort: EventMatch
    returning: EventMatch
    period: str
    periods: int
    mode: str = "exact"
    type: Literal["retention"] = "retention"


@dataclass(frozen=True)
class IntervalMetric(MetricBase):
    """Seconds from each start event to the same user's next end event, when it comes within ``window_seconds``."""

    start: EventMatch
    end: EventMatch
    window_seconds: int
    type: Literal["interval"] = "interval"


@dataclass(frozen=True)
class LtvMetric(MetricBase):
    """Each cohort's cumulative sum of ``amount`` over its users' value events, per period since the cohort event."""

    cohort: EventMatch
    value: EventMatch
    amount: exp.Expr
    period: str
    periods: int
    type: Literal["ltv"] = "ltv"


@dataclass(frozen=True)
class StickinessMetric(MetricBase):
    """Users by their number of distinct active days in each week or month (active: any event, or ``active``)."""

    active: EventMatch | None
    period: str
    type: Literal["stickiness"] = "stickiness"


Metric = (
    AggregateMetric
    | RatioMetric
    | DerivedMetric
    | SessionMetric
    | FirstSeenMetric
    | FunnelMetric
    | RetentionMetric
    | IntervalMetric
    | LtvMetric
    | StickinessMetric
)
# Metric types asked on their own: their rows are not one value per group.
SINGLE_KINDS = ("funnel", "retention", "interval", "ltv", "stickiness")
