"""The channel-quality page's data and chart: the spec, the cached funnel run, the quadrant scatter, its words.

The numbers are the funnel's, run through :func:`finlens.app.state.run` (cached
by compiled SQL and warehouse URL) and placed in quadrants by
:func:`semantic.analyses.channel_quality.quality_from_rows`, exactly as the CLI does.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app.filters import Filters
from finlens.app.i18n import section
from semantic.analyses.channel_quality import (
    QUADRANTS,
    ChannelQuality,
    ChannelSpec,
    channel_query,
    load_channel_spec,
    quality_from_rows,
)
from semantic.catalog.formatting import format_value
from semantic.compiler.compile import compile_query

QUADRANT_COLORS = dict(zip(QUADRANTS, ["#16a34a", "#2563eb", "#f97316", "#94a3b8"]))


text = section("channels")


def spec() -> ChannelSpec:
    """``metrics/marketing/channels.yml`` (a CatalogError lists every problem)."""
    return _spec(app_state.catalog_version())


@st.cache_resource(max_entries=2)
def _spec(version: str) -> ChannelSpec:
    return load_channel_spec(app_state.catalog())


def quality(filters: Filters) -> ChannelQuality:
    """Channel quality over the sidebar's range and filters (the funnel run is cached by its SQL)."""
    channels = spec()
    query = channel_query(channels, start=filters.start, end=filters.end, where=filters.where())
    result = app_state.run(query)
    return quality_from_rows(app_state.catalog(), channels, result.rows, result.sql)


def sql_for(filters: Filters) -> str:
    """The funnel SQL on the app's warehouse dialect (for the SQL expander)."""
    query = channel_query(spec(), start=filters.start, end=filters.end, where=filters.where())
    return compile_query(app_state.catalog(), query, app_state.warehouse(app_state.warehouse_url()).dialect).sql


def quadrant_chart(result: ChannelQuality, channels: ChannelSpec, language: str) -> alt.LayerChart:
    """Traffic (log x) against overall conversion (y), median rules, the four strategies in their corners.

    A click on a point picks its channel (selection ``pick`` on field ``channel``).
    """
    placed = [r for r in result.rows if r.quadrant is not None]
    frame = pd.DataFrame(
        [
            {
                "channel": str(r.channel),
                "traffic": r.traffic,
                "overall": r.overall,
                "quadrant": r.quadrant,
                "strategy": r.strategy.get(language) if r.strategy else "",
                "overall_text": format_value(r.overall, "percent"),
                "traffic_text": format_value(r.traffic, "number"),
            }
            for r in placed
        ]
    )
    pick = alt.selection_point(name=app_charts.PICK, fields=["channel"], on="click")
    low_x, high_x = max(1, int(frame["traffic"].min() * 0.7)), int(frame["traffic"].max() * 1.4) + 1
    top_y = max(float(frame["overall"].max()) * 1.15, 0.01)
    x = alt.X("traffic:Q", title=text("traffic", language), scale=alt.Scale(type="log", domain=[low_x, high_x]))
    y = alt.Y(
        "overall:Q", title=text("overall", language), axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, top_y])
    )
    strategy_title = text("strategy", language)
    points = (
        alt.Chart(frame)
        .mark_circle(size=160, cursor="pointer")
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "quadrant:N",
                title=strategy_title,
                scale=alt.Scale(domain=list(QUADRANTS), range=[QUADRANT_COLORS[q] for q in QUADRANTS]),
                legend=alt.Legend(labelExpr=_legend_expr(channels, language)),
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.5)),
            tooltip=[
                alt.Tooltip("channel:N", title=text("channel", language)),
                alt.Tooltip("traffic_text:N", title=text("traffic", language)),
                alt.Tooltip("overall_text:N", title=text("overall", language)),
                alt.Tooltip("strategy:N", title=strategy_title),
            ],
        )
        .add_params(pick)
    )
    names = (
        alt.Chart(frame).mark_text(align="left", dx=9, fontSize=11, color="#334155").encode(x=x, y=y, text="channel:N")
    )
    rules = [
        alt.Chart(pd.DataFrame({"traffic": [result.median_traffic]}))
        .mark_rule(strokeDash=[4, 4], color="#64748b")
        .encode(x=x),
        alt.Chart(pd.DataFrame({"overall": [result.median_conversion]}))
        .mark_rule(strokeDash=[4, 4], color="#64748b")
        .encode(y=y),
    ]
    corners = pd.DataFrame(
        [
            {
                "traffic": high_x * 0.95,
                "overall": top_y * 0.97,
                "label": channels.quadrants["high_traffic_high_conversion"].get(language),
                "align": "right",
            },
            {
                "traffic": low_x * 1.05,
                "overall": top_y * 0.97,
                "label": channels.quadrants["low_traffic_high_conversion"].get(language),
                "align": "left",
            },
            {
                "traffic": high_x * 0.95,
                "overall": top_y * 0.02,
                "label": channels.quadrants["high_traffic_low_conversion"].get(language),
                "align": "right",
            },
            {
                "traffic": low_x * 1.05,
                "overall": top_y * 0.02,
                "label": channels.quadrants["low_traffic_low_conversion"].get(language),
                "align": "left",
            },
        ]
    )
    labels = [
        alt.Chart(corners[corners["align"] == side])
        .mark_text(align=side, baseline="middle", fontSize=12, fontWeight="bold", color="#475569", opacity=0.8)
        .encode(x=x, y=y, text="label:N")
        for side in ("left", "right")
    ]
    return alt.layer(*rules, *labels, points, names).properties(height=420)


def _legend_expr(channels: ChannelSpec, language: str) -> str:
    """A Vega expression showing each quadrant's strategy label instead of its key."""
    parts = [f"datum.label == '{name}' ? '{_js(channels.quadrants[name].get(language))}'" for name in QUADRANTS]
    return " : ".join(parts) + " : datum.label"


def _js(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def table(result: ChannelQuality, language: str) -> pd.DataFrame:
    """One row per channel: every step's users and conversion from the previous step, overall, strategy."""
    rows = []
    for r in result.rows:
        row: dict[str, Any] = {text("channel", language): "(none)" if r.channel is None else str(r.channel)}
        for k, (step, users, conversion) in enumerate(zip(result.steps, r.users, r.conversions), start=1):
            row[f"{k}. {step.label.get(language)}"] = format_value(users, "number")
            if k > 1:
                row[f"{k}. {text('conversion_from_previous', language)}"] = format_value(conversion, "percent")
        row[text("overall", language)] = format_value(r.overall, "percent")
        row[text("strategy", language)] = r.strategy.get(language) if r.strategy else "–"
        rows.append(row)
    return pd.DataFrame(rows)
