"""Lifecycle stages and RFM on investments: what ``metrics/marketing/lifecycle.yml`` says and its checks.

The marketing loop finds users worth acting on (new users who never invested,
customers who took their money out, valuable customers drifting away), pushes
to them and measures. The file names what an investment and a redemption are
(event names, a filter, the amount) and gives the stages and RFM groups their
labels; the meaning of each stage and group is fixed here and in
:mod:`semantic.analyses.lifecycle_sql`, so every team reads the same numbers.

Everything is "as of" a day D: only events up to the end of D count.

**Stages** (one per user of the users model, one row per user id):

- ``visitor``: never invested by D, and not registered by D (``register_time`` NULL or after D);
- ``new``: registered by D, never invested by D;
- ``holding``: invested by D, and no redemption after their last investment;
- ``redeemed``: their last redemption by D is strictly after their last investment (funds taken out).

``holding`` + ``redeemed`` are the existing customers. A redemption at the same
instant as the last investment is not after it: the user is ``holding`` (a
same-second redemption is an older position maturing, not the new money leaving).
A redemption without any investment by D does not make a customer.

**RFM** over the investments in the lookback (``lookback_days``, default 365: the
days D - lookback + 1 .. D), per user with at least one: ``recency_days`` = days
from the date of the last investment to D (0 when on D), ``frequency`` = number of
investments, ``monetary`` = sum of their amounts (NULL amounts add 0; ties in
monetary are exact equality of the sums). Scores 1..5 by quintile, ties sharing a
score: ``r = RANK() OVER (ORDER BY value ASC)`` (ties take the lowest rank),
``score = floor(5 * (r - 1) / n) + 1`` with n the investing users; R ranks
``recency_days`` descending, so the most recent get the highest score. A score is
high from ``high_from`` (default 3). The eight groups (the classic RFM model):

| group | R | F | M |
|---|---|---|---|
| important_value | high | high | high |
| important_develop | high | low | high |
| important_keep | low | high | high |
| important_retain | low | low | high |
| general_value | high | high | low |
| general_develop | high | low | low |
| general_keep | low | high | low |
| general_retain | low | low | low |

The file (``<catalog root>/marketing/lifecycle.yml``)::

    model: events                                   # the events model (default events)
    users: {model: users, registered: register_time} # one row per user, and the registration time (defaults)
    invest: {event: P2P_invest, filter: is_success, amount: amount}   # event name(s), optional filter, amount
    redeem: {event: P2P_redeem}                     # event name(s), optional filter
    stages: [{name: visitor, label: {zh: 访客, en: Visitor}}, ...]     # all four, each once
    rfm: {lookback_days: 365, high_from: 3, groups: [{name: important_value, label: {...}}, ...]}  # all eight

Filters and the amount are SQL over the events model's columns, checked like metric filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from finlens_common.errors import CatalogProblem
from semantic.analyses.marketing_yaml import load_marketing_file, parse_marketing_file
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import MAX_DAYS, Fields, Problems
from semantic.catalog.specs import Label, Model, Source
from semantic.catalog.yaml_lines import LineMap

STAGES = ("visitor", "new", "holding", "redeemed")
CUSTOMER_STAGES = ("holding", "redeemed")
# group name -> (R high, F high, M high)
GROUPS: dict[str, tuple[bool, bool, bool]] = {
    "important_value": (True, True, True),
    "important_develop": (True, False, True),
    "important_keep": (False, True, True),
    "important_retain": (False, False, True),
    "general_value": (True, True, False),
    "general_develop": (True, False, False),
    "general_keep": (False, True, False),
    "general_retain": (False, False, False),
}
SCORES = (1, 2, 3, 4, 5)
DEFAULT_LOOKBACK_DAYS = 365
MAX_LOOKBACK_DAYS = 3660
DEFAULT_HIGH_FROM = 3
LIFECYCLE_FILE = "lifecycle.yml"
TOP_KEYS = ("model", "users", "invest", "redeem", "stages", "rfm")


@dataclass(frozen=True)
class EventRule:
    """Which rows are investments (or redemptions): event names, an optional filter, the amount."""

    events: tuple[str, ...]
    filter: exp.Expr | None
    amount: exp.Expr | None
    source: Source


@dataclass(frozen=True)
class Named:
    """A stage or an RFM group and its label."""

    name: str
    label: Label


@dataclass(frozen=True)
class LifecycleSpec:
    """Everything the lifecycle and RFM builders need, checked against the catalog."""

    model: str
    users_model: str
    registered: str
    invest: EventRule
    redeem: EventRule
    stages: tuple[Named, ...]
    lookback_days: int
    high_from: int
    groups: tuple[Named, ...]
    source: Source

    def stage_label(self, name: str, language: str) -> str:
        return next((s.label.get(language) for s in self.stages if s.name == name), name)

    def group_label(self, name: str, language: str) -> str:
        return next((g.label.get(language) for g in self.groups if g.name == name), name)


def lifecycle_problems(
    catalog: Catalog, root: str | Path | None = None
) -> tuple[LifecycleSpec | None, list[CatalogProblem]]:
    """The spec in ``root``'s ``marketing/lifecycle.yml`` (default: the catalog's root) and every problem in it.

    A catalog without the file has no lifecycle and no problem: ``(None, [])``.
    """
    return parse_marketing_file(catalog, LIFECYCLE_FILE, root, _parse)


def load_lifecycle(catalog: Catalog, root: str | Path | None = None) -> LifecycleSpec:
    """The checked spec (a CatalogError lists every problem, or says the file is missing)."""
    return load_marketing_file(
        catalog, LIFECYCLE_FILE, root, _parse, "lifecycle file not found: create it to use lifecycle stages and RFM"
    )


def _parse(catalog: Catalog, file: str, doc: LineMap, problems: Problems) -> LifecycleSpec | None:
    fields = Fields(doc, file, problems, "lifecycle", TOP_KEYS)
    model = _model(catalog, fields, "model", "events", events=True)
    users_model, registered = _users(catalog, fields)
    invest = _rule(fields, "invest", model, amount=True)
    redeem = _rule(fields, "redeem", model, amount=False)
    stages = _named_list(fields, "stages", STAGES, "stage")
    lookback, high_from, groups = _rfm(fields)
    if (
        model is None
        or users_model is None
        or registered is None
        or invest is None
        or redeem is None
        or stages is None
        or groups is None
    ):
        return None
    return LifecycleSpec(
        model=model.name,
        users_model=users_model,
        registered=registered,
        invest=invest,
        redeem=redeem,
        stages=stages,
        lookback_days=lookback,
        high_from=high_from,
        groups=groups,
        source=Source(file, doc.line),
    )


def _model(catalog: Catalog, fields: Fields, key: str, default: str, *, events: bool) -> Model | None:
    name = fields.string(key, required=False, default=default) or default
    model = catalog.models.get(name)
    if model is None:
        fields.error(
            key if fields.has(key) else None,
            f"{fields.what}: unknown model {name!r}{did_you_mean(name, catalog.models)}",
        )
        return None
    if events and (model.time_column is None or model.event_column is None):
        fields.error(
            key if fields.has(key) else None,
            f"{fields.what}: model {name!r} needs a time_column and an event_column to hold investments",
        )
        return None
    return model


def _users(catalog: Catalog, fields: Fields) -> tuple[str | None, str | None]:
    """``users: {model: users, registered: register_time}``: whose stages are counted, and when each registered."""
    mapping = fields.mapping_at("users", required=False)
    if mapping is None and fields.has("users"):
        return None, None  # reported: not a mapping
    sub = (
        Fields(mapping, fields.file, fields.problems, "lifecycle users", ("model", "registered"))
        if mapping is not None
        else None
    )
    name = (sub.string("model", required=False) if sub else None) or "users"
    column = (sub.string("registered", required=False) if sub else None) or "register_time"

    def error(key: str, message: str) -> None:
        if sub is not None and sub.has(key):
            sub.error(key, message)
        else:
            fields.error("users" if fields.has("users") else None, message)

    model = catalog.models.get(name)
    if model is None:
        error("model", f"lifecycle users: unknown model {name!r}{did_you_mean(name, catalog.models)}")
        return None, None
    if model.primary_key != model.entity:
        error(
            "model",
            f"lifecycle users: model {name!r} must hold one row per user (its primary_key is {model.primary_key!r}, not the entity {model.entity!r})",
        )
        return None, None
    if column not in model.columns:
        error(
            "registered",
            f"lifecycle users: model {name!r} has no column {column!r}{did_you_mean(column, model.columns)}",
        )
        return name, None
    return name, column


def _rule(fields: Fields, key: str, model: Model | None, *, amount: bool) -> EventRule | None:
    mapping = fields.mapping_at(key)
    if mapping is None:
        return None
    what = f"lifecycle {key}"
    sub = Fields(
        mapping, fields.file, fields.problems, what, ("event", "filter", "amount") if amount else ("event", "filter")
    )
    events = sub.event_names("event")
    filter_ = _snippet(sub, "filter", model, required=False)
    value = _snippet(sub, "amount", model, required=True) if amount else None
    if events is None or model is None or (sub.has("filter") and filter_ is None) or (amount and value is None):
        return None
    return EventRule(events=events, filter=filter_, amount=value, source=Source(fields.file, mapping.line))


def _snippet(fields: Fields, key: str, model: Model | None, *, required: bool) -> exp.Expr | None:
    """A row-level snippet over the events model's columns, as metric filters are."""
    if model is None:
        return None
    return fields.snippet(key, model.columns, required=required)


def _named_list(
    fields: Fields, key: str, names: tuple[str, ...], kind: str, *, what: str = "lifecycle"
) -> tuple[Named, ...] | None:
    """Exactly the fixed ``names``, each once, each with a label (the order of the file is kept)."""
    items = fields.list_at(key)
    if items is None:
        return None
    found: dict[str, Named] = {}
    ok = True
    for position, (item, line) in enumerate(zip(items, items.item_lines), start=1):
        if not isinstance(item, LineMap):
            fields.problems.add(
                fields.file, line, f"{what}: {kind} {position} must be a mapping with a name and a label"
            )
            ok = False
            continue
        sub = Fields(item, fields.file, fields.problems, f"{what} {kind} {position}", ("name", "label"))
        name = sub.string("name")
        label = sub.label()
        if name is None:
            ok = False
            continue
        if name not in names:
            sub.error(
                "name",
                f"{what}: unknown {kind} {name!r}{did_you_mean(name, names)}; the {kind}s are {', '.join(names)}",
            )
            ok = False
        elif name in found:
            sub.error("name", f"{what}: {kind} {name!r} is listed twice")
            ok = False
        else:
            found[name] = Named(name=name, label=label)
    missing = [n for n in names if n not in found]
    if missing:
        fields.error(key, f"{what}: {key} must list every {kind}; missing {', '.join(repr(n) for n in missing)}")
        ok = False
    return tuple(found.values()) if ok else None


def _rfm(fields: Fields) -> tuple[int, int, tuple[Named, ...] | None]:
    mapping = fields.mapping_at("rfm")
    if mapping is None:
        return DEFAULT_LOOKBACK_DAYS, DEFAULT_HIGH_FROM, None
    sub = Fields(mapping, fields.file, fields.problems, "lifecycle rfm", ("lookback_days", "high_from", "groups"))
    lookback = sub.integer("lookback_days", default=DEFAULT_LOOKBACK_DAYS, maximum=MAX_DAYS) or DEFAULT_LOOKBACK_DAYS
    if lookback > MAX_LOOKBACK_DAYS:
        sub.error(
            "lookback_days", f"lifecycle rfm: 'lookback_days' must be at most {MAX_LOOKBACK_DAYS}, not {lookback}"
        )
        lookback = DEFAULT_LOOKBACK_DAYS
    high_from = sub.raw("high_from") if sub.has("high_from") else DEFAULT_HIGH_FROM
    if isinstance(high_from, bool) or not isinstance(high_from, int) or not 1 <= high_from <= 5:
        sub.error("high_from", f"lifecycle rfm: 'high_from' must be a score from 1 to 5, not {high_from!r}")
        high_from = DEFAULT_HIGH_FROM
    groups = _named_list(sub, "groups", tuple(GROUPS), "group", what="lifecycle rfm")
    return lookback, high_from, groups
