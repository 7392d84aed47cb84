"""Where things are and which warehouse to use: every path and environment variable the project reads, in one place.

The layers above ask here instead of reading ``os.environ`` or walking up from
``__file__`` themselves, so a deployment's settings are documented once
(README, Choosing the warehouse) and tests can point everything elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
METRICS_ENV = "FINLENS_METRICS"
WAREHOUSE_ENV = "FINLENS_WAREHOUSE"
PSEUDONYM_SECRET_ENV = "FINLENS_PSEUDONYM_SECRET"
AUDIT_ENV = "FINLENS_AUDIT"
TIME_ZONE_ENV = "FINLENS_TIME_ZONE"
DEFAULT_TIME_ZONE = "Asia/Shanghai"
CATALOG_READ_ONLY_ENV = "FINLENS_CATALOG_READONLY"
DEFAULT_METRICS_ROOT = PROJECT_ROOT / "metrics"
DEFAULT_WAREHOUSE_FILE = PROJECT_ROOT / "data" / "finlens.duckdb"


def metrics_root() -> Path:
    """The catalog folder: ``FINLENS_METRICS`` if set, else the project's ``metrics/``."""
    return Path(os.environ.get(METRICS_ENV) or DEFAULT_METRICS_ROOT)


def catalog_read_only() -> bool:
    """``FINLENS_CATALOG_READONLY=1``: the app never writes the catalog folder (a catalog from git); it offers the YAML."""
    return os.environ.get(CATALOG_READ_ONLY_ENV, "").strip().lower() in ("1", "true", "yes")


def tracking_plan_path() -> Path:
    """``tracking_plan.yml`` in the project's ``metrics/`` folder."""
    return DEFAULT_METRICS_ROOT / "tracking_plan.yml"


def default_warehouse_url() -> str:
    """``duckdb:////abs/path/data/finlens.duckdb`` (four slashes: an absolute path)."""
    return f"duckdb:///{DEFAULT_WAREHOUSE_FILE.as_posix()}"


def pseudonym_secret() -> str | None:
    """The deployment's secret for user-id pseudonyms (``FINLENS_PSEUDONYM_SECRET``); never in the repository."""
    return os.environ.get(PSEUDONYM_SECRET_ENV) or None


def audit_path() -> Path:
    """The audit trail's SQLite file: ``FINLENS_AUDIT``, else ``data/audit.sqlite`` beside the warehouse file."""
    return Path(os.environ.get(AUDIT_ENV) or PROJECT_ROOT / "data" / "audit.sqlite")


def warehouse_url(explicit: str | None = None) -> str:
    """The warehouse to use: an explicit URL (``--warehouse``), else ``FINLENS_WAREHOUSE``, else the embedded default."""
    return explicit or os.environ.get(WAREHOUSE_ENV) or default_warehouse_url()


# Alerts and subscriptions (README, Alerts): where their history lives, how messages read, where links point.
ALERTS_DB_ENV = "FINLENS_ALERTS_DB"
LANGUAGE_ENV = "FINLENS_LANGUAGE"
APP_URL_ENV = "FINLENS_APP_URL"
PUBLIC_URL_ENV = "FINLENS_ALERTS_PUBLIC_URL"
DEFAULT_ALERTS_DB = PROJECT_ROOT / "data" / "alerts.sqlite"
SMTP_ENV = {
    "host": "FINLENS_SMTP_HOST",
    "port": "FINLENS_SMTP_PORT",
    "user": "FINLENS_SMTP_USER",
    "sender": "FINLENS_SMTP_FROM",
    "security": "FINLENS_SMTP_SECURITY",
}
SMTP_PASSWORD_ENV = "FINLENS_SMTP_PASSWORD"  # a secret: read like the channels' (environment or Streamlit secrets)


def alerts_store_path() -> Path:
    """The alerts' history (evaluations, incidents, deliveries, chart images): ``FINLENS_ALERTS_DB`` or data/alerts.sqlite."""
    return Path(os.environ.get(ALERTS_DB_ENV) or DEFAULT_ALERTS_DB)


def deployment_language() -> str:
    """``zh`` or ``en`` (``FINLENS_LANGUAGE``, default zh): the language of alert and digest messages."""
    value = (os.environ.get(LANGUAGE_ENV) or "zh").strip().lower()
    return value if value in ("zh", "en") else "zh"


def deployment_time_zone() -> str:
    """The zone of the warehouse's wall-clock times and of cron schedules (``FINLENS_TIME_ZONE``, default Asia/Shanghai)."""
    return os.environ.get(TIME_ZONE_ENV) or DEFAULT_TIME_ZONE


def app_url() -> str:
    """Where people open the app, for links in messages (``FINLENS_APP_URL``, default http://127.0.0.1:8501)."""
    return (os.environ.get(APP_URL_ENV) or "http://127.0.0.1:8501").rstrip("/")


def public_url() -> str | None:
    """Where ``finlens alerts serve --http`` is reachable from chat apps (``FINLENS_ALERTS_PUBLIC_URL``), if anywhere."""
    value = os.environ.get(PUBLIC_URL_ENV)
    return value.rstrip("/") if value else None


def smtp_settings() -> dict[str, str | None]:
    """The SMTP server e-mail channels use: host, port, user, sender, security (starttls, ssl or none)."""
    return {name: os.environ.get(variable) or None for name, variable in SMTP_ENV.items()}


def environment_value(name: str) -> str | None:
    """The environment variable ``name`` (a channel's ``url_env`` / ``secret_env``), None when unset or empty."""
    return os.environ.get(name) or None
