"""The analysis pages in a real browser (Debian's Chromium through Playwright), in English and Chinese: each renders
with no error; on the Funnel page a click on a step's drop-off lists those users, and picking a drill in the
Retention page's table lists a cell's users. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from datetime import date

import pytest

from connectors import connect
from semantic import Query, load_catalog, run_query
from tests.app_helpers import make_demo
from tests.browser_helpers import ARTIFACTS, ERRORS, browser_tab, require_chromium, running_app, settle

PAGES = ["events", "funnel", "retention", "interval", "ltv", "stickiness", "paths", "attribution"]
TITLES = {
    "en": {"funnel": "Funnel", "retention": "Retention", "paths": "User paths", "attribution": "Attribution"},
    "zh": {"funnel": "漏斗", "retention": "留存", "paths": "用户路径", "attribution": "归因分析"},
}
LAST_30 = dict(start=date(2026, 10, 2), end=date(2026, 10, 31))


@pytest.fixture(scope="module", autouse=True)
def chromium_present() -> None:
    require_chromium()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = make_demo(tmp_path_factory.mktemp("browser_models") / "demo.duckdb", users=1500, days=60)
    with running_app(url, tmp_path_factory.mktemp("log") / "streamlit.log") as base:
        yield base, url


@pytest.fixture(scope="module")
def page(demo):
    with browser_tab() as tab:
        yield tab


def check(page, name: str) -> None:
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    errors = page.locator(ERRORS)
    assert errors.count() == 0, f"{name}: {errors.first.inner_text()}"


def users_metric(page) -> int:
    value = page.locator("[data-testid='stMain'] [data-testid='stMetricValue']").last.inner_text()
    return int(value.replace(",", ""))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_analysis_page_renders(demo, page, language):
    base, _ = demo
    for name in PAGES:
        page.goto(f"{base}/{name}?lang={language}")
        check(page, f"model_{name}_{language}")
        assert page.locator("h1").count() >= 1, name
        if name in TITLES[language]:
            assert TITLES[language][name] in page.locator("h1").first.inner_text()
        assert page.locator("[data-testid='stVegaLiteChart'], [data-testid='stDataFrame']").count() >= 1, name


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_click_on_a_funnel_drop_off_lists_those_users(demo, page, language):
    base, url = demo
    with connect(url) as warehouse:
        rows = run_query(load_catalog(), Query(metrics=("bind_card_funnel",), **LAST_30), warehouse).rows
    page.goto(f"{base}/funnel?lang={language}")
    check(page, f"model_funnel_click_0_{language}")
    assert users_metric(page) == rows[2]["users"]
    # Vega draws the chart as SVG with a description of each mark: the shaded drop-off of step 3
    shaded = page.locator(
        "[data-testid='stVegaLiteChart'] svg [aria-label^='step_label: 3.'][aria-label*='part: dropped']"
    )
    shaded.first.click()
    page.wait_for_function("() => decodeURIComponent(location.search).includes('funnel_drill=dropped:3')")
    check(page, f"model_funnel_click_1_{language}")
    assert users_metric(page) == rows[1]["users"] - rows[2]["users"]


def test_picking_a_retention_cell_lists_its_users(demo, page):
    base, url = demo
    with connect(url) as warehouse:
        rows = run_query(
            load_catalog(), Query(metrics=("bind_card_retention",), average=True, **LAST_30), warehouse
        ).rows
    cell = next(r for r in rows if r["cohort"] != "all" and r["retained"])
    page.goto(
        f"{base}/retention?retention_cohort={cell['cohort']}&retention_at={cell['period']}&retention_side=returned"
    )
    check(page, "model_retention_cell")
    assert users_metric(page) == cell["retained"]
    page.goto(f"{base}/retention?lang=zh&retention_period=week")
    check(page, "model_retention_week_zh")
    assert page.get_by_text("第 1 周").count() >= 1


def test_a_click_on_a_sankey_band_lists_its_users(demo, page):
    from semantic.analyses.paths import load_paths
    from semantic.analyses.paths_sql import run_paths

    base, url = demo
    catalog = load_catalog()
    with connect(url) as warehouse:
        flows = run_paths(catalog, load_paths(catalog)["after_card_failure"], warehouse, **LAST_30)
    second = flows[1]  # the page starts on the first flow; a click on the second band must switch to it
    page.goto(f"{base}/paths")
    check(page, "model_paths_click_0")
    key = f"{second['step']}|{second['source'] or ''}|{second['target'] or ''}"
    band = page.locator(f"[data-testid='stVegaLiteChart'] svg [aria-label*='flow: {key};']")
    band.first.click()
    page.wait_for_function("() => decodeURIComponent(location.search).includes('paths_flow=1|')")
    check(page, "model_paths_click_1")
    assert users_metric(page) == second["users"]
