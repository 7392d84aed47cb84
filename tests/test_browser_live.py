"""A push campaign in real time, in Chromium: the experiments page in live mode shows a conversion as it arrives.

The demo's push campaign (``campaign_group`` push / holdout, conversions within 2026-10-11 ..
2026-10-24) is declared again as a running experiment (no end). The app runs against a demo
warehouse that ``finlens collect`` owns. With the page open and Live on, the SDK sends one
successful ``P2P_invest`` on 2026-10-20 for a push user and one for a holdout user who had not
converted in the window, so whichever variant's members the page lists, its converted count grows
by exactly one, and the freshness line changes, with no reload of the page.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest
import sensorsanalytics

from connectors import connect
from tests.app_helpers import make_demo
from tests.browser_helpers import ARTIFACTS, ERRORS, browser_tab, require_chromium, running_app, settle
from tests.collector_helpers import ROOT, running_collector, sdk, wait_for

RUNNING = """
  - name: push_live
    label: {zh: 召回推送（实时）, en: Reactivation push (live)}
    description: The reactivation push, followed while it runs.
    variant: campaign_group
    control: holdout
    converted:
      did: P2P_invest
      filter: is_success
      during: [2026-10-11, 2026-10-24]
    start: 2026-10-11
"""
CONVERTED_IN_WINDOW = (
    "SELECT user_id FROM events WHERE event = 'P2P_invest' AND is_success "
    "AND event_time BETWEEN TIMESTAMP '2026-10-11 00:00:00' AND TIMESTAMP '2026-10-24 23:59:59'"
)
SEND_MS = int(datetime(2026, 10, 20, 12, 0, tzinfo=timezone(timedelta(hours=8))).timestamp() * 1000)


@pytest.fixture(scope="module", autouse=True)
def chromium_present() -> None:
    require_chromium()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-live")
    metrics = folder / "metrics"
    shutil.copytree(ROOT / "metrics", metrics)
    with open(metrics / "marketing" / "experiments.yml", "a", encoding="utf-8") as out:
        out.write(RUNNING)
    url = make_demo(folder / "demo.duckdb", users=1500, days=60)
    with running_collector(url, folder / "spool") as collector:
        with running_app(url, folder / "streamlit.log", {"FINLENS_METRICS": str(metrics)}) as base:
            yield url, collector, base


def not_converted(url: str, group: str) -> str:
    with connect(url) as warehouse:
        sql = (
            f"SELECT min(user_id) FROM users WHERE campaign_group = '{group}' "
            f"AND user_id NOT IN ({CONVERTED_IN_WINDOW})"
        )
        return warehouse.query(sql).rows[0][0]


def test_the_experiments_page_shows_a_conversion_as_it_arrives(live):
    url, collector, base = live
    movers = [not_converted(url, "push"), not_converted(url, "holdout")]
    assert all(movers)
    with browser_tab() as page:
        page.goto(f"{base}/experiments?experiment=push_live")
        settle(page)
        page.get_by_text("Live", exact=True).click()
        page.wait_for_selector("text=/Live: refreshed every 2 s/")
        members = page.locator("[data-testid='stMetricValue']").last
        before = int(members.inner_text().replace(",", ""))
        freshness = page.locator("[data-testid='stMain'] >> text=/Data up to/").first.inner_text()
        with sdk(sensorsanalytics.DefaultConsumer(collector.sa_url, request_timeout=10)) as sa:
            for user in movers:
                sa.track(user, "P2P_invest", {"$time": SEND_MS, "amount": 1000, "is_success": True}, is_login_id=True)

        def shown() -> bool:
            return int(members.inner_text().replace(",", "")) == before + 1

        wait_for(shown, "the live page to count the new conversion", timeout=90)
        now = page.locator("[data-testid='stMain'] >> text=/Data up to/").first.inner_text()
        assert now != freshness and re.search(r"Data up to \d\d:\d\d:\d\d, \d+ s ago", now)
        assert page.locator(ERRORS).count() == 0
        page.screenshot(path=str(ARTIFACTS / "experiments_live.png"), full_page=True)
