"""Altair charts of the analysis models: the vertical funnel with its drop-offs, time-to-convert percentiles,
trends, the cohort grid, value curves, stickiness bars, the paths Sankey and attribution shares.

Each public builder hands back the chart's Vega-Lite dict, cached by its arguments (:func:`chart_spec`). Like
:mod:`finlens.app.charts`, numbers in tooltips are pre-formatted by each value's format, and clickable
marks carry the ``pick`` selection (:data:`finlens.app.charts.PICK`) so a click can list the users behind it.
Vega-Lite has no Sankey, so :func:`sankey` lays the nodes out itself and draws each flow as a smooth band.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from finlens.app.charts import PALETTE, PICK, chart_spec
from semantic.catalog.formatting import format_value

REACHED, DROPPED = "reached", "dropped"
DURATION_UNITS = ((86400, "days"), (3600, "hours"), (60, "minutes"), (1, "seconds"))


def picked_day(value: object) -> str:
    """A clicked temporal value (epoch milliseconds or text) as its ISO day."""
    if isinstance(value, (int, float)):
        from datetime import UTC, datetime

        return datetime.fromtimestamp(value / 1000, tz=UTC).date().isoformat()
    return str(value)[:10]


def _pick(fields: list[str]) -> alt.Parameter:
    return alt.selection_point(name=PICK, fields=fields, on="click")


@chart_spec
def vertical_funnel(rows: list[dict[str, Any]], labels: dict[str, str], words: dict[str, str]) -> alt.Chart:
    """Steps left to right: the users reaching each step, and the shaded drop-off from the step before it.

    Each bar is as tall as the previous step; the solid part reached this step, the shaded part dropped
    off. Labels give the users, the conversion from the previous step and from step 1. A click picks a
    step and a part (``reached`` or ``dropped``). Labels read "users · from the previous step · from step 1".
    """
    data = []
    previous = None
    for row in rows:
        label = f"{row['step']}. {labels.get(row['step_name'], row['step_name'])}"
        users = row["users"] or 0
        dropped = max((previous if previous is not None else users) - users, 0)
        for part, value in ((REACHED, users), (DROPPED, dropped)):
            data.append(
                {
                    "step": row["step"],
                    "step_label": label,
                    "part": part,
                    "part_label": words[part],
                    "users": value,
                    "users_text": format_value(value, "number"),
                    "from_previous": format_value(row["conversion_from_previous"], "percent"),
                    "from_first": format_value(row["conversion_from_first"], "percent"),
                }
            )
        previous = users
    frame = pd.DataFrame(data)
    order = list(dict.fromkeys(frame["step_label"]))
    pick = _pick(["step", "part"])
    base = alt.Chart(frame).encode(x=alt.X("step_label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)))
    bars = (
        base.mark_bar(cursor="pointer")
        .encode(
            y=alt.Y("users:Q", title=words["users"], stack="zero"),
            color=alt.Color(
                "part_label:N",
                title=None,
                sort=[words[REACHED], words[DROPPED]],
                scale=alt.Scale(domain=[words[REACHED], words[DROPPED]], range=[PALETTE[0], "#cbd5e1"]),
            ),
            order=alt.Order("part:N", sort="descending"),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.55)),
            tooltip=[
                alt.Tooltip("step_label:N", title=" "),
                alt.Tooltip("part_label:N", title=" "),
                alt.Tooltip("users_text:N", title=words["users"]),
                alt.Tooltip("from_previous:N", title=words["from_previous"]),
                alt.Tooltip("from_first:N", title=words["from_first"]),
            ],
        )
        .add_params(pick)
    )
    reached = frame[frame["part"] == REACHED].copy()
    reached["label"] = [
        f"{u} · {p} · {f}" for u, p, f in zip(reached["users_text"], reached["from_previous"], reached["from_first"])
    ]
    text = (
        alt.Chart(reached)
        .mark_text(dy=-8, fontSize=11, color="#334155")
        .encode(x=alt.X("step_label:N", sort=order), y=alt.Y("users:Q"), text="label:N")
    )
    return (bars + text).properties(height=340)


def duration_unit(seconds: list[float | None]) -> tuple[int, str]:
    """The unit (and its seconds) that keeps the largest value readable: days, hours, minutes or seconds."""
    top = max([s for s in seconds if s is not None] or [0])
    for size, name in DURATION_UNITS:
        if top >= 2 * size:
            return size, name
    return 1, "seconds"


@chart_spec
def time_to_convert(rows: list[dict[str, Any]], labels: dict[str, str], unit_label: str, unit: int) -> alt.Chart:
    """Per step, the spread of seconds from the previous step: p10–p90 whiskers, the p25–p75 box, the median."""
    data = []
    for row in rows:
        if row["step"] == 1 or row.get("seconds_to_convert_p50") is None:
            continue
        entry = {"step_label": f"{row['step']}. {labels.get(row['step_name'], row['step_name'])}"}
        for p in (10, 25, 50, 75, 90):
            value = row[f"seconds_to_convert_p{p}"]
            entry[f"p{p}"] = value / unit
            entry[f"p{p}_text"] = format_value(value, "duration")
        data.append(entry)
    frame = pd.DataFrame(data, columns=["step_label", *(f"p{p}" for p in (10, 25, 50, 75, 90))])
    tooltip = [alt.Tooltip("step_label:N", title=" ")] + [
        alt.Tooltip(f"p{p}_text:N", title=f"p{p}") for p in (10, 25, 50, 75, 90) if not frame.empty
    ]
    base = alt.Chart(frame).encode(y=alt.Y("step_label:N", title=None, sort=None), tooltip=tooltip)
    whisker = base.mark_rule(color="#64748b").encode(x=alt.X("p10:Q", title=unit_label), x2="p90:Q")
    box = base.mark_bar(size=16, color=PALETTE[0], opacity=0.6).encode(x="p25:Q", x2="p75:Q")
    median = base.mark_tick(color="#0f172a", thickness=3, size=22).encode(x="p50:Q")
    return (whisker + box + median).properties(height=60 + 40 * max(len(frame), 1))


@chart_spec
def trend(
    rows: list[dict[str, Any]], period: str, series: str, value: str, fmt: str, labels: dict[str, str]
) -> alt.Chart:
    """One line per ``series`` value over the periods; a click picks a period and a series."""
    frame = pd.DataFrame(rows)
    frame["series_label"] = [labels.get(str(s), str(s)) for s in frame[series]]
    frame["text"] = [format_value(v, fmt) for v in frame[value]]
    frame[period] = pd.to_datetime(frame[period])
    pick = _pick([period, series])
    base = alt.Chart(frame).encode(
        x=alt.X(f"{period}:T", title=None),
        y=alt.Y(f"{value}:Q", title=None, axis=alt.Axis(format=".0%" if fmt == "percent" else "~s")),
        color=alt.Color("series_label:N", title=None, sort=list(dict.fromkeys(frame["series_label"]))),
        tooltip=[
            alt.Tooltip(f"{period}:T"),
            alt.Tooltip("series_label:N", title=" "),
            alt.Tooltip("text:N", title=" "),
        ],
    )
    return (base.mark_line() + base.mark_point(filled=True, size=50, cursor="pointer").add_params(pick)).properties(
        height=280
    )


@chart_spec
def value_curves(rows: list[dict[str, Any]], value: str, fmt: str, period_label: str) -> alt.Chart:
    """One line per cohort over periods since the cohort event (cumulative value per user); a click picks a cell."""
    frame = pd.DataFrame([r for r in rows if r.get(value) is not None], columns=["cohort", "period", value])
    frame["text"] = [format_value(v, fmt) for v in frame[value]]
    pick = _pick(["cohort", "period"])
    base = alt.Chart(frame).encode(
        x=alt.X("period:O", title=period_label),
        y=alt.Y(f"{value}:Q", title=None),
        color=alt.Color("cohort:N", title=None),
        tooltip=[alt.Tooltip("cohort:N"), alt.Tooltip("period:O"), alt.Tooltip("text:N", title=" ")],
    )
    return (base.mark_line() + base.mark_point(filled=True, cursor="pointer").add_params(pick)).properties(height=300)


@chart_spec
def bars(
    frame: pd.DataFrame, x: str, x_title: str, y: str, y_title: str, fmt: str, *, horizontal: bool = False
) -> alt.Chart:
    """Bars of ``y`` by ``x`` (ordered as given); a click picks an ``x``."""
    frame = frame.copy()
    frame["text"] = [format_value(v, fmt) for v in frame[y]]
    pick = _pick([x])
    order = list(frame[x])
    position = alt.Y(f"{x}:N", sort=order, title=x_title) if horizontal else alt.X(f"{x}:N", sort=order, title=x_title)
    size = alt.X(f"{y}:Q", title=y_title) if horizontal else alt.Y(f"{y}:Q", title=y_title)
    chart = (
        alt.Chart(frame)
        .mark_bar(cursor="pointer")
        .encode(
            position,
            size,
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.5)),
            tooltip=[alt.Tooltip(f"{x}:N", title=x_title), alt.Tooltip("text:N", title=y_title)],
        )
        .add_params(pick)
    )
    return chart.properties(height=40 + 28 * len(frame) if horizontal else 280)


def _smooth(steps: int = 16) -> list[float]:
    """0..1 eased (smoothstep) so a band leaves and enters its nodes flat."""
    return [3 * (i / steps) ** 2 - 2 * (i / steps) ** 3 for i in range(steps + 1)]


@chart_spec
def sankey(rows: list[dict[str, Any]], *, backward: bool, start_label: str, end_label: str) -> alt.Chart:
    """Nodes by step, left to right (backward paths end on the right); each flow a band as wide as its users.

    A node is as tall as the larger of the users flowing into and out of it (a user with paths in two
    sessions may take two branches, so the two sides need not be equal).

    A flow's missing source or target is drawn as ``start_label`` / ``end_label`` (the session began or
    ended). A click on a band picks its ``flow`` (``step|source|target``).
    """
    if not rows:
        return alt.Chart(pd.DataFrame({"x": []})).mark_point()
    last = max(r["step"] for r in rows) + 1
    column = (lambda index: last - index) if backward else (lambda index: index - 1)
    nodes: dict[tuple[int, str], float] = {}
    for r in rows:
        source, target = r["source"] or start_label, r["target"] or end_label
        s_index, t_index = (r["step"] + 1, r["step"]) if backward else (r["step"], r["step"] + 1)
        for key in ((column(s_index), source), (column(t_index), target)):
            nodes.setdefault(key, 0.0)
    out: dict[tuple[int, str], float] = {}
    into: dict[tuple[int, str], float] = {}
    links = []
    for r in rows:
        source, target = r["source"] or start_label, r["target"] or end_label
        s_index, t_index = (r["step"] + 1, r["step"]) if backward else (r["step"], r["step"] + 1)
        s_key, t_key = (column(s_index), source), (column(t_index), target)
        out[s_key] = out.get(s_key, 0) + r["users"]
        into[t_key] = into.get(t_key, 0) + r["users"]
        links.append((s_key, t_key, r))
    size = {k: max(out.get(k, 0), into.get(k, 0)) for k in nodes}
    total = max(sum(v for (c, _), v in size.items() if c == col) for col in {c for c, _ in size})
    gap = total * 0.04
    top: dict[tuple[int, str], float] = {}
    for col in sorted({c for c, _ in size}):
        y = 0.0
        for key in sorted((k for k in size if k[0] == col), key=lambda k: (-size[k], k[1])):
            top[key] = y
            y += size[key] + gap
    node_rows = [
        {
            "x": c,
            "x2": c + 0.06,
            "y": top[(c, n)],
            "y2": top[(c, n)] + size[(c, n)],
            "name": n,
            "users": format_value(size[(c, n)], "number"),
        }
        for c, n in size
    ]
    used_out = {k: 0.0 for k in size}
    used_in = {k: 0.0 for k in size}
    band_rows = []
    for s_key, t_key, r in sorted(links, key=lambda link: (link[0][0], top[link[0]], top[link[1]])):
        width = r["users"]
        y0, y1 = top[s_key] + used_out[s_key], top[t_key] + used_in[t_key]
        used_out[s_key] += width
        used_in[t_key] += width
        flow = f"{r['step']}|{r['source'] or ''}|{r['target'] or ''}"
        x0, x1 = s_key[0] + 0.06, t_key[0]
        shares = _smooth()
        for i, share in enumerate(shares):
            band_rows.append(
                {
                    "flow": flow,
                    "x": x0 + (x1 - x0) * i / (len(shares) - 1),
                    "y": y0 + (y1 - y0) * share,
                    "y2": y0 + (y1 - y0) * share + width,
                    "label": f"{s_key[1]} → {t_key[1]}",
                    "users": format_value(width, "number"),
                    "source": s_key[1],
                }
            )
    pick = _pick(["flow"])
    bands = (
        alt.Chart(pd.DataFrame(band_rows))
        .mark_area(opacity=0.45, cursor="pointer", interpolate="monotone")
        .encode(
            x=alt.X("x:Q", axis=None, scale=alt.Scale(domain=[0, last - 1 + 0.9])),
            y=alt.Y("y:Q", axis=None, scale=alt.Scale(reverse=True)),
            y2="y2:Q",
            detail="flow:N",
            color=alt.Color("source:N", legend=None),
            opacity=alt.condition(pick, alt.value(0.7), alt.value(0.35)),
            tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("users:N", title=" ")],
        )
        .add_params(pick)
    )
    frame = pd.DataFrame(node_rows)
    boxes = alt.Chart(frame).mark_rect(color="#334155").encode(x="x:Q", x2="x2:Q", y="y:Q", y2="y2:Q")
    names = (
        alt.Chart(frame)
        .mark_text(align="left", dx=4, dy=-4, fontSize=11, color="#0f172a")
        .encode(
            x="x2:Q",
            y="y:Q",
            text="name:N",
            tooltip=[alt.Tooltip("name:N", title=" "), alt.Tooltip("users:N", title=" ")],
        )
    )
    return (bands + boxes + names).properties(height=420)
