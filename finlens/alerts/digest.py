"""A subscribed board as a message: its numbers as text and its tiles and charts as one image.

The image stacks the tiles (value, change and a sparkline each) and every chart the board draws
(lines, bars, funnels, retention heatmaps) in two columns, rendered by vl-convert; table charts
are text only. The link opens the board over the same days, comparison and filters.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from finlens.alerts.compose import Message
from finlens.alerts.images import AXIS_FORMATS, png
from finlens.alerts.links import board_view
from finlens.alerts.words import word
from semantic.analyses.board_digest import BoardDigest, ChartRows, TileValue
from semantic.catalog.alert_specs import Subscription
from semantic.catalog.catalog import Catalog
from semantic.catalog.formatting import format_value
from semantic.catalog.specs import FunnelMetric

TILES_PER_ROW = 4
TOP = 5
RETENTION_PERIODS_SHOWN = (1, 7, 30)


def change(now: float | None, before: float | None) -> str | None:
    """``+12.3%`` against the comparison, None when it has no value or is 0."""
    if now is None or before in (None, 0):
        return None
    return f"{(now - before) / abs(before):+.1%}"


def tile_line(catalog: Catalog, tile: TileValue, language: str) -> str:
    metric = catalog.metrics[tile.metric]
    delta = change(tile.value, tile.previous)
    return f"{metric.label.get(language)}: {format_value(tile.value, metric.format)}" + (f" ({delta})" if delta else "")


def chart_lines(catalog: Catalog, chart: ChartRows, language: str) -> list[str]:
    spec = chart.chart
    first = catalog.metrics[spec.metrics[0]]
    rows = chart.rows
    if isinstance(first, FunnelMetric):
        labels = {s.name: s.label.get(language) for s in first.steps}
        return [
            word(
                "steps",
                language,
                step=r["step"],
                label=labels.get(r["step_name"], r["step_name"]),
                users=format_value(r["users"], "number"),
                rate=format_value(r["conversion_from_first"], "percent"),
            )
            for r in rows
        ]
    if first.type == "retention":
        lines = []
        for n in RETENTION_PERIODS_SHOWN:
            known = [r for r in rows if r["period"] == n and r["rate"] is not None]
            size = sum(r["cohort_size"] for r in known)
            if size:
                rate = sum(r["retained"] for r in known) / size
                lines.append(f"{word('period_n', language, n=n)}: {format_value(rate, 'percent')}")
        return lines
    if spec.kind == "bar" and spec.by:
        dimension = catalog.dimensions[spec.by]
        return [
            word(
                "top",
                language,
                rank=i,
                value="∅" if r[spec.by] is None else dimension.value_label(r[spec.by], language),
                number=format_value(r[first.name], first.format),
            )
            for i, r in enumerate(rows[:TOP], start=1)
        ]
    return [
        f"{catalog.metrics[m].label.get(language)}: {format_value(chart.totals.get(m), catalog.metrics[m].format)}"
        for m in spec.metrics
    ]


def digest_message(
    catalog: Catalog,
    subscription: Subscription,
    digest: BoardDigest,
    language: str,
    *,
    image: bytes | None,
    image_url: str | None = None,
) -> Message:
    board = digest.board
    sections: list[tuple[str, tuple[str, ...]]] = []
    if digest.tiles:
        sections.append((word("tiles", language), tuple(tile_line(catalog, t, language) for t in digest.tiles)))
    for chart in digest.charts:
        lines = chart_lines(catalog, chart, language)
        if lines:
            sections.append((chart.chart.label.get(language), tuple(lines)))
    if digest.problems:
        sections.append(("!", digest.problems))
    label = subscription.label.get(language)
    return Message(
        kind="digest",
        language=language,
        title=word("digest_title", language, label=label, start=digest.start, end=digest.end),
        summary=f"{board.label.get(language)} · "
        + word("comparison", language, start=digest.compare_start, end=digest.compare_end),
        fields=(),
        link=board_view(subscription, digest.start, digest.end, language),
        image=image,
        image_url=image_url,
        sections=tuple(sections),
        data={
            "kind": "digest",
            "subscription": subscription.name,
            "board": board.name,
            "start": digest.start.isoformat(),
            "end": digest.end.isoformat(),
            "tiles": [{"metric": t.metric, "value": t.value, "previous": t.previous} for t in digest.tiles],
        },
    )


def _tile_spec(catalog: Catalog, tile: TileValue, language: str) -> dict[str, Any]:
    metric = catalog.metrics[tile.metric]
    delta = change(tile.value, tile.previous)
    return {
        "title": {
            "text": metric.label.get(language),
            "subtitle": format_value(tile.value, metric.format) + (f"  {delta}" if delta else ""),
            "subtitleFontSize": 16,
            "subtitleColor": "#0f172a",
        },
        "width": 170,
        "height": 40,
        "data": {"values": [{"day": d, "value": v} for d, v in tile.daily]},
        "mark": {"type": "area", "line": True, "opacity": 0.3},
        "encoding": {
            "x": {"field": "day", "type": "temporal", "axis": None},
            "y": {"field": "value", "type": "quantitative", "axis": None},
        },
    }


def _chart_spec(catalog: Catalog, chart: ChartRows, language: str) -> dict[str, Any] | None:
    spec, rows = chart.chart, chart.rows
    first = catalog.metrics[spec.metrics[0]]
    base: dict[str, Any] = {"title": spec.label.get(language), "width": 380, "height": 170}
    if not rows or spec.kind == "table" or (spec.by and spec.kind != "bar"):
        return None
    if isinstance(first, FunnelMetric):
        labels = {s.name: s.label.get(language) for s in first.steps}
        values = [
            {"step": f"{r['step']}. {labels.get(r['step_name'], r['step_name'])}", "users": r["users"]} for r in rows
        ]
        return {
            **base,
            "data": {"values": values},
            "mark": {"type": "bar"},
            "encoding": {
                "y": {"field": "step", "type": "nominal", "sort": None, "title": None},
                "x": {"field": "users", "type": "quantitative", "title": None},
            },
        }
    if first.type == "retention":
        values = [
            {"cohort": str(r["cohort"])[:10], "period": r["period"], "rate": r["rate"]}
            for r in rows
            if r["rate"] is not None
        ]
        return {
            **base,
            "data": {"values": values},
            "mark": "rect",
            "encoding": {
                "x": {"field": "period", "type": "ordinal", "title": None},
                "y": {"field": "cohort", "type": "ordinal", "title": None, "axis": {"labelFontSize": 8}},
                "color": {
                    "field": "rate",
                    "type": "quantitative",
                    "scale": {"scheme": "blues"},
                    "legend": {"format": ".0%"},
                },
            },
        }
    if spec.kind == "bar" and spec.by:
        dimension = catalog.dimensions[spec.by]
        values = [
            {"value": "∅" if r[spec.by] is None else dimension.value_label(r[spec.by], language), "n": r[first.name]}
            for r in rows
        ]
        return {
            **base,
            "data": {"values": values},
            "mark": "bar",
            "encoding": {
                "y": {"field": "value", "type": "nominal", "sort": "-x", "title": None},
                "x": {
                    "field": "n",
                    "type": "quantitative",
                    "title": None,
                    "axis": {"format": AXIS_FORMATS[first.format]},
                },
            },
        }
    grain = spec.grain or "day"
    values = [
        {"bucket": r[grain], "series": catalog.metrics[m].label.get(language), "value": r.get(m)}
        for r in rows
        for m in spec.metrics
    ]
    return {
        **base,
        "data": {"values": values},
        "mark": {"type": "line", "point": {"size": 12}},
        "encoding": {
            "x": {"field": "bucket", "type": "temporal", "title": None, "axis": {"format": "%m-%d"}},
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": None,
                "axis": {"format": AXIS_FORMATS[first.format]},
            },
            "color": {"field": "series", "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
        },
    }


def digest_image(catalog: Catalog, digest: BoardDigest, language: str, start: date, end: date) -> bytes:
    """The tiles in rows of four, then the charts two by two, under the board's title and range."""
    tiles = [_tile_spec(catalog, t, language) for t in digest.tiles]
    charts = [s for c in digest.charts if (s := _chart_spec(catalog, c, language)) is not None]
    independent = {"scale": {"color": "independent", "y": "independent", "x": "independent"}}
    rows: list[dict[str, Any]] = [
        {"hconcat": tiles[i : i + TILES_PER_ROW], "resolve": independent} for i in range(0, len(tiles), TILES_PER_ROW)
    ]
    rows += [{"hconcat": charts[i : i + 2], "resolve": independent} for i in range(0, len(charts), 2)]
    return png(
        {
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "title": {"text": digest.board.label.get(language), "subtitle": f"{start} – {end}", "fontSize": 18},
            "vconcat": rows or [{"mark": "text", "encoding": {"text": {"value": "–"}}}],
            "spacing": 24,
            "resolve": independent,
        }
    )
