"""Judging one period's value against its condition: thresholds, changes and seasonal anomalies.

Pure arithmetic on numbers already fetched (``alert_series.py``), so each rule can be checked
on hand-worked series. Every comparison is strict: a value equal to a bound does not fire.

Anomaly method (``condition: {anomaly: {baseline_periods: K, sensitivity: s}}``):

1. The baseline is the K periods before the evaluated one, leaving out those without a value
   or below ``min_volume``.
2. Seasonality: each period has a phase, its weekday (days, ``weekly``), its hour (hours,
   ``daily``) or its hour of the week (hours, ``weekly``); ``none`` puts every period in one phase.
3. The expected value is the median of the baseline periods in the same phase as the evaluated
   one (the same weekday of the last four weeks, with K = 28): a median, so one bad day in the
   baseline does not move it.
4. The spread is robust too: for every baseline period, its deviation from the median of the
   *other* baseline periods of its phase; the scale is 1.4826 x the median absolute deviation
   (the standard deviation for normal noise). That is the spread of "a value minus the median of
   its peers", which is exactly the comparison made, and an anomaly inside the baseline does not
   widen it. The scale is at least 1% of the expected value, so a flat series does not fire on
   a rounding difference.
5. The band is expected ± s x scale (one side with ``direction: up`` or ``down``); the period
   fires when its value is outside. Fewer than two same-phase periods or four deviations: no
   baseline, no verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from semantic.analyses.alert_periods import Period
from semantic.catalog.alert_specs import Condition, MinVolume

MAD_TO_SIGMA = 1.4826
MIN_RELATIVE_SCALE = 0.01
STATUSES = ("fired", "ok", "low_volume", "no_data", "no_baseline")


@dataclass(frozen=True)
class Point:
    """One period's number and volume (None when unknown)."""

    period: Period
    value: float | None
    volume: float | None = None


@dataclass(frozen=True)
class Outcome:
    """The verdict on one period: ``status`` is one of :data:`STATUSES`; ``reason`` one plain line."""

    status: str
    value: float | None
    baseline: float | None
    low: float | None
    high: float | None
    threshold: float | None
    volume: float | None
    reason: str

    @property
    def fired(self) -> bool:
        return self.status == "fired"


def enough_volume(point: Point, min_volume: MinVolume | None) -> bool:
    return min_volume is None or (point.volume is not None and point.volume >= min_volume.at_least)


def judge(condition: Condition, point: Point, history: Sequence[Point], min_volume: MinVolume | None) -> Outcome:
    """The verdict on ``point`` given the periods before it (``history``, any order)."""
    if point.value is None:
        return Outcome("no_data", None, None, None, None, None, point.volume, "no value for this period")
    if not enough_volume(point, min_volume):
        assert min_volume is not None
        volume = "none" if point.volume is None else f"{point.volume:g}"
        return Outcome(
            "low_volume",
            point.value,
            None,
            None,
            None,
            None,
            point.volume,
            f"volume {volume} below min_volume {min_volume.at_least:g} ({min_volume.metric.text})",
        )
    usable = [p for p in history if p.value is not None and enough_volume(p, min_volume)]
    if condition.kind == "threshold":
        return _band(point, None, condition.below, condition.above, "threshold")
    if condition.kind == "change":
        return _change(condition, point, usable)
    return _anomaly(condition, point, usable)


def _band(point: Point, baseline: float | None, low: float | None, high: float | None, what: str) -> Outcome:
    value = point.value
    assert value is not None
    if high is not None and value > high:
        return Outcome("fired", value, baseline, low, high, high, point.volume, f"{value:g} above {what} {high:g}")
    if low is not None and value < low:
        return Outcome("fired", value, baseline, low, high, low, point.volume, f"{value:g} below {what} {low:g}")
    nearest = high if low is None or (high is not None and abs(high - value) <= abs(value - low)) else low
    return Outcome("ok", value, baseline, low, high, nearest, point.volume, f"{value:g} within {what}")


def _sides(direction: str, centre: float, width: float) -> tuple[float | None, float | None]:
    low = centre - width if direction in ("down", "both") else None
    high = centre + width if direction in ("up", "both") else None
    return low, high


def _change(condition: Condition, point: Point, usable: list[Point]) -> Outcome:
    back = 1 if condition.vs == "previous_period" else (7 if point.period.grain == "day" else 168)
    target = point.period.shifted(-back)
    previous = next((p for p in usable if p.period == target), None)
    if previous is None or previous.value is None:
        return Outcome(
            "no_baseline", point.value, None, None, None, None, point.volume, f"no usable value for {target.label}"
        )
    if previous.value == 0:
        return Outcome(
            "no_baseline", point.value, 0.0, None, None, None, point.volume, "the baseline is 0: no relative change"
        )
    assert condition.by_more_than is not None
    low, high = _sides(condition.direction, previous.value, condition.by_more_than * abs(previous.value))
    return _band(point, previous.value, low, high, f"change band (vs {target.label})")


def _anomaly(condition: Condition, point: Point, usable: list[Point]) -> Outcome:
    assert condition.baseline_periods is not None and condition.sensitivity is not None
    first = point.period.shifted(-condition.baseline_periods)
    window = [p for p in usable if first <= p.period < point.period]
    season = condition.seasonality
    phases: dict[int, list[Point]] = {}
    for p in window:
        phases.setdefault(p.period.phase(season), []).append(p)
    same = [p.value for p in phases.get(point.period.phase(season), []) if p.value is not None]
    deviations = [
        abs(p.value - median(others))
        for group in phases.values()
        for p in group
        if p.value is not None and (others := [q.value for q in group if q is not p and q.value is not None])
    ]
    if len(same) < 2 or len(deviations) < 4:
        return Outcome(
            "no_baseline",
            point.value,
            None,
            None,
            None,
            None,
            point.volume,
            f"baseline has {len(same)} periods in this phase and {len(deviations)} deviations; needs 2 and 4",
        )
    expected = median(same)
    scale = max(MAD_TO_SIGMA * median(deviations), MIN_RELATIVE_SCALE * abs(expected), 1e-12)
    low, high = _sides(condition.direction, expected, condition.sensitivity * scale)
    return _band(point, expected, low, high, f"band ({condition.sensitivity:g} x {scale:.4g} around {expected:.4g})")
