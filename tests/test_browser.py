"""The app in a real browser: every page renders with no error, and clicks alone drill from a tile to a user.

Starts ``streamlit run`` headless on a free loopback port against a small demo
warehouse and drives Debian's Chromium (``/usr/bin/chromium``, installed by
``scripts/install-browser``) with Playwright. Screenshots of every page go to
``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import pytest

from tests.app_helpers import make_demo
from tests.browser_helpers import ARTIFACTS, ERRORS, browser_tab, require_chromium, running_app, settle

PAGES = [
    "explore",
    "funnel",
    "retention",
    "channels",
    "distributions",
    "segments",
    "intent",
    "lifecycle",
    "experiments",
    "board_platform",
    "board_life",
    "board_forex",
    "board_p2p",
    "board_stock",
    "breakdown",
    "users",
    "sequence",
]


@pytest.fixture(scope="module", autouse=True)
def chromium_present() -> None:
    require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = make_demo(tmp_path_factory.mktemp("browser") / "demo.duckdb", users=1500, days=60)
    with running_app(url, tmp_path_factory.mktemp("log") / "streamlit.log") as base:
        yield base


@pytest.fixture(scope="module")
def page(server):
    with browser_tab() as tab:
        yield tab


def check(page, name: str) -> None:
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    errors = page.locator(ERRORS)
    assert errors.count() == 0, f"{name}: {errors.first.inner_text()}"


def pills(page):
    """The buttons of the main area's last pills widget (the sidebar's language switch is one too)."""
    return page.locator("[data-testid='stMain'] [data-testid='stButtonGroup']").last.locator("button")


def test_every_page_renders(server, page):
    page.goto(server)
    check(page, "overview")
    assert page.locator("[data-testid='stMetric']").count() >= 6
    for name in PAGES:
        page.goto(f"{server}/{name}")
        check(page, name)
        assert page.locator("h1").count() >= 1, name


def test_clicks_drill_from_a_tile_to_one_users_sequence(server, page):
    page.goto(server)
    check(page, "drill_0_overview")
    page.locator(".st-key-tile_overview_registrations [data-testid^='stBaseButton']").first.click()
    page.wait_for_url("**/breakdown**")
    check(page, "drill_1_breakdown")
    pills(page).first.click()
    page.wait_for_url("**/users**")
    check(page, "drill_2_users")
    assert page.locator("[data-testid='stDataFrame']").count() == 1
    user = pills(page).first
    user_id = user.inner_text().strip()
    user.click()
    page.wait_for_url("**/sequence**")
    check(page, "drill_3_sequence")
    assert f"user={user_id}" in page.url
    assert page.locator("[data-testid='stDataFrame']").count() == 1
