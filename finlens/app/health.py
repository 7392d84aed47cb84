"""The warehouse's outages on screen: one line while it is unreachable, one line when it is back.

A server warehouse can go away while people look at boards. Each query of the
outage fails (and is not cached); the connector reconnects on the next query
(``connectors/postgres.py``) and records when the outage began and ended
(``connectors.base.Health``). Pages do not show one error per chart for it:
:func:`unavailable` tells them the failure is the outage, and :func:`show`
fills a placeholder at the top of the page with the single line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from finlens.app import state as app_state
from finlens.app.i18n import plain, t
from finlens_common.errors import WarehouseError

RECOVERED_SHOWN = timedelta(minutes=10)  # how long "reconnected" stays on screen after an outage


def _health() -> Any:
    try:
        return app_state.warehouse(app_state.warehouse_url()).health
    except Exception:  # noqa: BLE001 - no warehouse yet: nothing to say here
        return None


def unavailable(err: Exception) -> bool:
    """Whether ``err`` is the warehouse being down (said once at the top, not again where the chart would be)."""
    health = _health()
    return isinstance(err, WarehouseError) and health is not None and health.down_since is not None


def show(placeholder: Any, language: str) -> None:
    """The outage or the recovery, one line, in ``placeholder`` (an ``st.empty()`` at the top of the page)."""
    health = _health()
    if health is None:
        return
    if health.down_since is not None:
        placeholder.error(
            t("health.down", language, since=f"{health.down_since:%H:%M:%S}", error=plain(health.last_error))
        )
    elif health.recovered is not None and datetime.now() - health.recovered[1] < RECOVERED_SHOWN:
        since, back = health.recovered
        placeholder.success(t("health.recovered", language, since=f"{since:%H:%M:%S}", back=f"{back:%H:%M:%S}"))
