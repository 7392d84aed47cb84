"""The app's entries in the audit trail (:mod:`finlens.audit`): who asked which question, exported, looked up a user.

What is recorded, and when (README, Who sees what):

- every page opened, once per visit (``page``);
- every question a person's page asks, once per person, question and data version (``query``, with the compiled
  SQL's hash and the rows returned): a re-render of the same page on the same data is not a new question, but the
  same question asked by a second person is recorded for that person, even though it came from the shared cache.
  The questions run through ``state.run``, ``state.users`` and ``state.values`` are recorded when asked; the
  pages' own cached lookups are recorded when they run on the warehouse (:func:`watched`);
- every user-sequence lookup (``sequence``), every file of ids (``export``), every refused page (``denied``) and
  the sign-in (``sign-in``, once per browser session).

The identity is the signed-in person's (``(no sign-in)`` in the embedded demo), with the role's name. A trail that
cannot be written stops the page with its one-line error: no audit, no data.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from finlens import audit
from finlens.app.identity import Viewer
from finlens.app.signin import VIEWER_KEY

SEEN_KEY = "finlens_audited"
PAGE_KEY = "finlens_page"
MAX_SEEN = 5000  # per browser session; past it the set starts again (a question may then be recorded twice)
NO_SIGN_IN = "(no sign-in)"


def _viewer() -> Viewer | None:
    if get_script_run_ctx(suppress_warning=True) is None:
        return None  # a background thread (the alerts scheduler): not a person's question
    found = st.session_state.get(VIEWER_KEY)
    return found if isinstance(found, Viewer) else None


def note(action: str, *, sql: str | None = None, rows: int | None = None, detail: str = "", dedup: bool = True) -> None:
    """Record ``action`` for this session's person, once per (action, SQL, detail, data version) unless not ``dedup``."""
    who = _viewer()
    if who is None or who.role is None and action not in ("denied",):
        return
    digest = audit.sql_hash(sql) if sql else None
    mark = st.session_state.get("finlens_watermark")
    key = (action, digest, detail, getattr(mark, "token", None))
    seen: set[tuple[Any, ...]] = st.session_state.setdefault(SEEN_KEY, set())
    if dedup and key in seen:
        return
    if len(seen) >= MAX_SEEN:
        seen.clear()
    seen.add(key)
    audit.record(
        audit.Entry(
            identity=who.identity or NO_SIGN_IN,
            role=who.role.name if who.role is not None else "-",
            source=f"app:{st.session_state.get(PAGE_KEY) or '-'}",
            action=action,
            sql_hash=digest,
            rows=rows,
            detail=detail[:500],
        )
    )


def once(key: str, action: str, *, detail: str = "") -> None:
    """Record ``action`` once per browser session (the sign-in)."""
    if get_script_run_ctx(suppress_warning=True) is None or st.session_state.get(key):
        return
    st.session_state[key] = True
    note(action, detail=detail, dedup=False)


def page(name: str) -> None:
    """Record a page opened, once per visit (a rerun of the page it is on is not a new visit)."""
    if st.session_state.get(PAGE_KEY) != name:
        st.session_state[PAGE_KEY] = name
        note("page", detail=name, dedup=False)


class Watched:
    """A warehouse connection whose reads are recorded for the session that made them (see the module's doc).

    Everything else (``dialect``, ``health``, ``cancel`` ...) is the connection's own.
    """

    def __init__(self, inner: Any):
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def query(self, sql: str) -> Any:
        result = self._inner.query(sql)
        note("query", sql=sql, rows=len(result.rows))
        return result

    def query_arrow(self, sql: str) -> Any:
        result = self._inner.query_arrow(sql)
        note("query", sql=sql, rows=result.num_rows)
        return result

    def query_df(self, sql: str) -> Any:
        result = self._inner.query_df(sql)
        note("query", sql=sql, rows=len(result))
        return result
