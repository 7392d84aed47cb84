"""The Funnel page's source: a catalog funnel, or one built with clicks (steps, filters, window), kept in the URL.

Every choice is a picker with its code in the URL (:mod:`finlens.app.url_state`) or a text bound to a URL
parameter; typed filters reach SQL only through :func:`semantic.catalog.definitions.funnel_definition`, which
checks them. Returns the funnel's name and, when built here, its :class:`Definition`.
"""

from __future__ import annotations

import streamlit as st

from finlens.app import adhoc
from finlens.app import state as app_state
from finlens.app.filters import Filters
from finlens.app.i18n import section, t
from finlens.app.url_state import pick_one
from semantic.catalog.definitions import MAX_STEPS, Definition, funnel_definition
from semantic.catalog.specs import Label

SOURCES = ("catalog", "build")
WINDOWS = ("30m", "1h", "1d", "3d", "7d", "14d", "30d")
STEP_COUNTS = tuple(str(n) for n in range(2, MAX_STEPS + 1))
DEFAULT_STEPS = ("register", "realname_auth", "bind_card")
DEFAULT_NAME = "adhoc_funnel"

text = section("funnel")


def event_options(filters: Filters) -> list[str]:
    """The events of the range, the pickers' choices (their codes are their names)."""
    try:
        found = [str(v) for v in app_state.values("event", filters.start, filters.end)]
    except Exception:  # noqa: BLE001 - a picker must not take the page down; the defaults stay choosable
        found = []
    return sorted(set(found) | set(DEFAULT_STEPS))


def pick_source(filters: Filters) -> tuple[str, Definition | None]:
    """The funnel to show: its name, and its definition when built on the page (None: a catalog funnel)."""
    lang = filters.language
    catalog = app_state.catalog()
    source = pick_one(
        text("source", lang),
        SOURCES,
        key="funnel_source",
        labels=lambda s: text(f"source_{s}", lang),
        widget=st.segmented_control,
        default="catalog",
    )
    if source != "build":
        funnels = [n for n, m in catalog.metrics.items() if m.type == "funnel"]
        name = pick_one(
            t("metric", lang), funnels, key="funnel_metric", labels=lambda n: catalog.metrics[n].label.get(lang)
        )
        return name or funnels[0], None
    return _build(filters)


def _build(filters: Filters) -> tuple[str, Definition | None]:
    lang = filters.language
    events = event_options(filters)
    top = st.columns([1, 1, 2])
    with top[0]:
        count = int(pick_one(text("steps", lang), STEP_COUNTS, key="funnel_steps", default="3") or 3)
    with top[1]:
        window = pick_one(
            text("window", lang), WINDOWS, key="funnel_window", default="7d", labels=lambda w: text(f"window_{w}", lang)
        )
    with top[2]:
        name = st.text_input(text("name", lang), value=DEFAULT_NAME, key="funnel_name", bind="query-params")
    steps = []
    for k in range(count):
        left, right = st.columns([1, 2])
        default = DEFAULT_STEPS[k] if k < len(DEFAULT_STEPS) else events[0]
        with left:
            event = pick_one(f"{t('step', lang)} {k + 1}", events, key=f"funnel_event_{k}", default=default)
        with right:
            condition = st.text_input(
                text("step_filter", lang),
                key=f"funnel_filter_{k}",
                bind="query-params",
                placeholder="is_success" if k else "platform IN ('iOS', 'Android')",
            )
        steps.append((event or default, condition or None))
    label = Label(zh=name or DEFAULT_NAME, en=name or DEFAULT_NAME)
    definition = adhoc.build(
        lambda: funnel_definition(
            app_state.catalog(), name=(name or DEFAULT_NAME).strip(), steps=steps, window=window or "7d", label=label
        ),
        lang,
    )
    if definition is None:
        st.stop()
    return definition.name, definition


def saved(name: str) -> None:
    """After a save: show the saved funnel from the catalog."""
    st.query_params["funnel_source"] = "catalog"
    st.query_params["funnel_metric"] = name
    st.rerun()


def human_window(seconds: int, lang: str) -> str:
    """A window as people say it: ``7 days``, ``1 hour``, ``30 minutes`` (the largest whole unit)."""
    for size, unit in ((86400, "days"), (3600, "hours"), (60, "minutes")):
        if seconds % size == 0:
            return f"{seconds // size} {text(f'unit_{unit}', lang)}"
    return f"{seconds} {text('unit_seconds', lang)}"
