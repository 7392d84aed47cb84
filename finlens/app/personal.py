"""Personal data on screen for roles without ``pii``: pseudonyms instead of ids, identifying values masked, no export.

Results are cached with real ids (the cache key holds the role, so roles never share an entry); the pseudonyms of
:mod:`semantic.drill.privacy` replace them on the way to the screen, in lists of users, member lists, a user's
sequence and profile, and files of ids. A pseudonym leads back to its user only through this browser session's
own map, filled when a list showed it: a pseudonym in a link opens the user in the session that listed them, and
nothing anywhere else (recomputing the keyed hash over every user to find one would read every id of the warehouse
on each lookup). A real id typed or put in the URL finds nothing. A file of ids needs the role's ``export``: without
it the button is absent and no file is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from finlens.app import audit_trail
from finlens.app.i18n import t
from finlens_common.settings import pseudonym_secret
from semantic.catalog.catalog import Catalog
from semantic.drill.lookup import UserEvents
from semantic.drill.privacy import MASK, Privacy, privacy_for
from semantic.drill.users import UserList

PSEUDONYMS_KEY = "finlens_pseudonyms"
MAX_REMEMBERED = 200_000  # pseudonyms a session keeps; past it the oldest half is dropped


def privacy(catalog: Catalog) -> Privacy | None:
    """The catalog's role's rules, None when it sees personal data (QueryError when the secret is missing)."""
    return privacy_for(catalog, pseudonym_secret())


def hides_ids(catalog: Catalog) -> bool:
    return catalog.role is not None and not catalog.role.pii


def may_export(catalog: Catalog) -> bool:
    return catalog.role is None or catalog.role.export


def _remember(rules: Privacy, ids: Iterable[object]) -> None:
    known: dict[str, str] = st.session_state.setdefault(PSEUDONYMS_KEY, {})
    if len(known) > MAX_REMEMBERED:
        for old in list(known)[: len(known) // 2]:
            del known[old]
    for real in ids:
        if real is not None:
            known[str(rules.user_id(real))] = str(real)


def users(catalog: Catalog, listing: UserList) -> UserList:
    """``listing`` as the role may see it; the pseudonyms shown are remembered for this session."""
    rules = privacy(catalog)
    if rules is None:
        return listing
    _remember(rules, (row.get("user_id") for row in listing.rows))
    return rules.users(listing)


def ids(catalog: Catalog, real: list[str]) -> list[str]:
    rules = privacy(catalog)
    return real if rules is None else rules.ids(real)


def events(catalog: Catalog, found: UserEvents) -> UserEvents:
    rules = privacy(catalog)
    return found if rules is None else rules.events(found)


def profile(catalog: Catalog, attributes: dict[str, Any]) -> dict[str, Any]:
    """A user's attributes with identifying ones masked (columns declared ``pii:`` in the model YAML)."""
    rules = privacy(catalog)
    if rules is None:
        return attributes
    return {k: (MASK if k in rules.masked_columns and v is not None else v) for k, v in attributes.items()}


def real_id(catalog: Catalog, shown: str) -> str | None:
    """The user behind an id on screen: itself for roles with ``pii``; a pseudonym this session listed, else None."""
    if not hides_ids(catalog):
        return shown
    known: dict[str, str] = st.session_state.get(PSEUDONYMS_KEY) or {}
    return known.get(shown)


def export_button(
    catalog: Catalog, label: str, make_csv: Callable[[], str], *, file_name: str, key: str | None, what: str, lang: str
) -> None:
    """The CSV of ids for a role with ``export`` (each download recorded); otherwise one line saying why not."""
    if not may_export(catalog):
        st.caption(t("access.export_refused", lang))
        return
    content = make_csv()
    count = max(content.count("\n") - 1, 0)
    st.download_button(
        label,
        content,
        file_name=file_name,
        mime="text/csv",
        key=key,
        on_click=lambda: audit_trail.note("export", rows=count, detail=f"{what}: {file_name}", dedup=False),
    )
