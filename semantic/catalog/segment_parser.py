"""Read segments from YAML (``metrics/segments/*.yml``) or from the app's builder into typed specs.

Both sources go through the same parser: the builder sends the same
structure as JSON (which is YAML), so a segment built by clicking can be
saved as a file unchanged. Every problem is collected with its ``file:line``.

A condition is one mapping; its kind is given by its first key:

``all: [..]`` / ``any: [..]`` / ``not: {..}``
    AND, OR and NOT of nested conditions.
``user: ATTRIBUTE`` with one of ``eq ne gt gte lt lte in not_in between is_null``
    a users-model dimension or column (``register_time``, ``register_channel``, ``user_province``).
``did: EVENT`` / ``did_not: EVENT`` (a name or a list)
    with optional ``filter`` (over events dimensions and columns), ``at_least``, ``at_most``,
    ``last_days`` or ``during: [first_day, last_day]``, and ``sum: COLUMN`` / ``avg: COLUMN``
    with one of ``eq ne gt gte lt lte between``.
``intent: TIER`` / ``prefers: TYPE`` / ``lifecycle: STAGE`` / ``rfm: GROUP`` (a value or a list)
    a computed per-user label (see ``metrics/marketing/``).
``segment: NAME``
    the members of another segment.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Literal

from semantic.catalog.days import DayError, as_day
from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expressions import SnippetError, did_you_mean
from semantic.catalog.fields import MAX_DAYS, Fields, Problems
from semantic.catalog.segment_specs import (
    COMPARISONS,
    FEATURES,
    MEASURES,
    USER_OPERATORS,
    AllOf,
    AnyOf,
    Condition,
    EventCondition,
    FeatureCondition,
    Measure,
    Not,
    Segment,
    SegmentRef,
    UserCondition,
    Window,
)
from semantic.catalog.specs import Model, Source
from semantic.catalog.yaml_lines import LineList, LineMap

SEGMENT_KEYS = ("name", "label", "description", "where")
MAX_DEPTH = 10  # all/any/not inside each other
MAX_ITEMS = 100  # conditions in one all/any
MAX_VALUES = 1000  # values in one in/not_in list
EVENT_KEYS = (
    "did",
    "did_not",
    "filter",
    "at_least",
    "at_most",
    "last_days",
    "during",
    *MEASURES,
    *COMPARISONS,
    "between",
)
NUMERIC_TYPES = ("double", "float", "integer", "bigint", "int", "decimal", "real", "number")
TIME_TYPES = ("timestamp", "date")


class SegmentScope:
    """What segment conditions may name: the users model's attributes and the events model's fields."""

    def __init__(self, users: Model, events: Model, dimensions: dict) -> None:
        self.users = users
        self.events = events
        self.user_attributes = {
            **{n: t for n, t in users.columns.items()},
            **{d.name: d.type for d in dimensions.values() if d.model == users.name},
        }
        self.event_fields = [*events.columns, *(d.name for d in dimensions.values() if d.model == events.name)]
        self.numeric_columns = [n for n, t in events.columns.items() if t.lower() in NUMERIC_TYPES]
        self.boolean_fields = {
            *(n for n, t in events.columns.items() if t.lower() == "boolean"),
            *(d.name for d in dimensions.values() if d.model == events.name and d.type == "boolean"),
        }

    def is_time(self, attribute: str) -> bool:
        kind = self.user_attributes.get(attribute, "")
        return kind.lower() in (*TIME_TYPES, "time")


def parse_segment(item: LineMap, file: str, problems: Problems, scope: SegmentScope) -> Segment | None:
    """One segment mapping (name, label, description, where) → :class:`Segment` or None after reporting."""
    fields = Fields(item, file, problems, "segment", SEGMENT_KEYS)
    name = fields.name()
    if name is None:
        return None
    fields.what = f"segment {name!r}"
    label = fields.label()
    description, description_zh = fields.description()
    where = fields.mapping_at("where")
    if where is None:
        return None
    condition = parse_condition(where, file, problems, scope, fields.what)
    if condition is None:
        return None
    return Segment(
        name=name,
        label=label,
        description=description,
        condition=condition,
        source=Source(file, item.line),
        description_zh=description_zh,
    )


def parse_condition(
    node: Any, file: str, problems: Problems, scope: SegmentScope, what: str, line: int = 0, depth: int = 1
) -> Condition | None:
    """One condition mapping; reports at its line and returns None when it is unusable."""
    if not isinstance(node, LineMap) or not node:
        problems.add(
            file,
            getattr(node, "line", line),
            f"{what}: a condition must be a mapping such as {{did: register}} or {{all: [...]}}",
        )
        return None
    if depth > MAX_DEPTH:
        problems.add(
            file,
            node.line,
            f"{what}: conditions nest more than {MAX_DEPTH} levels deep; flatten them or name a part as a segment",
        )
        return None
    kind = next(iter(node))
    if kind in ("all", "any"):
        return _group(node, kind, file, problems, scope, what, depth)
    if kind == "not":
        Fields(node, file, problems, what, ("not",))
        inner = parse_condition(node["not"], file, problems, scope, f"{what} not", node.line_of("not"), depth + 1)
        return Not(inner) if inner is not None else None
    if kind == "user":
        return _user(node, file, problems, scope, what)
    if kind in ("did", "did_not"):
        return _event(node, kind, file, problems, scope, what)
    if kind in FEATURES:
        Fields(node, file, problems, what, (kind,))
        values = _strings(node, kind, file, problems, what)
        return FeatureCondition(kind, values) if values else None
    if kind == "segment":
        fields = Fields(node, file, problems, what, ("segment",))
        name = fields.string("segment")
        return SegmentRef(name) if name else None
    kinds = ["all", "any", "not", "user", "did", "did_not", *FEATURES, "segment"]
    problems.add(
        file,
        node.line_of(kind),
        f"{what}: unknown condition {kind!r}{did_you_mean(str(kind), kinds)}; start with one of {', '.join(kinds)}",
    )
    return None


def _group(
    node: LineMap, kind: str, file: str, problems: Problems, scope: SegmentScope, what: str, depth: int
) -> Condition | None:
    fields = Fields(node, file, problems, what, (kind,))
    items = fields.list_at(kind)
    if items is None:
        return None
    if not items:
        fields.error(kind, f"{what}: {kind!r} needs at least one condition")
        return None
    if len(items) > MAX_ITEMS:
        fields.error(kind, f"{what}: {kind!r} holds {len(items)} conditions; at most {MAX_ITEMS}")
        return None
    parsed = [
        parse_condition(item, file, problems, scope, f"{what} {kind}[{i + 1}]", items.item_lines[i], depth + 1)
        for i, item in enumerate(items)
    ]
    conditions = tuple(p for p in parsed if p is not None)
    if len(conditions) < len(parsed):
        return None
    return (AllOf if kind == "all" else AnyOf)(conditions)


def _user(node: LineMap, file: str, problems: Problems, scope: SegmentScope, what: str) -> Condition | None:
    fields = Fields(node, file, problems, what, ("user", *USER_OPERATORS))
    attribute = fields.string("user")
    if attribute is None:
        return None
    if attribute not in scope.user_attributes:
        fields.error(
            "user",
            f"{what}: unknown user attribute {attribute!r}{did_you_mean(attribute, scope.user_attributes)}; "
            f"use a column or dimension of model {scope.users.name!r}",
        )
        return None
    operators = [key for key in node if key in USER_OPERATORS]
    if len(operators) != 1:
        fields.error(
            "user", f"{what}: give exactly one of {', '.join(USER_OPERATORS)} for user attribute {attribute!r}"
        )
        return None
    operator = operators[0]
    values = _operands(node, operator, file, problems, what, time=scope.is_time(attribute))
    return UserCondition(attribute, operator, values) if values is not None else None


def _event(node: LineMap, kind: str, file: str, problems: Problems, scope: SegmentScope, what: str) -> Condition | None:
    fields = Fields(node, file, problems, what, EVENT_KEYS)
    if "did" in node and "did_not" in node:
        fields.error("did_not", f"{what}: use either 'did' or 'did_not', not both")
        return None
    events = fields.event_names(kind)
    negated = kind == "did_not"
    condition_filter = None
    if fields.has("filter"):
        if not isinstance(node["filter"], str):
            fields.error("filter", f"{what}: 'filter' must be a SQL condition written as text")
            return None
        text = node["filter"].strip()
        if text in scope.boolean_fields:
            text = f"{text} = TRUE"  # a bare boolean field, as metric filters allow
        try:
            condition_filter = parse_user_filter(text, scope.event_fields)
        except SnippetError as err:
            fields.error("filter", f"{what}: {err}")
            return None
    at_least = fields.integer("at_least", default=1, minimum=0)
    at_most = fields.integer("at_most", default=None, minimum=0) if fields.has("at_most") else None
    if at_least is not None and at_most is not None and at_most < at_least:
        fields.error("at_most", f"{what}: at_most ({at_most}) is below at_least ({at_least})")
    window = _window(fields, file, problems, what)
    measure = _measure(node, fields, file, problems, scope, what)
    if negated and any(fields.has(k) for k in ("at_least", "at_most", *MEASURES)):
        fields.error(
            kind, f"{what}: 'did_not' takes no at_least, at_most, sum or avg (it means no matching event at all)"
        )
        return None
    if events is None or at_least is None or window is None or measure is False:
        return None
    return EventCondition(
        events=events,
        filter=condition_filter,
        negated=negated,
        at_least=at_least,
        at_most=at_most,
        window=window,
        measure=measure or None,
    )


def _window(fields: Fields, file: str, problems: Problems, what: str) -> Window | None:
    if fields.has("last_days") and fields.has("during"):
        fields.error("during", f"{what}: use either 'last_days' or 'during', not both")
        return None
    if fields.has("last_days"):
        days = fields.integer("last_days", maximum=MAX_DAYS)
        return Window(last_days=days) if days is not None else None
    if fields.has("during"):
        bounds = _operands(fields.mapping, "during", file, problems, what, time=True, pair=True)
        if bounds is None:
            return None
        return Window(start=bounds[0], end=bounds[1])
    return Window()


def _measure(
    node: LineMap, fields: Fields, file: str, problems: Problems, scope: SegmentScope, what: str
) -> Measure | Literal[False] | None:
    """The sum/avg comparison, None without one, False after reporting a problem."""
    functions = [key for key in MEASURES if key in node]
    comparisons = [key for key in (*COMPARISONS, "between") if key in node]
    if not functions:
        if comparisons:
            fields.error(
                comparisons[0], f"{what}: {comparisons[0]!r} compares a 'sum' or 'avg'; add one, e.g. sum: amount"
            )
            return False
        return None
    if len(functions) > 1 or len(comparisons) != 1:
        fields.error(
            functions[0], f"{what}: give one of sum/avg and exactly one of {', '.join((*COMPARISONS, 'between'))}"
        )
        return False
    column = fields.string(functions[0])
    if column not in scope.numeric_columns:
        fields.error(
            functions[0],
            f"{what}: {functions[0]} needs a numeric column of {scope.events.name!r}, not {column!r}"
            f"{did_you_mean(str(column), scope.numeric_columns)}; numeric: {', '.join(scope.numeric_columns)}",
        )
        return False
    values = _operands(node, comparisons[0], file, problems, what, time=False, pair=comparisons[0] == "between")
    if values is None:
        return False
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        fields.error(comparisons[0], f"{what}: {comparisons[0]!r} of a {functions[0]} must be a number")
        return False
    return Measure(functions[0], column, comparisons[0], tuple(float(v) for v in values))


def _operands(
    node: LineMap, operator: str, file: str, problems: Problems, what: str, *, time: bool, pair: bool = False
) -> tuple | None:
    """The value(s) of ``operator``: one scalar, a list (in/not_in), two (between/during), a boolean (is_null)."""
    value = node[operator]
    line = node.line_of(operator)
    if operator == "is_null":
        if not isinstance(value, bool):
            problems.add(file, line, f"{what}: is_null must be true or false")
            return None
        return (value,)
    if operator in ("in", "not_in"):
        if not isinstance(value, LineList) or not value:
            problems.add(file, line, f"{what}: {operator!r} needs a non-empty list of values")
            return None
        items = list(value)
    elif pair or operator == "between":
        if not isinstance(value, LineList) or len(value) != 2:
            problems.add(file, line, f"{what}: {operator!r} needs two values: [low, high]")
            return None
        items = list(value)
    else:
        if isinstance(value, (LineList, LineMap)) or value is None:
            problems.add(file, line, f"{what}: {operator!r} needs one value, not {type(value).__name__}")
            return None
        items = [value]
    if len(items) > MAX_VALUES:
        problems.add(file, line, f"{what}: {operator!r} lists {len(items)} values; at most {MAX_VALUES}")
        return None
    if time:
        days = [_day(v) for v in items]
        if any(d is None for d in days):
            problems.add(
                file,
                line,
                f"{what}: {operator!r} needs days written YYYY-MM-DD between 1900-01-01 and 2200-12-31, not {str(items)[:80]}",
            )
            return None
        items = days
    bad = next((v for v in items if not _plain_value(v)), _NONE)
    if bad is not _NONE:
        problems.add(
            file, line, f"{what}: {operator!r} takes plain text, numbers, true/false or days, not {str(bad)[:40]!r}"
        )
        return None
    if (pair or operator == "between") and len({_kind(v) for v in items}) > 1:
        problems.add(file, line, f"{what}: {operator!r} needs two values of the same kind, not {str(items)[:80]}")
        return None
    if (pair or operator == "between") and items[0] > items[1]:
        problems.add(file, line, f"{what}: {operator!r} starts ({items[0]}) after it ends ({items[1]})")
        return None
    return tuple(items)


_NONE = object()


def _plain_value(value: Any) -> bool:
    """A value a condition may compare with: text, a finite number within 64 bits, true/false, a day."""
    if isinstance(value, bool) or isinstance(value, date):
        return True
    if isinstance(value, int):
        return value.bit_length() <= 63
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and len(value) <= 1000 and "\x00" not in value


def _kind(value: Any) -> str:
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def _day(value: Any) -> date | None:
    try:
        return as_day(value)
    except DayError:
        return None


def _strings(node: LineMap, key: str, file: str, problems: Problems, what: str) -> tuple[str, ...]:
    value = node[key]
    items = list(value) if isinstance(value, LineList) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        problems.add(file, node.line_of(key), f"{what}: {key!r} needs a name or a list of names")
        return ()
    return tuple(items)
