"""Altair charts in one theme: trends, bars, funnels labelled with conversion, the retention heatmap.

Every chart carries tooltips with numbers already formatted per the metric's
YAML ``format`` (a ``*_text`` column from :func:`semantic.catalog.formatting.format_value`),
and a point selection named ``pick`` so a click can drill down.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from semantic.catalog.formatting import format_value

PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777"]
AXIS_FORMATS = {"percent": ".0%", "cny": "~s", "duration": "~s", "number": "~s"}
PICK = "pick"


@alt.theme.register("finlens", enable=True)
def _theme() -> alt.theme.ThemeConfig:
    """One look for every chart: quiet axes, the palette, readable labels."""
    return {
        "config": {
            "font": "sans-serif",
            "range": {"category": PALETTE},
            "axis": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "gridColor": "#eef0f3",
                "domainColor": "#cbd5e1",
                "labelLimit": 160,
            },
            "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
            "view": {"stroke": None},
            "bar": {"color": PALETTE[0]},
            "line": {"strokeWidth": 2},
        }
    }


def _text(values: pd.Series, fmt: str) -> list[str]:
    return [format_value(None if pd.isna(v) else v, fmt) for v in values]


def trend(rows: list[dict[str, Any]], grain: str, metrics: list[tuple[str, str, str]]) -> alt.Chart:
    """Lines over time; ``metrics`` are (column, label, format). A click picks a bucket and a series."""
    frame = pd.DataFrame(rows)
    long = frame.melt(id_vars=[grain], value_vars=[m[0] for m in metrics], var_name="metric_name", value_name="value")
    labels = {name: label for name, label, _ in metrics}
    formats = {name: fmt for name, _, fmt in metrics}
    long["series"] = long["metric_name"].map(labels)
    long["text"] = [
        format_value(None if pd.isna(v) else v, formats[n]) for n, v in zip(long["metric_name"], long["value"])
    ]
    long[grain] = pd.to_datetime(long[grain])
    pick = alt.selection_point(name=PICK, fields=[grain, "metric_name"], on="click")
    fmt = metrics[0][2]
    base = alt.Chart(long).encode(
        x=alt.X(f"{grain}:T", title=None),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=AXIS_FORMATS.get(fmt, "~s"), tickMinStep=_min_step(fmt))),
        color=alt.Color("series:N", title=None, sort=[m[1] for m in metrics]),
        tooltip=[
            alt.Tooltip(f"{grain}:T", title=grain),
            alt.Tooltip("series:N", title=" "),
            alt.Tooltip("text:N", title="value"),
        ],
    )
    points = base.mark_point(filled=True, size=40).add_params(pick)
    return (base.mark_line() + points).properties(height=260)


def bars(
    rows: list[dict[str, Any]], dimension: str, dimension_label: str, metric: str, label: str, fmt: str
) -> alt.Chart:
    """Horizontal bars, largest first; a click picks a dimension value."""
    frame = pd.DataFrame(rows)
    frame[dimension] = frame[dimension].map(
        lambda v: "(none)" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
    )
    frame["text"] = _text(frame[metric], fmt)
    pick = alt.selection_point(name=PICK, fields=[dimension], on="click")
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{dimension}:N", sort="-x", title=dimension_label, axis=alt.Axis(labelOverlap=False)),
        x=alt.X(
            f"{metric}:Q", title=label, axis=alt.Axis(format=AXIS_FORMATS.get(fmt, "~s"), tickMinStep=_min_step(fmt))
        ),
        tooltip=[alt.Tooltip(f"{dimension}:N", title=dimension_label), alt.Tooltip("text:N", title=label)],
    )
    bar = (
        base.mark_bar(cursor="pointer")
        .encode(
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.45)),
        )
        .add_params(pick)
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11, color="#334155").encode(text="text:N")
    return (bar + labels).properties(height=40 + 26 * len(frame))


def _min_step(fmt: str) -> float:
    """Counts and money never tick at fractions; rates do."""
    return 0.01 if fmt == "percent" else 1


def funnel(rows: list[dict[str, Any]], step_labels: dict[str, str], users_label: str) -> alt.Chart:
    """One bar per step, labelled with its users and conversion from the previous step; a click picks a step."""
    frame = pd.DataFrame(rows)
    frame["step_label"] = [f"{s}. {step_labels.get(n, n)}" for s, n in zip(frame["step"], frame["step_name"])]
    frame["users_text"] = _text(frame["users"], "number")
    frame["from_previous"] = _text(frame["conversion_from_previous"], "percent")
    frame["from_first"] = _text(frame["conversion_from_first"], "percent")
    frame["label"] = [f"{u} · {p}" for u, p in zip(frame["users_text"], frame["from_previous"])]
    frame["median"] = _text(frame["median_seconds_to_convert"], "duration")
    pick = alt.selection_point(name=PICK, fields=["step"], on="click")
    order = list(frame["step_label"])
    base = alt.Chart(frame).encode(
        y=alt.Y("step_label:N", sort=order, title=None),
        x=alt.X("users:Q", title=users_label),
        tooltip=[
            alt.Tooltip("step_label:N", title=" "),
            alt.Tooltip("users_text:N", title=users_label),
            alt.Tooltip("from_previous:N", title="← %"),
            alt.Tooltip("from_first:N", title="1 → %"),
            alt.Tooltip("median:N", title="median"),
        ],
    )
    bar = (
        base.mark_bar(cursor="pointer")
        .encode(opacity=alt.condition(pick, alt.value(1.0), alt.value(0.45)))
        .add_params(pick)
    )
    text = base.mark_text(align="left", dx=4, fontSize=12, color="#334155").encode(text="label:N")
    return (bar + text).properties(height=40 + 44 * len(frame))


def heatmap(rows: list[dict[str, Any]], cohort_label: str, period_label: str) -> alt.Chart:
    """Cohort x period, coloured by rate; unknown (future) periods blank; a click picks a cell."""
    frame = pd.DataFrame([r for r in rows if r.get("rate") is not None])
    if frame.empty:
        frame = pd.DataFrame(columns=["cohort", "period", "rate", "retained", "cohort_size"])
    frame["rate_text"] = _text(frame["rate"], "percent") if len(frame) else []
    pick = alt.selection_point(name=PICK, fields=["cohort", "period"], on="click")
    base = alt.Chart(frame).encode(
        x=alt.X("period:O", title=period_label),
        y=alt.Y("cohort:O", title=cohort_label, axis=alt.Axis(labelOverlap=False)),
        tooltip=[
            alt.Tooltip("cohort:O", title=cohort_label),
            alt.Tooltip("period:O", title=period_label),
            alt.Tooltip("cohort_size:Q", title="n", format=","),
            alt.Tooltip("retained:Q", format=","),
            alt.Tooltip("rate_text:N", title="%"),
        ],
    )
    cells = (
        base.mark_rect(cursor="pointer")
        .encode(
            color=alt.Color("rate:Q", title=None, scale=alt.Scale(scheme="blues"), legend=alt.Legend(format=".0%")),
        )
        .add_params(pick)
    )
    return cells.properties(height=max(160, 60 + 20 * frame["cohort"].nunique()))


def show(chart: alt.TopLevelMixin, *, key: str | None = None, select: bool = True) -> Any:
    """``st.altair_chart`` at the chart's own height (Streamlit otherwise squeezes tall charts), clickable."""
    import streamlit as st

    height = chart.to_dict().get("height")
    options: dict[str, Any] = {"on_select": "rerun", "key": key} if select else {}
    return st.altair_chart(chart, width="stretch", height=height if isinstance(height, int) else "content", **options)


def picked(state: Any) -> dict[str, Any] | None:
    """The first clicked point of an ``st.altair_chart(on_select="rerun")`` state, or None."""
    try:
        points = state.selection.get(PICK) or []
    except AttributeError:
        points = (state or {}).get("selection", {}).get(PICK) or [] if isinstance(state, dict) else []
    return dict(points[0]) if points else None


def selected_rows(state: Any) -> list[int]:
    """Row positions picked in an ``st.dataframe(on_select="rerun")`` state."""
    return list(getattr(getattr(state, "selection", None), "rows", None) or [])
