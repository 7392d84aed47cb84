"""The Retention page's cohort table and builder: rates per cell, cohort sizes, the weighted average row, paging.

A day-by-day year is 365 cohorts: the table shows :data:`COHORTS_PER_PAGE` at a time (the average row, over
every cohort of the range, stays on top of each page), the heatmap the same page.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from finlens.app import adhoc
from finlens.app import state as app_state
from finlens.app.filters import Filters
from finlens.app.i18n import section
from finlens.app.tables import header
from finlens.app.url_state import pick_one
from finlens.pages.funnel_builder import event_options
from semantic.catalog.definitions import Definition, retention_definition
from semantic.catalog.formatting import format_value
from semantic.catalog.specs import RETENTION_MODES, RETENTION_PERIODS, Label

COHORTS_PER_PAGE = 31
AVERAGE = "all"
DEFAULT_NAME = "adhoc_retention"
PERIOD_COUNTS = ("7", "14", "30", "60", "90")

text = section("retention")


def cohorts_of(rows: list[dict[str, Any]]) -> list[str]:
    """The cohorts of the rows, in order, without the average row."""
    return sorted({str(r["cohort"]) for r in rows if r["cohort"] != AVERAGE})


def page_of(cohorts: list[str], lang: str) -> list[str]:
    """The cohorts of the page picked (a page number input when there is more than one page)."""
    pages = max(1, -(-len(cohorts) // COHORTS_PER_PAGE))
    if pages == 1:
        return cohorts
    number = st.number_input(
        text("cohort_page", lang, count=len(cohorts), pages=pages),
        min_value=1,
        max_value=pages,
        value=1,
        key="retention_page",
    )
    first = (int(number) - 1) * COHORTS_PER_PAGE
    return cohorts[first : first + COHORTS_PER_PAGE]


def pivot(rows: list[dict[str, Any]], cohorts: list[str], period: str, catalog, lang: str) -> pd.DataFrame:
    """One row per cohort of the page (the weighted average first): its size, then the rate of every period."""
    cells: dict[str, dict[str, Any]] = {}
    sizes: dict[str, int] = {}
    for row in rows:  # the average row's size: every cohort of the range (each of its cells weighs the known ones)
        if row["cohort"] != AVERAGE and row["period"] == 1:
            sizes[AVERAGE] = sizes.get(AVERAGE, 0) + row["cohort_size"]
    for row in rows:
        cohort = str(row["cohort"])
        if cohort != AVERAGE and cohort not in cohorts:
            continue
        if cohort != AVERAGE:
            sizes.setdefault(cohort, row["cohort_size"])
        cells.setdefault(cohort, {})[column_name(row["period"], period, lang)] = (
            format_value(row["rate"], "percent") if row["rate"] is not None else ""
        )
    order = [AVERAGE, *cohorts] if AVERAGE in cells else cohorts
    data = [
        {
            header("cohort", catalog, lang): text("average", lang) if c == AVERAGE else c,
            header("cohort_size", catalog, lang): sizes.get(c, 0),
            **cells.get(c, {}),
        }
        for c in order
    ]
    return pd.DataFrame(data)


def column_name(n: int, period: str, lang: str) -> str:
    return text(f"period_{period}", lang, n=n)


def pick_build(filters: Filters) -> Definition | None:
    """A retention built with clicks: cohort and return events with filters, periods, mode (all in the URL)."""
    lang = filters.language
    events = event_options(filters)
    left, right = st.columns(2)
    with left:
        cohort = pick_one(text("cohort_event", lang), events, key="retention_cohort_event", default="register")
        cohort_filter = st.text_input(text("event_filter", lang), key="retention_cohort_filter", bind="query-params")
    with right:
        back = pick_one(text("return_event", lang), events, key="retention_return_event", default="$AppStart")
        back_filter = st.text_input(text("event_filter", lang), key="retention_return_filter", bind="query-params")
    a, b, c = st.columns(3)
    with a:
        periods = int(pick_one(text("periods", lang), PERIOD_COUNTS, key="retention_periods", default="30") or 30)
    with b:
        mode = pick_one(
            text("mode", lang),
            RETENTION_MODES,
            key="retention_mode",
            default="exact",
            labels=lambda m: text(f"mode_{m}", lang),
        )
    with c:
        name = st.text_input(text("name", lang), value=DEFAULT_NAME, key="retention_name", bind="query-params")
    name = (name or DEFAULT_NAME).strip()
    return adhoc.build(
        lambda: retention_definition(
            app_state.catalog(),
            name=name,
            cohort=(cohort or "register", cohort_filter or None),
            returning=(back or "$AppStart", back_filter or None),
            period="day",
            periods=periods,
            mode=mode or "exact",
            label=Label(zh=name, en=name),
        ),
        lang,
    )


def saved(name: str) -> None:
    st.query_params["retention_source"] = "catalog"
    st.query_params["retention_metric"] = name
    st.rerun()


def period_choices() -> tuple[str, ...]:
    return RETENTION_PERIODS


def label_of(cohort: str, lang: str) -> str:
    return text("average", lang) if cohort == AVERAGE else cohort


def side_label(side: str, lang: str) -> str:
    return text(f"side_{side}", lang)
