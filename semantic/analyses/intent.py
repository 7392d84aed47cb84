"""Purchase intent and purchase preference: what ``metrics/marketing/intent.yml`` says and its checks.

The marketing loop finds users worth acting on, pushes to them and measures.
Two per-user features serve it; their meaning is fixed here and built as SQL
by :mod:`semantic.analyses.intent_sql`, so every team reads the same numbers.

Everything is "as of" a day D: a window of ``window_days`` days is the days
D - window_days + 1 .. D, inclusive, compared as ``time >= first day 00:00``
and ``time < D + 1 day 00:00`` (an event one second before the first day or at
midnight after D is outside). Events without a user id never count.

**Purchase-intent score** (``score``, window default 14 days). Each rule is one
event name or a list of them, an optional filter (SQL over the model's columns)
and a positive weight. An event row matching several rules counts once, for the
FIRST matching rule in YAML order (rules are listed from weak to strong signals
by convention; the order is not enforced and only matters where rules overlap).
A user's score is the sum of the weights of their event rows in the window.
Fractional weights are allowed; scores are then compared as the engine's sums.

**Tiers** (cumulative shares ``top``, strictly increasing, the last 1.0). Only
users with a score > 0 in the window are ranked; n is their number. Ranked by
score descending (ties by user id, which does not change any tier), a tier's
threshold is the score at position ``ceil(top * n)``; a user belongs to the
first tier whose threshold their score reaches (score >= threshold), the last
tier taking the rest. With the shipped tiers (strong 0.2, medium 0.6, weak
1.0): T_strong = score at position ceil(0.2 n), strong = score >= T_strong;
T_medium = score at position ceil(0.6 n), medium = T_medium <= score <
T_strong; weak = the rest. So users tied at a boundary all go to the higher
tier, and a tier may hold slightly more than its share (the next one fewer).
``top`` is written with at most 4 decimals and compared exactly in integer
arithmetic, never with an engine's float rounding.

**Purchase preference** (``preference``, window default 30 days). Over the
window, each user's dwell time (``dwell``, default ``duration``) on the matching
events (default ``$AppViewScreen``/``$pageview`` with ``page = 'product_detail'``)
is summed per value of ``by`` (default ``product_type``), dwell values taken as
they are. Rows with a NULL ``by`` or a NULL dwell are left out of both
numerator and denominator, so a user whose only dwell has no type has no rows. A type's
``share`` is its dwell over the user's total dwell (NULL when that total is 0);
the user *prefers* the type when the share is strictly above ``threshold``
(default 0.4, also compared exactly), so a user may prefer two types (45/45/10)
or none. Preferences and tiers combine with AND (strong tier AND prefers bond).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Literal, TypedDict

from sqlglot import exp

from finlens_common.errors import CatalogProblem
from semantic.analyses.intent_spec import IntentSpec, PreferenceSpec, ScoreSpec, Tier, WeightRule
from semantic.analyses.marketing_yaml import load_marketing_file, parse_marketing_file
from semantic.catalog.catalog import Catalog
from semantic.catalog.expression_guard import parse_yaml_snippet
from semantic.catalog.expressions import SnippetError, did_you_mean
from semantic.catalog.fields import MAX_DAYS, Fields, Problems
from semantic.catalog.specs import Label, Model, Source
from semantic.catalog.yaml_lines import LineMap

INTENT_FILE = "intent.yml"
TOP_KEYS = ("score", "preference")
SCORE_KEYS = ("name", "label", "description", "window_days", "model", "weights", "tiers")
RULE_KEYS = ("event", "filter", "weight", "label")
TIER_KEYS = ("name", "top", "label")
PREFERENCE_KEYS = ("window_days", "model", "event", "filter", "dwell", "by", "threshold")
DEFAULT_SCORE_DAYS = 14
DEFAULT_PREFERENCE_DAYS = 30
MAX_WINDOW_DAYS = 366


class _PreferenceDefaults(TypedDict):
    event: tuple[str, ...]
    filter: str
    dwell: str
    by: str
    threshold: float


DEFAULT_PREFERENCE: _PreferenceDefaults = {
    "event": ("$AppViewScreen", "$pageview"),
    "filter": "page = 'product_detail'",
    "dwell": "duration",
    "by": "product_type",
    "threshold": 0.4,
}
MAX_DECIMALS = 4
NUMERIC_TYPES = ("double", "float", "real", "decimal", "numeric", "int", "bigint", "smallint", "tinyint", "hugeint")


def intent_problems(catalog: Catalog, root: str | Path | None = None) -> tuple[IntentSpec | None, list[CatalogProblem]]:
    """The spec in ``root``'s ``marketing/intent.yml`` (default: the catalog's root) and every problem in it.

    A catalog without the file has no intent features and no problem: ``(None, [])``.
    """
    return parse_marketing_file(catalog, INTENT_FILE, root, _parse)


def load_intent(catalog: Catalog, root: str | Path | None = None) -> IntentSpec:
    """The checked spec (a CatalogError lists every problem, or says the file is missing)."""
    return load_marketing_file(
        catalog, INTENT_FILE, root, _parse, "intent file not found: create it to use intent scores and preferences"
    )


def _parse(catalog: Catalog, file: str, doc: LineMap, problems: Problems) -> IntentSpec | None:
    fields = Fields(doc, file, problems, "intent", TOP_KEYS)
    score_map = fields.mapping_at("score")
    score = None
    if score_map is not None:
        name = score_map.get("name")
        what = f"intent score {name!r}" if isinstance(name, str) and name else "intent score"
        score = _score(catalog, Fields(score_map, file, problems, what, SCORE_KEYS))
    preference_map = fields.mapping_at("preference", required=False)
    preference_fields = Fields(
        preference_map if preference_map is not None else _empty(doc),
        file,
        problems,
        "intent preference",
        PREFERENCE_KEYS,
    )
    preference = _preference(catalog, preference_fields)
    if score is None or preference is None:
        return None
    return IntentSpec(score=score, preference=preference, file=file)


def _empty(doc: LineMap) -> LineMap:
    """An empty mapping placed at the top of the file: a missing ``preference`` section takes every default."""
    empty = LineMap()
    empty.line, empty.key_lines = doc.line, {}
    return empty


def _model(catalog: Catalog, fields: Fields) -> Model | None:
    name = fields.string("model", required=False, default="events") or "events"
    model = catalog.models.get(name)
    if model is None:
        fields.error(
            "model" if fields.has("model") else None,
            f"{fields.what}: unknown model {name!r}{did_you_mean(name, catalog.models)}",
        )
        return None
    if model.time_column is None or model.event_column is None:
        fields.error(
            "model" if fields.has("model") else None,
            f"{fields.what}: model {name!r} needs a time_column and an event_column",
        )
        return None
    return model


def _window(fields: Fields, default: int) -> int | None:
    days = fields.integer("window_days", default=default, maximum=MAX_DAYS)
    if days is not None and days > MAX_WINDOW_DAYS:
        fields.error("window_days", f"{fields.what}: window_days must be at most {MAX_WINDOW_DAYS}, not {days}")
        return None
    return days


def _fraction(
    fields: Fields, key: str, *, low: float, high: float, high_ok: bool, required: bool = True
) -> Fraction | None:
    """A number in (low, high] (or (low, high)), with at most MAX_DECIMALS decimals, as an exact fraction."""
    value = fields.raw(key)
    if value is None:
        if required:
            fields.error(None, f"{fields.what}: missing required key {key!r}")
        return None
    inside = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and low < value
        and (value <= high if high_ok else value < high)
    )
    if not inside:
        closing = "]" if high_ok else ")"
        fields.error(key, f"{fields.what}: {key!r} must be a number in ({low:g}, {high:g}{closing}, not {value!r}")
        return None
    exact = Fraction(str(value))
    if exact.denominator > 10**MAX_DECIMALS:
        fields.error(key, f"{fields.what}: {key!r} must have at most {MAX_DECIMALS} decimals, not {value!r}")
        return None
    return exact


def _snippet(fields: Fields, key: str, model: Model | None, default: str | None = None) -> tuple[bool, exp.Expr | None]:
    """(ok, the filter) for an optional snippet over ``model``'s columns; a default applies when the key is absent."""
    given = fields.has(key)
    if not given and default is None:
        return True, None
    names = model.columns if model is not None else None
    if given:
        snippet = fields.snippet(key, names)
        return snippet is not None, snippet
    try:
        return True, parse_yaml_snippet(default, names, f"{fields.what}: {key}", fields.problems.extra_functions)
    except SnippetError as err:
        fields.error(None, f"{err} (the default {default!r}; set {key!r} for this model)")
        return False, None


def _events(fields: Fields, default: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
    if default is not None and not fields.has("event"):
        return default
    return fields.event_names("event")


def _score(catalog: Catalog, fields: Fields) -> ScoreSpec | None:
    name = fields.name()
    label = fields.label()
    description = fields.string("description", required=False, default="") or ""
    window = _window(fields, DEFAULT_SCORE_DAYS)
    model = _model(catalog, fields)
    rules = _rules(fields, model)
    tiers = _tiers(fields)
    if None in (name, window, model, rules, tiers):
        return None
    assert name is not None and window is not None and model is not None and rules is not None and tiers is not None
    return ScoreSpec(
        name=name,
        label=label,
        description=description,
        window_days=window,
        model=model.name,
        rules=rules,
        tiers=tiers,
        source=Source(fields.file, fields.mapping.line),
    )


def _entries(fields: Fields, key: str, kind: str) -> list[tuple[LineMap, int]] | None:
    items = fields.list_at(key)
    if items is None:
        return None
    if not items:
        fields.error(key, f"{fields.what}: {key!r} must list at least one {kind}")
        return None
    kept = []
    for item, line in zip(items, items.item_lines):
        if isinstance(item, LineMap):
            kept.append((item, line))
        else:
            fields.problems.add(fields.file, line, f"{fields.what}: each entry under {key!r} must be a mapping")
    return kept if len(kept) == len(items) else None


def _rules(fields: Fields, model: Model | None) -> tuple[WeightRule, ...] | None:
    entries = _entries(fields, "weights", "weighted event")
    if entries is None:
        return None
    rules: list[WeightRule] = []
    for position, (item, _line) in enumerate(entries, start=1):
        rule_fields = Fields(item, fields.file, fields.problems, f"{fields.what} weight {position}", RULE_KEYS)
        events = rule_fields.event_names("event")
        ok, filter_ = _snippet(rule_fields, "filter", model)
        weight = _weight(rule_fields)
        label = (
            rule_fields.label()
            if rule_fields.has("label")
            else Label(zh=", ".join(events or ()), en=", ".join(events or ()))
        )
        if events is not None and ok and weight is not None:
            rules.append(
                WeightRule(
                    events=events, filter=filter_, weight=weight, label=label, source=Source(fields.file, item.line)
                )
            )
    return tuple(rules) if len(rules) == len(entries) else None


def _weight(fields: Fields) -> int | float | None:
    value = fields.raw("weight")
    if value is None:
        fields.error(None, f"{fields.what}: missing required key 'weight'")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        fields.error("weight", f"{fields.what}: 'weight' must be a positive number, not {value!r}")
        return None
    return value


def _tiers(fields: Fields) -> tuple[Tier, ...] | None:
    entries = _entries(fields, "tiers", "tier")
    if entries is None:
        return None
    tiers: list[Tier] = []
    seen: dict[str, int] = {}
    for position, (item, line) in enumerate(entries, start=1):
        tier_fields = Fields(item, fields.file, fields.problems, f"{fields.what} tier {position}", TIER_KEYS)
        name = tier_fields.name()
        top = _fraction(tier_fields, "top", low=0, high=1, high_ok=True)
        label = tier_fields.label()
        if name in seen:
            tier_fields.error("name", f"{fields.what}: duplicate tier {name!r} (first at line {seen[name]})")
            name = None
        elif name is not None:
            seen[name] = line
        if top is not None and tiers and top <= tiers[-1].top:
            tier_fields.error(
                "top",
                f"{tier_fields.what}: 'top' must be above the previous tier's "
                f"({float(tiers[-1].top):g}): tops are cumulative shares, strictly increasing",
            )
            top = None
        if name is not None and top is not None:
            tiers.append(Tier(name=name, top=top, label=label))
    if len(tiers) != len(entries):
        return None
    if tiers[-1].top != 1:
        fields.error(
            "tiers",
            f"{fields.what}: the last tier's 'top' must be 1.0 (every ranked user has a tier), "
            f"not {float(tiers[-1].top):g}",
        )
        return None
    return tuple(tiers)


def _preference(catalog: Catalog, fields: Fields) -> PreferenceSpec | None:
    window = _window(fields, DEFAULT_PREFERENCE_DAYS)
    model = _model(catalog, fields)
    events = _events(fields, DEFAULT_PREFERENCE["event"])
    ok, filter_ = _snippet(fields, "filter", model, DEFAULT_PREFERENCE["filter"])
    dwell = _column(fields, "dwell", model, numeric=True)
    by = _column(fields, "by", model, numeric=False)
    threshold = (
        _fraction(fields, "threshold", low=0, high=1, high_ok=False, required=False)
        if fields.has("threshold")
        else Fraction(str(DEFAULT_PREFERENCE["threshold"]))
    )
    if window is None or model is None or events is None or not ok or dwell is None or by is None or threshold is None:
        return None
    return PreferenceSpec(
        window_days=window,
        model=model.name,
        events=events,
        filter=filter_,
        dwell=dwell,
        by=by,
        threshold=threshold,
        source=Source(fields.file, fields.mapping.line),
    )


def _column(fields: Fields, key: Literal["dwell", "by"], model: Model | None, *, numeric: bool) -> str | None:
    """A column of ``model`` named under ``key`` (or its default); dwell must be numeric."""
    name = fields.string(key, required=False, default=str(DEFAULT_PREFERENCE[key]))
    if name is None or model is None:
        return name
    line_key = key if fields.has(key) else None
    if name not in model.columns:
        default = "" if fields.has(key) else " (the default; set it for this model)"
        fields.error(
            line_key, f"{fields.what}: {key}: unknown column {name!r}{did_you_mean(name, model.columns)}{default}"
        )
        return None
    if numeric and not model.columns[name].lower().startswith(NUMERIC_TYPES):
        fields.error(
            line_key, f"{fields.what}: {key}: column {name!r} is {model.columns[name]}, not a number of seconds"
        )
        return None
    return name


def tier_names(spec: IntentSpec) -> tuple[str, ...]:
    """The tier names, strongest first (for messages and pickers)."""
    return tuple(t.name for t in spec.score.tiers)
