"""How fresh the data is, in the page's language: "Data up to 14:03:05, 4 s ago" (``ingest/loads.py``).

The time is the watermark's ``received_until`` (everything received by then is in the
warehouse) on the data's clock, ``FINLENS_TIME_ZONE`` (default Asia/Shanghai, the
importer's default zone for event times); the date is added when it is not today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import streamlit as st

from finlens.app import state as app_state
from finlens.app.i18n import section
from finlens_common.settings import deployment_time_zone
from ingest.loads import Watermark

text = section("freshness")


def age(seconds: float, lang: str) -> str:
    """``4 s`` / ``3 min`` / ``2 h`` / ``5 days`` (or the zh words), rounded down."""
    seconds = max(0, int(seconds))
    for limit, unit, size in ((60, "seconds", 1), (3600, "minutes", 60), (86400, "hours", 3600)):
        if seconds < limit:
            return text(unit, lang, n=seconds // size)
    return text("days", lang, n=seconds // 86400)


def describe(mark: Watermark | None, lang: str, now: datetime | None = None) -> str:
    """The freshness line for ``mark`` (UTC, naive) as of ``now`` (UTC, naive; default: the clock)."""
    if mark is None:
        return text("unknown", lang)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    zone = ZoneInfo(deployment_time_zone())
    local = mark.received_until.replace(tzinfo=UTC).astimezone(zone)
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    shown = local.strftime("%H:%M:%S" if local.date() == today else "%Y-%m-%d %H:%M:%S")
    return text("data_up_to", lang, time=shown, age=age((now - mark.received_until).total_seconds(), lang))


def running(end: date | None) -> bool:
    """Whether something that ends on ``end`` (None: open-ended) still runs today, on the data's clock."""
    return end is None or end >= datetime.now(ZoneInfo(deployment_time_zone())).date()


def show(lang: str, where=None) -> None:
    """The freshness line of the watermark pinned for this run, as a caption (in the sidebar by default)."""
    (where or st.sidebar).caption(f":material/update: {describe(app_state.watermark(), lang)}")
