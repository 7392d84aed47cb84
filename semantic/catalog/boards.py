"""Dashboards as YAML: ``metrics/boards/*.yml`` declares each board's tiles and charts.

A business-line team adds a chart by adding YAML, so every name a board uses
is checked against the catalog here, with ``file:line`` messages and a
did-you-mean, exactly like the catalog itself. The app renders what these
specs say and never hard-codes a board. Reference: ``metrics/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from finlens_common.errors import CatalogError, CatalogProblem
from semantic.catalog.catalog import Catalog
from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expressions import SnippetError, did_you_mean
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.loader import default_root, read_yaml_folder
from semantic.catalog.specs import GRAINS, SINGLE_KINDS, Label, Source
from semantic.catalog.yaml_lines import LineMap

CHART_KINDS = ("line", "bar", "funnel", "heatmap", "table")
SECTIONS = ("tiles", "charts")


@dataclass(frozen=True)
class Tile:
    """A KPI: the metric's value, its change against the comparison period, a sparkline.

    ``drill`` is the dimension a click breaks the number down by.
    """

    metric: str
    drill: str | None
    source: Source


@dataclass(frozen=True)
class Chart:
    """One chart: metrics by an optional dimension and grain, under an optional filter."""

    name: str
    label: Label
    kind: str
    metrics: tuple[str, ...]
    by: str | None
    grain: str | None
    where: str | None
    drill: str | None
    limit: int | None
    source: Source


@dataclass(frozen=True)
class Board:
    """A page of tiles and charts, for one business line or the overview."""

    name: str
    label: Label
    business_line: str | None
    order: int
    tiles: tuple[Tile, ...]
    charts: tuple[Chart, ...]
    source: Source


def boards_root(root: str | Path | None = None) -> Path:
    """``<catalog root>/boards`` (default: ``metrics/boards``)."""
    return Path(root if root is not None else default_root()) / "boards"


def board_problems(catalog: Catalog, root: str | Path | None = None) -> tuple[dict[str, Board], list[CatalogProblem]]:
    """Every board under ``root``'s ``boards/`` folder and every problem found in them."""
    problems = Problems(catalog.allowed_functions)
    folder = boards_root(root)
    boards: dict[str, Board] = {}
    for file, doc in read_yaml_folder(folder, folder.parent, problems):
        board = _parse_board(catalog, file, doc, problems)
        if board is None:
            continue
        if board.name in boards:
            problems.add(
                file,
                doc.line_of("board"),
                f"duplicate board {board.name!r} (first defined at {boards[board.name].source})",
            )
            continue
        boards[board.name] = board
    ordered = dict(sorted(boards.items(), key=lambda item: (item[1].order, item[0])))
    return ordered, problems.items


def load_boards(catalog: Catalog, root: str | Path | None = None) -> dict[str, Board]:
    """The boards in display order.

    Raises:
        CatalogError: every problem, each as ``file:line: message``.
    """
    boards, problems = board_problems(catalog, root)
    if problems:
        raise CatalogError(problems)
    return boards


def _parse_board(catalog: Catalog, file: str, doc: LineMap, problems: Problems) -> Board | None:
    fields = Fields(doc, file, problems, "board", ("board", "label", "business_line", "order", "tiles", "charts"))
    name = fields.name("board")
    what = f"board {name!r}"
    label = fields.label()
    line = fields.string("business_line", required=False)
    order = fields.integer("order", default=100, minimum=0) or 0
    tiles = []
    for item, _line in _items(fields, "tiles", file, problems, what):
        tile = _parse_tile(catalog, file, item, problems, what)
        if tile is not None:
            tiles.append(tile)
    charts = []
    for index, (item, _line) in enumerate(_items(fields, "charts", file, problems, what), start=1):
        chart = _parse_chart(catalog, file, item, problems, f"{what} chart {index}")
        if chart is not None:
            charts.append(chart)
    if not tiles and not charts and fields.has("board"):
        fields.error(None, f"{what}: declares no tiles and no charts")
    if name is None:
        return None
    return Board(
        name=name,
        label=label,
        business_line=line,
        order=order,
        tiles=tuple(tiles),
        charts=tuple(charts),
        source=Source(file, doc.line),
    )


def _items(fields: Fields, key: str, file: str, problems: Problems, what: str) -> list[tuple[LineMap, int]]:
    items = fields.list_at(key, required=False)
    if not items:
        return []
    kept = []
    for item, line in zip(items, items.item_lines):
        if isinstance(item, LineMap):
            kept.append((item, line))
        else:
            problems.add(file, line, f"{what}: each entry under {key!r} must be a mapping")
    return kept


def _metric(catalog: Catalog, fields: Fields, key: str, name: str | None, what: str) -> bool:
    if name is None:
        return False
    if name not in catalog.metrics:
        fields.error(key, f"{what}: unknown metric {name!r}{did_you_mean(name, catalog.metrics)}")
        return False
    return True


def _dimension(catalog: Catalog, fields: Fields, key: str, metric: str | None, what: str) -> str | None:
    """A dimension name usable with ``metric``'s model, or None (reported)."""
    name = fields.string(key, required=False)
    if name is None or metric is None or metric not in catalog.metrics:
        return name
    usable = [d.name for d in catalog.dimensions_for(catalog.metrics[metric].model)]
    if name not in usable:
        fields.error(key, f"{what}: unknown dimension {name!r}{did_you_mean(name, usable)}")
        return None
    return name


def _parse_tile(catalog: Catalog, file: str, item: LineMap, problems: Problems, what: str) -> Tile | None:
    fields = Fields(item, file, problems, f"{what} tile", ("metric", "drill"))
    metric = fields.string("metric")
    if not _metric(catalog, fields, "metric", metric, f"{what} tile"):
        return None
    assert metric is not None
    kind = catalog.metrics[metric].type
    if kind in SINGLE_KINDS:
        fields.error("metric", f"{what} tile: {metric!r} is a {kind}; show it as a chart, not a tile")
        return None
    return Tile(
        metric=metric,
        drill=_dimension(catalog, fields, "drill", metric, f"{what} tile"),
        source=Source(file, item.line),
    )


def _parse_chart(catalog: Catalog, file: str, item: LineMap, problems: Problems, what: str) -> Chart | None:
    fields = Fields(
        item,
        file,
        problems,
        what,
        ("name", "label", "type", "metrics", "metric", "by", "grain", "where", "drill", "limit"),
    )
    kind = fields.choice("type", CHART_KINDS)
    names = _metric_names(fields, what)
    # a list, not a generator: every unknown name is reported, not just the first
    ok = all(
        [_metric(catalog, fields, "metrics" if fields.has("metrics") else "metric", n, what) for n in names]
    ) and bool(names)  # noqa: C419
    first = names[0] if ok else None
    by = _dimension(catalog, fields, "by", first, what)
    drill = _dimension(catalog, fields, "drill", first, what)
    grain = fields.choice("grain", GRAINS, default="") or None if fields.has("grain") else None
    limit = fields.integer("limit", default=None) if fields.has("limit") else None
    where = fields.string("where", required=False)
    if ok and first is not None:
        kinds = {catalog.metrics[n].type for n in names}
        expected = {"funnel": "funnel", "heatmap": "retention"}.get(kind or "")
        if expected and kinds != {expected}:
            fields.error("type", f"{what}: a {kind} chart shows one {expected} metric")
            ok = False
        elif not expected and kinds & {"funnel", "retention"}:
            fields.error("type", f"{what}: funnel metrics need type funnel and retention metrics type heatmap")
            ok = False
        elif not expected and kinds & set(SINGLE_KINDS) and kind != "table":
            fields.error(
                "type", f"{what}: {', '.join(sorted(kinds))} metrics are shown on their own pages or as a table"
            )
            ok = False
        if kind == "line" and not grain:
            grain = "day"
        if where:
            usable = [d.name for d in catalog.dimensions_for(catalog.metrics[first].model)]
            try:
                parse_user_filter(where, usable)
            except SnippetError as err:
                fields.error("where", f"{what}: where: {err}")
                ok = False
    if not ok or kind is None:
        return None
    label = fields.label() if fields.has("label") else catalog.metrics[names[0]].label
    name = fields.name() if fields.has("name") else "_".join([*names, *([by] if by else [])])
    return Chart(
        name=name or names[0],
        label=label,
        kind=kind,
        metrics=tuple(names),
        by=by,
        grain=grain,
        where=where,
        drill=drill,
        limit=limit,
        source=Source(file, item.line),
    )


def _metric_names(fields: Fields, what: str) -> list[str]:
    if fields.has("metric"):
        value = fields.string("metric")
        return [value] if value else []
    items = fields.list_at("metrics", required=False)
    if items is None:
        fields.error(None, f"{what}: missing required key 'metric' (or a list under 'metrics')")
        return []
    if not items or not all(isinstance(v, str) for v in items):
        fields.error("metrics", f"{what}: 'metrics' must be a list of metric names")
        return []
    return list(items)
