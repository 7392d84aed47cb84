"""Interval: the time from a start event to the same user's next end event (register → first card bound,
redeem → next investment), its mean and percentiles by period and breakdown; a pick lists those users."""

from __future__ import annotations

import streamlit as st

from finlens.app import adhoc, tables
from finlens.app import charts as app_charts
from finlens.app import model_charts as charts
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import section, t
from finlens.app.url_state import pick_one
from finlens.app.user_list import show_users
from semantic import Drill
from semantic.catalog.formatting import format_value
from semantic.catalog.specs import IntervalMetric

NONE = "none"
GRAINS = (NONE, "day", "week", "month")
STATS = ["mean_seconds", "p10_seconds", "p25_seconds", "p50_seconds", "p75_seconds", "p90_seconds"]
text = section("interval")

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(text("title", lang))
names = [n for n, m in catalog.metrics.items() if m.type == "interval"]
name = pick_one(t("metric", lang), names, key="interval_metric", labels=lambda n: catalog.metrics[n].label.get(lang))
metric = catalog.metrics[name or names[0]]
assert isinstance(metric, IntervalMetric)
st.caption(
    text(
        "caption",
        lang,
        start=", ".join(metric.start.events),
        end=", ".join(metric.end.events),
        window=format_value(metric.window_seconds, "duration"),
    )
)
usable = [d.name for d in catalog.dimensions_for(metric.model)]
left, right = st.columns(2)
with left:
    grain = pick_one(
        t("grain", lang),
        GRAINS,
        key="interval_grain",
        labels=lambda g: t("no_grain" if g == NONE else f"grain_{g}", lang),
    )
with right:
    by = pick_one(
        t("by", lang),
        [NONE, *usable],
        key="interval_by",
        labels=lambda n: t("no_dimension", lang) if n == NONE else catalog.dimensions[n].label.get(lang),
    )
grain = None if grain in (None, NONE) else grain
dims = (by,) if by and by != NONE else ()


def formatted(rows: list[dict]) -> list[dict]:
    return [{**r, **{s: format_value(r[s], "duration") for s in STATS}} for r in rows]


def render() -> None:
    result = adhoc.run(filters.query((metric.name,), grain=grain, dimensions=dims))
    if not grain and not dims and result.rows:
        row = result.rows[0]
        tiles = st.columns(4)
        for column, (key, value) in zip(
            tiles,
            [
                ("users", format_value(row["users"], "number")),
                ("intervals", format_value(row["intervals"], "number")),
                ("mean_seconds", format_value(row["mean_seconds"], "duration")),
                ("p50_seconds", format_value(row["p50_seconds"], "duration")),
            ],
        ):
            column.metric(tables.header(key, catalog, lang), value)
    key_of = [k for k in (grain, by if dims else None) if k]
    boxes = [
        {
            "step": 2,
            "step_name": " · ".join(str(r[k]) for k in key_of) or metric.label.get(lang),
            **{f"seconds_to_convert_p{p}": r[f"p{p}_seconds"] for p in (10, 25, 50, 75, 90)},
        }
        for r in result.rows[:40]
    ]
    unit, unit_name = charts.duration_unit([b["seconds_to_convert_p90"] for b in boxes])
    if any(b["seconds_to_convert_p50"] is not None for b in boxes):
        app_charts.show(charts.time_to_convert(boxes, {}, text(f"unit_{unit_name}", lang), unit), select=False)
        st.caption(text("box_help", lang))
    st.dataframe(tables.shown(result.columns, formatted(result.rows), catalog, lang), hide_index=True)
    drill = Drill()
    parts = [metric.label.get(lang)]
    if grain and result.rows:
        periods = sorted({str(r[grain]) for r in result.rows})
        bucket = pick_one(text("period", lang), periods, key="interval_period", default=periods[-1])
        drill = Drill(bucket=bucket)
        parts.append(str(bucket))
    if dims and result.rows:
        values = sorted({str(r[by]) for r in result.rows if r[by] is not None})
        if values:
            value = pick_one(catalog.dimensions[by].label.get(lang), values, key="interval_value")
            drill = Drill(bucket=drill.bucket, filters=((by, value),))
            parts.append(catalog.dimensions[by].value_label(value, lang))
    query = filters.query((metric.name,), grain=grain)
    show_users(
        lambda limit, offset: adhoc.users(query, drill, limit=limit, offset=offset),
        key="interval_users",
        lang=lang,
        title=" · ".join(parts),
        file_name=f"{metric.name}_users.csv",
    )


guarded(render)
