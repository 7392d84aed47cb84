"""One parser per metric type: YAML mapping in, typed metric spec out (or problems noted)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from semantic.catalog.fields import Fields, Problems
from semantic.catalog.specs import (
    AGGREGATIONS,
    BUSINESS_LINES,
    FORMATS,
    RETENTION_MODES,
    RETENTION_PERIODS,
    SESSION_MEASURES,
    STICKINESS_PERIODS,
    AggregateMetric,
    DerivedMetric,
    EventMatch,
    FirstSeenMetric,
    FunnelMetric,
    FunnelStep,
    IntervalMetric,
    Label,
    LtvMetric,
    Metric,
    Model,
    RatioMetric,
    RetentionMetric,
    SessionMetric,
    Source,
    StickinessMetric,
)
from semantic.catalog.yaml_lines import LineMap

COMMON_KEYS = ("name", "type", "model", "label", "description", "format", "business_line")
METRIC_TYPES = (
    *AGGREGATIONS,
    "ratio",
    "derived",
    "session",
    "first_seen",
    "funnel",
    "retention",
    "interval",
    "ltv",
    "stickiness",
)
EVENT_TYPES = ("funnel", "retention", "interval", "ltv", "stickiness")  # types that match events by name
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    **{agg: ("expr", "filter") for agg in AGGREGATIONS},
    "ratio": ("numerator", "denominator"),
    "derived": ("expr",),
    "session": ("measure",),
    "first_seen": (),
    "funnel": ("steps", "window"),
    "retention": ("cohort", "return", "period", "periods", "mode"),
    "interval": ("start", "end", "window"),
    "ltv": ("cohort", "value", "period", "periods"),
    "stickiness": ("active", "period"),
}
MAX_PERIODS = 366
DEFAULT_MODEL = "events"


def parse_metric(item: LineMap, file: str, problems: Problems, models: dict[str, Model]) -> Metric | None:
    """Parse one metric mapping; returns None (with problems noted) when it cannot be built."""
    written_type = str(item.get("type", "")).lower()
    allowed = COMMON_KEYS + TYPE_KEYS.get(written_type, ())
    fields = Fields(item, file, problems, "metric", allowed)
    name = fields.name()
    fields.what = f"metric {name!r}" if name else "metric"
    metric_type = fields.choice("type", METRIC_TYPES)
    model_name = fields.string("model", required=False, default=DEFAULT_MODEL) or DEFAULT_MODEL
    model = models.get(model_name)
    if model is None:
        fields.error(
            "model" if fields.has("model") else None,
            f"{fields.what}: unknown model {model_name!r}; known: {', '.join(sorted(models))}",
        )
    elif model.time_column is None:
        fields.error(
            "model", f"{fields.what}: model {model_name!r} has no time_column, so it cannot be queried by date"
        )
    description, description_zh = fields.description()
    common: dict[str, Any] = dict(
        name=name or "",
        model=model_name,
        label=fields.label(),
        description=description,
        description_zh=description_zh,
        format=fields.choice("format", FORMATS, default="number") or "number",
        business_line=fields.choice("business_line", BUSINESS_LINES) or "platform",
        source=Source(file, item.line),
    )
    if name is None or metric_type is None or model is None:
        return None
    if metric_type in EVENT_TYPES and model.event_column is None:
        fields.error("type", f"{fields.what}: model {model_name!r} declares no event_column for {metric_type} steps")
        return None
    parser = _PARSERS["aggregate" if metric_type in AGGREGATIONS else metric_type]
    return parser(fields, metric_type, model, common)


def _row_snippet(
    fields: Fields, key: str, model: Model, *, required: bool = False, mapping_fields: Fields | None = None
) -> exp.Expr | None:
    return (mapping_fields or fields).snippet(key, model.columns, required=required)


def _aggregate(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    required = metric_type not in ("count", "count_distinct")
    expr = _row_snippet(fields, "expr", model, required=required)
    if metric_type == "count_distinct" and expr is None and not fields.has("expr"):
        expr = exp.column(model.entity)
    filter_ = _row_snippet(fields, "filter", model)
    if required and expr is None:
        return None
    return AggregateMetric(**common, aggregation=metric_type, expr=expr, filter=filter_)


def _ratio(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    numerator, denominator = fields.string("numerator"), fields.string("denominator")
    if numerator is None or denominator is None:
        return None
    return RatioMetric(**common, numerator=numerator, denominator=denominator)


def _derived(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    expr = fields.snippet("expr", None, required=True)
    if expr is None:
        return None
    references = tuple(dict.fromkeys(col.name for col in expr.find_all(exp.Column)))
    if not references:
        fields.error("expr", f"{fields.what}: expr must refer to at least one metric by name")
        return None
    return DerivedMetric(**common, expr=expr, references=references)


def _session(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    measure = fields.choice("measure", SESSION_MEASURES)
    if model.sessions is None:
        fields.error("type", f"{fields.what}: model {model.name!r} declares no 'sessions' settings")
        return None
    return SessionMetric(**common, measure=measure) if measure else None


def _first_seen(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    return FirstSeenMetric(**common)


def _event_match(
    fields: Fields, key: str, model: Model, *, required: bool = True, amount: list[exp.Expr | None] | None = None
) -> EventMatch | None:
    """``{event, filter}`` under ``key``; with ``amount``, also a required ``amount`` expression (appended to it)."""
    mapping = fields.mapping_at(key, required=required)
    if mapping is None:
        return None
    keys = ("event", "filter", "amount") if amount is not None else ("event", "filter")
    match_fields = Fields(mapping, fields.file, fields.problems, f"{fields.what} {key}", keys)
    events = match_fields.event_names("event")
    filter_ = _row_snippet(fields, "filter", model, mapping_fields=match_fields)
    if amount is not None:
        amount.append(_row_snippet(fields, "amount", model, required=True, mapping_fields=match_fields))
    return EventMatch(events=events, filter=filter_) if events else None


def _periods(fields: Fields, default: int) -> int | None:
    periods = fields.integer("periods", default=default)
    if periods is not None and periods > MAX_PERIODS:
        fields.error("periods", f"{fields.what}: periods must be at most {MAX_PERIODS}, not {periods}")
        return None
    return periods


def _funnel(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    window = fields.duration("window")
    items = fields.list_at("steps")
    steps: list[FunnelStep] = []
    for position, (item, line) in enumerate(zip(items or [], getattr(items, "item_lines", [])), start=1):
        if not isinstance(item, LineMap):
            fields.problems.add(fields.file, line, f"{fields.what}: step {position} must be a mapping with an 'event'")
            continue
        step_fields = Fields(
            item, fields.file, fields.problems, f"{fields.what} step {position}", ("name", "event", "filter", "label")
        )
        events = step_fields.event_names("event")
        filter_ = _row_snippet(fields, "filter", model, mapping_fields=step_fields)
        if events is None:
            continue
        step_name = step_fields.string("name", required=False, default=events[0]) or events[0]
        label = step_fields.label() if step_fields.has("label") else Label(zh=step_name, en=step_name)
        steps.append(FunnelStep(name=step_name, events=events, filter=filter_, label=label))
    if items is not None and len(items) < 2:
        fields.error("steps", f"{fields.what}: a funnel needs at least 2 steps, found {len(items)}")
        return None
    if window is None or items is None or len(steps) != len(items):
        return None
    return FunnelMetric(**common, steps=tuple(steps), window_seconds=window)


def _retention(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    cohort = _event_match(fields, "cohort", model)
    returning = _event_match(fields, "return", model)
    period = fields.choice("period", RETENTION_PERIODS, default="day")
    mode = fields.choice("mode", RETENTION_MODES, default="exact")
    periods = _periods(fields, 30)
    if cohort is None or returning is None or period is None or periods is None or mode is None:
        return None
    return RetentionMetric(**common, cohort=cohort, returning=returning, period=period, periods=periods, mode=mode)


def _interval(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    start = _event_match(fields, "start", model)
    end = _event_match(fields, "end", model)
    window = fields.duration("window")
    if start is None or end is None or window is None:
        return None
    return IntervalMetric(**common, start=start, end=end, window_seconds=window)


def _ltv(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    cohort = _event_match(fields, "cohort", model)
    amounts: list[exp.Expr | None] = []
    value = _event_match(fields, "value", model, amount=amounts)
    period = fields.choice("period", RETENTION_PERIODS, default="week")
    periods = _periods(fields, 12)
    amount = amounts[0] if amounts else None
    if cohort is None or value is None or amount is None or period is None or periods is None:
        return None
    return LtvMetric(**common, cohort=cohort, value=value, amount=amount, period=period, periods=periods)


def _stickiness(fields: Fields, metric_type: str, model: Model, common: dict[str, Any]) -> Metric | None:
    active = _event_match(fields, "active", model, required=False)
    period = fields.choice("period", STICKINESS_PERIODS, default="week")
    if period is None or (fields.has("active") and active is None):
        return None
    return StickinessMetric(**common, active=active, period=period)


_PARSERS: dict[str, Callable[[Fields, str, Model, dict[str, Any]], Metric | None]] = {
    "aggregate": _aggregate,
    "ratio": _ratio,
    "derived": _derived,
    "session": _session,
    "first_seen": _first_seen,
    "funnel": _funnel,
    "retention": _retention,
    "interval": _interval,
    "ltv": _ltv,
    "stickiness": _stickiness,
}
