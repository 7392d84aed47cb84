"""Parts of a model file: its dimensions (with value labels), its sessions settings and what in it is personal.

Split from :mod:`semantic.catalog.loader`, which reads the files and assembles the catalog.
"""

from __future__ import annotations

from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.specs import DIMENSION_TYPES, Dimension, Label, Model, SessionSettings, Source
from semantic.catalog.yaml_lines import LineList, LineMap

DIMENSION_KEYS = ("name", "expr", "type", "label", "description", "values", "value_labels")


def parse_pii(fields: Fields, what: str, columns: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``pii: {columns: [...], properties: [...]}``: what identifies a person, masked for roles without ``pii``."""
    mapping = fields.mapping_at("pii", required=False)
    if mapping is None:
        return (), ()
    pii = Fields(mapping, fields.file, fields.problems, f"{what} pii", ("columns", "properties"))
    found: dict[str, tuple[str, ...]] = {}
    for key in ("columns", "properties"):
        items = pii.list_at(key, required=False) or LineList()
        names = tuple(str(v) for v in items if isinstance(v, str) and v)
        if len(names) != len(items):
            pii.error(key, f"{what} pii: {key!r} must be a list of names")
        unknown = [n for n in names if key == "columns" and n not in columns]
        if unknown:
            pii.error(
                key, f"{what} pii: {unknown[0]!r} is not among the model's columns{did_you_mean(unknown[0], columns)}"
            )
        found[key] = names
    return found["columns"], found["properties"]


def parse_sessions(
    fields: Fields, file: str, problems: Problems, what: str, columns: dict[str, str]
) -> SessionSettings | None:
    mapping = fields.mapping_at("sessions", required=False)
    if mapping is None:
        return None
    session_fields = Fields(mapping, file, problems, f"{what} sessions", ("gap", "page_view", "click"))
    gap = session_fields.duration("gap", default="30m")
    page_view = session_fields.snippet("page_view", columns, required=True)
    click = session_fields.snippet("click", columns, required=True)
    if gap is None or page_view is None or click is None:
        return None
    return SessionSettings(gap_seconds=gap, page_view=page_view, click=click)


def parse_dimension(item: LineMap, file: str, problems: Problems, model: Model) -> Dimension | None:
    fields = Fields(item, file, problems, "dimension", DIMENSION_KEYS)
    name = fields.name()
    if name is None:
        return None
    fields.what = f"dimension {name!r}"
    expr = fields.snippet("expr", model.columns, required=True)
    dim_type = fields.choice("type", DIMENSION_TYPES, default="string")
    values = fields.raw("values")
    if values is not None and not isinstance(values, LineList):
        fields.error("values", f"dimension {name!r}: 'values' must be a list")
        values = None
    label = fields.label()
    value_labels = _value_labels(fields)
    if expr is None:
        return None
    return Dimension(
        name=name,
        model=model.name,
        expr=expr,
        type=dim_type or "string",
        label=label,
        description=fields.string("description", required=False, default="") or "",
        values=tuple(str(v) for v in values) if values is not None else None,
        source=Source(file, item.line),
        value_labels=value_labels,
    )


def _value_labels(fields: Fields) -> dict[str, Label]:
    """``value_labels: {p2p: {zh: 网贷理财, en: P2P}}``: how people read a dimension's values."""
    mapping = fields.mapping_at("value_labels", required=False)
    if mapping is None:
        return {}
    values = Fields(mapping, fields.file, fields.problems, f"{fields.what} value_labels", [str(v) for v in mapping])
    return {str(value): values.label(str(value)) for value in mapping}
