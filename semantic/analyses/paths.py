"""User paths: what users did after (or before) an event, as flows of consecutive events inside sessions.

A path analysis is declared in ``metrics/paths/*.yml`` (``paths: [...]``), built
in the app or given at the command line (``finlens paths --start EVENT``). Its
exact meaning (sessions, collapsed repeats, pages, the top branches and
``other``, the anchor of each mode) is in ``semantic/README.md`` § Paths; the
SQL is in :mod:`semantic.analyses.paths_sql`.

- ``start: {event, filter}``: paths from the first such event of each session, forward;
- ``end: {event, filter}``: paths to the first such event of each session, backward;
- ``after: FUNNEL:STEP``: paths from the step STEP-1 event (on the deepest path) of the
  users who reached step STEP-1 of the funnel but not step STEP, forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from finlens_common.errors import CatalogError, CatalogProblem, QueryError
from semantic.catalog.catalog import Catalog
from semantic.catalog.definitions import Definition, check_events, check_filter
from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.loader import read_yaml_folder
from semantic.catalog.specs import FunnelMetric, Label, Source
from semantic.catalog.yaml_lines import LineMap, YamlProblem, load_yaml

FOLDER = "paths"
MODES = ("start", "end", "after")
KEYS = ("name", "label", "description", *MODES, "steps", "by_page", "top")
DEFAULT_STEPS, MIN_STEPS, MAX_STEPS = 5, 2, 10
DEFAULT_TOP, MAX_TOP = 10, 50
MAX_EVENT_NAME = 100
OTHER = "other"  # the node every branch outside a step's top ones is shown as
PAGE_PREFIX = "page:"  # page views named by page: "page:product_list"
CLICK_PREFIX = "click:"  # and clicks by element: "click:invest_button"


@dataclass(frozen=True)
class PathSpec:
    """One path analysis: its anchor (a start or end event, or the drop-offs of a funnel step) and its shape."""

    name: str
    label: Label
    mode: str  # start, end or after
    events: tuple[str, ...] = ()
    filter: exp.Expr | None = None
    funnel: str | None = None
    step: int | None = None
    steps: int = DEFAULT_STEPS
    by_page: bool = False
    top: int = DEFAULT_TOP
    description: str = ""
    source: Source = Source("(ad hoc)", 0)

    @property
    def anchor(self) -> str:
        """The anchor as a person reads it: ``bind_card``, ``bind_card_funnel:3``."""
        if self.mode == "after":
            return f"{self.funnel}:{self.step}"
        return ", ".join(self.events)


def check_event_name(text: object, what: str) -> str:
    """An event name a person typed: printable text of 1 to 100 characters (it only ever becomes a literal)."""
    name = str(text).strip() if isinstance(text, str) else ""
    if not name or len(name) > MAX_EVENT_NAME or not name.isprintable():
        raise QueryError(f"{what}: {str(text)[:40]!r} is not an event name (printable text of 1 to 100 characters)")
    return name


def parse_after(catalog: Catalog, text: str) -> tuple[str, int]:
    """``FUNNEL:STEP`` → (funnel name, step from 2): the drop-offs before that step.

    Raises:
        QueryError: an unknown funnel, not a funnel, or a step that is not 2..its last.
    """
    name, colon, step = str(text).partition(":")
    metric = catalog.metrics.get(name)
    if not colon or not step.isdigit() or len(step) > 3:
        raise QueryError(f"after: write FUNNEL:STEP, e.g. bind_card_funnel:3, not {str(text)[:60]!r}")
    if metric is None:
        raise QueryError(f"after: unknown metric {name!r}{did_you_mean(name, catalog.metrics)}")
    if not isinstance(metric, FunnelMetric):
        raise QueryError(f"after: {name!r} is a {metric.type}, not a funnel")
    if not 2 <= int(step) <= len(metric.steps):
        raise QueryError(f"after: funnel {name!r} drops users before steps 2 to {len(metric.steps)}, not {step}")
    return name, int(step)


def adhoc_path(
    catalog: Catalog,
    *,
    start: str | None = None,
    end: str | None = None,
    after: str | None = None,
    steps: int = DEFAULT_STEPS,
    by_page: bool = False,
    top: int = DEFAULT_TOP,
) -> PathSpec:
    """A path analysis from typed options (the CLI, the app): exactly one of ``start``, ``end``, ``after``."""
    given = [(mode, value) for mode, value in (("start", start), ("end", end), ("after", after)) if value]
    if len(given) != 1:
        raise QueryError("give exactly one of --start EVENT, --end EVENT or --after FUNNEL:STEP")
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise QueryError(f"steps must be from {MIN_STEPS} to {MAX_STEPS}, not {steps}")
    if not 1 <= top <= MAX_TOP:
        raise QueryError(f"top must be from 1 to {MAX_TOP}, not {top}")
    mode, value = given[0]
    label = Label(zh=str(value), en=str(value))
    if mode == "after":
        funnel, step = parse_after(catalog, str(value))
        return PathSpec("adhoc", label, mode, funnel=funnel, step=step, steps=steps, by_page=by_page, top=top)
    event = check_event_name(value, f"--{mode}")
    return PathSpec("adhoc", label, mode, events=(event,), steps=steps, by_page=by_page, top=top)


def path_definition(
    catalog: Catalog,
    *,
    name: str,
    mode: str,
    events: str | list[str] | None = None,
    filter_: str | None = None,
    after: str | None = None,
    steps: int = DEFAULT_STEPS,
    by_page: bool = False,
    top: int = DEFAULT_TOP,
    label: Label | None = None,
    description: str = "A path analysis built in the app.",
) -> Definition:
    """A path analysis built in the app, read back from its YAML text as ``metrics/paths/*.yml`` would be."""
    label = label or Label(zh=name, en=name)
    mapping: dict[str, Any] = {"name": name, "label": {"zh": label.zh, "en": label.en}, "description": description}
    if mode == "after":
        mapping["after"] = str(after or "")
    elif mode in ("start", "end"):
        match: dict[str, Any] = {"event": check_events(events or [], f"{mode} event")}
        checked = check_filter(catalog, filter_, f"{mode} filter")
        if checked:
            match["filter"] = checked
        mapping[mode] = match
    else:
        raise QueryError(f"a path starts at, ends at, or follows a funnel step, not {str(mode)[:20]!r}")
    mapping.update(steps=int(steps), by_page=bool(by_page), top=int(top))
    definition = Definition(name=name, folder=FOLDER, key="paths", mapping=mapping, spec=None)
    problems = Problems(catalog.allowed_functions)
    try:
        document = load_yaml(definition.text)
    except YamlProblem as err:
        raise QueryError(f"definition: {err.message}") from None
    spec = _parse(catalog, document["paths"][0], "(ad hoc)", problems)
    if problems.items or spec is None:
        raise QueryError(problems.items[0].message if problems.items else "definition: not a path analysis")
    if name in load_paths(catalog):
        raise QueryError(f"path analysis {name!r} exists; pick another name")
    return Definition(name=name, folder=FOLDER, key="paths", mapping=mapping, spec=spec)


def path_problems(catalog: Catalog, root: str | Path | None = None) -> tuple[dict[str, PathSpec], list[CatalogProblem]]:
    """Every path analysis under ``<root>/paths/`` and every problem (``file:line: message``)."""
    base = Path(root if root is not None else catalog.root or "metrics")
    problems = Problems(catalog.allowed_functions)
    found: dict[str, PathSpec] = {}
    for file, doc in read_yaml_folder(base / FOLDER, base, problems):
        items: list[Any] = Fields(doc, file, problems, "paths file", ("paths",)).list_at("paths") or []
        for item, line in zip(items, getattr(items, "item_lines", [])):
            if not isinstance(item, LineMap):
                problems.add(file, line, "each path analysis must be a mapping")
                continue
            spec = _parse(catalog, item, file, problems)
            if spec is None:
                continue
            if spec.name in found:
                problems.add(
                    file, item.line, f"duplicate path name {spec.name!r} (first defined at {found[spec.name].source})"
                )
                continue
            found[spec.name] = spec
    return found, problems.items


def load_paths(catalog: Catalog, root: str | Path | None = None) -> dict[str, PathSpec]:
    specs, problems = path_problems(catalog, root)
    if problems:
        raise CatalogError(problems)
    return specs


def find_path(catalog: Catalog, name: str) -> PathSpec:
    specs = load_paths(catalog)
    if name not in specs:
        known = ", ".join(specs) or "none in metrics/paths/"
        raise QueryError(f"unknown path analysis {name!r}{did_you_mean(name, specs)}; declared: {known}")
    return specs[name]


def _parse(catalog: Catalog, item: LineMap, file: str, problems: Problems) -> PathSpec | None:
    fields = Fields(item, file, problems, "path", KEYS)
    name = fields.name()
    if name is None:
        return None
    what = fields.what = f"path {name!r}"
    label = fields.label()
    modes = [mode for mode in MODES if fields.has(mode)]
    if len(modes) != 1:
        fields.error(None, f"{what}: give exactly one of start, end or after")
        return None
    mode = modes[0]
    steps = fields.integer("steps", default=DEFAULT_STEPS, minimum=MIN_STEPS, maximum=MAX_STEPS)
    top = fields.integer("top", default=DEFAULT_TOP, maximum=MAX_TOP)
    by_page = item.get("by_page", False)
    if not isinstance(by_page, bool):
        fields.error("by_page", f"{what}: by_page must be true or false")
        return None
    common: dict[str, Any] = dict(
        name=name,
        label=label,
        mode=mode,
        steps=steps or DEFAULT_STEPS,
        by_page=by_page,
        top=top or DEFAULT_TOP,
        description=fields.string("description", required=False, default="") or "",
        source=Source(file, item.line),
    )
    if mode == "after":
        try:
            funnel, step = parse_after(catalog, str(fields.string("after") or ""))
        except QueryError as err:
            fields.error("after", f"{what}: {err}")
            return None
        return PathSpec(**common, funnel=funnel, step=step)
    mapping = fields.mapping_at(mode)
    if mapping is None:
        return None
    match = Fields(mapping, file, problems, f"{what} {mode}", ("event", "filter"))
    events = match.event_names("event")
    filter_ = match.snippet("filter", catalog.models["events"].columns)
    if events is None or steps is None or top is None:
        return None
    return PathSpec(**common, events=events, filter=filter_)
