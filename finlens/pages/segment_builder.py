"""The segment builder's widgets: conditions by clicks, or the condition as YAML, written out as segment YAML.

The builder produces the same structure a ``metrics/segments/*.yml`` entry holds
under ``where:`` (``semantic/catalog/segment_parser.py``), so the semantic layer
parses and checks it like a file, the same intent gives the same members as the
saved YAML, and a built segment can be saved as it is (``segment_save.py``).

By clicks: conditions combined with AND or OR; each condition may be negated
(NOT) and put in one of a few groups, each group with its own AND/OR and NOT
(``all: [a, not: {any: [b, c]}]``). A condition is one of

- *did* / *did not do* one or several events, with a property filter, a count
  (at least / at most N times), a window (the last N days, or from a day to a day),
  and for *did* a sum or average of a numeric column compared with a number;
- a *user attribute* compared (=, ≠, <, ≤, >, ≥, is one of, is none of, between, is empty);
- a *computed label* (purchase-intent tier, preferred product type, lifecycle stage,
  RFM group), one or several values;
- membership of a *saved segment*.

Deeper nesting is written in the YAML mode, which takes any condition a file can
hold. Every widget is bound to a URL parameter, so a built segment is a link.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st
import yaml

from finlens.app import state as app_state
from finlens.app.i18n import section
from finlens.app.url_state import pick_many, pick_one
from finlens_common.errors import FinlensError
from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expressions import SnippetError
from semantic.catalog.segment_parser import SegmentScope

KINDS = ("did", "did_not", "user", "label", "segment")
USER_OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_null")
COUNTS = ("at_least", "at_most")
WINDOWS = ("all", "last_days", "during")
MEASURES = ("none", "sum", "avg")
COMPARISONS = ("gte", "gt", "lte", "lt", "eq", "ne", "between")
LABELS = ("intent", "prefers", "lifecycle", "rfm")
GROUPS = ("top", "a", "b", "c")
MAX_ROWS = 8

label = section("segment_builder")


def _value(text: str, operator: str) -> object:
    """The typed value(s) of a row: numbers as numbers, lists for in/not_in/between, true/false for is_null."""
    if operator == "is_null":
        return text.strip().lower() not in ("false", "0", "no")
    parts = [p.strip() for p in text.split(",") if p.strip()]
    typed = [_scalar(p) for p in parts]
    if operator in ("in", "not_in", "between"):
        return typed
    return typed[0] if typed else ""


def _scalar(text: str) -> object:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def label_values(kind: str) -> list[str]:
    """The values a computed label takes, from the marketing YAML (tiers, stages, groups) or the data (types)."""
    from finlens.pages import intent_data, lifecycle_data

    if kind == "intent":
        return [tier.name for tier in intent_data.spec().score.tiers]
    if kind == "lifecycle":
        return [stage.name for stage in lifecycle_data.spec().stages]
    if kind == "rfm":
        return [group.name for group in lifecycle_data.spec().groups]
    declared = app_state.catalog().dimensions.get("product_type")
    return list(declared.values or ()) if declared is not None else []


def event_names() -> list[str]:
    """Events a condition may name: those in the data and those the tracking plan declares (rare ones included)."""
    from ingest.tracking import load_plan

    names = {str(v) for v in app_state.values("event")}
    try:
        names |= set(load_plan().events)
    except FinlensError:  # a broken plan is the data-quality page's to report
        pass
    return sorted(names) or ["register"]


def build_condition(lang: str) -> str | None:
    """Render the builder; the condition as JSON text (YAML's subset), or None before a condition is complete."""
    mode = (
        pick_one(
            label("mode", lang),
            ("clicks", "yaml"),
            key="seg_mode",
            labels=lambda m: label(f"mode_{m}", lang),
            default="clicks",
            widget=st.segmented_control,
        )
        or "clicks"
    )
    if mode == "yaml":
        return _yaml_condition(lang)
    return _clicked_condition(lang)


def _yaml_condition(lang: str) -> str | None:
    text = st.text_area(
        label("yaml", lang),
        key="seg_yaml",
        bind="query-params",
        height=220,
        placeholder=label("yaml_placeholder", lang),
    )
    if not text.strip():
        return None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # the parser reports where (file:line) when the page parses it
    if isinstance(doc, dict) and set(doc) == {"where"}:  # pasted with its key
        doc = doc["where"]
    return json.dumps(doc, ensure_ascii=False, default=str) if isinstance(doc, (dict, list)) else text


def _clicked_condition(lang: str) -> str | None:
    combine = pick_one(
        label("combine", lang),
        ("all", "any"),
        key="seg_combine",
        labels=lambda c: label(c, lang),
        widget=st.radio,
        horizontal=True,
    )
    count = int(
        st.number_input(
            label("rows", lang), min_value=1, max_value=MAX_ROWS, value=1, key="seg_rows", bind="query-params"
        )
    )
    rows: list[tuple[str, bool, dict[str, Any]]] = []
    for i in range(count):
        with st.container(border=True):
            item = _row(i, lang)
        if item is not None:
            rows.append(item)
    used = sorted({group for group, _, _ in rows if group != "top"})
    top: list[dict[str, Any]] = [_negated(c, n) for g, n, c in rows if g == "top"]
    if used:
        st.markdown(f"**{label('groups', lang)}**")
    for group in used:
        left, right = st.columns([3, 1])
        with left:
            inner = pick_one(
                label("group_combine", lang, group=label(f"group_{group}", lang)),
                ("all", "any"),
                key=f"seg_gcombine_{GROUPS.index(group)}",
                labels=lambda c: label(c, lang),
                widget=st.radio,
                horizontal=True,
            )
        negate = right.checkbox(label("not", lang), key=f"seg_gnot_{GROUPS.index(group)}", bind="query-params")
        members = [_negated(c, n) for g, n, c in rows if g == group]
        node = members[0] if len(members) == 1 else {inner or "all": members}
        top.append({"not": node} if negate else node)
    if not top:
        return None
    return json.dumps(top[0] if len(top) == 1 else {combine or "all": top}, ensure_ascii=False, default=str)


def _negated(condition: dict[str, Any], negate: bool) -> dict[str, Any]:
    return {"not": condition} if negate else condition


def _row(i: int, lang: str) -> tuple[str, bool, dict[str, Any]] | None:
    """One condition's widgets; (its group, whether it is negated, the condition) or None while incomplete."""
    kind_col, group_col, not_col = st.columns([2, 2, 1])
    with kind_col:
        kind = pick_one(label("kind", lang), KINDS, key=f"seg_kind_{i}", labels=lambda k: label(k, lang))
    with group_col:
        group = pick_one(label("group", lang), GROUPS, key=f"seg_group_{i}", labels=lambda g: label(f"group_{g}", lang))
    negate = not_col.checkbox(label("not", lang), key=f"seg_not_{i}", bind="query-params")
    condition = {
        "did": _event_row,
        "did_not": _event_row,
        "user": _user_row,
        "label": _label_row,
        "segment": _segment_row,
    }[kind or "did"](i, kind or "did", lang)
    return None if condition is None else (group or "top", bool(negate), condition)


def _event_row(i: int, kind: str, lang: str) -> dict[str, Any] | None:
    catalog = app_state.catalog()
    events = event_names()
    names = pick_many(
        label("events", lang), events, key=f"seg_event_{i}", placeholder=label("events_placeholder", lang)
    )
    condition_filter = st.text_input(
        label("filter", lang), key=f"seg_filter_{i}", bind="query-params", placeholder=label("filter_placeholder", lang)
    ).strip()
    item: dict[str, Any] = {kind: names[0] if len(names) == 1 else names}
    if condition_filter:
        scope = SegmentScope(catalog.models["users"], catalog.models["events"], catalog.dimensions)
        checked = f"{condition_filter} = TRUE" if condition_filter in scope.boolean_fields else condition_filter
        try:  # checked as it is typed, events chosen or not; the whole condition is checked again when parsed
            parse_user_filter(checked, scope.event_fields, f"condition {i + 1}: filter")
        except SnippetError as err:
            st.error(str(err))
            return None
        item["filter"] = condition_filter
    window_col, count_col, measure_col = st.columns(3)
    with window_col:
        item.update(_window(i, lang))
    if kind == "did":
        with count_col:
            how = pick_one(label("count", lang), COUNTS, key=f"seg_count_{i}", labels=lambda c: label(c, lang))
            times = int(
                st.number_input(label("times", lang), min_value=0, value=1, key=f"seg_times_{i}", bind="query-params")
            )
            if how == "at_most" or times != 1:
                item[how or "at_least"] = times
        with measure_col:
            numeric = sorted(
                n for n, t in catalog.models["events"].columns.items() if t.lower() in ("double", "integer", "bigint")
            )
            item.update(_measure(i, numeric, lang))
    return item if names else None


def _window(i: int, lang: str) -> dict[str, Any]:
    days = st.session_state.get(f"seg_days_{i}") or st.query_params.get(f"seg_days_{i}")
    default = "last_days" if days not in (None, "", "0", 0) else "all"
    window = pick_one(
        label("window", lang),
        WINDOWS,
        key=f"seg_window_{i}",
        labels=lambda w: label(f"window_{w}", lang),
        default=default,
    )
    if window == "last_days":
        n = int(
            st.number_input(label("last_days", lang), min_value=1, value=30, key=f"seg_days_{i}", bind="query-params")
        )
        return {"last_days": n}
    if window == "during":
        first = st.date_input(
            label("from", lang), value=None, key=f"seg_from_{i}", bind="query-params", format="YYYY-MM-DD"
        )
        last = st.date_input(label("to", lang), value=None, key=f"seg_to_{i}", bind="query-params", format="YYYY-MM-DD")
        if first and last:
            return {"during": [first.isoformat(), last.isoformat()]}
    return {}


def _measure(i: int, numeric: list[str], lang: str) -> dict[str, Any]:
    measure = pick_one(
        label("measure", lang), MEASURES, key=f"seg_measure_{i}", labels=lambda m: label(f"measure_{m}", lang)
    )
    if measure in (None, "none") or not numeric:
        return {}
    column = pick_one(label("column", lang), numeric, key=f"seg_column_{i}")
    compare = pick_one(
        label("operator", lang), COMPARISONS, key=f"seg_cmp_{i}", labels=lambda o: label(f"op_{o}", lang)
    )
    amount = st.text_input(
        label("amount", lang), key=f"seg_amount_{i}", bind="query-params", placeholder="50000"
    ).strip()
    if not amount:
        return {}
    return {measure: column, compare or "gte": _value(amount, compare or "gte")}


def _user_row(i: int, kind: str, lang: str) -> dict[str, Any] | None:
    catalog = app_state.catalog()
    users = catalog.models["users"]
    attributes = sorted(
        {*users.columns, *(d.name for d in catalog.dimensions.values() if d.model == users.name)} - {users.entity}
    )
    field_col, op_col, value_col = st.columns([2, 2, 3])
    with field_col:
        attribute = pick_one(
            label("attribute", lang),
            attributes,
            key=f"seg_attr_{i}",
            labels=lambda a: (
                catalog.dimensions[a].label.get(lang) if a in catalog.dimensions else label(f"attr_{a}", lang)
            ),
        )
    with op_col:
        operator = pick_one(
            label("operator", lang), USER_OPERATORS, key=f"seg_op_{i}", labels=lambda o: label(f"op_{o}", lang)
        )
    value = value_col.text_input(
        label("value", lang), key=f"seg_value_{i}", bind="query-params", placeholder=label("value_placeholder", lang)
    )
    if not value.strip() and operator != "is_null":
        return None
    return {"user": attribute, operator or "eq": _value(value, operator or "eq")}


def _label_row(i: int, kind: str, lang: str) -> dict[str, Any] | None:
    which_col, values_col = st.columns([2, 5])
    with which_col:
        which = (
            pick_one(label("computed", lang), LABELS, key=f"seg_label_{i}", labels=lambda k: label(f"label_{k}", lang))
            or "intent"
        )
    with values_col:
        chosen = pick_many(
            label("values", lang),
            label_values(which),
            key=f"seg_labelvalue_{i}",
            placeholder=label("values_placeholder", lang),
        )
    if not chosen:
        return None
    return {which: chosen[0] if len(chosen) == 1 else chosen}


def _segment_row(i: int, kind: str, lang: str) -> dict[str, Any] | None:
    catalog = app_state.catalog()
    names = list(catalog.segments)
    if not names:
        return None
    name = pick_one(
        label("saved", lang), names, key=f"seg_ref_{i}", labels=lambda n: catalog.segments[n].label.get(lang)
    )
    return {"segment": name} if name else None


def to_yaml(text: str) -> str:
    """The built condition as the ``where:`` of a segment file entry."""
    return yaml.safe_dump({"where": json.loads(text)}, allow_unicode=True, sort_keys=False)
