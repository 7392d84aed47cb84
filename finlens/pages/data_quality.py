"""Data quality: tracking-plan violations in the warehouse, and what the log imports rejected.

Renders what ``ingest.tracking_check.check_tracking`` and ``ingest.sensors_write``
return; the page builds no SQL and opens no warehouse of its own. The check reads
every event, so its answer is kept for :data:`CHECK_SECONDS` (the time it was
made is shown, and a button checks again).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from finlens.app import state as app_state
from finlens.app.filters import language
from finlens.app.i18n import section
from finlens_common.errors import FinlensError
from ingest.sensors_write import recent_imports, recent_rejects
from ingest.tracking import TrackingPlan, load_plan
from ingest.tracking_check import check_tracking

CHECK_SECONDS = 600
COLUMNS = ("event", "property", "kind", "count", "example", "owner")

text = section("quality")
lang = language()


@st.cache_resource(max_entries=2)
def _plan(version: str) -> TrackingPlan:
    return load_plan()


@st.cache_data(show_spinner=False, ttl=CHECK_SECONDS, max_entries=4)
def _check(url: str, version: str) -> tuple[list[dict], list[dict], list[dict], datetime]:
    warehouse = app_state.warehouse(url)
    plan = _plan(version)
    owners = {name: event.owner for name, event in plan.events.items()}
    found = [{**v.as_dict(), "owner": owners.get(v.event)} for v in check_tracking(warehouse, plan)]
    return found, recent_imports(warehouse), recent_rejects(warehouse), datetime.now().replace(microsecond=0)


st.title(text("title", lang))
version = app_state.catalog_version()
try:
    plan = _plan(version)
except FinlensError as err:
    st.error(str(err))
    st.stop()
st.caption(text("plan", lang, events=len(plan.events), owner=plan.owner))

try:
    with st.spinner(text("checking", lang)):
        found, imports, rejects, checked = _check(app_state.warehouse_url(), version)
except FinlensError as err:
    st.error(str(err))
    st.stop()
left, right = st.columns([4, 1])
left.caption(text("checked_at", lang, time=checked.strftime("%Y-%m-%d %H:%M")))
if right.button(text("check_again", lang), key="quality_again", type="tertiary"):
    _check.clear()
    st.rerun()

st.subheader(text("violations", lang))
if found:
    frame = pd.DataFrame(found, columns=list(COLUMNS))
    frame["kind"] = [text(f"kind_{k}", lang) for k in frame["kind"]]
    frame = frame.rename(columns={c: text(f"column_{c}", lang) for c in COLUMNS})
    st.metric(text("violating_events", lang), f"{int(sum(v['count'] for v in found)):,}")
    st.dataframe(frame.fillna(""), hide_index=True, width="stretch")
else:
    st.success(text("no_violations", lang))

st.subheader(text("imports", lang))
if imports:
    frame = pd.DataFrame(imports)
    st.dataframe(
        frame.rename(columns={c: text(f"import_{c}", lang) for c in frame.columns}), hide_index=True, width="stretch"
    )
else:
    st.info(text("no_imports", lang))
if rejects:
    st.markdown(f"**{text('rejects', lang)}**")
    frame = pd.DataFrame(rejects)
    st.dataframe(
        frame.rename(columns={c: text(f"reject_{c}", lang) for c in frame.columns}), hide_index=True, width="stretch"
    )
