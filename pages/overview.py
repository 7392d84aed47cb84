"""Overview: headline numbers for the last 30 days of data (the full board comes with the dashboard work)."""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

from finlens import app_state
from finlens.errors import FinlensError
from semantic import Query
from semantic.formatting import format_value
from semantic.inspect import time_span

HEADLINE = ("uv", "new_users", "registrations", "bind_card_users", "invest_users", "invest_amount")

st.title("finlens")
catalog = app_state.catalog()
span = time_span(catalog, app_state.warehouse(app_state.warehouse_url()))
if span is None:
    st.info("The warehouse has no events yet.")
    st.stop()
end = span[1]
start = max(span[0], end - timedelta(days=29))
st.caption(f"{start} – {end} · {app_state.warehouse_url()}")
try:
    with st.spinner("Loading…"):
        (row,) = app_state.run(Query(metrics=HEADLINE, start=start, end=end)).rows
except FinlensError as err:
    st.error(str(err))
    st.stop()
for column, name in zip(st.columns(len(HEADLINE)), HEADLINE):
    metric = catalog.metrics[name]
    column.metric(metric.label.en, format_value(row[name], metric.format))
