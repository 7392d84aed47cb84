"""The sidebar every page shares: dates, comparison, business line, channel, platform, version, language.

Every widget keeps its choice in a URL query parameter (pickers through
:mod:`finlens.app.url_state`, codes in the URL and labels on screen), so a
copied link reproduces the view. Pages read the choices through
:func:`current` and turn them into queries with :meth:`Filters.query`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import streamlit as st

from finlens.app import state as app_state
from finlens.app.i18n import t
from finlens.app.url_state import carry_sidebar_choices, pick_many, pick_one
from semantic import Query
from semantic.catalog.days import DayError, as_day
from semantic.compiler.filters import equals_where

DEFAULT_DAYS = 30
COMPARISONS = ("previous", "year")
LANGUAGES = ("en", "zh")
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
FILTER_DIMENSIONS = ("business_line", "channel", "platform", "app_version")
STATE_KEY = "finlens_filters"


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices."""

    start: date
    end: date
    compare: str
    language: str
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()
    data_start: date | None = None  # the first and last day with events, when known
    data_end: date | None = None

    def where(self, extra: str | None = None) -> str | None:
        """The chosen dimension values (and ``extra``) as a ``--where`` expression."""
        return equals_where([(name, list(chosen)) for name, chosen in self.values], extra)

    def query(
        self, metrics: tuple[str, ...], *, extra_where: str | None = None, compare: bool = False, **options
    ) -> Query:
        """A query over the chosen range (or the comparison range) under the chosen filters."""
        start, end = self.comparison() if compare else (self.start, self.end)
        return Query(metrics=metrics, start=start, end=end, where=self.where(extra_where), **options)

    def comparison_covered(self) -> bool:
        """Whether the data reaches back over the whole comparison period (else changes would mislead)."""
        return self.data_start is None or self.comparison()[0] >= self.data_start

    def comparison(self) -> tuple[date, date]:
        """The previous period of the same length, or the same dates a year earlier."""
        if self.compare == "year":
            return _year_before(self.start), _year_before(self.end)
        length = (self.end - self.start).days + 1
        return self.start - timedelta(days=length), self.start - timedelta(days=1)


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def language() -> str:
    """``zh`` or ``en``: the sidebar's switch, else the URL's ``lang`` (before the switch has rendered), else English."""
    value = st.session_state.get("lang") or st.query_params.get("lang")
    return value if value in ("zh", "en") else "en"


def sidebar(span: tuple[date, date]) -> Filters:
    """Render the shared sidebar and remember its choices for the pages of this run.

    A range from a link that lies outside the data is not quietly replaced: the page says what was shown
    instead (:func:`_check_url_range`), in the page's language.
    """
    first, last = span
    default = (max(first, last - timedelta(days=DEFAULT_DAYS - 1)), last)
    notices: list[tuple[bool, str]] = []
    carry_sidebar_choices(default)  # a page opened from the navigation keeps the language, range and filters
    with st.sidebar:
        lang = (
            pick_one(
                "Language / 语言",
                LANGUAGES,
                key="lang",
                labels=LANGUAGE_NAMES.get,
                default="en",
                widget=st.segmented_control,
            )
            or "en"
        )
        checked = _check_url_range(first, last, default, lang)
        notices += [(refused, notice) for refused, notice, _ in checked]
        shown = next((days for _, _, days in checked if days is not None), default)
        chosen = st.date_input(
            t("date_range", lang),
            value=shown,
            min_value=first,
            max_value=last,
            key="range",
            bind="query-params",
            format="YYYY-MM-DD",
        )
        start, end = _range(chosen, default)
        compare = (
            pick_one(
                t("compare", lang),
                COMPARISONS,
                key="compare",
                labels=lambda c: t(f"compare_{c}", lang),
                default="previous",
            )
            or "previous"
        )
        dims = app_state.catalog().dimensions
        values = []
        for name in FILTER_DIMENSIONS:
            if name not in dims:  # a broken definition is left out of the catalog (the banner says why)
                continue
            options = _options(name, start, end)
            picked = pick_many(
                dims[name].label.get(lang),
                options,
                key=f"f_{name}",
                labels=lambda v, d=dims[name]: d.value_label(v, lang),
                placeholder=t("filter_placeholder", lang),
            )
            if picked:
                values.append((name, tuple(picked)))
    for refused, notice in notices:  # a link that cannot be shown is refused (error); one clamped is a warning
        (st.error if refused else st.warning)(notice)
    filters = Filters(
        start=start, end=end, compare=compare, language=lang, values=tuple(values), data_start=first, data_end=last
    )
    st.session_state[STATE_KEY] = filters
    return filters


def _check_url_range(
    first: date, last: date, default: tuple[date, date], lang: str
) -> list[tuple[bool, str, tuple[date, date] | None]]:
    """A link's ``range`` checked against the data: unreadable, outside it, or partly outside it (clamped).

    Returns what the page says about it: refused or only clamped, the message, and the days shown instead
    of a clamped range; the URL is corrected so the widget shows what the page shows.
    """
    values = st.query_params.get_all("range")
    if not values:
        return []
    shown_start, shown_end = default
    try:
        days = [as_day(value) for value in values[:2]]
    except DayError as err:
        del st.query_params["range"]
        return [(True, t("range.unreadable", lang, problem=str(err), start=shown_start, end=shown_end), None)]
    start, end = min(days), max(days)
    words = {"start": start, "end": end, "first": first, "last": last}
    if end < first or start > last:
        del st.query_params["range"]
        return [(True, t("range.no_data", lang, shown_start=shown_start, shown_end=shown_end, **words), None)]
    if start < first or end > last:
        shown_start, shown_end = max(start, first), min(end, last)
        st.query_params["range"] = [shown_start.isoformat(), shown_end.isoformat()]
        message = t("range.clamped", lang, shown_start=shown_start, shown_end=shown_end, **words)
        return [(False, message, (shown_start, shown_end))]
    return []


def _range(chosen: object, default: tuple[date, date]) -> tuple[date, date]:
    if isinstance(chosen, (list, tuple)) and len(chosen) == 2 and all(isinstance(d, date) for d in chosen):
        return chosen[0], chosen[1]
    if isinstance(chosen, (list, tuple)) and len(chosen) == 1 and isinstance(chosen[0], date):
        return chosen[0], chosen[0]  # the second click has not happened yet
    return default


def _options(name: str, start: date, end: date) -> list[str]:
    """The dimension's values in the range; its declared values when the lookup fails."""
    try:
        return [str(v) for v in app_state.values(name, start, end)]
    except Exception:  # noqa: BLE001 - a filter widget must not take the page down
        declared = app_state.catalog().dimensions[name].values
        return list(declared or ())


def current() -> Filters:
    """The sidebar's choices of this run (a 30-day default before the sidebar has run)."""
    filters = st.session_state.get(STATE_KEY)
    if isinstance(filters, Filters):
        return filters
    span = app_state.span() or (date.today(), date.today())
    return Filters(
        start=max(span[0], span[1] - timedelta(days=DEFAULT_DAYS - 1)),
        end=span[1],
        compare="previous",
        language=language(),
        data_start=span[0],
        data_end=span[1],
    )


def with_range(filters: Filters, start: date, end: date) -> Filters:
    return replace(filters, start=start, end=end)
