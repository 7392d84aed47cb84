"""``alerts:`` entries of ``metrics/alerts/*.yml`` → :class:`Alert` specs, every problem at ``file:line``.

What an alert may watch (``metric``):

- any catalog metric that is not a funnel or a retention (``error_rate``);
- ``FUNNEL.stepN``: the conversion from step 1 to step N (N >= 2) of the users entering in the period;
  ``FUNNEL.stepN.users``: how many of them reach step N;
- ``RETENTION.periodN``: the share of the period's cohort returning in period N (a daily retention);
  ``RETENTION.cohort_size``: the cohort's size.

Funnels and retentions are watched per day only: their number for a day is known only once the
funnel's window (or period N) has passed, which the evaluator waits for.
"""

from __future__ import annotations

import re

from semantic.catalog.alert_specs import (
    ALERT_GRAINS,
    CHANGE_BASELINES,
    DIRECTIONS,
    SEASONALITIES,
    Alert,
    Condition,
    MetricRef,
    MinVolume,
)
from semantic.catalog.catalog import Catalog
from semantic.catalog.cron import CronProblem, cron_fields
from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expressions import SnippetError, did_you_mean
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.specs import FunnelMetric, RetentionMetric, Source
from semantic.catalog.yaml_lines import LineList, LineMap

ALERT_KEYS = (
    "name",
    "label",
    "description",
    "metric",
    "by",
    "where",
    "grain",
    "condition",
    "min_volume",
    "schedule",
    "notify",
    "cooldown",
)
DEFAULT_SCHEDULES = {"hour": "5 * * * *", "day": "0 9 * * *"}
DEFAULT_BASELINE_PERIODS = {"hour": 336, "day": 28}
DEFAULT_SEASONALITY = {"hour": "daily", "day": "weekly"}
SEASON_LENGTH = {("hour", "daily"): 24, ("hour", "weekly"): 168, ("day", "weekly"): 7, ("day", "daily"): 1}
PERIOD_SECONDS = {"hour": 3600, "day": 86400}
MAX_BY = 3
MAX_BASELINE_PERIODS = 2000
_REF = re.compile(r"^([a-z][a-z0-9_]{0,62})(?:\.(step(\d{1,3})(\.users)?|period(\d{1,3})|cohort_size))?$")


def parse_metric_ref(catalog: Catalog, text: object) -> MetricRef:
    """``error_rate``, ``bind_card_funnel.step3`` (``.users``), ``bind_card_retention.period1`` or ``.cohort_size``.

    Raises:
        ValueError: one line saying what is wrong, with a did-you-mean.
    """
    match = _REF.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{str(text)[:60]!r} is not a metric reference: METRIC, FUNNEL.stepN, FUNNEL.stepN.users, "
            "RETENTION.periodN or RETENTION.cohort_size"
        )
    assert isinstance(text, str)
    name, part = match.group(1), match.group(2)
    metric = catalog.metrics.get(name)
    if metric is None:
        raise ValueError(f"unknown metric {name!r}{did_you_mean(name, catalog.metrics)}")
    if isinstance(metric, FunnelMetric):
        if not part or not part.startswith("step"):
            raise ValueError(f"{name!r} is a funnel: watch one step's conversion, e.g. {name}.step{len(metric.steps)}")
        step, users = int(match.group(3)), bool(match.group(4))
        if not (1 if users else 2) <= step <= len(metric.steps):
            low = 1 if users else 2
            raise ValueError(
                f"{text!r}: {name!r} has steps 1 to {len(metric.steps)}; use step{low} to step{len(metric.steps)}"
            )
        return MetricRef(text, name, "funnel_users" if users else "funnel_step", step=step)
    if isinstance(metric, RetentionMetric):
        if metric.period != "day":
            raise ValueError(f"{name!r} is a {metric.period}ly retention; alerts watch daily retentions only")
        if part == "cohort_size":
            return MetricRef(text, name, "retention_cohort")
        if not part or not part.startswith("period"):
            raise ValueError(f"{name!r} is a retention: watch one period's rate, e.g. {name}.period1")
        period = int(match.group(5))
        if not 1 <= period <= metric.periods:
            raise ValueError(f"{text!r}: {name!r} has periods 1 to {metric.periods}")
        return MetricRef(text, name, "retention_rate", period=period)
    if part:
        raise ValueError(
            f"{text!r}: {name!r} is a {metric.type} metric; only funnels and retentions take .step or .period"
        )
    return MetricRef(text, name, "metric")


def parse_alert(catalog: Catalog, file: str, item: LineMap, problems: Problems) -> Alert | None:
    """One alert, or None after reporting every problem in it."""
    fields = Fields(item, file, problems, "alert", ALERT_KEYS)
    name = fields.name()
    what = f"alert {name!r}"
    fields.what = what
    label = fields.label()
    ref = _ref(catalog, fields, "metric", what)
    grain = fields.choice("grain", ALERT_GRAINS, default="day") or "day"
    if ref is not None and ref.kind != "metric" and grain != "day":
        fields.error("grain", f"{what}: a funnel or retention is watched per day; grain must be day")
    usable = _usable_dimensions(catalog, ref)
    by = _by(fields, usable, what)
    where = fields.string("where", required=False)
    if where and usable is not None:
        try:
            parse_user_filter(where, usable, f"{what}: where")
        except SnippetError as err:
            fields.error("where", str(err))
    condition = _condition(fields, grain, what)
    min_volume = _min_volume(catalog, fields, ref, usable, what)
    schedule = fields.string("schedule", required=False) or DEFAULT_SCHEDULES[grain]
    try:
        cron_fields(schedule)
    except CronProblem as err:
        fields.error("schedule", f"{what}: schedule: {err}")
    notify = _names(fields, "notify", what)
    cooldown = fields.duration("cooldown") if fields.has("cooldown") else 3 * PERIOD_SECONDS[grain]
    if name is None or ref is None or condition is None or by is None or cooldown is None:
        return None
    return Alert(
        name=name,
        label=label,
        description=fields.string("description", required=False, default="") or "",
        metric=ref,
        by=by,
        where=where or None,
        grain=grain,
        condition=condition,
        min_volume=min_volume,
        schedule=schedule,
        notify=notify,
        cooldown_seconds=cooldown,
        source=Source(file, item.line),
    )


def _ref(catalog: Catalog, fields: Fields, key: str, what: str) -> MetricRef | None:
    text = fields.string(key)
    if text is None:
        return None
    try:
        return parse_metric_ref(catalog, text)
    except ValueError as err:
        fields.error(key, f"{what}: {key}: {err}")
        return None


def _usable_dimensions(catalog: Catalog, ref: MetricRef | None) -> list[str] | None:
    if ref is None:
        return None
    return [d.name for d in catalog.dimensions_for(catalog.metrics[ref.metric].model)]


def _by(fields: Fields, usable: list[str] | None, what: str) -> tuple[str, ...] | None:
    raw = fields.raw("by")
    if raw is None:
        return ()
    names = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, LineList) else None
    if names is None or not all(isinstance(n, str) for n in names):
        fields.error("by", f"{what}: 'by' must be a dimension name or a list of them")
        return None
    if len(names) > MAX_BY:
        fields.error("by", f"{what}: 'by' names {len(names)} dimensions; at most {MAX_BY}")
        return None
    for name in names:
        if usable is not None and name not in usable:
            fields.error("by", f"{what}: by: unknown dimension {name!r}{did_you_mean(name, usable)}")
            return None
    return tuple(dict.fromkeys(names))


def _number(fields: Fields, key: str, what: str, *, positive: bool = False) -> float | None:
    value = fields.raw(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        fields.error(key, f"{what}: {key!r} must be a number, not {value!r}")
        return None
    if positive and value <= 0:
        fields.error(key, f"{what}: {key!r} must be above 0, not {value!r}")
        return None
    return float(value)


def _condition(fields: Fields, grain: str, what: str) -> Condition | None:
    mapping = fields.mapping_at("condition")
    if mapping is None:
        return None
    kinds = [k for k in ("above", "below", "change", "anomaly") if k in mapping]
    inner = Fields(mapping, fields.file, fields.problems, f"{what} condition", ("above", "below", "change", "anomaly"))
    if not kinds or (len(kinds) > 1 and set(kinds) != {"above", "below"}):
        inner.error(None, f"{what}: condition takes exactly one of: above and/or below, change, anomaly")
        return None
    if kinds[0] in ("above", "below"):
        above = _number(inner, "above", f"{what} condition") if "above" in mapping else None
        below = _number(inner, "below", f"{what} condition") if "below" in mapping else None
        if (above is None and "above" in mapping) or (below is None and "below" in mapping):
            return None
        if above is not None and below is not None and below >= above:
            inner.error(
                "below",
                f"{what}: condition fires outside below..above; below ({below}) must be less than above ({above})",
            )
            return None
        return Condition("threshold", above=above, below=below)
    body = inner.mapping_at(kinds[0])
    if body is None:
        return None
    if kinds[0] == "change":
        change = Fields(body, fields.file, fields.problems, f"{what} change", ("vs", "by_more_than", "direction"))
        vs = change.choice("vs", CHANGE_BASELINES, default="previous_period")
        by_more = (
            _number(change, "by_more_than", f"{what} change", positive=True) if change.has("by_more_than") else None
        )
        if not change.has("by_more_than"):
            change.error(None, f"{what} change: missing required key 'by_more_than' (a relative change: 0.5 is 50%)")
        direction = change.choice("direction", DIRECTIONS, default="both") or "both"
        if by_more is None or vs is None:
            return None
        return Condition("change", vs=vs, by_more_than=by_more, direction=direction)
    anomaly = Fields(
        body,
        fields.file,
        fields.problems,
        f"{what} anomaly",
        ("baseline_periods", "sensitivity", "seasonality", "direction"),
    )
    periods = anomaly.integer(
        "baseline_periods", default=DEFAULT_BASELINE_PERIODS[grain], minimum=4, maximum=MAX_BASELINE_PERIODS
    )
    sensitivity = (
        _number(anomaly, "sensitivity", f"{what} anomaly", positive=True) if anomaly.has("sensitivity") else 3.0
    )
    seasonality = anomaly.choice("seasonality", SEASONALITIES, default=DEFAULT_SEASONALITY[grain])
    direction = anomaly.choice("direction", DIRECTIONS, default="both") or "both"
    if periods is None or sensitivity is None or seasonality is None:
        return None
    season = SEASON_LENGTH.get((grain, seasonality), 1)
    if periods < 2 * season:
        anomaly.error(
            "baseline_periods",
            f"{what} anomaly: {seasonality} seasonality on {grain}s needs at least {2 * season} baseline periods "
            f"(two of each {'weekday' if season == 7 else 'phase'}), not {periods}",
        )
        return None
    return Condition(
        "anomaly", baseline_periods=periods, sensitivity=sensitivity, seasonality=seasonality, direction=direction
    )


def _min_volume(
    catalog: Catalog, fields: Fields, ref: MetricRef | None, usable: list[str] | None, what: str
) -> MinVolume | None:
    mapping = fields.mapping_at("min_volume", required=False)
    if mapping is None or ref is None:
        return None
    volume = Fields(mapping, fields.file, fields.problems, f"{what} min_volume", ("metric", "at_least"))
    at_least = _number(volume, "at_least", f"{what} min_volume") if volume.has("at_least") else None
    if not volume.has("at_least"):
        volume.error(None, f"{what} min_volume: missing required key 'at_least'")
    if volume.has("metric"):
        target = _ref(catalog, volume, "metric", f"{what} min_volume")
    elif ref.kind == "metric":
        volume.error(None, f"{what} min_volume: missing required key 'metric' (e.g. pv)")
        target = None
    else:  # a funnel's entering users, a retention's cohort
        kind = "funnel_users" if ref.kind.startswith("funnel") else "retention_cohort"
        suffix = ".step1.users" if kind == "funnel_users" else ".cohort_size"
        target = MetricRef(ref.metric + suffix, ref.metric, kind, step=1 if kind == "funnel_users" else None)
    if target is None or at_least is None:
        return None
    if target.is_rate:
        volume.error("metric", f"{what} min_volume: {target.text!r} is a rate; a volume is a count such as pv")
        return None
    if target.kind != "metric" and target.metric != ref.metric:
        volume.error("metric", f"{what} min_volume: use {ref.metric!r}'s own users or cohort, or a catalog metric")
        return None
    if target.kind == "metric" and catalog.metrics[target.metric].model != catalog.metrics[ref.metric].model:
        volume.error("metric", f"{what} min_volume: {target.metric!r} reads another model than {ref.metric!r}")
        return None
    return MinVolume(metric=target, at_least=at_least)


def _names(fields: Fields, key: str, what: str) -> tuple[str, ...]:
    raw = fields.raw(key)
    if raw is None:
        return ()
    names = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, LineList) else None
    if names is None or not all(isinstance(n, str) and n for n in names):
        fields.error(key, f"{what}: {key!r} must be a channel name or a list of them")
        return ()
    return tuple(dict.fromkeys(names))
