"""Data quality: tracking-plan violations in the warehouse, and what the log imports rejected.

Renders what ``ingest.tracking_check.check_tracking`` and ``ingest.sensors_write``
return; the page builds no SQL and opens no warehouse of its own.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finlens.app import state as app_state
from finlens_common.errors import FinlensError
from ingest.sensors_write import recent_imports, recent_rejects
from ingest.tracking import load_plan
from ingest.tracking_check import check_tracking

st.title("Data quality")
warehouse = app_state.warehouse(app_state.warehouse_url())
try:
    plan = load_plan()
except FinlensError as err:
    st.error(str(err))
    st.stop()
st.caption(f"Tracking plan: metrics/tracking_plan.yml · {len(plan.events)} events · owner {plan.owner}")

st.subheader("Tracking-plan violations")
try:
    with st.spinner("Checking events against the tracking plan…"):
        found = check_tracking(warehouse, plan)
except FinlensError as err:
    st.error(str(err))
    st.stop()
if found:
    owners = {name: event.owner for name, event in plan.events.items()}
    frame = pd.DataFrame([{**v.as_dict(), "owner": owners.get(v.event)} for v in found])
    st.metric("Violating events", f"{int(frame['count'].sum()):,}")
    st.dataframe(frame, hide_index=True, width="stretch")
else:
    st.success("No violations: every event and property matches the plan.")

st.subheader("Log imports")
imports = recent_imports(warehouse)
if imports:
    st.dataframe(pd.DataFrame(imports), hide_index=True, width="stretch")
else:
    st.info("No log has been imported into this warehouse (`finlens import sensors PATH...`).")
rejects = recent_rejects(warehouse)
if rejects:
    st.markdown("**Rejected lines** (latest 50; all are in table `import_rejects`)")
    st.dataframe(pd.DataFrame(rejects), hide_index=True, width="stretch")
