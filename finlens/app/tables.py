"""Result rows as people read them: labels for headers, each metric's format for its values.

The semantic layer returns codes (``uv``, ``platform``, ``week``) and raw
numbers; a table on screen shows ``Unique visitors`` and ``45.3%``, and a CSV
keeps the raw numbers under the same labelled headers, so a spreadsheet can
still compute with them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from finlens.app.i18n import t
from semantic.catalog.catalog import Catalog
from semantic.catalog.formatting import format_value


def header(column: str, catalog: Catalog, language: str) -> str:
    """A result column's label: the metric's or dimension's from the YAML, a grain's or result column's from the catalog."""
    if column in catalog.metrics:
        return catalog.metrics[column].label.get(language)
    if column in catalog.dimensions:
        return catalog.dimensions[column].label.get(language)
    return t(f"column_{column}", language)


def shown(columns: list[str], rows: list[dict[str, Any]], catalog: Catalog, language: str) -> pd.DataFrame:
    """The rows formatted for the screen (metric formats, empty cells for NULL), under labelled headers."""
    formats = {c: catalog.metrics[c].format for c in columns if c in catalog.metrics}
    data = [
        {
            header(c, catalog, language): format_value(r.get(c), formats[c]) if c in formats else _cell(r.get(c))
            for c in columns
        }
        for r in rows
    ]
    return pd.DataFrame(data, columns=[header(c, catalog, language) for c in columns])


def csv(columns: list[str], rows: list[dict[str, Any]], catalog: Catalog, language: str) -> str:
    """The raw rows as CSV under labelled headers."""
    frame = pd.DataFrame(rows, columns=columns).rename(columns=lambda c: header(c, catalog, language))
    return frame.to_csv(index=False)


def _cell(value: Any) -> Any:
    return "" if value is None else value
