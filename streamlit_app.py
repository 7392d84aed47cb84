"""finlens app entry point: first-start demo data, then the page router.

Run with ``streamlit run streamlit_app.py``. On the embedded default warehouse
with no data yet, the demo warehouse is generated first, with a progress bar.
"""
from __future__ import annotations

import streamlit as st

from finlens.workspace import ensure_demo, needs_demo, resolve_warehouse_url

st.set_page_config(page_title="finlens", page_icon="📊", layout="wide")

url = resolve_warehouse_url()
if needs_demo(url):
    st.title("finlens")
    bar = st.progress(0.0, text="First start: generating the demo warehouse…")
    ensure_demo(url, progress=lambda done, total: bar.progress(done / total, text=f"Generating demo data: {done:,} / {total:,} users"))
    bar.empty()

navigation = st.navigation({"Overview": [st.Page("pages/overview.py", title="Overview", icon="🏠", default=True)]})
navigation.run()
