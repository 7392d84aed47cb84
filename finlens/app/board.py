"""Render a board from its YAML spec: KPI tiles with change and sparkline, then charts that drill on click.

Each tile and chart is queried and drawn on its own, so a failing query shows
a readable ``st.error`` where it would be and the rest of the board renders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC
from typing import Any

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app.drill import BREAKDOWN_PAGE, USERS_PAGE, Target, go
from finlens.app.filters import Filters
from finlens.app.i18n import t
from finlens_common.errors import FinlensError
from semantic.catalog.boards import Board, Chart, Tile
from semantic.catalog.formatting import format_value
from semantic.catalog.specs import FunnelMetric

MAX_TILES_PER_ROW = 4
DEFAULT_DRILL = "platform"


def guarded(render: Callable[[], None]) -> None:
    """Run one tile's or chart's rendering; a problem shows as one line where it would have been.

    A FinlensError is the person's to fix and says so; anything else is a bug, shown as one line
    while its traceback goes to the server log (Streamlit's own stop and rerun signals pass through).
    """
    try:
        with st.spinner(t("loading", _lang())):
            render()
    except FinlensError as err:
        st.error(str(err))
    except Exception as err:  # noqa: BLE001
        logging.getLogger("finlens.app").exception("rendering failed")
        st.error(f"This part of the page failed: {type(err).__name__}: {(str(err).splitlines() or [''])[0][:300]}")


def _lang() -> str:
    from finlens.app.filters import language

    return language()


def render_board(board: Board, filters: Filters) -> None:
    st.title(board.label.get(filters.language))
    cstart, cend = filters.comparison()
    st.caption(f"{filters.start} – {filters.end} · {t('vs', filters.language)} {cstart} – {cend}")
    render_tiles(board.tiles, filters, key=board.name)
    columns = st.columns(2)
    for index, chart in enumerate(board.charts):
        with columns[index % 2].container(border=True):
            guarded(lambda chart=chart: render_chart(chart, filters, key=f"{board.name}_{chart.name}"))


def render_tiles(tiles: tuple[Tile, ...], filters: Filters, *, key: str) -> None:
    """Values, changes and sparklines for every tile: three queries for the whole row, not three per tile."""
    if not tiles:
        return
    catalog = app_state.catalog()
    metrics = tuple(tile.metric for tile in tiles)
    try:
        with st.spinner(t("loading", filters.language)):
            (now,) = app_state.run(filters.query(metrics)).rows or [dict.fromkeys(metrics)]
            (before,) = app_state.run(filters.query(metrics, compare=True)).rows or [dict.fromkeys(metrics)]
            daily = app_state.run(filters.query(metrics, grain="day")).rows
    except FinlensError as err:
        st.error(str(err))
        return
    rows = -(-len(tiles) // MAX_TILES_PER_ROW)
    per_row = -(-len(tiles) // rows)  # balanced: 6 tiles as 3 + 3, not 4 + 2
    for start in range(0, len(tiles), per_row):
        row = tiles[start : start + per_row]
        for column, tile in zip(st.columns(per_row), row):
            metric = catalog.metrics[tile.metric]
            with column.container(border=True):
                st.metric(
                    metric.label.get(filters.language),
                    tile_value(now.get(tile.metric), metric.format, filters.language),
                    delta=change(now.get(tile.metric), before.get(tile.metric)),
                    help=f"{format_value(now.get(tile.metric), metric.format)} · {metric.description}",
                    chart_data=[r[tile.metric] if r[tile.metric] is not None else 0 for r in daily],
                    chart_type="area",
                )
                drill = tile.drill or DEFAULT_DRILL
                if st.button(
                    f"{t('open_breakdown', filters.language)} →",
                    key=f"tile_{key}_{tile.metric}",
                    type="tertiary",
                    help=f"{t('by', filters.language)} {catalog.dimensions[drill].label.get(filters.language)}",
                ):
                    go(BREAKDOWN_PAGE, Target(metric=tile.metric, by=drill))


def tile_value(value: float | None, fmt: str, language: str = "en") -> str:
    """The metric's format, but money from ¥10,000 up in thousands/millions (万/亿 in zh) so a tile is not cut off.

    >>> tile_value(537420.5, "cny"), tile_value(2_345_678, "cny"), tile_value(537420.5, "cny", "zh"), tile_value(99.5, "cny")
    ('¥537.4K', '¥2.35M', '¥53.7万', '¥99.50')
    """
    if fmt != "cny" or value is None or abs(value) < 10_000:
        return format_value(value, fmt)
    if language == "zh":
        return f"¥{value / 1e8:.2f}亿" if abs(value) >= 1e8 else f"¥{value / 1e4:.1f}万"
    return f"¥{value / 1e6:.2f}M" if abs(value) >= 1e6 else f"¥{value / 1e3:.1f}K"


def change(now: float | None, before: float | None) -> str | None:
    """The relative change as ``+12.3%`` (None when the comparison is missing or zero).

    >>> change(110, 100), change(5, 0), change(None, 3)
    ('+10.0%', None, None)
    """
    if now is None or before in (None, 0):
        return None
    return f"{(now - before) / abs(before):+.1%}"


def render_chart(chart: Chart, filters: Filters, *, key: str) -> None:
    """One chart of a board, with its click wired to a drill-down."""
    catalog = app_state.catalog()
    lang = filters.language
    st.subheader(chart.label.get(lang))
    first = catalog.metrics[chart.metrics[0]]
    if chart.kind == "funnel":
        render_funnel(chart.metrics[0], filters, key=key, where=chart.where, by=chart.drill)
        return
    if chart.kind == "heatmap":
        render_heatmap(chart.metrics[0], filters, key=key, where=chart.where)
        return
    if chart.kind == "bar" and chart.by:
        order = (f"-{chart.metrics[0]}",)
        result = app_state.run(
            filters.query(
                chart.metrics[:1], extra_where=chart.where, dimensions=(chart.by,), order_by=order, limit=chart.limit
            )
        )
        if not result.rows:
            st.info("–")
            return
        dim = catalog.dimensions[chart.by]
        state = app_charts.show(
            app_charts.bars(
                result.rows, chart.by, dim.label.get(lang), first.name, first.label.get(lang), first.format
            ),
            key=key,
        )
        point = app_charts.picked(state)
        if point and chart.by in point:
            value = None if point[chart.by] == "(none)" else point[chart.by]
            target = Target(metric=first.name, filters=((chart.by, value),), where=chart.where)
            if chart.drill:
                go(BREAKDOWN_PAGE, Target(**{**target.__dict__, "by": chart.drill}))
            go(USERS_PAGE, target)
        return
    grain = chart.grain or "day"
    metrics = chart.metrics
    result = app_state.run(
        filters.query(metrics, extra_where=chart.where, grain=grain, dimensions=(chart.by,) if chart.by else ())
    )
    if chart.kind == "table" or chart.by:
        st.dataframe(result.to_dataframe(), hide_index=True, width="stretch")
        return
    if not result.rows:
        st.info("–")
        return
    specs = [(m, catalog.metrics[m].label.get(lang), catalog.metrics[m].format) for m in metrics]
    state = app_charts.show(app_charts.trend(result.rows, grain, specs), key=key)
    point = app_charts.picked(state)
    if point and grain in point:
        bucket = _bucket(point[grain])
        metric = point.get("metric_name") or metrics[0]
        go(
            BREAKDOWN_PAGE,
            Target(metric=metric, bucket=bucket, grain=grain, by=chart.drill or DEFAULT_DRILL, where=chart.where),
        )


def _bucket(value: Any) -> str:
    """A clicked temporal value (epoch milliseconds or text) as the bucket's ISO day."""
    if isinstance(value, (int, float)):
        from datetime import datetime

        return datetime.fromtimestamp(value / 1000, tz=UTC).date().isoformat()
    return str(value)[:10]


def render_funnel(name: str, filters: Filters, *, key: str, where: str | None = None, by: str | None = None) -> None:
    """The funnel as labelled bars; a click on a step opens the users reaching it."""
    catalog = app_state.catalog()
    lang = filters.language
    metric = catalog.metrics[name]
    assert isinstance(metric, FunnelMetric)
    result = app_state.run(filters.query((name,), extra_where=where))
    labels = {step.name: step.label.get(lang) for step in metric.steps}
    state = app_charts.show(app_charts.funnel(result.rows, labels, t("users", lang)), key=key)
    point = app_charts.picked(state)
    if point and "step" in point:
        go(USERS_PAGE, Target(metric=name, step=int(point["step"]), where=where))


def render_heatmap(name: str, filters: Filters, *, key: str, where: str | None = None) -> None:
    """Cohort x period rates; a click on a cell opens that cohort's users and whether they returned."""
    lang = filters.language
    result = app_state.run(filters.query((name,), extra_where=where))
    chart = app_charts.heatmap(result.rows, t("cohort", lang), t("period", lang))
    state = app_charts.show(chart, key=key)
    point = app_charts.picked(state)
    if point and "cohort" in point:
        go(USERS_PAGE, Target(metric=name, cohort=_bucket(point["cohort"]), period=int(point["period"]), where=where))
