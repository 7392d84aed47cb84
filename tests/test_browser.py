"""The app in a real browser: every page renders with no error, and clicks alone drill from a tile to a user.

Starts ``streamlit run`` headless on a free loopback port against a small demo
warehouse and drives Debian's Chromium (``/usr/bin/chromium``, installed by
``scripts/install-browser``) with Playwright. Screenshots of every page go to
``test-artifacts/`` (git-ignored).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api  # the test extra installs it; no browser download is used

from tests.app_helpers import APP, make_demo

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = APP.parent / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = ["explore", "funnel", "retention", "channels", "distributions", "segments", "intent", "lifecycle", "experiments", "board_platform", "board_life", "board_forex", "board_p2p", "board_stock",
         "breakdown", "users", "sequence"]
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"



@pytest.fixture(scope="module", autouse=True)
def chromium_present() -> None:
    """A missing browser is a failure, not a skip: ./scripts/test installs it."""
    if not CHROMIUM.exists():
        pytest.fail("needs Debian's chromium at /usr/bin/chromium: run ./scripts/install-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    url = make_demo(tmp_path_factory.mktemp("browser") / "demo.duckdb", users=1500, days=60)
    port = free_port()
    env = {**os.environ, "FINLENS_WAREHOUSE": url}
    log = (tmp_path_factory.mktemp("log") / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=APP.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start within 60 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def page(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1500, "height": 1000})
            tab.set_default_timeout(60_000)
            yield tab
        finally:
            browser.close()


def settle(page) -> None:
    """Wait until the app is mounted and its script has finished running."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget'] [data-testid='stStatusWidgetRunningIcon']\")"
        " && document.querySelector(\"[data-testid='stApp']\").getAttribute('data-test-script-state') !== 'running'"
    )
    page.wait_for_timeout(500)


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
