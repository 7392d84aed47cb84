"""A board's numbers for a range, without Streamlit: what a subscription sends.

The same questions the app's board asks (``finlens/app/board.py``): each tile's value over the
range and the comparison range and its daily values; each chart's rows. Every one is a
:class:`~semantic.compiler.query.Query`; a tile or chart whose query fails is reported in
``problems`` and the rest of the digest goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.base import Warehouse
from finlens_common.errors import FinlensError
from semantic.catalog.boards import Board, Chart
from semantic.catalog.catalog import Catalog
from semantic.compiler.query import Query
from semantic.compiler.results import run_query


@dataclass(frozen=True)
class TileValue:
    """A tile's number now and in the comparison range, and its daily values (the sparkline)."""

    metric: str
    value: float | None
    previous: float | None
    daily: tuple[tuple[str, float | None], ...]


@dataclass(frozen=True)
class ChartRows:
    """A chart's rows as the app draws them, and for line charts each metric over the whole range."""

    chart: Chart
    rows: list[dict[str, Any]]
    totals: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BoardDigest:
    board: Board
    start: date
    end: date
    compare_start: date
    compare_end: date
    tiles: tuple[TileValue, ...]
    charts: tuple[ChartRows, ...]
    problems: tuple[str, ...]


def board_digest(
    catalog: Catalog,
    board: Board,
    warehouse: Warehouse,
    *,
    start: date,
    end: date,
    compare: tuple[date, date],
    where: str | None = None,
) -> BoardDigest:
    """Every tile and chart of ``board`` over ``start``..``end`` under ``where`` (a checked ``--where``)."""
    problems: list[str] = []
    tiles: list[TileValue] = []
    metrics = tuple(tile.metric for tile in board.tiles)
    if metrics:
        try:
            now = _one(run_query(catalog, Query(metrics, start=start, end=end, where=where), warehouse).rows)
            before = _one(
                run_query(catalog, Query(metrics, start=compare[0], end=compare[1], where=where), warehouse).rows
            )
            daily = run_query(catalog, Query(metrics, grain="day", start=start, end=end, where=where), warehouse).rows
            tiles = [
                TileValue(m, now.get(m), before.get(m), tuple((str(r["day"]), r.get(m)) for r in daily))
                for m in metrics
            ]
        except FinlensError as err:
            problems.append(str(err))
    charts: list[ChartRows] = []
    for chart in board.charts:
        try:
            charts.append(_chart(catalog, chart, warehouse, start, end, where))
        except FinlensError as err:
            problems.append(f"{chart.label.en}: {err}")
    return BoardDigest(board, start, end, compare[0], compare[1], tuple(tiles), tuple(charts), tuple(problems))


def _one(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if rows else {}


def _where(where: str | None, extra: str | None) -> str | None:
    if where and extra:
        return f"({where}) AND ({extra})"
    return where or extra


def _chart(
    catalog: Catalog, chart: Chart, warehouse: Warehouse, start: date, end: date, where: str | None
) -> ChartRows:
    condition = _where(where, chart.where)
    kind = catalog.metrics[chart.metrics[0]].type
    if chart.kind in ("funnel", "heatmap") or kind in ("funnel", "retention"):
        query = Query(chart.metrics[:1], start=start, end=end, where=condition)
        return ChartRows(chart, run_query(catalog, query, warehouse).rows)
    if chart.kind == "bar" and chart.by:
        query = Query(
            chart.metrics[:1],
            dimensions=(chart.by,),
            start=start,
            end=end,
            where=condition,
            order_by=(f"-{chart.metrics[0]}",),
            limit=chart.limit,
        )
        return ChartRows(chart, run_query(catalog, query, warehouse).rows)
    dimensions = (chart.by,) if chart.by else ()
    query = Query(
        chart.metrics, dimensions=dimensions, grain=chart.grain or "day", start=start, end=end, where=condition
    )
    rows = run_query(catalog, query, warehouse).rows
    totals = _one(run_query(catalog, Query(chart.metrics, start=start, end=end, where=condition), warehouse).rows)
    return ChartRows(chart, rows, totals)
