"""Read ``metrics/models/*.yml`` and ``metrics/catalog/*.yml`` into a validated :class:`Catalog`.

Every problem in every file is collected and raised together as one
:class:`~finlens_common.errors.CatalogError` whose lines read ``file:line: message``.
"""

from __future__ import annotations

import re
from pathlib import Path

from finlens_common import settings
from finlens_common.errors import CatalogError, CatalogProblem
from semantic.catalog.catalog import Catalog
from semantic.catalog.expression_rules import is_denied
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.metric_parsers import parse_metric
from semantic.catalog.model_parser import Entries, parse_model_file
from semantic.catalog.segment_parser import SegmentScope, parse_segment
from semantic.catalog.segment_specs import EVENTS_MODEL, USERS_MODEL, Segment, SegmentCycle, expand
from semantic.catalog.specs import Dimension, Model
from semantic.catalog.validate import validate_catalog
from semantic.catalog.yaml_lines import LineMap, YamlProblem, load_yaml, read_yaml_text

SETTINGS_FILE = "settings.yml"
_FUNCTION_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def default_root() -> Path:
    """The catalog folder: ``FINLENS_METRICS`` if set, else the project's ``metrics/``."""
    return settings.metrics_root()


def load_catalog(root: str | Path | None = None) -> Catalog:
    """Load and validate the catalog under ``root`` (default: :func:`default_root`).

    Raises:
        CatalogError: listing every problem found, each as ``file:line: message``.
    """
    catalog, problems, _ = build_catalog(root)
    if problems:
        raise CatalogError(problems)
    return catalog


def build_catalog(
    root: str | Path | None = None, skip: frozenset[tuple[str, int]] = frozenset()
) -> tuple[Catalog, list[CatalogProblem], Entries]:
    """The catalog built from every definition that parsed, every problem found, and where each entry sits.

    ``skip`` leaves out entries by ``(file, line)`` (line 0: the whole file), so a caller can drop the
    definitions a problem belongs to and build the rest again.
    """
    root = Path(root) if root is not None else default_root()
    problems = Problems()
    entries: Entries = {}
    if not root.is_dir():
        problems.add(str(root), 0, "catalog folder not found (expected models/ and catalog/ inside)")
        return Catalog(models={}, dimensions={}, metrics={}, root=str(root)), problems.items, entries
    problems.extra_functions = _allowed_functions(root, problems)
    model_docs = [d for d in read_yaml_folder(root / "models", root, problems) if (d[0], 0) not in skip]
    metric_docs = [d for d in read_yaml_folder(root / "catalog", root, problems) if (d[0], 0) not in skip]
    if not model_docs and not any(p.file.startswith("models") for p in problems.items):
        problems.add(str(root / "models"), 0, "no model files found")

    models: dict[str, Model] = {}
    dimensions: dict[str, Dimension] = {}
    for file, doc in model_docs:
        parse_model_file(file, doc, problems, models, dimensions, skip, entries)
    metrics = {}
    seen_at: dict[str, str] = {}
    for file, doc in metric_docs:
        fields = Fields(doc, file, problems, "metrics file", ("metrics",))
        items = fields.list_at("metrics")
        entries[file] = list(items.item_lines) if items else []
        for item, line in zip(items or [], (items.item_lines if items else [])):
            if not isinstance(item, LineMap):
                problems.add(file, line, "each entry under 'metrics' must be a mapping")
                continue
            if (file, item.line) in skip:
                continue
            metric = parse_metric(item, file, problems, models)
            if metric is None:
                continue
            if metric.name in metrics or metric.name in seen_at:
                problems.add(
                    file,
                    item.line,
                    f"duplicate metric name {metric.name!r} (first defined at {seen_at.get(metric.name)})",
                )
                continue
            seen_at[metric.name] = str(metric.source)
            metrics[metric.name] = metric
    validate_catalog(models, dimensions, metrics, problems)
    segment_docs = [d for d in read_yaml_folder(root / "segments", root, problems) if (d[0], 0) not in skip]
    segments = _parse_segments(segment_docs, models, dimensions, problems, skip, entries)
    catalog = Catalog(
        models=models,
        dimensions=dimensions,
        metrics=metrics,
        root=str(root),
        segments=segments,
        allowed_functions=problems.extra_functions,
    )
    return catalog, problems.items, entries


def _allowed_functions(root: Path, problems: Problems) -> frozenset[str]:
    """``settings.yml``'s ``expressions: {allow_functions: [...]}``: more functions YAML snippets may call.

    Each must be a plain function name and not on the built-in deny-list, which always wins.
    """
    path = root / SETTINGS_FILE
    if not path.is_file():
        return frozenset()
    file = display_path(path, root)
    doc = read_yaml_file(path, file, problems)
    if doc is None:
        return frozenset()
    expressions = Fields(doc, file, problems, "settings", ("expressions",)).mapping_at("expressions", required=False)
    if expressions is None:
        return frozenset()
    items = Fields(expressions, file, problems, "settings expressions", ("allow_functions",)).list_at(
        "allow_functions", required=False
    )
    allowed = set()
    for item, line in zip(items or [], items.item_lines if items else []):
        name = str(item).lower() if isinstance(item, str) else ""
        if not _FUNCTION_NAME.match(name):
            problems.add(file, line, f"settings: allow_functions: {str(item)[:40]!r} is not a function name")
        elif is_denied(name):
            problems.add(
                file,
                line,
                f"settings: allow_functions: {name!r} is on the built-in deny-list "
                "(files, network, settings, environment, system tables) and cannot be allowed",
            )
        else:
            allowed.add(name)
    return frozenset(allowed)


def _parse_segments(
    docs: list[tuple[str, LineMap]],
    models: dict[str, Model],
    dimensions: dict[str, Dimension],
    problems: Problems,
    skip: frozenset[tuple[str, int]] = frozenset(),
    entries: Entries | None = None,
) -> dict[str, Segment]:
    """``metrics/segments/*.yml``: each file holds ``segments: [...]`` (optional folder)."""
    segments: dict[str, Segment] = {}
    if not docs:
        return segments
    if USERS_MODEL not in models or EVENTS_MODEL not in models:
        problems.add(docs[0][0], 1, f"segments need the models {USERS_MODEL!r} and {EVENTS_MODEL!r}")
        return segments
    scope = SegmentScope(models[USERS_MODEL], models[EVENTS_MODEL], dimensions)
    for file, doc in docs:
        items = Fields(doc, file, problems, "segments file", ("segments",)).list_at("segments")
        if entries is not None:
            entries[file] = list(items.item_lines) if items else []
        for item, line in zip(items or [], (items.item_lines if items else [])):
            if isinstance(item, LineMap) and (file, item.line) in skip:
                continue
            segment = parse_segment(item, file, problems, scope) if isinstance(item, LineMap) else None
            if not isinstance(item, LineMap):
                problems.add(file, line, "each entry under 'segments' must be a mapping")
            if segment is None:
                continue
            if segment.name in segments:
                problems.add(
                    file,
                    item.line,
                    f"duplicate segment name {segment.name!r} (first defined at {segments[segment.name].source})",
                )
                continue
            segments[segment.name] = segment
    for segment in segments.values():
        try:
            expand(segment.condition, segments, (segment.name,))
        except SegmentCycle as err:
            problems.add(segment.source.file, segment.source.line, f"segment {segment.name!r}: {err}")
    return segments


def display_path(path: Path, root: Path) -> str:
    """The path as shown in messages: relative to the working directory when it can be."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_yaml_folder(folder: Path, root: Path, problems: Problems) -> list[tuple[str, LineMap]]:
    docs: list[tuple[str, LineMap]] = []
    if not folder.is_dir():
        return docs
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        file = display_path(path, root)
        doc = read_yaml_file(path, file, problems)
        if doc is not None:
            docs.append((file, doc))
    return docs


def read_yaml_file(path: Path, file: str, problems: Problems) -> LineMap | None:
    """One YAML file holding a mapping, with line numbers; None after reporting why it cannot be used."""
    try:
        doc = load_yaml(read_yaml_text(path))
    except YamlProblem as err:
        problems.add(file, err.line, err.message)
        return None
    if not isinstance(doc, LineMap):
        problems.add(file, 1, "the file must hold a YAML mapping at the top level")
        return None
    return doc
