"""Small chart images for messages, rendered from Vega-Lite to PNG by vl-convert (no browser).

An alert's chart shows the series, its threshold or baseline band and the periods that fired;
a board's digest image is built in ``digest_images.py`` with the same helpers. Chinese renders
with the system's CJK fonts (Noto CJK, installed by ``scripts/install-browser``).
"""

from __future__ import annotations

from typing import Any

import vl_convert

from semantic.catalog.formatting import format_value

FONT = "Noto Sans CJK SC, Noto Sans, sans-serif"
AXIS_FORMATS = {"percent": ".1%", "cny": "~s", "duration": "~s", "number": "~s"}
TIME_FORMATS = {"day": "%m-%d", "hour": "%m-%d %H:00"}
FIRED = "#dc2626"
LINE = "#2563eb"
BAND = "#94a3b8"


def config() -> dict[str, Any]:
    return {
        "font": FONT,
        "view": {"stroke": None},
        "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#eef0f3", "labelFont": FONT},
        "title": {"fontSize": 14, "font": FONT, "anchor": "start"},
    }


def png(spec: dict[str, Any], scale: float = 1.0) -> bytes:
    """``spec`` (Vega-Lite v5) as PNG bytes."""
    return bytes(vl_convert.vegalite_to_png({"config": config(), **spec}, scale=scale))


def alert_chart(
    rows: list[dict[str, Any]], *, title: str, subtitle: str, fmt: str, grain: str, width: int = 560
) -> bytes:
    """:func:`alert_spec` as PNG, for messages."""
    return png(alert_spec(rows, title=title, subtitle=subtitle, fmt=fmt, grain=grain, width=width))


def alert_spec(
    rows: list[dict[str, Any]], *, title: str, subtitle: str, fmt: str, grain: str, width: int | str = 560
) -> dict[str, Any]:
    """The series (``period``, ``value``, ``low``, ``high``, ``fired``) with its band and its fired periods in red.

    One Vega-Lite spec for the message's image and the Alerts page, so both show the same picture.
    """
    data = [
        {
            "period": r["period"],
            "value": r.get("value"),
            "low": r.get("low"),
            "high": r.get("high"),
            "fired": bool(r.get("fired")),
            "text": format_value(r.get("value"), fmt),
        }
        for r in rows
    ]
    x = {
        "field": "period",
        "type": "temporal",
        "title": None,
        "axis": {"format": TIME_FORMATS[grain], "labelAngle": 0, "tickCount": 6},
    }
    y_axis = {"format": AXIS_FORMATS.get(fmt, "~s"), "title": None}
    layers: list[dict[str, Any]] = []
    if any(r["low"] is not None and r["high"] is not None for r in data):
        layers.append(
            {
                "mark": {"type": "area", "color": BAND, "opacity": 0.25},
                "transform": [{"filter": "datum.low != null && datum.high != null"}],
                "encoding": {
                    "x": x,
                    "y": {"field": "low", "type": "quantitative", "axis": y_axis},
                    "y2": {"field": "high"},
                },
            }
        )
    for side in ("high", "low"):
        if any(r[side] is not None for r in data):
            layers.append(
                {
                    "mark": {"type": "line", "color": BAND, "strokeDash": [4, 3], "strokeWidth": 1.5},
                    "transform": [{"filter": f"datum.{side} != null"}],
                    "encoding": {"x": x, "y": {"field": side, "type": "quantitative", "axis": y_axis}},
                }
            )
    layers.append(
        {
            "mark": {"type": "line", "color": LINE, "strokeWidth": 2, "point": {"color": LINE, "size": 18}},
            "transform": [{"filter": "datum.value != null"}],
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "axis": y_axis}},
        }
    )
    layers.append(
        {
            "mark": {"type": "point", "filled": True, "color": FIRED, "size": 70},
            "transform": [{"filter": "datum.fired && datum.value != null"}],
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}},
        }
    )
    last = next((r for r in reversed(data) if r["value"] is not None), None)
    if last is not None:
        layers.append(
            {
                "data": {"values": [last]},
                "mark": {"type": "text", "align": "left", "dx": 6, "dy": -8, "fontSize": 12, "fontWeight": "bold"},
                "encoding": {
                    "x": x,
                    "y": {"field": "value", "type": "quantitative"},
                    "text": {"field": "text"},
                    "color": {"value": FIRED if last["fired"] else LINE},
                },
            }
        )
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "config": config(),
        "title": {"text": title, "subtitle": subtitle},
        "width": width,
        "height": 200,
        "padding": {"left": 8, "right": 40, "top": 8, "bottom": 8},
        "data": {"values": data},
        "resolve": {"scale": {"y": "shared"}},
        "layer": layers,
    }
