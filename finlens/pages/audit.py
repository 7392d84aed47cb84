"""Audit trail, for administrators: who asked what, exported what and looked up whom, newest first.

The same rows as ``finlens audit [--since DAY] [--who IDENTITY]`` (``finlens/audit.py``). Only the administrator
role has this page in its navigation; any other role reaching its URL gets the one-line refusal (``gate.py``),
and the page checks again itself. The filters are widgets, not URL parameters.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from finlens import audit
from finlens.app import signin
from finlens.app.filters import current
from finlens.app.i18n import plain, section, t
from finlens_common.settings import audit_path

LIMIT = 2000
text = section("audit")

filters = current()
lang = filters.language
if not signin.is_admin(signin.role_now()):
    st.error(t("access.page_refused", lang))
    st.stop()
st.title(text("title", lang))
st.caption(text("about", lang, path=plain(str(audit_path()))))
left, right = st.columns(2)
since = left.date_input(text("since", lang), value=date.today() - timedelta(days=6), key="audit_since")
rows = audit.entries(since=since)
people = sorted({str(r["identity"]) for r in rows})
who = right.selectbox(text("who", lang), [None, *people], format_func=lambda p: p or text("anyone", lang))
shown = [r for r in rows if who is None or r["identity"] == who][::-1]
actions = sorted({str(r["action"]) for r in shown})
picked = st.pills(text("action", lang), actions, selection_mode="multi", key="audit_actions")
if picked:
    shown = [r for r in shown if r["action"] in picked]
st.caption(text("rows_shown", lang, n=f"{len(shown):,}", limit=f"{LIMIT:,}"))
st.dataframe(
    [
        {k: r[k] for k in ("at", "identity", "role", "source", "action", "rows", "detail", "sql_hash")}
        for r in shown[:LIMIT]
    ],
    hide_index=True,
    width="stretch",
)
if st.button(text("verify", lang), key="audit_verify"):
    st.success(text("intact", lang, n=f"{audit.verify():,}"))
