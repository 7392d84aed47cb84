"""Funnels and retentions split by a dimension, as lines per value (Explore with a breakdown).

A funnel by platform is one conversion curve per platform over the steps (conversion
from step 1); a retention by channel is one curve per channel over the periods, each
period's rate weighted over the cohorts that have reached it (retained / cohort size,
periods not yet elapsed left out). At most :data:`MAX_VALUES` values are drawn, the
largest first; the table below the chart lists them all.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import altair as alt
import pandas as pd

from finlens.app.charts import spec_cache
from semantic.catalog.formatting import format_value

MAX_VALUES = 8


@spec_cache
def funnel_by_value_spec(
    rows: list[dict[str, Any]],
    dimension: str,
    step_labels: dict[str, str],
    value_labels: dict[str, str],
    words: tuple[str, str, str],
    language: str,
) -> dict[str, Any]:
    """Conversion from step 1 at each step, one line per dimension value; ``words``: (step, conversion, none)."""
    step_word, conversion_word, none_word = words
    entered = defaultdict(int)
    for r in rows:
        if r["step"] == 1:
            entered[r[dimension]] = r["users"] or 0
    top = sorted(entered, key=lambda v: (-entered[v], str(v)))[:MAX_VALUES]
    data = [
        {
            "step": f"{r['step']}. {step_labels.get(r['step_name'], r['step_name'])}",
            "order": r["step"],
            "value": none_word if r[dimension] is None else value_labels.get(str(r[dimension]), str(r[dimension])),
            "rate": r["conversion_from_first"],
            "text": f"{format_value(r['conversion_from_first'], 'percent', language)} · {format_value(r['users'], 'number', language)}",
        }
        for r in rows
        if r[dimension] in top
    ]
    frame = pd.DataFrame(data)
    order = list(dict.fromkeys(frame.sort_values("order")["step"])) if len(frame) else []
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("step:N", sort=order, title=step_word, axis=alt.Axis(labelAngle=0, labelLimit=200)),
            y=alt.Y("rate:Q", title=conversion_word, axis=alt.Axis(format=".0%", titleLimit=400)),
            color=alt.Color("value:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=300)),
            tooltip=[
                alt.Tooltip("value:N", title=" "),
                alt.Tooltip("step:N", title=step_word),
                alt.Tooltip("text:N", title=conversion_word),
            ],
        )
        .properties(height=300)
    )
    return chart.to_dict()


@spec_cache
def retention_by_value_spec(
    rows: list[dict[str, Any]],
    dimension: str,
    value_labels: dict[str, str],
    words: tuple[str, str, str],
    language: str,
) -> dict[str, Any]:
    """Each value's retention curve: per period, retained over cohort size of the cohorts that reached it."""
    period_word, rate_word, none_word = words
    size: dict[Any, int] = defaultdict(int)
    kept: dict[tuple[Any, int], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        if r.get("rate") is None or not r.get("cohort_size"):
            continue
        cell = kept[(r[dimension], r["period"])]
        cell[0] += r["retained"] or 0
        cell[1] += r["cohort_size"]
        if r["period"] == 1:
            size[r[dimension]] += r["cohort_size"]
    top = sorted(size, key=lambda v: (-size[v], str(v)))[:MAX_VALUES]
    data = [
        {
            "period": period,
            "value": none_word if value is None else value_labels.get(str(value), str(value)),
            "rate": retained / total,
            "text": f"{format_value(retained / total, 'percent', language)} ({retained:,} / {total:,})",
        }
        for (value, period), (retained, total) in sorted(kept.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
        if value in top
    ]
    chart = (
        alt.Chart(pd.DataFrame(data))
        .mark_line(point=True)
        .encode(
            x=alt.X("period:O", title=period_word, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("rate:Q", title=rate_word, axis=alt.Axis(format=".0%", titleLimit=400)),
            color=alt.Color("value:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=300)),
            tooltip=[
                alt.Tooltip("value:N", title=" "),
                alt.Tooltip("period:O", title=period_word),
                alt.Tooltip("text:N", title=rate_word),
            ],
        )
        .properties(height=300)
    )
    return chart.to_dict()


@spec_cache
def experiment_spec(variants: list[dict[str, Any]], words: tuple[str, str], language: str) -> dict[str, Any]:
    """Each variant's conversion rate as a vertical bar, labelled above with the rate and converted / users.

    ``variants``: ``{"variant", "label", "rate", "users", "converted", "control"}``; ``words``: (variant, rate)
    axis titles, written out in full (the bars are wide, the titles never cut).
    """
    variant_word, rate_word = words
    frame = pd.DataFrame(
        [
            {
                **v,
                "text": f"{format_value(v['rate'], 'percent', language)} ({v['converted']:,} / {v['users']:,})",
            }
            for v in variants
        ]
    )
    base = alt.Chart(frame).encode(
        x=alt.X("label:N", sort=None, title=variant_word, axis=alt.Axis(labelAngle=0, labelLimit=300, titleLimit=600)),
        y=alt.Y(
            "rate:Q",
            title=rate_word,
            axis=alt.Axis(format=".0%", titleLimit=600),
            scale=alt.Scale(domainMin=0, nice=True),
        ),
        tooltip=[alt.Tooltip("label:N", title=variant_word), alt.Tooltip("text:N", title=rate_word)],
    )
    bars = base.mark_bar(size=56, cornerRadiusTopLeft=3, cornerRadiusTopRight=3).encode(
        color=alt.condition("datum.control", alt.value("#94a3b8"), alt.value("#2563eb"))
    )
    labels = base.mark_text(dy=-8, fontSize=12, color="#334155", baseline="bottom").encode(text="text:N")
    return (bars + labels).properties(height=300).to_dict()
