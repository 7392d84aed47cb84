"""Hostile links in a real browser (Chromium), on the three engines: an error line, no exception, no leak.

The same links as the AppTest suite, typed into the address bar of a browser
talking to ``streamlit run``: what a person sees must be a one-line refusal,
never Streamlit's exception box, and the canary's secret must not be anywhere
in the page.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from connectors import connect
from tests.browser_helpers import ARTIFACTS, browser_tab, require_chromium, running_app, settle
from tests.security.conftest import ENGINES
from tests.security.hostile import checksum
from tests.security.test_app_paths import LINKS


@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_links_in_chromium(engine_urls, scene, tmp_path, engine):
    require_chromium()
    url = engine_urls[engine][0]
    with connect(url) as warehouse:
        before = checksum(warehouse)
    with running_app(url, tmp_path / "streamlit.log") as base, browser_tab() as page:
        for index, (path, params) in enumerate(LINKS):
            name = path.removeprefix("finlens/pages/").removesuffix(".py")
            name = "" if name == "overview" else name
            page.goto(f"{base}/{name}?{urlencode({k: scene.fill(v) for k, v in params.items()})}")
            settle(page)
            page.screenshot(path=str(ARTIFACTS / f"security_{engine}_{index}.png"), full_page=True)
            assert page.locator("[data-testid='stException']").count() == 0, (path, params)
            errors = page.locator("[data-testid='stAlertContentError']")
            assert errors.count() >= 1, (path, params)
            assert all("\n" not in errors.nth(i).inner_text().strip() for i in range(errors.count()))
            scene.assert_untouched(page.content())
    with connect(url) as warehouse:
        assert checksum(warehouse) == before
