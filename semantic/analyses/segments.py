"""Segments for callers: look one up or parse one, count its members, list them, export their ids.

``metrics/segments/*.yml`` segments load with the catalog (``catalog.segments``);
the app's builder and ``finlens segment --define`` parse the same structure
from text. Members are always "as of" a day: behaviour windows, scores and
stages are computed from the events up to the end of that day.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import Problems
from semantic.catalog.segment_parser import SegmentScope, parse_condition
from semantic.catalog.segment_specs import EVENTS_MODEL, USERS_MODEL, Segment
from semantic.catalog.specs import Label, Source
from semantic.catalog.yaml_lines import YamlProblem, load_yaml
from semantic.compiler import dialects
from semantic.compiler.context import cte, hoist_ctes, with_ctes
from semantic.compiler.segment import build_segment

CUSTOM = "custom"


def find_segment(catalog: Catalog, name: str) -> Segment:
    """The YAML segment called ``name``, or a QueryError with a did-you-mean."""
    segment = catalog.segments.get(name)
    if segment is None:
        known = ", ".join(sorted(catalog.segments)) or "none defined in metrics/segments/"
        raise QueryError(f"unknown segment {name!r}{did_you_mean(name, catalog.segments)}; segments: {known}")
    return segment


def parse_segment_text(catalog: Catalog, text: str, *, name: str = CUSTOM, file: str = "<segment>") -> Segment:
    """A segment from the text of one condition (YAML or JSON), as the builder and ``--define`` send it.

    Raises:
        QueryError: the first problem, as ``file:line: message``.
    """
    try:
        doc = load_yaml(text)
    except YamlProblem as err:
        raise QueryError(f"{file}:{err.line}: {err.message}") from None
    problems = Problems()
    scope = SegmentScope(catalog.models[USERS_MODEL], catalog.models[EVENTS_MODEL], catalog.dimensions)
    condition = parse_condition(doc, file, problems, scope, "segment", 1)
    if problems.items or condition is None:
        first = problems.items[0] if problems.items else None
        raise QueryError(str(first) if first else f"{file}: the segment has no condition")
    return Segment(
        name=name, label=Label(zh=name, en=name), description="", condition=condition, source=Source(file, 1)
    )


def resolve_segment(catalog: Catalog, segment: Segment | str) -> Segment:
    return find_segment(catalog, segment) if isinstance(segment, str) else segment


def segment_members(catalog: Catalog, segment: Segment | str, as_of: date, dialect: str = "duckdb") -> exp.Select:
    """``SELECT user_id`` of the segment's members as of ``as_of`` (for member lists, ids and filters)."""
    return build_segment(catalog, resolve_segment(catalog, segment), as_of, dialects.check_dialect(dialect))


def compile_segment_count(catalog: Catalog, segment: Segment | str, as_of: date, dialect: str = "duckdb") -> str:
    """SQL for the number of members."""
    ctes, body = hoist_ctes(segment_members(catalog, segment, as_of, dialect))
    count = exp.select(exp.alias_(exp.Count(this=exp.Star()), "users", copy=False)).from_(
        cte("segment_members"), copy=False
    )
    statement = with_ctes(count, [*ctes, ("segment_members", body)])
    statement = dialects.quote_reserved(dialects.adapt(statement, dialect))
    return statement.sql(dialect=dialect, pretty=True)


def segment_count(catalog: Catalog, segment: Segment | str, as_of: date, warehouse: Warehouse) -> int:
    return int(warehouse.query(compile_segment_count(catalog, segment, as_of, warehouse.dialect)).rows[0][0])
