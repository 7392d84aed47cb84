"""Retention: cohort x period heatmap of any retention metric; a click on a cell opens the cohort's users."""

from __future__ import annotations

import streamlit as st

from finlens.app import state as app_state
from finlens.app.board import guarded, render_heatmap
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.url_state import pick_one

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(t("retention", lang))
names = [n for n, m in catalog.metrics.items() if m.type == "retention"]
name = pick_one(t("metric", lang), names, key="retention_metric", labels=lambda n: catalog.metrics[n].label.get(lang))
st.caption(catalog.metrics[name].description)
guarded(lambda: render_heatmap(name, filters, key="retention_chart"))
