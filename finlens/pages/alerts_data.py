"""The Alerts page's cached reads: the definitions, each alert's series over a range, the store; who may check.

The series is evaluated exactly as ``finlens alerts check`` would evaluate each period
(``semantic.analyses.alert_eval.evaluate_range``), so the band and the fired points on screen are
the ones the messages came from.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import streamlit as st

from finlens.alerts.delivery import Sender
from finlens.alerts.runner import CheckRun, Context, check
from finlens.alerts.store import Store
from finlens.app import audit_trail, signin
from finlens.app import state as app_state
from finlens_common.settings import alerts_store_path, deployment_language, public_url
from semantic.analyses.alert_eval import evaluate_range
from semantic.catalog.alert_specs import Notifications
from semantic.catalog.notifications import load_notifications

CACHE_SECONDS = 600


@st.cache_resource
def notifications() -> Notifications:
    """``metrics/alerts`` and ``metrics/subscriptions`` (a CatalogError lists every problem)."""
    catalog = app_state.catalog()
    return load_notifications(catalog, catalog.root or None)


@st.cache_resource
def store() -> Store:
    return Store(alerts_store_path())


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _series(name: str, url: str, start: date, end: date) -> list[dict[str, Any]]:
    alert = notifications().alerts[name]
    evaluations = evaluate_range(app_state.catalog(), alert, app_state.warehouse(url), start, end)
    return [
        {**e.to_json(), "key": e.key, "start": e.period.start.isoformat(), "label": e.period.label} for e in evaluations
    ]


def series(name: str, start: date, end: date) -> list[dict[str, Any]]:
    """Every period of ``start``..``end`` for every value of the alert: value, band, status (cached)."""
    return _series(name, app_state.warehouse_url(), start, end)


def may_check() -> bool:
    """Checking from the app is for the administrator role (metrics/access.yml; everyone, on loopback, without
    sign-in: README, Who sees what). No separate token: the role is the one key."""
    return signin.is_admin(signin.role_now())


def check_now(at: datetime) -> CheckRun:
    """What ``finlens alerts check --at`` does, from the app: evaluate, store, announce."""
    context = Context(
        catalog=app_state.catalog(),
        notifications=notifications(),
        warehouse=app_state.warehouse(app_state.warehouse_url()),
        store=store(),
        sender=Sender(),
        language=deployment_language(),
        public_url=public_url(),
    )
    run = check(context, at)
    audit_trail.note("alerts-check", rows=len(run.evaluations), detail=at.isoformat(), dedup=False)
    return run
