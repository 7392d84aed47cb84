"""Typed segment specs: a tree of conditions on users, their behaviour and their scores.

A segment is a set of users of the users model, defined as of a day (see
``semantic/README.md`` § Segments for the exact meaning of every condition).
The tree's leaves are:

- :class:`UserCondition`: an attribute of the user (a users-model dimension or column);
- :class:`EventCondition`: did (or did not) do an event, with a filter, a count, a window
  and optionally a sum or average of a property compared with a value;
- :class:`FeatureCondition`: a computed per-user label: intent tier, preferred product type,
  lifecycle stage, RFM group;
- :class:`SegmentRef`: another named segment.

Inner nodes are :class:`AllOf`, :class:`AnyOf` and :class:`Not`. Every leaf is
true or false for every user, never unknown, so ``Not`` is the exact complement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlglot import exp

from semantic.catalog.expressions import did_you_mean
from semantic.catalog.specs import Label, Source


class SegmentCycle(ValueError):
    """A segment refers to itself, directly or through others; or to an unknown segment."""


USERS_MODEL, EVENTS_MODEL = "users", "events"  # segments select users of the one, by behaviour in the other
COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte")
USER_OPERATORS = (*COMPARISONS, "in", "not_in", "between", "is_null")
MEASURES = ("sum", "avg")
FEATURES = ("intent", "prefers", "lifecycle", "rfm")
MAX_EXPANDED_DEPTH = 24  # levels of a segment's tree with the segments it names put in


@dataclass(frozen=True)
class Window:
    """Which days of behaviour count: the last N days, a date range, or all history; never after "as of"."""

    last_days: int | None = None
    start: date | None = None
    end: date | None = None

    def bounds(self, as_of: date) -> tuple[date | None, date]:
        """Inclusive first and last day under ``as_of`` (first None: since the beginning)."""
        if self.last_days is not None:
            return as_of - timedelta(days=self.last_days - 1), as_of
        return self.start, min(self.end, as_of) if self.end is not None else as_of


@dataclass(frozen=True)
class UserCondition:
    """``attribute op values`` on the users model; NULL attributes never match (``is_null`` aside)."""

    attribute: str
    operator: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Measure:
    """``sum`` or ``avg`` of a numeric events column over the matching events, compared with a value."""

    function: str
    column: str
    operator: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class EventCondition:
    """Did (``negated``: did not) do one of ``events`` passing ``filter`` within ``window``.

    ``at_least`` (default 1) and ``at_most`` bound the number of matching events;
    ``measure`` also compares their sum or average of a column with a value.
    """

    events: tuple[str, ...]
    filter: exp.Expr | None
    negated: bool
    at_least: int
    at_most: int | None
    window: Window
    measure: Measure | None


@dataclass(frozen=True)
class FeatureCondition:
    """The user's computed label (``feature``) is one of ``values`` (intent tier, product type, stage, RFM group)."""

    feature: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class SegmentRef:
    """Members of another named segment."""

    name: str


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = UserCondition | EventCondition | FeatureCondition | SegmentRef | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Segment:
    """A named condition tree over the users of ``model``'s entity."""

    name: str
    label: Label
    description: str
    condition: Condition
    source: Source
    description_zh: str = field(default="", kw_only=True)  # when the YAML gives {zh, en}

    def described(self, language: str) -> str:
        return self.description_zh if language == "zh" and self.description_zh else self.description


def leaves(condition: Condition):
    """Every leaf of ``condition``, depth first."""
    if isinstance(condition, (AllOf, AnyOf)):
        for item in condition.items:
            yield from leaves(item)
    elif isinstance(condition, Not):
        yield from leaves(condition.item)
    else:
        yield condition


def expand(condition: Condition, segments: dict[str, Segment], seen: tuple[str, ...] = (), depth: int = 1) -> Condition:
    """``condition`` with every :class:`SegmentRef` replaced by the named segment's tree.

    Raises:
        SegmentCycle: a reference loops back (``a → b → a``), names no segment, or the
            expanded tree nests more than :data:`MAX_EXPANDED_DEPTH` levels.
    """
    if depth > MAX_EXPANDED_DEPTH:
        raise SegmentCycle(
            f"segment {seen[0] if seen else ''!r} nests more than {MAX_EXPANDED_DEPTH} levels once the segments it names are put in"
        )
    if isinstance(condition, SegmentRef):
        if condition.name in seen:
            raise SegmentCycle(f"segment {seen[0]!r} refers to itself through {' → '.join((*seen, condition.name))}")
        target = segments.get(condition.name)
        if target is None:
            raise SegmentCycle(f"unknown segment {condition.name!r}{did_you_mean(condition.name, segments)}")
        return expand(target.condition, segments, (*seen, condition.name), depth + 1)
    if isinstance(condition, (AllOf, AnyOf)):
        return type(condition)(tuple(expand(c, segments, seen, depth + 1) for c in condition.items))
    if isinstance(condition, Not):
        return Not(expand(condition.item, segments, seen, depth + 1))
    return condition
