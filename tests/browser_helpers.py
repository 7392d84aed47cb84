"""Running the app for a real browser: a headless ``streamlit run`` on a free loopback port, and Debian's Chromium.

Playwright drives ``/usr/bin/chromium`` (installed by ``scripts/install-browser``);
no browser is ever downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright import sync_api  # the test extra installs it; no browser download is used

from tests.app_helpers import APP

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = APP.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"


def require_chromium() -> None:
    """A missing browser is a failure, not a skip: ./scripts/test installs it."""
    if not CHROMIUM.exists():
        pytest.fail("needs Debian's chromium at /usr/bin/chromium: run ./scripts/install-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(
    warehouse_url: str,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    *,
    address: str = "127.0.0.1",
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """``streamlit run`` on the warehouse, listening on ``address``; yields the loopback base URL once it is healthy."""
    port = free_port()
    env = {**os.environ, "FINLENS_WAREHOUSE": warehouse_url, **(extra_env or {})}
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            address,
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            *extra_args,
        ],
        cwd=APP.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
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


@contextmanager
def browser_tab() -> Iterator[sync_api.Page]:
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
