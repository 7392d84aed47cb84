"""Result rows as people read them: labels for headers and values, each column's format for its numbers.

The semantic layer returns codes (``uv``, ``platform``, ``week``, ``p2p``) and raw
numbers; a table on screen shows ``Unique visitors``, ``P2P`` and ``45.3%`` (money
in 万/亿 in Chinese, durations as ``1h 5m``), and a CSV keeps the raw numbers under
the same labelled headers, so a spreadsheet can still compute with them.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from finlens.app.i18n import t
from semantic.catalog.catalog import Catalog
from semantic.catalog.formatting import column_formats, format_cell

STEP_TIME = re.compile(r"^step_(\d+)_time$")


def header(column: str, catalog: Catalog, language: str) -> str:
    """A result column's label: the metric's or dimension's from the YAML, a grain's or result column's from the catalog."""
    if column in catalog.metrics:
        return catalog.metrics[column].label.get(language)
    if column in catalog.dimensions:
        return catalog.dimensions[column].label.get(language)
    step = STEP_TIME.match(column)
    if step:  # a funnel's users list: when each step was reached
        return t("column_step_time", language, n=step.group(1))
    return t(f"column_{column}", language)


def value_text(column: str, value: Any, catalog: Catalog, language: str) -> str:
    """A dimension value as people read it (its YAML label; ``(none)`` for NULL)."""
    if value is None:
        return t("none", language)
    dimension = catalog.dimensions.get(column)
    return dimension.value_label(value, language) if dimension is not None else str(value)


def formats(columns: list[str], catalog: Catalog) -> dict[str, str]:
    """Each column's format: a metric's YAML ``format``, or a funnel's or retention's own column format."""
    return column_formats(columns, {name: metric.format for name, metric in catalog.metrics.items()})


def shown(columns: list[str], rows: list[dict[str, Any]], catalog: Catalog, language: str) -> pd.DataFrame:
    """The rows formatted for the screen (labelled values, formats, empty cells for NULL), under labelled headers."""
    fmt = formats(columns, catalog)
    names = [header(c, catalog, language) for c in columns]
    data = [
        [
            value_text(c, r.get(c), catalog, language)
            if c in catalog.dimensions
            else format_cell(r.get(c), fmt.get(c), language)
            for c in columns
        ]
        for r in rows
    ]
    return pd.DataFrame(data, columns=names)


def csv(columns: list[str], rows: list[dict[str, Any]], catalog: Catalog, language: str) -> str:
    """The raw rows as CSV under labelled headers (numbers unformatted, dimension values as stored)."""
    frame = pd.DataFrame(rows, columns=columns).rename(columns=lambda c: header(c, catalog, language))
    return frame.to_csv(index=False)
