"""Pickers whose choice lives in the URL as codes while people see labels.

Streamlit's own ``bind="query-params"`` writes the option's displayed text to
the URL, so a picker showing labels would put ``访客数`` in a link (and a link
copied in Chinese would not open in English). These pickers keep the code in
the URL (``?explore_metrics=uv``), show the label (``Unique visitors``), and
follow the URL when it changes under them (a link, the Back button). A code
in the URL that is not among the options is refused in one line
(:func:`finlens.app.params.check_choices`) and the default is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import streamlit as st

from finlens.app.params import check_choices

Labels = Callable[[Any], str]
SEEN = "_url_seen_"  # session key prefix: the URL values a picker last followed or wrote


def pick_one(
    label: str,
    options: Sequence[str],
    *,
    key: str,
    labels: Labels | None = None,
    default: str | None = None,
    widget: Callable[..., Any] = st.selectbox,
    **kwargs: Any,
) -> str | None:
    """One code from ``options`` (``widget``: selectbox, radio, segmented control), kept in URL parameter ``key``."""
    options = list(options)
    fallback = (
        default if default in options else (options[0] if options and widget is not st.segmented_control else None)
    )
    _follow_url(key, options, fallback, multi=False)

    def remember() -> None:
        value = st.session_state.get(key)
        _write_url(key, [] if value in (None, fallback) else [value])

    return widget(label, options, format_func=labels or str, key=key, on_change=remember, **kwargs)


def pick_many(
    label: str,
    options: Sequence[str],
    *,
    key: str,
    labels: Labels | None = None,
    default: Sequence[str] = (),
    widget: Callable[..., Any] = st.multiselect,
    **kwargs: Any,
) -> list[str]:
    """Codes from ``options`` (a multiselect), kept in URL parameter ``key`` (repeated)."""
    options = list(options)
    fallback = [d for d in default if d in options]
    _follow_url(key, options, fallback, multi=True)

    def remember() -> None:
        value = list(st.session_state.get(key) or [])
        _write_url(key, [] if value == fallback else value)

    return list(widget(label, options, format_func=labels or str, key=key, on_change=remember, **kwargs) or [])


def _follow_url(key: str, options: list[str], fallback: Any, *, multi: bool) -> None:
    """Seed the widget's state from the URL on the first run and whenever the URL changed since (a link, Back)."""
    check_choices(key, options)
    in_url = tuple(st.query_params.get_all(key))
    seen = f"{SEEN}{key}"
    if key not in st.session_state or st.session_state.get(seen) != in_url:
        if multi:
            st.session_state[key] = list(in_url) or list(fallback)
        else:
            st.session_state[key] = in_url[0] if in_url else fallback
        st.session_state[seen] = in_url
    value = st.session_state[key]
    if multi and not all(v in options for v in value):
        st.session_state[key] = [v for v in value if v in options]
    elif not multi and value is not None and value not in options:
        st.session_state[key] = fallback


def _write_url(key: str, values: list[str]) -> None:
    if values:
        st.query_params[key] = values if len(values) > 1 else values[0]
    elif key in st.query_params:
        del st.query_params[key]
    st.session_state[f"{SEEN}{key}"] = tuple(values)


SIDEBAR_KEYS = ("lang", "range", "compare")  # with every ``f_*``: the sidebar's choices, the same on every page


def _sidebar_key(key: str) -> bool:
    return key in SIDEBAR_KEYS or key.startswith("f_")


def carry_sidebar_choices(default_range: tuple[date, date]) -> None:
    """Keep the sidebar's choices on a page opened from the navigation, and put them back into its URL.

    Streamlit's navigation opens a page on a URL without the pickers' parameters (only widgets bound with
    ``bind="query-params"``, the date range, keep theirs), so the pickers following the URL fell back to
    their defaults: a reader who chose Chinese or a business line got the next page in English, unfiltered.
    The sidebar's choices are the session's: a parameter missing from the URL keeps what this session
    chose (written back into the URL, so a copied link and a drill link hold it); one the URL names (a
    shared link, a drill link, Back to an entry that had it) is followed as it is.
    """
    for name in list(st.session_state):
        key = str(name).removeprefix(SEEN)
        if str(name).startswith(SEEN) and _sidebar_key(key) and key != "range" and key not in st.query_params:
            seen = tuple(st.session_state[name])
            if seen:
                st.query_params[key] = list(seen) if len(seen) > 1 else seen[0]
    chosen = st.session_state.get("range")
    if (
        "range" not in st.query_params
        and isinstance(chosen, (list, tuple))
        and len(chosen) == 2
        and tuple(chosen) != tuple(default_range)
    ):
        st.query_params["range"] = [day.isoformat() for day in chosen]
