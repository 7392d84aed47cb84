"""Definitions built without YAML (the app's ad-hoc funnel, retention and event metric), and saving them as YAML.

An ad-hoc definition is YAML all the same: the builder writes the mapping an
analyst would, prints it as YAML text, and reads that text back through the
catalog's own parser (:func:`semantic.catalog.metric_parsers.parse_metric`),
so the metric the app queries is exactly the one the saved file gives. Every
filter a person typed is first checked as a person's filter (the
checker's user allow-list, over the model's columns) and then again as YAML. :func:`save_definition` writes the
text under ``metrics/catalog/saved_<name>.yml`` (``metrics/paths/`` for paths)
when the folder may be written, and checks that the whole catalog still loads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from finlens_common import settings
from finlens_common.errors import CatalogError, QueryError
from semantic.catalog.catalog import Catalog
from semantic.catalog.expression_guard import parse_checked
from semantic.catalog.expression_rules import Allowed
from semantic.catalog.expressions import SnippetError
from semantic.catalog.fields import Problems, parse_duration
from semantic.catalog.metric_parsers import parse_metric
from semantic.catalog.specs import AGGREGATIONS, RETENTION_MODES, RETENTION_PERIODS, Label, Metric
from semantic.catalog.yaml_lines import LineList, LineMap, YamlProblem, load_yaml

ADHOC_FILE = "(ad hoc)"
SAVED_PREFIX = "saved_"
MAX_STEPS = 10
MAX_EVENT = 100
Step = tuple[str | Sequence[str], str | None]  # (event or events, filter over the model's columns)


@dataclass(frozen=True)
class Definition:
    """A definition built in the app: its YAML mapping and text, and the spec read back from that text."""

    name: str
    folder: str  # "catalog" or "paths": where it is saved under the catalog root
    key: str  # the file's top-level list: "metrics" or "paths"
    mapping: dict[str, Any]
    spec: Any

    @property
    def text(self) -> str:
        """The whole file a save writes: ``<key>: [<mapping>]`` as YAML."""
        return yaml.safe_dump({self.key: [self.mapping]}, allow_unicode=True, sort_keys=False, width=100)


def check_events(value: str | Sequence[str], what: str) -> list[str]:
    """Event names a person picked or typed: 1 to 20 of printable text, 1 to 100 characters each."""
    names = [value] if isinstance(value, str) else list(value)
    if not 1 <= len(names) <= 20 or not all(
        isinstance(n, str) and n.strip() and len(n) <= MAX_EVENT and n.isprintable() for n in names
    ):
        raise QueryError(f"{what}: pick 1 to 20 events (printable names of at most {MAX_EVENT} characters)")
    return [n.strip() for n in names]


def check_filter(catalog: Catalog, text: str | None, what: str, model: str = "events") -> str | None:
    """A filter a person typed, over the model's columns (``page = 'home'``, ``is_success``): checked or refused."""
    if text is None or not str(text).strip():
        return None
    checked = str(text).strip()
    columns = catalog.models[model].columns
    if columns.get(checked, "").lower() == "boolean":
        checked = f"{checked} = TRUE"  # a bare boolean column, as metric filters allow
    try:
        parse_checked(checked, Allowed(names=frozenset(columns), what=what, name_kind="column", boolean=True))
    except SnippetError as err:
        raise QueryError(str(err)) from None
    return checked


def _match(catalog: Catalog, step: Step, what: str) -> dict[str, Any]:
    events = check_events(step[0], f"{what} event")
    match: dict[str, Any] = {"event": events[0] if len(events) == 1 else events}
    checked = check_filter(catalog, step[1], f"{what} filter")
    if checked:
        match["filter"] = checked
    return match


def _common(name: str, label: Label | None, description: str, fmt: str) -> dict[str, Any]:
    label = label or Label(zh=name, en=name)
    return {
        "label": {"zh": label.zh, "en": label.en},
        "description": description,
        "format": fmt,
        "business_line": "platform",
    }


def metric_definition(catalog: Catalog, mapping: dict[str, Any]) -> Definition:
    """Read ``mapping`` back as the catalog would read it from a file; its first problem is a QueryError."""
    text = yaml.safe_dump({"metrics": [mapping]}, allow_unicode=True, sort_keys=False)
    try:
        document = load_yaml(text)
    except YamlProblem as err:
        raise QueryError(f"definition: {err.message}") from None
    problems = Problems(catalog.allowed_functions)
    items = document["metrics"] if isinstance(document, LineMap) else LineList()
    metric = parse_metric(items[0], ADHOC_FILE, problems, catalog.models)
    if problems.items or metric is None:
        raise QueryError(problems.items[0].message if problems.items else "definition: not a metric")
    name = metric.name
    if name in catalog.metrics or name in catalog.dimensions:
        raise QueryError(f"name {name!r} is taken in the catalog; pick another name")
    return Definition(name=name, folder="catalog", key="metrics", mapping=mapping, spec=metric)


def funnel_definition(
    catalog: Catalog,
    *,
    name: str,
    steps: Sequence[Step],
    window: str,
    label: Label | None = None,
    description: str = "A funnel built in the app.",
) -> Definition:
    """A funnel of 2 to 10 steps (an event or events, an optional filter each) completed within ``window``."""
    if not 2 <= len(steps) <= MAX_STEPS:
        raise QueryError(f"a funnel needs 2 to {MAX_STEPS} steps, not {len(steps)}")
    _duration(window, "window")
    mapping: dict[str, Any] = {"name": name, "type": "funnel", "window": window}
    mapping["steps"] = [_match(catalog, step, f"step {k}") for k, step in enumerate(steps, start=1)]
    return metric_definition(catalog, {**mapping, **_common(name, label, description, "percent")})


def retention_definition(
    catalog: Catalog,
    *,
    name: str,
    cohort: Step,
    returning: Step,
    period: str = "day",
    periods: int = 30,
    mode: str = "exact",
    label: Label | None = None,
    description: str = "A retention built in the app.",
) -> Definition:
    """Cohorts by the first ``cohort`` event; retained when they do ``returning`` in period N (or after)."""
    if period not in RETENTION_PERIODS or mode not in RETENTION_MODES:
        raise QueryError(f"period must be one of {', '.join(RETENTION_PERIODS)} and mode {', '.join(RETENTION_MODES)}")
    mapping: dict[str, Any] = {
        "name": name,
        "type": "retention",
        "cohort": _match(catalog, cohort, "cohort"),
        "return": _match(catalog, returning, "return"),
        "period": period,
        "periods": int(periods),
        "mode": mode,
    }
    return metric_definition(catalog, {**mapping, **_common(name, label, description, "percent")})


def event_metric_definition(
    catalog: Catalog,
    *,
    name: str,
    aggregation: str,
    events: str | Sequence[str],
    filter_: str | None = None,
    expr: str | None = None,
    label: Label | None = None,
    description: str = "A metric built in the app.",
) -> Definition:
    """``aggregation`` (count, count_distinct users, sum, avg...) over the events named, with a filter."""
    if aggregation not in AGGREGATIONS:
        raise QueryError(f"aggregation must be one of {', '.join(AGGREGATIONS)}")
    names = check_events(events, "event")
    literals = ", ".join("'" + n.replace("'", "''") + "'" for n in names)
    condition = f"event IN ({literals})"
    checked = check_filter(catalog, filter_, "filter")
    mapping: dict[str, Any] = {"name": name, "type": aggregation}
    if expr is not None and str(expr).strip():
        mapping["expr"] = _expression(catalog, str(expr))
    mapping["filter"] = f"{condition} AND ({checked})" if checked else condition
    fmt = "cny" if aggregation in ("sum", "avg", "min", "max") else "number"
    return metric_definition(catalog, {**mapping, **_common(name, label, description, fmt)})


def _expression(catalog: Catalog, text: str) -> str:
    """A value to sum or average: a column of the events model (the only expressions the builder offers)."""
    if text.strip() not in catalog.models["events"].columns:
        raise QueryError(f"value: {text[:40]!r} is not a column of events")
    return text.strip()


def _duration(text: str, what: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as err:
        raise QueryError(f"{what}: {err}") from None


def with_metric(catalog: Catalog, metric: Metric) -> Catalog:
    """``catalog`` plus one more metric (an ad-hoc definition), for compiling queries of it."""
    return replace(catalog, metrics={**catalog.metrics, metric.name: metric})


def catalog_writable(root: str | Path, folder: str) -> bool:
    """Whether definitions may be saved into ``root/folder``: not switched off, and the folder writable."""
    if settings.catalog_read_only():
        return False
    target = Path(root) / folder
    return target.is_dir() and os.access(target, os.W_OK) if target.exists() else os.access(root, os.W_OK)


def save_definition(catalog: Catalog, definition: Definition, root: str | Path | None = None) -> Path:
    """Write ``definition`` as ``<root>/<folder>/saved_<name>.yml`` and check the catalog still loads.

    Raises:
        QueryError: the folder may not be written, the file exists, or the catalog no longer loads (the file is
            removed again).
    """
    from semantic.catalog.loader import load_catalog

    base = Path(root if root is not None else catalog.root or settings.metrics_root())
    if not catalog_writable(base, definition.folder):
        raise QueryError(f"{base / definition.folder} may not be written here; copy the YAML into it instead")
    path = base / definition.folder / f"{SAVED_PREFIX}{definition.name}.yml"
    if path.exists():
        raise QueryError(f"{path} already exists; pick another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.write_text(definition.text, encoding="utf-8")
    except OSError as err:
        raise QueryError(f"{path} could not be written ({err.strerror}); copy the YAML instead") from None
    try:
        load_catalog(base)
    except CatalogError as err:
        path.unlink(missing_ok=True)
        raise QueryError(f"saving would break the catalog: {str(err).splitlines()[0]}") from None
    return path
