"""The catalog without its broken definitions, so one bad YAML file does not take everything down.

``finlens validate`` and the CLI refuse a catalog with any problem (:func:`load_catalog`).
An app serving many people should rather keep answering what the problem does not
touch: :func:`load_catalog_lenient` blames each problem on the entry it falls in (a
metric, a dimension, a segment; a model or file when it is outside any entry), builds
the catalog again without those entries, and repeats until what is left is consistent
(a ratio over a dropped metric is dropped on the next pass, and so on). Every problem
found on the way is returned, each ``file:line: message``, for a banner.
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

from finlens_common.errors import CatalogProblem
from semantic.catalog.catalog import Catalog
from semantic.catalog.loader import Entries, build_catalog

MAX_PASSES = 10  # each pass drops at least one entry; chains of dependents are short


def load_catalog_lenient(root: str | Path | None = None) -> tuple[Catalog, list[CatalogProblem]]:
    """The catalog of every definition no problem touches, and every problem (sorted, without repeats)."""
    skip: frozenset[tuple[str, int]] = frozenset()
    found: dict[str, CatalogProblem] = {}
    catalog, problems, entries = build_catalog(root, skip)
    for _ in range(MAX_PASSES):
        found.update((str(p), p) for p in problems)
        blamed = {blame(p, entries) for p in problems} - skip
        if not blamed:
            break
        skip = skip | blamed
        catalog, problems, entries = build_catalog(root, skip)
    found.update((str(p), p) for p in problems)
    return catalog, sorted(found.values(), key=lambda p: (p.file, p.line, p.message))


def blame(problem: CatalogProblem, entries: Entries) -> tuple[str, int]:
    """The entry ``problem`` falls in, as ``(file, entry line)``; ``(file, 0)`` when it is outside every entry.

    >>> blame(CatalogProblem("catalog/p2p.yml", 14, "unknown column"), {"catalog/p2p.yml": [3, 12, 20]})
    ('catalog/p2p.yml', 12)
    >>> blame(CatalogProblem("models/events.yml", 5, "bad join"), {"models/events.yml": [40, 44]})
    ('models/events.yml', 0)
    """
    lines = entries.get(problem.file) or []
    index = bisect_right(lines, problem.line)
    return (problem.file, lines[index - 1]) if index else (problem.file, 0)
