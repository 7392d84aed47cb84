"""The tracking plan (``metrics/tracking_plan.yml``): events, their properties, types, allowed values, owners.

Loading reports every mistake at once as ``file:line: message`` (a CatalogError,
exit status 1), like the metric catalog. :mod:`ingest.tracking_check` compares
the warehouse with the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finlens_common import settings
from finlens_common.errors import CatalogError, CatalogProblem
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.yaml_lines import LineList, LineMap, YamlProblem, load_yaml, read_yaml_text

TYPES = ("string", "number", "integer", "boolean")
# names become SQL identifiers and JSON paths in the checks, so only plain names are planned
PROPERTY_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]{0,99}$")


@dataclass(frozen=True)
class PlannedProperty:
    name: str
    type: str
    required: bool = False
    values: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class PlannedEvent:
    name: str
    owner: str | None
    properties: tuple[PlannedProperty, ...] = ()


@dataclass(frozen=True)
class TrackingPlan:
    owner: str
    prefixes: tuple[tuple[str, str], ...]
    events: dict[str, PlannedEvent]

    def business_line(self, event: str) -> str:
        """The business line the plan's prefix rules give ``event`` (``platform`` when none matches)."""
        return next((line for prefix, line in self.prefixes if event.startswith(prefix)), "platform")


def load_plan(path: str | Path | None = None) -> TrackingPlan:
    """Read and check the plan at ``path`` (default ``metrics/tracking_plan.yml``)."""
    path = Path(path) if path else settings.tracking_plan_path()
    file = str(path)
    try:
        doc = load_yaml(read_yaml_text(path))
    except YamlProblem as err:
        raise CatalogError([CatalogProblem(file, err.line, f"cannot read the tracking plan: {err.message}")]) from None
    problems = Problems()
    if not isinstance(doc, LineMap):
        raise CatalogError([CatalogProblem(file, 1, "the tracking plan must be a mapping with owner and events")])
    top = Fields(doc, file, problems, "tracking plan", ["owner", "business_lines", "events"])
    owner = top.string("owner") or ""
    prefixes = []
    for item, _ in _items(
        doc.get("business_lines"), doc.line_of("business_lines"), file, problems, "business_lines", required=False
    ):
        rule = Fields(item, file, problems, "business line rule", ["prefix", "business_line"])
        prefix, business_line = rule.string("prefix"), rule.string("business_line")
        if prefix and business_line:
            prefixes.append((prefix, business_line))
    events: dict[str, PlannedEvent] = {}
    for item, _ in _items(doc.get("events"), doc.line_of("events"), file, problems, "events"):
        fields = Fields(item, file, problems, "event", ["name", "owner", "properties", "description"])
        name = fields.string("name")
        what = f"event {name!r}"
        if name in events:
            fields.error("name", f"{what} is declared twice")
        props = []
        for prop, _ in _items(
            item.get("properties"), item.line_of("properties"), file, problems, f"{what}: properties", required=False
        ):
            p = Fields(prop, file, problems, f"{what}: property", ["name", "type", "required", "values", "description"])
            kind = p.choice("type", TYPES)
            required = prop.get("required", False)
            if not isinstance(required, bool):
                p.error("required", f"{what}: property 'required' must be true or false")
            values = prop.get("values")
            if values is not None and not isinstance(values, LineList):
                p.error("values", f"{what}: property 'values' must be a list")
                values = None
            prop_name = p.string("name")
            if prop_name and not PROPERTY_NAME.match(prop_name):
                p.error(
                    "name", f"{what}: property name {prop_name[:40]!r} must be letters, digits, _ or $ (at most 100)"
                )
                prop_name = None
            if prop_name and kind:
                props.append(PlannedProperty(prop_name, kind, required is True, tuple(values) if values else None))
        if name:
            events[name] = PlannedEvent(name, fields.string("owner", required=False) or owner, tuple(props))
    if problems.items:
        raise CatalogError(problems.items)
    return TrackingPlan(owner, tuple(prefixes), events)


def _items(value: Any, line: int, file: str, problems: Problems, what: str, *, required: bool = True):
    """The mappings of a YAML list, reporting anything else at its line."""
    if value is None:
        if required:
            problems.add(file, line, f"tracking plan: {what} is missing")
        return
    if not isinstance(value, LineList):
        problems.add(file, line, f"tracking plan: {what} must be a list")
        return
    for item, item_line in zip(value, value.item_lines):
        if isinstance(item, LineMap):
            yield item, item_line
        else:
            problems.add(file, item_line, f"tracking plan: each of {what} must be a mapping")
