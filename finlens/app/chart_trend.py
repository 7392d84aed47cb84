"""Trend charts people can read: every bucket present, partial periods marked, scales apart, the comparison dashed.

What a plain line over the result rows gets wrong, and what is done instead:

- a day with no matching event is no row at all, so a line would jump over it: counts and
  sums are drawn as 0 for every bucket of the range, rates and averages leave a gap;
- a first or last week (month...) cut by the range looks like a dip: such buckets are drawn
  hollow with a dashed segment, and their tooltip says how many of their days are in the range;
- visitors (~2,400 a day) and registrations (~25) on one axis flatten the small series: series
  whose formats differ, or whose largest values differ more than :data:`SCALE_RATIO` times,
  get panels of their own, one above the other, each with its own axis;
- the comparison period is drawn dashed and lighter, bucket by bucket (its k-th bucket under
  this period's k-th), as PostHog and Sensors do;
- ticks sit on the buckets themselves (weeks on their Mondays), labelled by the grain.

The output is a Vega-Lite dict built once per input (cached), so a warm page only sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd

from finlens.app.charts import AXIS_FORMATS, PALETTE, PICK, spec_cache
from semantic.catalog.formatting import format_value

SCALE_RATIO = 10  # series whose largest values differ more than this share no axis
PANEL_HEIGHT = 280
SMALL_PANEL_HEIGHT = 230  # each of several panels (the height holds the axes and legend too)
FORMATS = {"hour": "%m-%d %H:00", "day": "%m-%d", "week": "%m-%d", "month": "%Y-%m", "quarter": "%Y-%m", "year": "%Y"}


@dataclass(frozen=True)
class Series:
    """One metric of the chart: its column, label, format, and whether a bucket without rows is 0 (counts, sums)."""

    name: str
    label: str
    fmt: str
    additive: bool


@dataclass(frozen=True)
class Words:
    """The chart's own words in the page's language."""

    comparison: str  # legend suffix for the dashed series: "(comparison)"
    partial: str  # tooltip for a partial bucket, with {days} and {total}
    bucket: str  # tooltip title of the bucket
    value: str  # tooltip title of the value


def buckets(grain: str, start: date, end: date) -> list[tuple[date, date]]:
    """Every bucket of ``grain`` touching ``start``..``end``, as (first day, last day) of the whole bucket.

    >>> buckets("week", date(2026, 10, 2), date(2026, 10, 13))[0]
    (datetime.date(2026, 9, 28), datetime.date(2026, 10, 4))
    """
    out = []
    first = _bucket_start(grain, start)
    while first <= end:
        last = _next(grain, first) - timedelta(days=1)
        out.append((first, last))
        first = last + timedelta(days=1)
    return out


def _bucket_start(grain: str, day: date) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "year":
        return date(day.year, 1, 1)
    return day


def _next(grain: str, first: date) -> date:
    if grain in ("month", "quarter", "year"):
        months = {"month": 1, "quarter": 3, "year": 12}[grain]
        index = first.month - 1 + months
        return date(first.year + index // 12, index % 12 + 1, 1)
    return first + timedelta(days=7 if grain == "week" else 1)


def _key(value: Any) -> str:
    """A result bucket as its ISO text (``2026-10-05``; hours ``2026-10-05 14:00:00``)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:19] if len(str(value)) > 10 else str(value)


def panels(series: list[Series], rows: list[dict[str, Any]]) -> list[list[Series]]:
    """Series grouped onto shared axes: same format, largest values within :data:`SCALE_RATIO` of each other."""
    peak = {s.name: max((abs(r[s.name]) for r in rows if r.get(s.name) is not None), default=0) for s in series}
    groups: list[list[Series]] = []
    for s in sorted(series, key=lambda s: -peak[s.name]):
        for group in groups:
            top = peak[group[0].name]
            if group[0].fmt == s.fmt and (peak[s.name] == 0 or top <= SCALE_RATIO * peak[s.name]):
                group.append(s)
                break
        else:
            groups.append([s])
    order = {s.name: k for k, s in enumerate(series)}
    return sorted(groups, key=lambda g: min(order[s.name] for s in g))


def frame(
    rows: list[dict[str, Any]],
    grain: str,
    series: list[Series],
    span: tuple[date, date],
    comparison: list[dict[str, Any]] | None,
    comparison_span: tuple[date, date] | None,
    words: Words,
    language: str,
) -> pd.DataFrame:
    """Long rows (bucket, series, value, text, partial, comparison) for every bucket of the range."""
    start, end = span
    by_bucket = {_key(r[grain]): r for r in rows}
    current = buckets(grain, start, end) if grain != "hour" else [(d, d) for d in _days(start, end)]
    keys = [first.isoformat() for first, _ in current] if grain != "hour" else sorted(by_bucket)
    out = []
    for s in series:
        for k, key in enumerate(keys):
            row = by_bucket.get(key)
            value = row.get(s.name) if row is not None else None
            if value is None and s.additive and grain != "hour":
                value = 0
            partial, covered, total = False, 0, 0
            if grain not in ("hour", "day"):
                first, last = current[k]
                total = (last - first).days + 1
                covered = (min(last, end) - max(first, start)).days + 1
                partial = covered < total
            out.append(_point(key, s, value, partial, covered, total, False, words, language))
        if comparison is not None and comparison_span is not None and grain != "hour":
            before = {_key(r[grain]): r for r in comparison}
            earlier = buckets(grain, *comparison_span)
            for key, (first, _) in zip(keys, earlier):
                row = before.get(first.isoformat())
                value = row.get(s.name) if row is not None else None
                if value is None and s.additive:
                    value = 0
                out.append(_point(key, s, value, False, 0, 0, True, words, language))
    return pd.DataFrame(out)


def _datetime(key: str) -> dict[str, Any]:
    """A bucket's ISO text as a Vega-Lite date-time in UTC (the chart's time scale is UTC: no zone shifts a day)."""
    moment = datetime.fromisoformat(key.rstrip("Z"))
    return {"year": moment.year, "month": moment.month, "date": moment.day, "hours": moment.hour, "utc": True}


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=k) for k in range((end - start).days + 1)]


def _point(
    key: str, s: Series, value: Any, partial: bool, covered: int, total: int, earlier: bool, words: Words, lang: str
) -> dict[str, Any]:
    label = f"{s.label} {words.comparison}" if earlier else s.label
    text = format_value(value, s.fmt, lang)
    if partial:
        text += " · " + words.partial.format(days=covered, total=total)
    return {
        "bucket": key.replace(" ", "T") + ("Z" if len(key) > 10 else ""),
        "metric_name": s.name,
        "series": label,
        "value": value,
        "text": text,
        "partial": partial,
        "earlier": earlier,
    }


@spec_cache
def trend_spec(
    rows: list[dict[str, Any]],
    grain: str,
    series: list[Series],
    span: tuple[date, date],
    words: Words,
    language: str,
    comparison: list[dict[str, Any]] | None = None,
    comparison_span: tuple[date, date] | None = None,
) -> list[dict[str, Any]]:
    """One Vega-Lite spec per panel (scale group), drawn one above the other; a click picks a bucket and a series."""
    data = frame(rows, grain, series, span, comparison, comparison_span, words, language)
    groups = panels(series, rows)
    colours = {s.label: PALETTE[k % len(PALETTE)] for k, s in enumerate(series)}
    specs = []
    for group in groups:
        domain = [s.label for s in group] + ([f"{s.label} {words.comparison}" for s in group] if comparison else [])
        scale = alt.Scale(domain=domain, range=[colours[s.label] for s in group] * (2 if comparison else 1))
        height = PANEL_HEIGHT if len(groups) == 1 else SMALL_PANEL_HEIGHT
        specs.append(_panel(data, group, grain, scale, words, len(groups) > 1, height).to_dict())
    return specs


def _panel(
    data: pd.DataFrame, group: list[Series], grain: str, scale: alt.Scale, words: Words, titled: bool, height: int
) -> Any:
    names = [s.name for s in group]
    part = data[data["metric_name"].isin(names)]
    fmt = group[0].fmt
    pick = alt.selection_point(name=PICK, fields=["bucket", "metric_name"], on="click")
    ticks = [_datetime(key) for key in sorted(set(part["bucket"]))]
    x = alt.X(
        "bucket:T",
        title=None,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(values=ticks, format=FORMATS.get(grain, "%Y-%m"), labelAngle=0, labelOverlap="parity"),
    )
    y = alt.Y(
        "value:Q",
        title=" · ".join(s.label for s in group) if titled else None,
        axis=alt.Axis(format=AXIS_FORMATS.get(fmt, "~s"), tickMinStep=0.01 if fmt == "percent" else 1, titleLimit=400),
    )
    color = alt.Color("series:N", title=None, scale=scale, legend=alt.Legend(orient="bottom", labelLimit=400))
    tooltip = [
        alt.Tooltip("bucket:T", title=words.bucket, format=FORMATS.get(grain, "%Y-%m"), formatType="utc"),
        alt.Tooltip("series:N", title=" "),
        alt.Tooltip("text:N", title=words.value),
    ]
    base = alt.Chart(part).encode(x=x, y=y, color=color, tooltip=tooltip)
    now = base.transform_filter("!datum.earlier")
    full = now.transform_filter("!datum.partial")
    layers = [
        base.transform_filter("datum.earlier").mark_line(strokeDash=[5, 4], opacity=0.55),
        full.mark_line(),
        now.mark_line(strokeDash=[3, 3]),  # under the solid line, visible only towards a partial bucket
        # a partial bucket's point is hollow; every point of this period can be clicked
        now.mark_point(filled=True, size=40)
        .encode(fillOpacity=alt.condition("datum.partial", alt.value(0), alt.value(1)))
        .add_params(pick),
    ]
    return alt.layer(*layers).properties(height=height)
