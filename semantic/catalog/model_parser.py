"""One file of ``metrics/models/*.yml``: a model, its columns, joins, personal-data columns, session rules and
dimensions, every problem reported at its ``file:line``."""

from __future__ import annotations

from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.specs import DIMENSION_TYPES, Dimension, Join, Label, Model, SessionSettings, Source
from semantic.catalog.yaml_lines import LineList, LineMap

# Where the definitions sit: file -> line of each entry (a metric, dimension or segment); a model file's
# own keys are at line 0. ``semantic/catalog/partial.py`` blames a problem on the entry it falls in.
Entries = dict[str, list[int]]

MODEL_KEYS = (
    "model",
    "table",
    "label",
    "description",
    "entity",
    "primary_key",
    "time_column",
    "event_column",
    "columns",
    "joins",
    "sessions",
    "dimensions",
    "pii",
)
DIMENSION_KEYS = ("name", "expr", "type", "label", "description", "values", "value_labels")


def parse_model_file(
    file: str,
    doc: LineMap,
    problems: Problems,
    models: dict[str, Model],
    dimensions: dict[str, Dimension],
    skip: frozenset[tuple[str, int]] = frozenset(),
    entries: Entries | None = None,
) -> None:
    fields = Fields(doc, file, problems, "model", MODEL_KEYS)
    name = fields.name("model")
    if name is None:
        return
    what = f"model {name!r}"
    fields.what = what
    if name in models:
        fields.error("model", f"duplicate model name {name!r} (first defined at {models[name].source})")
        return
    columns_map = fields.mapping_at("columns")
    columns = {str(k): str(v) for k, v in (columns_map or {}).items()}
    entity = fields.string("entity")
    primary_key = fields.string("primary_key", required=False, default=entity)
    time_column = fields.string("time_column", required=False)
    event_column = fields.string("event_column", required=False, default="event" if "event" in columns else None)
    for key, value in (
        ("entity", entity),
        ("primary_key", primary_key),
        ("time_column", time_column),
        ("event_column", event_column),
    ):
        if value is not None and columns and value not in columns:
            fields.error(key, f"{what}: {key} {value!r} is not among the model's columns")
    joins = _parse_joins(fields, file, problems, what, columns)
    sessions = _parse_sessions(fields, file, problems, what, columns)
    pii_columns, pii_properties = _parse_pii(fields, what, columns)
    model = Model(
        name=name,
        table=fields.string("table") or name,
        entity=entity or "",
        primary_key=primary_key or "",
        time_column=time_column,
        event_column=event_column,
        columns=columns,
        joins=joins,
        sessions=sessions,
        label=fields.label(),
        source=Source(file, doc.line),
        pii_columns=pii_columns,
        pii_properties=pii_properties,
    )
    models[name] = model
    items = fields.list_at("dimensions", required=False) or LineList()
    if entries is not None:
        entries[file] = list(getattr(items, "item_lines", []))
    for item, line in zip(items, getattr(items, "item_lines", [])):
        if not isinstance(item, LineMap):
            problems.add(file, line, f"{what}: each dimension must be a mapping")
            continue
        if (file, item.line) in skip:
            continue
        dimension = _parse_dimension(item, file, problems, model)
        if dimension is None:
            continue
        if dimension.name in dimensions:
            problems.add(
                file,
                item.line,
                f"duplicate dimension name {dimension.name!r} (first defined at {dimensions[dimension.name].source})",
            )
            continue
        dimensions[dimension.name] = dimension


def _parse_joins(fields: Fields, file: str, problems: Problems, what: str, columns: dict[str, str]) -> tuple[Join, ...]:
    joins = []
    items = fields.list_at("joins", required=False) or LineList()
    for item, line in zip(items, getattr(items, "item_lines", [])):
        if not isinstance(item, LineMap):
            problems.add(file, line, f"{what}: each join must be a mapping")
            continue
        join_fields = Fields(
            item, file, problems, f"{what} join", ("model", "foreign_key", "primary_key", "relationship")
        )
        target = join_fields.string("model")
        foreign_key = join_fields.string("foreign_key")
        relationship = join_fields.choice("relationship", ("many_to_one",), default="many_to_one")
        if foreign_key and columns and foreign_key not in columns:
            join_fields.error(
                "foreign_key", f"{what} join: foreign_key {foreign_key!r} is not among the model's columns"
            )
        if target and foreign_key and relationship:
            joins.append(
                Join(
                    model=target,
                    foreign_key=foreign_key,
                    primary_key=join_fields.string("primary_key", required=False) or "",
                )
            )
    return tuple(joins)


def _parse_pii(fields: Fields, what: str, columns: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
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


def _parse_sessions(
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


def _parse_dimension(item: LineMap, file: str, problems: Problems, model: Model) -> Dimension | None:
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
