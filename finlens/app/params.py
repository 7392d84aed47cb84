"""Which URL query parameters the app knows, and refusing the rest in one line.

Every page's state is in the URL so a link can be shared; the same makes the
URL an input anyone can type. Known parameters are checked where they are
read (:mod:`finlens.app.drill`, the bound widgets); an unknown one is shown
as one ``st.error`` line and removed, so it cannot linger in shared links.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import streamlit as st

from finlens.app.drill import KEYS as DRILL_KEYS
from semantic.catalog.days import DayError, as_day

SIDEBAR_KEYS = ("lang", "range", "compare")
WIDGET_KEYS = (
    "explore_metrics",
    "explore_dims",
    "explore_grain",
    "explore_where",
    "explore_dialect",
    "funnel_metric",
    "funnel_by",
    "retention_metric",
    "segment",
    "seg_combine",
    "seg_rows",
    "seg_mode",
    "seg_yaml",
    "experiment",
    "distribution",
    "as_of",
    "lifecycle_pick",
    "alert",
    "alert_key",
)
# widgets created per row or per dimension: seg_kind_0, f_platform ...; the analysis pages' widgets (funnel_step_0 ...)
WIDGET_PATTERN = re.compile(
    r"^(f_[a-z][a-z0-9_]{0,62}"
    r"|seg_(kind|attr|op|value|event|filter|days|times|not|group|count|window|from|to|measure|column|cmp|amount"
    r"|label|labelvalue|ref|gcombine|gnot)_\d{1,2}"
    r"|(funnel|retention|interval|ltv|stickiness|paths|attribution|events)_[a-z][a-z0-9_]{0,40})$"
)
MAX_PARAMETERS = 60


def known(key: str) -> bool:
    """Whether ``key`` is a URL parameter some page reads."""
    return key in DRILL_KEYS or key in SIDEBAR_KEYS or key in WIDGET_KEYS or bool(WIDGET_PATTERN.match(key))


def refuse_unknown() -> None:
    """Show one error line for each unknown URL parameter (at most a few) and drop them from the URL."""
    unknown = [key for key in st.query_params if not known(key)]
    for key in unknown[:3]:
        st.error(f"URL parameter {key[:40]!r} is not one finlens reads; it was ignored")
    if len(unknown) > 3:
        st.error(f"{len(unknown) - 3} more unknown URL parameters were ignored")
    for key in unknown:
        del st.query_params[key]
    if len(st.query_params) > MAX_PARAMETERS:
        st.error(f"the URL holds {len(st.query_params)} parameters; at most {MAX_PARAMETERS} are read")
        st.query_params.clear()


def check_choices(key: str, options: Sequence[object]) -> None:
    """Before a bound widget renders: refuse (one line) and drop URL values that are not among its options.

    Streamlit would quietly show the default instead; a person who followed a link should know why.
    """
    values = st.query_params.get_all(key)
    allowed = {str(option) for option in options}
    bad = [value for value in values if value not in allowed]
    if bad:
        st.error(f"URL parameter {key!r}: {bad[0][:40]!r} is not one of its choices; it was ignored")
        del st.query_params[key]


def check_days(key: str, first: date, last: date) -> None:
    """Before a bound date widget renders: days written YYYY-MM-DD within ``first``..``last``, else refused and dropped."""
    values = st.query_params.get_all(key)
    for value in values:
        try:
            day = as_day(value)
        except DayError as err:
            st.error(f"URL parameter {key!r}: {err}; it was ignored")
            del st.query_params[key]
            return
        if not first <= day <= last:
            st.error(f"URL parameter {key!r}: {day} is outside the data ({first} – {last}); it was ignored")
            del st.query_params[key]
            return
