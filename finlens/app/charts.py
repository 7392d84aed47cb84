"""Altair charts in one theme: bars, funnels labelled with conversion, the retention heatmap (trends: chart_trend).

Every chart carries tooltips with numbers already formatted per the metric's
YAML ``format`` (a ``*_text`` column from :func:`semantic.catalog.formatting.format_value`),
and a point selection named ``pick`` so a click can drill down.

Building a chart and turning it into Vega-Lite costs tens of milliseconds; the
builders decorated with :data:`spec_cache` return the finished dict, cached by
their inputs, so a warm page sends a chart without building it again.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st

from semantic.catalog.formatting import format_value


def spec_cache(builder: Callable[..., Any]) -> Callable[..., Any]:
    """Cache a chart builder's Vega-Lite dict by its arguments (rows and labels).

    The arguments are keyed by a digest of their pickle, not by ``st.cache_data``'s own hashing:
    that walks every cell of the rows in Python, which on a warm overview cost more than the
    rest of the run (a heatmap's rows took ~0.2 s to hash). Nothing here is ever unpickled.
    The pickle is written without its memo (:func:`value_digest`), so equal rows give one key whether they
    came from the warehouse or from the result cache.
    """

    def cached(key: str, _args: tuple[Any, ...], _kwargs: dict[str, Any]) -> Any:
        built = builder(*_args, **_kwargs)
        return [arrow_datasets(s) for s in built] if isinstance(built, list) else arrow_datasets(built)

    cached.__qualname__ = f"spec_cache.{builder.__module__}.{builder.__qualname__}"  # one cache per builder
    stored = st.cache_data(show_spinner=False, max_entries=1000)(cached)

    @functools.wraps(builder)
    def build(*args: Any, **kwargs: Any) -> Any:
        return stored(value_digest((args, sorted(kwargs.items()))), args, kwargs)

    return build


def arrow_datasets(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with each tabular dataset as Arrow IPC bytes, as ``st.vega_lite_chart`` sends it.

    Streamlit turns every dataset of a spec into a DataFrame and then Arrow on each call (~3 ms a chart);
    a dataset already in bytes is passed on as it is. Done once here, a warm rerun skips it, and the
    cached spec unpickles as a few byte strings instead of a list of dicts. The conversion is Streamlit's
    own (pandas, then Arrow), so the browser gets the same columns either way.
    """
    datasets = spec.get("datasets")
    if not isinstance(datasets, dict):
        return spec
    encoded = {name: _arrow_bytes(rows) if isinstance(rows, list) else rows for name, rows in datasets.items()}
    return {**spec, "datasets": encoded}


def dataset_rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a spec's one dataset, decoded again (what the chart draws: for tests and checks)."""
    (data,) = spec["datasets"].values()
    if isinstance(data, bytes):
        return pa.ipc.open_stream(data).read_all().to_pylist()
    return list(data)


def _arrow_bytes(rows: list[Any]) -> bytes:
    table = pa.Table.from_pandas(pd.DataFrame(rows))
    sink = pa.BufferOutputStream()
    with pa.RecordBatchStreamWriter(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def value_digest(value: Any) -> str:
    """A digest of ``value``'s pickle that depends on the values only, not on which of them are one object.

    A normal pickle writes an object met twice as a back-reference, so rows fresh from the warehouse (where
    equal strings are separate objects) and the same rows copied out of a cache (where they may be shared)
    pickle differently. Fast mode keeps no memo: every value is written out in full, each time it occurs.
    The values must hold no cycle (rows, labels and dates never do).
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True
    pickler.dump(value)
    return hashlib.blake2b(buffer.getbuffer(), digest_size=20).hexdigest()


def chart_spec(builder: Callable[..., alt.TopLevelMixin]) -> Callable[..., dict[str, Any]]:
    """:func:`spec_cache` for a builder returning an Altair chart: the cached value is its Vega-Lite dict, so a warm
    rerun skips both building the chart and Altair's schema validation in ``to_dict``."""

    @functools.wraps(builder)
    def as_dict(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return builder(*args, **kwargs).to_dict()

    return spec_cache(as_dict)


PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777"]
AXIS_FORMATS = {"percent": ".0%", "cny": "~s", "duration": "~s", "number": ",~f"}
PICK = "pick"
NONE = "∅"  # a NULL dimension value in a chart's data (what a click on it hands back)


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


def bars(
    rows: list[dict[str, Any]],
    dimension: str,
    dimension_label: str,
    metric: str,
    label: str,
    fmt: str,
    *,
    value_labels: dict[str, str] | None = None,
    none_label: str = "(none)",
    language: str = "en",
) -> alt.Chart:
    """Horizontal bars, largest first; a click picks a dimension value (the stored value, shown by its label)."""
    frame = pd.DataFrame(rows)
    labels = value_labels or {}
    frame[dimension] = frame[dimension].map(
        lambda v: NONE if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
    )
    frame["shown"] = [none_label if v == NONE else labels.get(v, v) for v in frame[dimension]]
    frame["text"] = [format_value(None if pd.isna(v) else v, fmt, language) for v in frame[metric]]
    pick = alt.selection_point(name=PICK, fields=[dimension], on="click")
    order = list(frame.sort_values(metric, ascending=False, kind="stable")["shown"])
    base = alt.Chart(frame).encode(
        y=alt.Y(
            "shown:N",
            sort=order,
            title=None,  # a vertical title is cut to the chart's height; the tooltip and the page name the dimension
            axis=alt.Axis(labelOverlap=False, labelLimit=220, titleLimit=400),
        ),
        x=alt.X(
            f"{metric}:Q",
            title=label,
            axis=alt.Axis(format=AXIS_FORMATS.get(fmt, "~s"), tickMinStep=_min_step(fmt), titleLimit=400),
            scale=alt.Scale(domainMin=0, nice=True),
        ),
        tooltip=[alt.Tooltip("shown:N", title=dimension_label), alt.Tooltip("text:N", title=label)],
    )
    bar = (
        base.mark_bar(cursor="pointer")
        .encode(
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.45)),
        )
        .add_params(pick)
    )
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#334155").encode(text="text:N")
    return (bar + text).properties(height=max(120, 40 + 26 * len(frame)))


@spec_cache
def bars_spec(
    rows: list[dict[str, Any]],
    dimension: str,
    dimension_label: str,
    metric: str,
    label: str,
    fmt: str,
    value_labels: dict[str, str] | None = None,
    none_label: str = "(none)",
    language: str = "en",
) -> dict[str, Any]:
    """:func:`bars` as a cached Vega-Lite dict."""
    return bars(
        rows,
        dimension,
        dimension_label,
        metric,
        label,
        fmt,
        value_labels=value_labels,
        none_label=none_label,
        language=language,
    ).to_dict()


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


@spec_cache
def funnel_spec(rows: list[dict[str, Any]], step_labels: dict[str, str], users_label: str) -> dict[str, Any]:
    """:func:`funnel` as a cached Vega-Lite dict."""
    return funnel(rows, step_labels, users_label).to_dict()


@spec_cache
def heatmap_spec(rows: list[dict[str, Any]], cohort_label: str, period_label: str) -> dict[str, Any]:
    """:func:`heatmap` as a cached Vega-Lite dict."""
    return heatmap(rows, cohort_label, period_label).to_dict()


def show(chart: alt.TopLevelMixin | dict[str, Any], *, key: str | None = None, select: bool = True) -> Any:
    """A chart (Altair, or a cached Vega-Lite dict) as tall as its own spec says, clickable (selection ``pick``)."""
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    options: dict[str, Any] = {"on_select": "rerun", "key": key, "selection_mode": [PICK]} if select else {}
    return st.vega_lite_chart(spec, width="stretch", height="content", **options)


def bucket_day(value: Any) -> str:
    """A clicked temporal value (epoch milliseconds or text) as the bucket's ISO day."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=UTC).date().isoformat()
    return str(value)[:10]


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
