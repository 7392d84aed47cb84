"""Render a board from its YAML spec: KPI tiles with change and sparkline, then charts that drill on click.

Each tile and chart is queried and drawn on its own, so a failing query shows
a readable ``st.error`` where it would be and the rest of the board renders.

Two kinds of number are never shown as a silent 0 or a guess:

- under a business-line filter, a metric counted on events of other lines (registrations are
  platform events) is *not applicable* to the chosen line, and the tile says so and why
  (:func:`applicability`); a metric that has events in the line but none in the range shows 0;
- a change against a comparison period the data does not fully cover is not shown, and the
  caption says why (``Filters.comparison_covered``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import streamlit as st

from finlens.app import health
from finlens.app import state as app_state
from finlens.app.board_charts import additive, render_chart, render_funnel, render_heatmap
from finlens.app.drill import BREAKDOWN_PAGE, Target, go
from finlens.app.filters import Filters, language
from finlens.app.i18n import section, t
from finlens.app.line_scope import applicability, not_applicable_note
from finlens_common.errors import FinlensError
from semantic.catalog.boards import Board, Tile
from semantic.catalog.formatting import format_change, format_value

MAX_TILES_PER_ROW = 4
DEFAULT_DRILL = "platform"

text = section("board")

__all__ = [
    "guarded",
    "render_board",
    "render_tiles",
    "render_chart",
    "render_funnel",
    "render_heatmap",
    "applicability",
]


def guarded(render: Callable[[], None]) -> None:
    """Run one tile's or chart's rendering; a problem shows as one line where it would have been.

    A FinlensError is the person's to fix and says so; anything else is a bug, shown as one line
    while its traceback goes to the server log (Streamlit's own stop and rerun signals pass through).
    """
    try:
        with st.spinner(t("loading", language())):
            render()
    except FinlensError as err:
        if health.unavailable(err):  # the outage is said once at the top of the page
            st.caption(t("health.part_unavailable", language()))
        else:
            st.error(str(err))
    except Exception as err:  # noqa: BLE001
        logging.getLogger("finlens.app").exception("rendering failed")
        st.error(f"This part of the page failed: {type(err).__name__}: {(str(err).splitlines() or [''])[0][:300]}")


def period_caption(filters: Filters) -> str:
    """``range · vs comparison``, or why no change is shown (no data, or only part of it, in the comparison)."""
    lang = filters.language
    cstart, cend = filters.comparison()
    now = f"{filters.start} – {filters.end}"
    if filters.comparison_covered():
        return f"{now} · {t('vs', lang)} {cstart} – {cend}"
    key = "range.no_comparison" if filters.data_start and cend < filters.data_start else "range.partial_comparison"
    return f"{now} · {t(key, lang, start=cstart, end=cend, first=filters.data_start)}"


def render_board(board: Board, filters: Filters) -> None:
    st.title(board.label.get(filters.language))
    st.caption(period_caption(filters))
    render_tiles(board.tiles, filters, key=board.name)
    columns = st.columns(2)
    for index, chart in enumerate(board.charts):
        with columns[index % 2].container(border=True):
            guarded(lambda chart=chart: render_chart(chart, filters, key=f"{board.name}_{chart.name}"))


def render_tiles(tiles: tuple[Tile, ...], filters: Filters, *, key: str) -> None:
    """Values, changes and sparklines for every tile: a few queries for the whole row, not a few per tile."""
    if not tiles:
        return
    catalog = app_state.catalog()
    lang = filters.language
    metrics = tuple(tile.metric for tile in tiles)
    try:
        with st.spinner(t("loading", lang)):
            (now,) = app_state.run(filters.query(metrics)).rows or [dict.fromkeys(metrics)]
            before = dict.fromkeys(metrics)
            if filters.comparison_covered():
                (before,) = app_state.run(filters.query(metrics, compare=True)).rows or [before]
            daily = {str(r["day"])[:10]: r for r in app_state.run(filters.query(metrics, grain="day")).rows}
            missing = applicability(metrics, filters)
    except FinlensError as err:
        if health.unavailable(err):
            st.caption(t("health.part_unavailable", lang))
        else:
            st.error(str(err))
        return
    days = [(filters.start + timedelta(days=k)).isoformat() for k in range((filters.end - filters.start).days + 1)]
    rows = -(-len(tiles) // MAX_TILES_PER_ROW)
    per_row = -(-len(tiles) // rows)  # balanced: 6 tiles as 3 + 3, not 4 + 2
    for start in range(0, len(tiles), per_row):
        row = tiles[start : start + per_row]
        for column, tile in zip(st.columns(per_row), row):
            metric = catalog.metrics[tile.metric]
            with column.container(border=True):
                if tile.metric in missing:
                    note = not_applicable_note(tile.metric, missing[tile.metric], filters)
                    st.metric(metric.label.get(lang), text("not_applicable", lang), help=note)
                    st.caption(note)
                    continue
                value = now.get(tile.metric)
                zero = 0 if additive(metric) else None
                spark = [(daily.get(d) or {}).get(tile.metric) for d in days]
                change = None
                if before.get(tile.metric) not in (None, 0) and value is not None:
                    change = format_change((value - before[tile.metric]) / abs(before[tile.metric]))
                st.metric(
                    metric.label.get(lang),
                    format_value(value, metric.format, lang),
                    delta=change,
                    help=f"{format_value(value, metric.format, lang)} · {metric.described(lang)}",
                    chart_data=[v for v in spark if v is not None]
                    if zero is None
                    else [zero if v is None else v for v in spark],
                    chart_type="area",
                )
                drill = tile.drill or DEFAULT_DRILL
                if st.button(
                    f"{t('open_breakdown', lang)} →",
                    key=f"tile_{key}_{tile.metric}",
                    type="tertiary",
                    help=f"{t('by', lang)} {catalog.dimensions[drill].label.get(lang)}",
                ):
                    go(BREAKDOWN_PAGE, Target(metric=tile.metric, by=drill))
