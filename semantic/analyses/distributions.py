"""Distributions of users over a date range: buckets of a per-user total, shares of a dimension, errors by cell.

Declared in ``metrics/marketing/distributions.yml``; each is answered by one SQL
statement (``semantic/sql_distributions.py``) over the events model. The range
(inclusive days) and ``where`` (over dimension names) select events first.

- **buckets** (``type: buckets``): each user's total over the range, the number of
  their events matching ``event``/``filter`` or, with ``amount``, the sum of that
  expression over them (rows with a NULL amount are not read). ``edges`` e1 < e2 < ...
  make buckets [e1, e2), [e2, e3), ..., [en, ∞): a total exactly on an edge belongs to
  the bucket that starts there. Users without a matching event have no total and are
  in no bucket; users whose total is below e1 are in no bucket either and are reported
  as ``below``. ``counted`` is the number of users in buckets; each bucket's ``share``
  is its users over ``counted`` (the shares sum to 1). Labels: for event counts with
  whole-number edges ``"1"``, ``"3-4"``, ``"100+"``; otherwise ``"[1000, 10000)"``, ``"500000+"``.
- **share** (``type: share``): every user with an event in the range whose ``dimension``
  is not NULL counts once, under the value of their *latest* such event (latest time,
  ties by the larger row key). ``counted`` is those users; shares sum to 1.
- **errors** (``type: errors``): per cell of the ``by`` dimensions (default page ×
  app_version, the values on the error event itself): ``errors`` (events matching
  ``event``/``filter``, with or without a user), ``users`` (distinct non-NULL users among
  them), ``page_views`` (events of the cell matching the events model's session
  ``page_view`` rule, with or without a user, as the ``pv`` metric counts) and
  ``error_rate`` = errors / page_views (NULL without page views). Cells without an error
  are not listed. ``counted`` is the error events in all cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlglot import exp

from finlens_common.errors import CatalogError, CatalogProblem
from semantic.analyses import distributions_sql as sql
from semantic.analyses.marketing_yaml import marketing_root, read_marketing_file
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.specs import FORMATS, Label, Source
from semantic.catalog.yaml_lines import LineMap

FILE = "distributions.yml"
KINDS = ("buckets", "share", "errors")
COMMON = ("name", "type", "label", "description")
KEYS = {
    "buckets": (*COMMON, "event", "filter", "amount", "edges", "format"),
    "share": (*COMMON, "dimension"),
    "errors": (*COMMON, "event", "filter", "by"),
}
DEFAULT_ERROR_BY = ("page", "app_version")


@dataclass(frozen=True)
class DistributionSpec:
    """One declared distribution; the fields of the other kinds stay empty."""

    name: str
    kind: str
    label: Label
    description: str
    source: Source
    events: tuple[str, ...] | None = None
    filter: exp.Expr | None = None
    amount: exp.Expr | None = None
    edges: tuple[float, ...] = ()
    format: str = "number"
    dimension: str | None = None
    by: tuple[str, ...] = ()
    description_zh: str = ""  # when the YAML gives {zh, en}

    def described(self, language: str) -> str:
        return self.description_zh if language == "zh" and self.description_zh else self.description

    def bucket_labels(self) -> list[str]:
        """``"1"``, ``"3-4"``, ``"100+"`` for whole-number event counts; ``"[a, b)"``, ``"a+"`` otherwise."""
        whole = self.amount is None and all(float(e).is_integer() for e in self.edges)
        labels = []
        for k, lower in enumerate(self.edges):
            upper = self.edges[k + 1] if k + 1 < len(self.edges) else None
            if upper is None:
                labels.append(f"{_number(lower)}+")
            elif whole:
                last = int(upper) - 1
                labels.append(f"{int(lower)}" if last == int(lower) else f"{int(lower)}-{last}")
            else:
                labels.append(f"[{_number(lower)}, {_number(upper)})")
        return labels


@dataclass(frozen=True)
class Distribution:
    """Rows of one distribution, how many users (or error events) they cover, and the SQL.

    ``below`` (buckets only): users with a total below the first edge, in no bucket.
    """

    name: str
    kind: str
    columns: list[str]
    rows: list[dict[str, Any]]
    counted: int
    below: int | None
    sql: str


# --- the YAML ----------------------------------------------------------------------------------------------------


def distribution_problems(
    catalog: Catalog, root: str | Path | None = None
) -> tuple[dict[str, DistributionSpec], list[CatalogProblem]]:
    """The distributions in ``marketing/distributions.yml`` (empty when absent) and every problem."""
    problems = Problems(catalog.allowed_functions)
    read = read_marketing_file(catalog, FILE, root, problems)
    if read is None:
        return {}, problems.items
    file, doc = read
    items = Fields(doc, file, problems, FILE, ("distributions",)).list_at("distributions")
    specs: dict[str, DistributionSpec] = {}
    for item, line in zip(items or [], items.item_lines if items else []):
        if not isinstance(item, LineMap):
            problems.add(file, line, "each entry under 'distributions' must be a mapping")
            continue
        spec = _parse(catalog, file, item, problems)
        if spec is None:
            continue
        if spec.name in specs:
            problems.add(
                file, item.line, f"duplicate distribution {spec.name!r} (first defined at {specs[spec.name].source})"
            )
            continue
        specs[spec.name] = spec
    return specs, problems.items


def load_distributions(catalog: Catalog, root: str | Path | None = None) -> dict[str, DistributionSpec]:
    """Every declared distribution by name.

    Raises:
        CatalogError: every problem as ``file:line: message`` (a missing file is one too).
    """
    specs, problems = distribution_problems(catalog, root)
    if not specs and not problems and not (marketing_root(catalog, root) / FILE).is_file():
        problems = [
            CatalogProblem(
                str(marketing_root(catalog, root) / FILE), 0, "file not found: declare the distributions here"
            )
        ]
    if problems:
        raise CatalogError(problems)
    return specs


def _parse(catalog: Catalog, file: str, item: LineMap, problems: Problems) -> DistributionSpec | None:
    written_kind = str(item.get("type", "")).lower()
    fields = Fields(
        item,
        file,
        problems,
        "distribution",
        KEYS.get(written_kind, (*COMMON, *sorted({k for keys in KEYS.values() for k in keys}))),
    )
    name = fields.name()
    what = fields.what = f"distribution {name!r}" if name else "distribution"
    kind = fields.choice("type", KINDS)
    if name is None or kind is None:
        return None
    columns = catalog.models[sql.MODEL].columns
    usable = [d.name for d in catalog.dimensions_for(sql.MODEL)]
    before = len(problems.items)
    description, description_zh = fields.description()
    common: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "source": Source(file, item.line),
        "description": description,
        "description_zh": description_zh,
    }
    if kind == "buckets":
        events = fields.event_names() if fields.has("event") else None
        spec = DistributionSpec(
            **common,
            label=fields.label(),
            events=events,
            filter=_snippet(fields, "filter", columns),
            amount=_snippet(fields, "amount", columns),
            edges=_edges(fields, what),
            format=fields.choice("format", FORMATS, default="number") or "number",
        )
    elif kind == "share":
        dimension = fields.string("dimension")
        if dimension is not None and dimension not in usable:
            fields.error("dimension", f"{what}: unknown dimension {dimension!r}{did_you_mean(dimension, usable)}")
        label = (
            fields.label()
            if fields.has("label")
            else (catalog.dimensions[dimension].label if dimension in catalog.dimensions else Label("", ""))
        )
        spec = DistributionSpec(**common, label=label, dimension=dimension)
    else:
        events = fields.event_names() if fields.has("event") else ("app_error",)
        by = _names(fields, "by", usable, what) if fields.has("by") else DEFAULT_ERROR_BY
        if catalog.models[sql.MODEL].sessions is None:
            fields.error("type", f"{what}: the events model declares no sessions page_view rule to count page views by")
        spec = DistributionSpec(
            **common, label=fields.label(), events=events, filter=_snippet(fields, "filter", columns), by=by
        )
    return spec if len(problems.items) == before else None


def _snippet(fields: Fields, key: str, columns: dict[str, str]) -> exp.Expr | None:
    return fields.snippet(key, columns)


def _edges(fields: Fields, what: str) -> tuple[float, ...]:
    items = fields.list_at("edges")
    if items is None:
        return ()
    if not items or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        fields.error("edges", f"{what}: 'edges' must be a non-empty list of numbers, e.g. [1, 2, 3, 5, 10]")
        return ()
    if any(b <= a for a, b in pairwise(items)):
        fields.error("edges", f"{what}: 'edges' must increase strictly, got {list(items)}")
        return ()
    if items[0] <= 0:
        fields.error(
            "edges",
            f"{what}: the first edge must be above 0 (users with a zero total are in no bucket), got {items[0]}",
        )
        return ()
    return tuple(items)


def _names(fields: Fields, key: str, usable: list[str], what: str) -> tuple[str, ...]:
    items = fields.list_at(key)
    if not items or not all(isinstance(v, str) for v in items):
        fields.error(key, f"{what}: {key!r} must be a non-empty list of dimension names")
        return ()
    for name in items:
        if name not in usable:
            fields.error(key, f"{what}: unknown dimension {name!r}{did_you_mean(name, usable)}")
    return tuple(items)


def _number(value: float) -> str:
    return f"{value:g}" if not float(value).is_integer() else str(int(value))
