"""Links from a message to the app view that shows it (``FINLENS_APP_URL``)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from finlens_common.settings import app_url
from semantic.catalog.alert_specs import Subscription

ALERTS_PAGE = "alerts"


def alert_view(alert: str, key: str, language: str) -> str:
    """The Alerts page on this alert and ``by`` value: its series, band and fired periods."""
    return f"{app_url()}/{ALERTS_PAGE}?{urlencode({'alert': alert, 'alert_key': key, 'lang': language})}"


def board_view(subscription: Subscription, start: date, end: date, language: str) -> str:
    """The subscribed board over the digest's days, comparison and filters, as the sidebar keeps them in the URL."""
    path = "" if subscription.board == "overview" else f"board_{subscription.board}"
    params: list[tuple[str, str]] = [("range", start.isoformat()), ("range", end.isoformat())]
    params.append(("compare", subscription.compare))
    params += [(f"f_{name}", value) for name, values in subscription.filters for value in values]
    params.append(("lang", language))
    return f"{app_url()}/{path}?{urlencode(params)}"


def image_url(base: str | None, sha: str | None) -> str | None:
    """Where chat apps fetch a chart (``finlens alerts serve --http``), when it is reachable from them."""
    return f"{base}/charts/{sha}.png" if base and sha else None
