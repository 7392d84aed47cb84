"""The YAML files under ``metrics/marketing/``: where they are, reading one, and checking them all.

Each file belongs to one module (``intent.yml`` → :mod:`semantic.analyses.intent`,
``lifecycle.yml``, ``experiments.yml``, ``channels.yml``, ``distributions.yml``);
a missing file means the feature is not configured, not an error, except
when the feature is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from finlens_common.errors import CatalogError, CatalogProblem
from semantic.catalog.catalog import Catalog
from semantic.catalog.fields import Problems
from semantic.catalog.loader import display_path, read_yaml_file
from semantic.catalog.yaml_lines import LineMap


def marketing_root(catalog: Catalog, root: str | Path | None = None) -> Path:
    """``<catalog root>/marketing`` (the catalog's own root unless ``root`` is given)."""
    return Path(root if root is not None else catalog.root or "metrics") / "marketing"


def read_marketing_file(
    catalog: Catalog, name: str, root: str | Path | None, problems: Problems
) -> tuple[str, LineMap] | None:
    """One YAML file under ``marketing/`` with line numbers; None when missing (or unreadable: reported)."""
    folder = marketing_root(catalog, root)
    path = folder / name
    if not path.is_file():
        return None
    file = display_path(path, folder.parent)
    doc = read_yaml_file(path, file, problems)
    return (file, doc) if doc is not None else None


Spec = TypeVar("Spec")
Parser = Callable[[Catalog, str, LineMap, Problems], "Spec | None"]


def parse_marketing_file(
    catalog: Catalog, name: str, root: str | Path | None, parse: Parser[Spec]
) -> tuple[Spec | None, list[CatalogProblem]]:
    """The spec ``parse`` reads from ``marketing/<name>`` and every problem; ``(None, [])`` when the file is missing."""
    problems = Problems(catalog.allowed_functions)
    read = read_marketing_file(catalog, name, root, problems)
    if read is None:
        return None, problems.items
    spec = parse(catalog, read[0], read[1], problems)
    return (spec if not problems.items else None), problems.items


def load_marketing_file(
    catalog: Catalog, name: str, root: str | Path | None, parse: Parser[Spec], missing: str
) -> Spec:
    """The checked spec of ``marketing/<name>``.

    Raises:
        CatalogError: every problem as ``file:line: message``, or ``missing`` when there is no file.
    """
    spec, problems = parse_marketing_file(catalog, name, root, parse)
    if problems:
        raise CatalogError(problems)
    if spec is None:
        raise CatalogError([CatalogProblem(str(marketing_root(catalog, root) / name), 0, missing)])
    return spec
