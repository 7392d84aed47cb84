"""Compare the warehouse's events with the tracking plan: one row per (event, property, kind of violation).

Kinds: ``unknown_event`` (an event the plan does not declare), ``missing`` (a
required property NULL or absent), ``wrong_type`` (a JSON property of another type, or
a fraction where an integer is planned), ``not_allowed`` (a value outside the plan's
list), ``wrong_business_line`` (a prefixed event whose column disagrees with the plan's prefix rule).
A property is the ``events`` column of that name when there is one, else the key in
``properties``. One scan per planned event, with a filtered count and an example value
per check; every statement is built with sqlglot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlglot import exp

from connectors.base import Warehouse
from ingest.schema import EVENTS_COLUMNS, EVENTS_TABLE
from ingest.tracking import PlannedProperty, TrackingPlan

_COLUMN_TYPES = {name: sql_type for name, sql_type, _ in EVENTS_COLUMNS}
_JSON_TYPES = {
    "string": ("VARCHAR",),
    "number": ("BIGINT", "UBIGINT", "DOUBLE"),
    "integer": ("BIGINT", "UBIGINT"),
    "boolean": ("BOOLEAN",),
}


@dataclass(frozen=True)
class Violation:
    event: str
    property: str | None
    kind: str
    count: int
    example: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _checks(prop: PlannedProperty) -> list[tuple[str, exp.Expr, exp.Expr]]:
    """(kind, condition, example value) for one planned property."""
    checks: list[tuple[str, exp.Expr, exp.Expr]] = []
    text: exp.Expr
    absent: exp.Expr
    typed_ok: exp.Expr
    if prop.name in _COLUMN_TYPES:
        value: exp.Expr = exp.column(prop.name)
        text = exp.cast(value.copy(), "VARCHAR")
        absent = value.copy().is_(exp.null())
        if prop.type == "integer" and _COLUMN_TYPES[prop.name] == "DOUBLE":
            checks.append(
                (
                    "wrong_type",
                    exp.and_(absent.copy().not_(), value.copy().neq(exp.func("floor", value.copy()))),
                    text.copy(),
                )
            )
        typed_ok = absent.copy().not_()
    else:
        path = exp.convert(f'$."{prop.name}"')
        kind = exp.func("json_type", exp.column("properties"), path)
        text = exp.func("json_extract_string", exp.column("properties"), path.copy())
        absent = exp.or_(kind.copy().is_(exp.null()), kind.copy().eq(exp.convert("NULL")))
        allowed = exp.convert(list(_JSON_TYPES[prop.type]))
        bad = exp.and_(absent.copy().not_(), exp.Not(this=exp.paren(kind.copy().isin(*allowed.expressions))))
        checks.append(("wrong_type", bad, exp.func("json_extract", exp.column("properties"), path.copy())))
        typed_ok = exp.and_(absent.copy().not_(), exp.Not(this=exp.paren(bad.copy())))
    if prop.required:
        checks.append(("missing", absent, exp.null()))
    if prop.values:
        outside = exp.Not(this=exp.paren(text.copy().isin(*[exp.convert(_text(v)) for v in prop.values])))
        checks.append(("not_allowed", exp.and_(typed_ok, outside), text.copy()))
    return checks


def check_tracking(warehouse: Warehouse, plan: TrackingPlan, *, event: str | None = None) -> list[Violation]:
    """Every violation of ``plan`` in ``warehouse``'s events (only ``event``'s when given), worst first."""
    dialect = warehouse.dialect
    found: list[Violation] = []
    names = list(plan.events)
    unknown = (
        exp.select("event", exp.Count(this=exp.Star()).as_("n"))
        .from_(EVENTS_TABLE)
        .where(
            exp.Not(this=exp.paren(exp.column("event").isin(*[exp.convert(n) for n in names]))) if names else exp.true()
        )
        .group_by("event")
    )
    if event is not None:
        unknown = unknown.where(exp.column("event").eq(exp.convert(event)))
    for name, count in warehouse.query(unknown.sql(dialect=dialect)).rows:
        found.append(Violation(name, None, "unknown_event", int(count), name))
    for planned in plan.events.values():
        if event is not None and planned.name != event:
            continue
        checks: list[tuple[str | None, str, exp.Expr, exp.Expr]] = [
            (prop.name, *check) for prop in planned.properties for check in _checks(prop)
        ]
        line = exp.column("business_line")
        expected = exp.convert(plan.business_line(planned.name))
        if any(planned.name.startswith(prefix) for prefix, _ in plan.prefixes):  # unprefixed events may vary
            checks.append(
                (
                    None,
                    "wrong_business_line",
                    exp.and_(line.copy().is_(exp.null()).not_(), line.neq(expected)),
                    line.copy(),
                )
            )
        if not checks:
            continue
        selects = []
        for i, (_, _, condition, example) in enumerate(checks):
            selects.append(
                exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=condition.copy())).as_(f"n{i}")
            )
            selects.append(
                exp.Filter(
                    this=exp.Min(this=exp.cast(example.copy(), "VARCHAR")), expression=exp.Where(this=condition.copy())
                ).as_(f"x{i}")
            )
        query = exp.select(*selects).from_(EVENTS_TABLE).where(exp.column("event").eq(exp.convert(planned.name)))
        (row,) = warehouse.query(query.sql(dialect=dialect)).rows
        for i, (prop_name, kind, _, _) in enumerate(checks):
            if row[2 * i]:
                found.append(Violation(planned.name, prop_name, kind, int(row[2 * i]), row[2 * i + 1]))
    return sorted(found, key=lambda v: (-v.count, v.event, v.property or "", v.kind))
