"""The Alerts page's cached reads: the definitions, each alert's series over a range, the store; who may check.

The series is evaluated exactly as ``finlens alerts check`` would evaluate each period
(``semantic.analyses.alert_eval.evaluate_range``), so the band and the fired points on screen are
the ones the messages came from.
"""

from __future__ import annotations

import hmac
import os
from datetime import date, datetime
from typing import Any

import streamlit as st

from finlens.alerts.delivery import Sender
from finlens.alerts.runner import CheckRun, Context, check
from finlens.alerts.secrets import secret
from finlens.alerts.store import Store
from finlens.app import state as app_state
from finlens_common.settings import alerts_store_path, deployment_language, public_url
from semantic.analyses.alert_eval import evaluate_range
from semantic.catalog.alert_specs import Notifications
from semantic.catalog.notifications import load_notifications

CACHE_SECONDS = 600
ADMIN_TOKEN = "FINLENS_ADMIN_TOKEN"
ADMINS = "FINLENS_ADMINS"


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


def is_admin(token: str) -> bool:
    """A signed-in person whose e-mail is in ``FINLENS_ADMINS``, or the right ``FINLENS_ADMIN_TOKEN`` typed in."""
    expected = secret(ADMIN_TOKEN)
    if expected and token and hmac.compare_digest(token.encode(), expected.encode()):
        return True
    admins = {a.strip().lower() for a in (os.environ.get(ADMINS) or "").split(",") if a.strip()}
    try:
        email = str(st.user.get("email") or "").lower() if st.user.is_logged_in else ""
    except Exception:  # noqa: BLE001 - no login configured: nobody is signed in
        email = ""
    return bool(email) and email in admins


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
    return check(context, at)
