"""The segment builder's widgets: rows of conditions, combined with AND or OR, written out as segment YAML.

The builder produces the same text a ``metrics/segments/*.yml`` entry holds
under ``where:``, so the semantic layer parses and checks it like a file and
a built segment can be saved by copying the text. Every widget is bound to a
URL parameter, so a built segment is a shareable link.
"""

from __future__ import annotations

import json

import streamlit as st

from finlens.app import state as app_state
from finlens.app.i18n import section
from finlens.app.url_state import pick_one

KINDS = ("did", "did_not", "user")
USER_OPERATORS = ("eq", "ne", "in", "not_in", "gte", "lte", "between", "is_null")
MAX_ROWS = 6


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


def build_condition(lang: str) -> str | None:
    """Render the builder; the condition as YAML/JSON text, or None before a row is complete."""
    catalog = app_state.catalog()
    users = catalog.models["users"]
    attributes = sorted(
        {*users.columns, *(d.name for d in catalog.dimensions.values() if d.model == users.name)} - {users.entity}
    )
    events = [str(v) for v in app_state.values("event")] or ["register"]
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
            label("rows", lang), min_value=1, max_value=MAX_ROWS, value=2, key="seg_rows", bind="query-params"
        )
    )
    items = []
    for i in range(count):
        kind_col, field_col, value_col, extra_col = st.columns([1.2, 2, 2.4, 1.4])
        with kind_col:
            kind = pick_one(label("kind", lang), KINDS, key=f"seg_kind_{i}", labels=lambda k: label(k, lang))
        if kind == "user":
            with field_col:
                attribute = pick_one(
                    label("attribute", lang),
                    attributes,
                    key=f"seg_attr_{i}",
                    labels=lambda a: catalog.dimensions[a].label.get(lang) if a in catalog.dimensions else a,
                )
            with value_col:
                operator = pick_one(
                    label("operator", lang), USER_OPERATORS, key=f"seg_op_{i}", labels=lambda o: label(f"op_{o}", lang)
                )
            value = extra_col.text_input(label("value", lang), key=f"seg_value_{i}", bind="query-params")
            if value.strip() or operator == "is_null":
                items.append({"user": attribute, operator: _value(value, operator)})
            continue
        with field_col:
            event = pick_one(label("event", lang), events, key=f"seg_event_{i}")
        condition_filter = value_col.text_input(
            label("filter", lang), key=f"seg_filter_{i}", bind="query-params", placeholder="page = 'credit_report'"
        )
        days = int(
            extra_col.number_input(
                label("last_days", lang), min_value=0, value=0, key=f"seg_days_{i}", bind="query-params"
            )
        )
        item: dict[str, object] = {kind: event}
        if condition_filter.strip():
            item["filter"] = condition_filter.strip()
        if days:
            item["last_days"] = days
        if kind == "did":
            times = int(
                extra_col.number_input(
                    label("at_least", lang), min_value=1, value=1, key=f"seg_times_{i}", bind="query-params"
                )
            )
            if times > 1:
                item["at_least"] = times
        items.append(item)
    if not items:
        return None
    return json.dumps(items[0] if len(items) == 1 else {combine: items}, ensure_ascii=False)


def to_yaml(text: str) -> str:
    """The built condition as the ``where:`` of a segment file entry."""
    import yaml

    return yaml.safe_dump({"where": json.loads(text)}, allow_unicode=True, sort_keys=False)
