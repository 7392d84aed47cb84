"""The user-sequence page's cached lookups and words: finding a user, their profile, their events as a table.

Cached by the text or id, the warehouse URL and the catalog version, like every
query of the app; the page itself builds no SQL.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from finlens.app import personal
from finlens.app import state as app_state
from finlens.app.i18n import section, t
from semantic.drill.people import Match, find_users, user_profile

CACHE_SECONDS = 3600
# The profile attributes a customer-service agent needs first, in this order (users model columns/dimensions).
PROFILE = ("register_channel", "register_time", "is_real_name", "risk_level", "register_platform", "user_province")
FIRST_COLUMNS = (
    "session",
    "event_time",
    "event",
    "page",
    "element",
    "is_success",
    "fail_reason",
    "amount",
    "properties",
)

text = section("sequence")


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS, max_entries=200)
def _matches(typed: str, url: str, version: str) -> list[Match]:
    return find_users(app_state.catalog(), typed, app_state.warehouse(url))


def matches(typed: str, url: str, version: str) -> list[Match]:
    """The users ``typed`` finds; for a role without ``pii`` only a pseudonym this session listed (a real id: none)."""
    catalog = app_state.catalog()
    if personal.hides_ids(catalog):
        return [Match(typed, "user_id", typed)] if personal.real_id(catalog, typed) else []
    return _matches(typed, url, version)


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS, max_entries=200)
def _profile(user_id: str, url: str, version: str) -> dict[str, Any]:
    return user_profile(app_state.catalog(), user_id, app_state.warehouse(url))


def profile(shown_id: str, url: str, version: str) -> dict[str, Any]:
    """The attributes of the user shown as ``shown_id``, identifying ones masked for a role without ``pii``."""
    catalog = app_state.catalog()
    real = personal.real_id(catalog, shown_id)
    return personal.profile(catalog, _profile(real, url, version)) if real else {}


def column_label(column: str, language: str) -> str:
    """An events column as people read it: the label of the dimension reading exactly it, else the app's word."""
    catalog = app_state.catalog()
    for dim in catalog.dimensions_for("events"):
        if dim.model == "events" and dim.expr.sql() == column:
            return dim.label.get(language)
    return t(f"column_{column}", language)


def profile_value(name: str, value: Any, language: str) -> str:
    """An attribute's value for the header: yes/no for flags, labels for coded values, – when unknown."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return t("yes" if value else "no", language)
    dim = app_state.catalog().dimensions.get(name)
    return dim.value_label(value, language) if dim is not None else str(value)


def attribute_label(name: str, language: str) -> str:
    dim = app_state.catalog().dimensions.get(name)
    return dim.label.get(language) if dim is not None else t(f"column_{name}", language)


def shown(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """Events as text for the screen: empty cells for NULL (never "None"), yes/no flags, labelled headers."""
    out = frame.copy()
    for column in out.columns:
        if column in ("session", "failed"):
            continue
        out[column] = [
            ""
            if v is None or (isinstance(v, float) and pd.isna(v))
            else (t("yes" if v else "no", language) if isinstance(v, bool) else str(v))
            for v in out[column]
        ]
    return out.rename(columns={c: column_label(c, language) for c in out.columns if c != "failed"})
